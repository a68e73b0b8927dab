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
