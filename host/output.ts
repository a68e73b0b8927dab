// The CLI's stdout and stderr, written with writeSync on the descriptors
// rather than through process.stdout: a stream reports EPIPE or ENOSPC as an
// 'error' event nobody can catch where the write was made, and Node then dies
// with a stack trace (`plan --json | head -c 10`, `plan > /dev/full`).
// Here a failed write throws where it happens and main() decides:
// OutputClosed (the reader went away) ends quietly, OutputFailed is one
// line on stderr.
import { writeSync } from "node:fs";

/** stdout's reader has gone (EPIPE): stop writing, exit as a pipe writer
 * killed by SIGPIPE would look to its shell (128 + 13). */
export class OutputClosed extends Error {}
export const EXIT_PIPE = 141;

/** Writing stdout failed for another reason (ENOSPC, EIO, EBADF...). */
export class OutputFailed extends Error {}

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, data: Buffer): void {
  let at = 0;
  while (at < data.length) {
    try {
      at += writeSync(fd, data, at);
    } catch (e) {
      // A non-blocking descriptor inherited from the caller: wait, retry.
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/** Writes text (or exact bytes) on stdout. */
export function out(s: string | Buffer): void {
  try {
    writeAll(1, typeof s === "string" ? Buffer.from(s, "utf8") : s);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EPIPE") throw new OutputClosed("stdout closed");
    throw new OutputFailed(
      `cannot write the output: ${err.code ?? ""}${err.code ? ": " : ""}${err.message.replace(/^\w+: /, "").replace(/, write$/, "")}`,
    );
  }
}

/** Writes on stderr; a stderr that cannot be written is ignored (there is
 * nowhere left to say so). */
export function err(s: string): void {
  try {
    writeAll(2, Buffer.from(s, "utf8"));
  } catch {
    // nothing to do
  }
}
