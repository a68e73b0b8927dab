// Byte-level helpers: options are raw bytes in INPUT, and strings built here
// are ASCII literals, so nothing needs a String allocation.

export function startsWithAscii(ptr: usize, len: i32, lit: string): bool {
  const n = lit.length;
  if (len < n) return false;
  for (let i = 0; i < n; i++) {
    if (<i32>load<u8>(ptr + <usize>i) != lit.charCodeAt(i)) return false;
  }
  return true;
}

export function equalsAscii(ptr: usize, len: i32, lit: string): bool {
  return len == lit.length && startsWithAscii(ptr, len, lit);
}

export function bytesEqual(a: usize, alen: i32, b: usize, blen: i32): bool {
  if (alen != blen) return false;
  return memory.compare(a, b, <usize>alen) == 0;
}

// Number of decimal digits of v (1 for 0).
export function decimalLength(v: u32): i32 {
  let n = 1;
  while (v >= 10) { v /= 10; n++; }
  return n;
}

// Writes v in decimal at dst; returns the number of bytes written.
export function writeDecimal(dst: usize, v: u32): i32 {
  const n = decimalLength(v);
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(dst + <usize>i, <u8>(48 + v % 10));
    v /= 10;
  }
  return n;
}

// Offset of the last '/' in [ptr, ptr+len), or -1.
export function lastSlash(ptr: usize, len: i32): i32 {
  for (let i = len - 1; i >= 0; i--) {
    if (load<u8>(ptr + <usize>i) == 0x2f) return i;
  }
  return -1;
}

// The length of the well-formed UTF-8 sequence at p[i] (of n bytes), or 0
// if there is none (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
export function utf8Seq(p: usize, i: i32, n: i32): i32 {
  const c = <u32>load<u8>(p + <usize>i);
  if (c < 0x80) return 1;
  let need = 0;
  let lo: u32 = 0x80, hi: u32 = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) need = 1;
  else if (c == 0xe0) { need = 2; lo = 0xa0; }
  else if (c == 0xed) { need = 2; hi = 0x9f; }
  else if (c >= 0xe1 && c <= 0xef) need = 2;
  else if (c == 0xf0) { need = 3; lo = 0x90; }
  else if (c == 0xf4) { need = 3; hi = 0x8f; }
  else if (c >= 0xf1 && c <= 0xf3) need = 3;
  else return 0;
  if (i + need >= n) return 0;
  for (let k = 1; k <= need; k++) {
    const b = <u32>load<u8>(p + <usize>(i + k));
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return 0;
  }
  return need + 1;
}
