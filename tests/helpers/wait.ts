// Waiting for what the lab does in its own time (an epilog, a remover, a
// job's end): polling, synchronous or not.
import { lstatSync } from "node:fs";

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

/** The remover's sweep never asks about a directory whose ctime is less than
 * this many whole seconds old (ptd_sweep_min_age, native/removal/hold.c). */
export const SWEEP_MIN_AGE_S = 10;

/** Resolves once every one of `paths` is old enough for the sweep to take
 * it in, counted from their own ctimes as the sweep counts: a fixed 11 s
 * counted from the test's clock waited 1 to 2 s longer than needed, at
 * every such wait of every release. */
export async function pastSweepFloor(paths: readonly string[]): Promise<void> {
  const newest = Math.max(...paths.map((p) => Math.floor(lstatSync(p).ctimeMs / 1000)));
  // The sweep compares whole seconds of CLOCK_REALTIME, as Date.now() reads it.
  const ms = (newest + SWEEP_MIN_AGE_S) * 1000 + 250 - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}
