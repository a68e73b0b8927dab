// Benchmark (#26, never a timed test): what the usage record costs the
// remover. A job directory with one private directory of N empty files
// (bench/flat_tree.c spread: directories of 1,000, as bench/offpath-cleanup.mjs)
// is taken into the holding place by the epilog's plan and emptied by the
// remover's (DRAIN), through the plugin's own C (the addon), timed:
//   record  the plan names the private directory (mount=/tmp): the remover
//           removes it on its own and logs its usage line;
//   none    the plan names another (mount=/elsewhere): the directory is no
//           mount='s, so the remover removes the job's tree in one, as
//           before the record (the one difference left: a listing of the
//           job's directory, one entry).
// The two alternate, REPS each, in one run; ratio of medians. Nothing of it
// is on a job's path (the epilog only renames, as before): the COMPLETED
// time of a job does not include it.
// Usage, as root, after `npm run build`:
//   flock /run/ptd-e2e.lock env N=300000 REPS=3 node bench/usage-record.mjs
// Prints a markdown table (docs/benchmarks.md) on stdout, progress on stderr.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { loadAddon } from "../dist/ts/host/addon.js";
import { Phase } from "../dist/ts/host/abi.js";

const N = Number(process.env.N ?? 300000);
const REPS = Number(process.env.REPS ?? 3);
const SCRATCH = process.env.SCRATCH ?? "/var/tmp/ptd-usage-bench";
const PARENT = `${SCRATCH}/shared`;
const BASE = `${PARENT}/slurm`;
const USER = 60001;
const CONFIGS = {
  record: [`base=${BASE}`, "mount=/tmp"],
  none: [`base=${BASE}`, "mount=/elsewhere"],
};
const BIN = `${SCRATCH}-bin`;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const log = (s) => process.stderr.write(`${s}\n`);

fs.rmSync(SCRATCH, { recursive: true, force: true });
fs.mkdirSync(PARENT, { recursive: true });
fs.chmodSync(PARENT, 0o1777);
fs.mkdirSync(BIN, { recursive: true });
execFileSync("gcc", [
  "-std=gnu11",
  "-O2",
  "-Wall",
  "-Werror",
  "-o",
  `${BIN}/flat_tree`,
  new URL("flat_tree.c", import.meta.url).pathname,
]);
fs.chmodSync(BIN, 0o755);

const addon = loadAddon();
const times = { record: [], none: [] };
let jobid = 1000;
for (let rep = 0; rep < REPS; rep++) {
  const order = rep % 2 ? ["none", "record"] : ["record", "none"];
  for (const cfg of order) {
    const args = CONFIGS[cfg];
    jobid++;
    const dir = `${PARENT}/slurm.${jobid}.0`;
    fs.mkdirSync(dir);
    fs.chownSync(dir, USER, USER);
    // The plugin's mark, as a step leaves it (native/removal/made.h): a
    // tree without it this large is not removed.
    execFileSync("python3", [
      "-c",
      "import os, sys; os.setxattr(sys.argv[1], 'trusted.private-tmpdir.made', os.path.basename(sys.argv[1]).encode())",
      dir,
    ]);
    // Made by the job's user, as a job makes it (no chown of N files).
    execFileSync("setpriv", [
      `--reuid=${USER}`,
      `--regid=${USER}`,
      "--clear-groups",
      `${BIN}/flat_tree`,
      `${dir}/tmp`,
      "spread",
      String(N),
    ]);
    execFileSync("sync");
    addon.holdTest({ defer: true, running: null });
    const e = addon.coreRun(Phase.EPILOG, args, jobid, 0, USER, USER, 0, 0, false);
    if (!e.ok) throw new Error(e.message);
    addon.holdTest({ defer: false });
    addon.holdTest(); // the lines so far, dropped
    const t0 = now();
    const d = addon.coreRun(Phase.DRAIN, args, 0, 0, 0, 0, 0, 0, false);
    const ms = now() - t0;
    if (!d.ok) throw new Error(d.message);
    const lines = addon.holdTest();
    const usage = lines.filter((l) => l.startsWith("private-tmpdir: usage "));
    const want = cfg === "record" ? 1 : 0;
    if (usage.length !== want || (want && !usage[0].includes(`files=${N} `)))
      throw new Error(`${cfg}: unexpected lines:\n${lines.join("\n")}`);
    if (fs.readdirSync(`${BASE}.hold`).length) throw new Error("the holding place is not empty");
    times[cfg].push(ms);
    log(`rep ${rep + 1}/${REPS} ${cfg}: ${ms.toFixed(0)} ms${want ? `: ${usage[0]}` : ""}`);
  }
}
addon.holdTest({ defer: false, running: null, budgetMs: -1 });
fs.rmSync(SCRATCH, { recursive: true, force: true });
fs.rmSync(BIN, { recursive: true, force: true });

const sorted = (a) => [...a].sort((x, y) => x - y);
const q = (a, p) => {
  const s = sorted(a);
  const i = (s.length - 1) * p;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
const cell = (a) => `${q(a, 0.5).toFixed(0)} (${q(a, 0.25).toFixed(0)}-${q(a, 0.75).toFixed(0)})`;
console.log(`| remover (DRAIN) of one job's ${N.toLocaleString("en")} files | median (IQR) ms | n |`);
console.log("|---|---:|---:|");
console.log(`| without the record (the directory no mount='s) | ${cell(times.none)} | ${times.none.length} |`);
console.log(`| with the record (its usage line) | ${cell(times.record)} | ${times.record.length} |`);
const ratio = q(times.record, 0.5) / q(times.none, 0.5);
console.log(
  `\nratio of medians ×${ratio.toFixed(3)} (${(q(times.record, 0.5) - q(times.none, 0.5)).toFixed(0)} ms); spread of the runs without: ${(q(times.none, 0.75) - q(times.none, 0.25)).toFixed(0)} ms (IQR)`,
);
