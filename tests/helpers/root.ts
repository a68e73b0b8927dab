// Tests that need root say so; under CI (which runs as root) they must run,
// so a missing privilege there is a failure, never a silent skip.
export function requireRoot(ctx: Mocha.Context): void {
  if (process.getuid?.() === 0) return;
  const what = ctx.currentTest?.fullTitle() ?? ctx.test?.parent?.fullTitle() ?? "this test";
  const msg = `${what}: needs root (it mounts, chowns or runs as other users), running as uid ${process.getuid?.()}`;
  skipOrFail(ctx, msg);
}

/** What a test cannot do here: under CI (process.env.CI set) throw, so it
 * fails loudly; elsewhere skip it and say why. */
export function skipOrFail(ctx: Mocha.Context, msg: string): void {
  if (process.env.CI) throw new Error(`${msg} (CI is set: failing instead of skipping)`);
  console.warn(`    SKIPPED: ${msg}`);
  ctx.skip();
}
