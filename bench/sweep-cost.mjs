// Benchmark (#21, never a timed test): what the remover's sweep costs.
// (a) One pass (DRAIN through the plugin's own C, the addon) over a holding
//     place with one ended job's tree of FILES files, with 0, 1,000 and
//     10,000 planted names of each kind beside the base (files, symlinks,
//     FIFOs, directories of another user named like job directories of
//     running jobs): ms per pass, and the ratio against 0 planted, in one
//     run. The held job's files go within the same pass either way.
// (b) The question the sweep asks slurmctld when a name passes the cheap
//     checks (controller.h): squeue's wall time against the lab's slurmctld
//     holding JOBS finished jobs, against `true` (a fork and exec), in one
//     run. Never asked when nothing passes: an epilog of a job that ended
//     normally costs no question.
// Usage, as root, after `npm run build`: REPS=5 node bench/sweep-cost.mjs
// (b) needs the lab cluster: BENCH_CTL=1 starts it (tests/slurm/cluster.sh).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { loadAddon } from "../dist/ts/host/addon.js";
import { Phase } from "../dist/ts/host/abi.js";

const REPS = Number(process.env.REPS ?? 5);
const FILES = Number(process.env.FILES ?? 2000);
const SCRATCH = `/var/tmp/ptd-sweep-bench.${process.pid}`;
const PARENT = `${SCRATCH}/shared`;
const ARGS = [`base=${PARENT}/slurm`, "mount=/var/tmp", "mount=/tmp"];
const USER = 60001,
  OTHER = 60002;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function plant(n) {
  for (let i = 0; i < n; i++) {
    const id = 500000 + i;
    fs.writeFileSync(`${PARENT}/slurm.${id}.1`, "");
    fs.symlinkSync("/etc", `${PARENT}/slurm.${id}.2`);
    execFileSync("mkfifo", [`${PARENT}/slurm.${id}.3`]);
    fs.mkdirSync(`${PARENT}/slurm.${id}.0`);
    fs.chownSync(`${PARENT}/slurm.${id}.0`, OTHER, OTHER);
  }
}

function heldJob() {
  const d = `${PARENT}/slurm.42.0`;
  fs.mkdirSync(`${d}/tmp`, { recursive: true });
  for (let i = 0; i < FILES; i++) fs.writeFileSync(`${d}/tmp/f${i}`, "x");
  execFileSync("chown", ["-R", `${USER}:${USER}`, d]);
}

function onePass(planted) {
  fs.rmSync(SCRATCH, { recursive: true, force: true });
  fs.mkdirSync(PARENT, { recursive: true });
  const a = loadAddon();
  // Jobs 500000.. "run" (their names must be kept), 42 has ended.
  const running = Array.from({ length: planted }, (_, i) => 500000 + i);
  a.holdTest({ running, minAge: 0, defer: true });
  if (planted) plant(planted);
  heldJob();
  // Epilog of job 42: into the holding place, then one remover pass.
  a.coreRun(Phase.EPILOG, ARGS, 42, 0, USER, USER, 0, 0, false);
  const t0 = now();
  const r = a.coreRun(Phase.DRAIN, ARGS, 0, 0, 0, 0, 0, 0, false);
  const ms = now() - t0;
  if (!r.ok || fs.readdirSync(`${PARENT}/slurm.hold`).length) throw new Error(`pass left work: ${JSON.stringify(r)}`);
  return ms;
}

const rows = [];
const base = [];
const counts = [0, 1000, 10000];
const per = new Map(counts.map((c) => [c, []]));
for (let rep = 0; rep < REPS; rep++) {
  for (const c of counts) per.get(c).push(onePass(c));
  process.stderr.write(`rep ${rep + 1}/${REPS}\n`);
}
fs.rmSync(SCRATCH, { recursive: true, force: true });
const m0 = median(per.get(0));
console.log(`| planted names of each kind (x4 kinds) | pass, ms (median of ${REPS}) | x 0 planted |`);
console.log("|---|---|---|");
for (const c of counts)
  console.log(
    `| ${c.toLocaleString("en")} | ${median(per.get(c)).toFixed(1)} | x${(median(per.get(c)) / m0).toFixed(2)} |`,
  );

if (process.env.BENCH_CTL === "1") {
  const { pluginLine } = await import("../dist/ts/tests/helpers/plugin.js");
  const { ALICE, SLURM_CONF } = await import("../dist/ts/tests/helpers/lab.js");
  const { runAs } = await import("../dist/ts/tests/helpers/clients.js");
  const { startCluster, stopCluster } = await import("../dist/ts/tests/helpers/cluster.js");
  startCluster({ plugstackLines: [pluginLine(["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"])] });
  const JOBS = Number(process.env.JOBS ?? 200);
  for (let i = 0; i < JOBS; i++) runAs(ALICE, ["sbatch", "-o", "/dev/null", "--wrap", "true"]);
  const env = { PATH: "/usr/bin:/bin", SLURM_CONF, LC_ALL: "C" };
  const sq = [],
    tr = [];
  for (let i = 0; i < REPS * 4; i++) {
    let t0 = now();
    execFileSync("/usr/bin/squeue", ["--noheader", "--all", "--local", "--states=all", "--format=%A %t"], { env });
    sq.push(now() - t0);
    t0 = now();
    execFileSync("/bin/true", [], { env });
    tr.push(now() - t0);
  }
  stopCluster();
  console.log(`\n| question to slurmctld (${JOBS} jobs held) | ms (median of ${REPS * 4}) | x fork+exec of true |`);
  console.log("|---|---|---|");
  console.log(
    `| squeue --all --local --states=all | ${median(sq).toFixed(1)} | x${(median(sq) / median(tr)).toFixed(1)} |`,
  );
  console.log(`| true | ${median(tr).toFixed(1)} | x1.0 |`);
}
