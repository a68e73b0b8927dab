// Slurm hands plugins the bytes of plugstack.conf, whatever they are. The
// CLI carries every path and word as a "byte string": a JS string whose
// char codes are the bytes (0-255, Node's "latin1"), so two different byte
// sequences stay two different strings and fs calls get the exact bytes
// back. Decoding as UTF-8 instead turned every invalid byte into U+FFFD:
// two distinct paths compared equal.

/** A byte string of a file's or a name's bytes. */
export const fromBytes = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

/** The bytes a byte string stands for (for fs calls and output). */
export const toBytes = (s: string): Buffer => Buffer.from(s, "latin1");

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The text a byte string holds, or undefined when its bytes are not UTF-8. */
export function utf8Of(s: string): string | undefined {
  try {
    return strictUtf8.decode(toBytes(s));
  } catch {
    return undefined;
  }
}

/** A text string as a byte string (its UTF-8 bytes). */
export const byteString = (text: string): string => Buffer.from(text, "utf8").toString("latin1");

// C0 controls, DEL and C1 controls: a CR or an escape sequence in a message
// would rewrite the admin's terminal line instead of showing the byte.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const NAMED: Record<string, string> = { "\r": "\\r", "\n": "\\n", "\t": "\\t" };

/** A byte string for a message or JSON: its text when it is UTF-8 without
 * control characters; otherwise the text with every control character and
 * every byte that is not UTF-8 written as \r, \t, \n or \xNN, and "\" as
 * "\\" (so the escaped form cannot be mistaken for a plain one). */
export function shown(s: string): string {
  const text = utf8Of(s);
  if (text !== undefined && !CONTROL.test(text)) return text;
  const b = toBytes(s);
  let out = "";
  for (let i = 0; i < b.length;) {
    const n = utf8SeqLen(b, i);
    if (n === 0) {
      out += `\\x${(b[i] ?? 0).toString(16).padStart(2, "0")}`;
      i++;
      continue;
    }
    const ch = b.subarray(i, i + n).toString("utf8");
    i += n;
    if (ch === "\\") out += "\\\\";
    else if (CONTROL.test(ch)) out += NAMED[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

/** Length of the valid UTF-8 sequence at b[i], or 0 if there is none. */
function utf8SeqLen(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  try {
    strictUtf8.decode(b.subarray(i, i + n));
    return n;
  } catch {
    return 0;
  }
}
