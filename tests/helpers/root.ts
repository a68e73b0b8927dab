// Tests that need root say so; under CI (which runs as root) they must run,
// so a missing privilege there is a failure, never a silent skip.
export function requireRoot(ctx: Mocha.Context): void {
  if (process.getuid?.() === 0) return;
  if (process.env.CI) throw new Error("this test needs root, and CI must run it");
  ctx.skip();
}
