// Waiting for what the lab does in its own time (an epilog, a remover, a
// job's end): polling, synchronous or not.

/** Block this thread for `ms` (no event loop turn): for synchronous waits. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

type Falsy = false | null | undefined | 0 | "";

/** Poll `pred` every `intervalMs` until it returns a truthy value (which is
 * returned); reject after `timeoutMs` with `what` in the message. Use it for
 * effects of the epilog, which runs after srun returns. */
export async function waitFor<T>(
  pred: () => T | Falsy,
  timeoutMs: number,
  opts: { intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v as T;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? pred.toString()}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
