// Benchmark (#11, never a timed test): cleanup off the job's path on a real
// slurmd. For jobs leaving 0, 100,000 and 1,000,000 files in /tmp:
//   (a) ms from srun's return until slurmctld reports the job COMPLETED,
//       with cleanup=yes (the default) against cleanup=no;
//   (b) s from srun's return until the job's tree is gone (the detached
//       remover), against rm -rf of an identical tree made by root beside
//       it (plain, and at the remover's idle CPU/I-O priority);
//   (c) ms of `srun -N1 true` (a new job) while the remover empties a
//       LOADED-file tree (default 1,000,000) on the node, against the same
//       on the idle node, alternating, in one run (LOADED=0 skips it).
// (d) ms from srun's return until slurmd logs "sent epilog complete msg"
//     (its millisecond timestamp): the node released, as slurmd sees it,
//     free of the COMPLETED poll's granularity (one scontrol, 10-30 ms);
// (e) ms from slurmd's "task 0 ... exited" line to that one: the job's end
//     on the node by slurmd's own clock, free of when srun happens to
//     return (its I/O teardown varies by tens of ms).
// Trees are made by bench/flat_tree.c spread: N empty files in directories
// of 1,000. Making them is no faster than `seq | xargs touch` here: ext4's
// inode allocator slows file creation after millions of deletions
// (docs/benchmarks.md, runs 5 and 6).
// Ratios are taken within one run. Usage, as root, after `npm run build`:
//   PTD_LAB=/var/spool/ptd-bench-lab CTLD_PORT=7517 SLURMD_PORT=7518 \
//     REPS=3 node bench/offpath-cleanup.mjs
// Prints a markdown table (docs/benchmarks.md) on stdout, progress on stderr.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { pluginLine } from "../dist/ts/tests/helpers/plugin.js";
import { ALICE, SLURM_CONF } from "../dist/ts/tests/helpers/lab.js";
import { runAs } from "../dist/ts/tests/helpers/clients.js";
import { startCluster, stopCluster } from "../dist/ts/tests/helpers/cluster.js";
import { logMark, logSince } from "../dist/ts/tests/helpers/daemon-logs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const SIZES = (process.env.SIZES ?? "0,100000,1000000").split(",").map(Number);
const REPS = Number(process.env.REPS ?? 3);
// A 1,000,000-file job takes a minute or two just to make its tree.
const REPS_LARGE = Number(process.env.REPS_LARGE ?? REPS);
const repsOf = (n) => (n >= 1_000_000 ? REPS_LARGE : REPS);
const HOLD = "/tmp/slurm.hold";
const env = { ...process.env, SLURM_CONF };
const now = () => Number(process.hrtime.bigint()) / 1e6;
const BIN = "/var/spool/ptd-bench-so";
fs.mkdirSync(BIN, { recursive: true, mode: 0o755 });
execFileSync("gcc", [
  "-std=gnu11",
  "-O2",
  "-Wall",
  "-Werror",
  "-o",
  `${BIN}/flat_tree`,
  new URL("flat_tree.c", import.meta.url).pathname,
]);
const median = (a = []) => {
  const f = a.filter(Number.isFinite);
  if (!f.length) return NaN;
  const s = [...f].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ms from slurmd's "calling ... spank epilog" to its "completed epilog for
// jobid <id>" (millisecond timestamps): the epilog process as slurmd sees it.
const stamp = (l) => Date.parse(l.slice(1, 24) + "Z");
function epilogMs(log, id) {
  const lines = log.split("\n");
  const end = lines.findIndex((l) => l.includes(`completed epilog for jobid ${id}`));
  for (let i = end; i >= 0; i--)
    if (lines[i].includes("calling /usr/sbin/slurmstepd spank epilog")) return stamp(lines[end]) - stamp(lines[i]);
  return NaN;
}
// The stamp of slurmd's first line that passes test (NaN if none).
const stampOf = (log, test) => {
  const l = log.split("\n").find(test);
  return l ? stamp(l) : NaN;
};
const sent = (id) => `JobId=${id}: sent epilog complete msg`;
const releasedAt = (log, id) => stampOf(log, (x) => x.includes(sent(id)));
const taskExitAt = (log, id) => stampOf(log, (x) => x.includes(`[${id}.0] task 0 (`) && x.includes(") exited"));

function job(n) {
  const mark = logMark();
  const make = n ? `${BIN}/flat_tree /tmp/big spread ${n}` : "true";
  const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", `echo $SLURM_JOB_ID; ${make}`], { timeoutMs: 900_000 });
  const t0 = now(),
    t0wall = Date.now();
  if (r.status !== 0) throw new Error(r.stderr);
  const id = Number(r.stdout.trim());
  let completed;
  for (;;) {
    const s = execFileSync("scontrol", ["-o", "show", "job", String(id)], { env, encoding: "utf8" });
    if (/JobState=COMPLETED/.test(s)) {
      completed = now() - t0;
      break;
    }
  }
  let log = logSince(mark);
  for (let i = 0; i < 100 && !log.includes(sent(id)); i++) {
    execFileSync("sleep", ["0.02"]);
    log = logSince(mark);
  }
  const released = releasedAt(log, id);
  return {
    id,
    t0,
    completed,
    epilog: epilogMs(log, id),
    released: released - t0wall,
    exitRel: released - taskExitAt(log, id),
  };
}

function gone(id, t0) {
  const mine = () =>
    fs.readdirSync("/tmp").some((x) => x === `slurm.${id}.0`) ||
    (fs.existsSync(HOLD) && fs.readdirSync(HOLD).some((x) => x.startsWith(`slurm.${id}.`)));
  while (mine()) execFileSync("sleep", ["0.02"]);
  return (now() - t0) / 1000;
}

function rmrf(n, idle) {
  const d = "/tmp/ptd-bench-rm";
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(`${d}/tmp`, { recursive: true });
  if (n) execFileSync(`${BIN}/flat_tree`, [`${d}/tmp/big`, "spread", String(n)]);
  else fs.mkdirSync(`${d}/tmp/big`);
  execFileSync("sync");
  const t0 = now();
  execFileSync(
    idle ? "chrt" : "rm",
    idle ? ["-i", "0", "nice", "-n", "19", "ionice", "-c3", "rm", "-rf", d] : ["-rf", d],
  );
  return (now() - t0) / 1000;
}

// SETTLE: the remover's settle times (ms, PTD_REMOVER_SETTLE_MS in
// native/entry/plugin.c) to compare in this run; each but the shipped one is a
// plugin built for the bench outside /tmp. Default: the shipped build only.
const SETTLES = (process.env.SETTLE ?? "").split(",").filter(Boolean).map(Number);
const soFor = (ms) => {
  const out = `/var/spool/ptd-bench-so/settle-${ms}`;
  execFileSync("make", ["-s", "-C", "native", `OUT=${out}`, `EXTRA_CFLAGS=-DPTD_REMOVER_SETTLE_MS=${ms}`], {
    stdio: "inherit",
  });
  return `${out}/private-tmpdir.so`;
};
const yesCfgs = SETTLES.length
  ? SETTLES.map((ms) => ({ key: `yes${ms}`, settle: ms, line: ["required", soFor(ms), ...SEED].join(" ") }))
  : [{ key: "yes", settle: "shipped", line: pluginLine(SEED) }];
const configs = [{ key: "no", line: pluginLine([...SEED, "cleanup=no"]) }, ...yesCfgs];

// Configurations alternate in ROUNDS blocks (a cluster restart each), so a
// slow spell of the machine does not land on one configuration only.
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const res = {};
for (let round = 0; round < ROUNDS; round++)
  for (const { key: cfg, line } of configs) {
    const yes = cfg !== "no";
    startCluster({ plugstackLines: [line] });
    const w = job(0); // warm-up, not counted
    if (yes) gone(w.id, w.t0);
    else fs.rmSync(`/tmp/slurm.${w.id}.0`, { recursive: true, force: true });
    for (const n of SIZES) {
      for (let i = 0; i < repsOf(n); i++) {
        const j = job(n);
        const g = yes ? gone(j.id, j.t0) : 0;
        if (!yes) fs.rmSync(`/tmp/slurm.${j.id}.0`, { recursive: true, force: true });
        (res[`${cfg}.${n}`] ??= []).push(j.completed);
        (res[`ep${cfg}.${n}`] ??= []).push(j.epilog);
        (res[`rel${cfg}.${n}`] ??= []).push(j.released);
        (res[`exr${cfg}.${n}`] ??= []).push(j.exitRel);
        if (yes) (res[`gone${cfg}.${n}`] ??= []).push(g);
        console.error(
          `${cfg} ${n} files: COMPLETED +${j.completed.toFixed(1)} ms, released +${j.released} ms (${j.exitRel} ms after the task's exit), epilog ${j.epilog} ms${yes ? `, gone +${g.toFixed(3)} s` : ""}`,
        );
      }
    }
  }
// (c) New jobs while a large removal runs, against an idle node.
const LOADED = Number(process.env.LOADED ?? 1_000_000);
const NEW_REPS = Number(process.env.NEW_REPS ?? 10);
const lat = { idle: [], busy: [] };
const newJob = () => {
  const t = now();
  const r = runAs(ALICE, ["srun", "-N1", "true"]);
  if (r.status !== 0) throw new Error(r.stderr);
  return now() - t;
};
const holding = () => fs.existsSync(HOLD) && fs.readdirSync(HOLD).length > 0;
if (LOADED) {
  newJob(); // warm-up
  for (let round = 0; round < Number(process.env.LOADED_ROUNDS ?? 2); round++) {
    for (let i = 0; i < NEW_REPS; i++) lat.idle.push(newJob());
    const j = job(LOADED);
    for (let i = 0; i < NEW_REPS; i++) {
      if (!holding()) break; // only jobs started while the removal runs count
      const t = newJob();
      if (holding()) lat.busy.push(t);
    }
    gone(j.id, j.t0);
    console.error(`new job: idle ${lat.idle.length}, during removal ${lat.busy.length} so far`);
  }
}
stopCluster();
// RMRF=0 skips the rm -rf baseline (its columns then read NaN), RMRF_MAX
// skips it above that many files: a 1,000,000-file tree takes minutes to
// make here (file creation, not the directory's size: ~190 µs each).
const RMRF_MAX = Number(process.env.RMRF_MAX ?? Infinity);
for (const n of process.env.RMRF === "0" ? [] : SIZES.filter((x) => x <= RMRF_MAX)) {
  for (let i = 0; i < repsOf(n); i++) {
    (res[`rm.${n}`] ??= []).push(rmrf(n, false));
    (res[`rmidle.${n}`] ??= []).push(rmrf(n, true));
  }
}
console.log(
  "| files left | remover settle (ms) | COMPLETED after srun, cleanup=no (ms) | cleanup=yes (ms) | ratio | epilog complete sent, cleanup=no (ms) | cleanup=yes (ms) | ratio | task exit to epilog complete sent, cleanup=no (ms) | cleanup=yes (ms) | ratio | epilog process, cleanup=no (ms) | cleanup=yes (ms) | ratio | tree gone after srun (s) | rm -rf (s) | rm -rf at idle priority (s) | ratio gone / rm -rf | n |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const n of SIZES) {
  for (const { key, settle } of yesCfgs) {
    const no = median(res[`no.${n}`]),
      yes = median(res[`${key}.${n}`]);
    const g = median(res[`gone${key}.${n}`]),
      rm = median(res[`rm.${n}`]),
      rmi = median(res[`rmidle.${n}`]);
    const eno = median(res[`epno.${n}`]),
      eyes = median(res[`ep${key}.${n}`]);
    const rno = median(res[`relno.${n}`]),
      ryes = median(res[`rel${key}.${n}`]);
    const xno = median(res[`exrno.${n}`]),
      xyes = median(res[`exr${key}.${n}`]);
    console.log(
      `| ${n.toLocaleString("en")} | ${settle} | ${no.toFixed(1)} | ${yes.toFixed(1)} | ×${(yes / no).toFixed(2)} | ${rno.toFixed(0)} | ${ryes.toFixed(0)} | ×${(ryes / rno).toFixed(2)} | ${xno.toFixed(0)} | ${xyes.toFixed(0)} | ×${(xyes / xno).toFixed(2)} | ${eno.toFixed(0)} | ${eyes.toFixed(0)} | ×${(eyes / eno).toFixed(2)} | ${g.toFixed(3)} | ${rm.toFixed(3)} | ${rmi.toFixed(3)} | ×${(g / rm).toFixed(2)} | ${res[`no.${n}`]?.length ?? 0} |`,
    );
  }
}
if (LOADED) {
  const i = median(lat.idle),
    b = median(lat.busy);
  console.log("");
  console.log(
    "| new job (`srun -N1 true`) | idle node (ms) | while a " +
      LOADED.toLocaleString("en") +
      "-file removal runs (ms) | ratio | n (idle / during) |",
  );
  console.log("|---|---:|---:|---:|---|");
  console.log(
    `| median | ${i.toFixed(1)} | ${b.toFixed(1)} | ×${(b / i).toFixed(2)} | ${lat.idle.length} / ${lat.busy.length} |`,
  );
}
