// Errors are values: a status code returned negated, and a message in MSG that
// names the option or path. The hosts read both; nothing here can trap.
import { MSG_CAP, Err } from "./abi";
import { MSG, NAME } from "./memory";
import { utf8Seq, writeDecimal } from "./text";

// Indexed by Err; the hosts expose these as the error's `code`.
const NAMES: StaticArray<string> = [
  "OK", "UNKNOWN_OPTION", "EMPTY_VALUE", "NOT_ABSOLUTE", "BAD_PATH", "BAD_CHAR",
  "TOO_LONG", "TOO_MANY", "COLLISION", "DUPLICATE", "NESTED", "NO_MOUNTS",
  "BAD_VALUE", "BAD_INPUT", "PLAN_TOO_LARGE", "HOST", "BAD_PHASE",
];

let msgLen: i32 = 0;

export function messageLength(): i32 { return msgLen; }

export function clearMessage(): void { msgLen = 0; }

function putByte(c: i32): void {
  store<u8>(MSG + <usize>msgLen, <u8>c);
  msgLen++;
}

export function say(lit: string): void {
  const n = lit.length;
  for (let i = 0; i < n && msgLen < MSG_CAP; i++) putByte(lit.charCodeAt(i));
}

// Copies user-supplied bytes, escaping control characters so a log line stays
// one line and shows what was really given.
// Control bytes and bytes outside well-formed UTF-8 are written \xNN: a
// message is always one line of valid UTF-8, whatever it quotes.
export function sayBytes(ptr: usize, len: i32): void {
  let i = 0;
  while (i < len && msgLen + 4 <= MSG_CAP) {
    const c = load<u8>(ptr + <usize>i);
    const seq = utf8Seq(ptr, i, len);
    if (c < 0x20 || c == 0x7f || seq == 0) {
      const hex = "0123456789abcdef";
      putByte(0x5c);
      putByte(0x78);
      putByte(hex.charCodeAt(c >> 4));
      putByte(hex.charCodeAt(c & 15));
      i++;
    } else {
      for (let k = 0; k < seq; k++) putByte(load<u8>(ptr + <usize>(i + k)));
      i += seq;
    }
  }
}

// Echoes a value as given, cut short so the reason always fits.
export function sayShort(ptr: usize, len: i32): void {
  if (len > 160) {
    sayBytes(ptr, 160);
    say("...");
  } else {
    sayBytes(ptr, len);
  }
}

export function sayNumber(v: u32): void {
  if (msgLen + 10 > MSG_CAP) return;
  msgLen += writeDecimal(MSG + <usize>msgLen, v);
}

// Writes the name of a code into NAME; returns its length.
export function writeName(code: i32): i32 {
  const name = code >= 0 && code < NAMES.length ? NAMES[code] : "UNKNOWN";
  const n = name.length;
  for (let i = 0; i < n; i++) store<u8>(NAME + <usize>i, <u8>name.charCodeAt(i));
  return n;
}

export function fail(code: Err): i32 {
  return -(<i32>code);
}
