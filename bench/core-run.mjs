// bench/core-run.mjs - what the planning core costs per call, through the
// plugin's own C (the addon: one fresh wasm2c instance per call, as in
// slurmstepd), for the seed's line: CHECK (validation, as slurm_spank_init
// runs it) and the STEP and EPILOG plans (dry run: planned and recorded,
// no system call). Needs a build (npm run build). Prints µs per call.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const addon = require(fileURLToPath(new URL("../build/Release/ptd_addon.node", import.meta.url)));
const ARGS = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const N = Number(process.env["N"] ?? 2000);
for (const [name, phase, dry] of [
  ["CHECK", 0, false],
  ["STEP (dry run)", 2, true],
  ["EPILOG (dry run)", 3, true],
]) {
  const once = () => addon.coreRun(phase, ARGS, 100, 0, 1000, 1000, 0, 4096, dry);
  for (let i = 0; i < 50; i++) once();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) once();
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t0) / N / 1000).toFixed(1)} µs per call (${N} calls)`);
}
