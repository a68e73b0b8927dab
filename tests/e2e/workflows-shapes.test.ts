// Job shapes users run (#24), each from an unprivileged user's real jobs:
// steps of one allocation at once (--overlap), a job array of 50 tasks all
// running at once on one node, a heterogeneous job over two nodes; and
// Slurm's own test_159_1 scenario (written for namespace/linux): the host's
// files in /tmp, /var/tmp and /dev/shm are out of the job's sight.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { coreSha256 } from "../../host/core.js";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { run, type RunResult, spawnAs } from "../helpers/clients.js";
import {
  type ClusterInfo,
  requireRootAndSlurm,
  startCluster,
  type StartOptions,
  stopCluster,
} from "../helpers/cluster.js";
import { allocate, sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { isJobTmp, jobTraces, type NodeView, tmpRootLine, tmpRootOf } from "../helpers/job-traces.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const ARRAY_TASKS = 50;

/** A fresh tag for this run's files in OUT_DIR and /tmp. */
function tag(what: string): string {
  return `${what}-${process.pid}-${Date.now()}`;
}

/** The plugin's load line of this build in a step of job `id`. */
function loadedIn(log: string, id: number, step: string): boolean {
  return new RegExp(`\\[${id}\\.${step}\\] .*private-tmpdir: loaded \\S+ core sha256 ${coreSha256()}; `).test(log);
}

/** Waits for the removal line of each job (from the detached remover). */
async function removed(mark: number, ids: readonly number[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    () => {
      const log = logSince(mark);
      return ids.every((id) => new RegExp(`private-tmpdir: job ${id} uid \\d+: removed `).test(log));
    },
    timeoutMs,
    { what: `the removal lines of jobs ${ids.join(" ")}` },
  );
}

describe("e2e: job shapes (#24): overlapping steps, a 50-task array at once, a heterogeneous job", function () {
  // Each test names the cluster it needs; one already running as asked is
  // kept, so any test runs alone (-g) or in any order.
  let running: string | undefined;
  let info: ClusterInfo;
  function cluster(opts: StartOptions): NodeView {
    const key = JSON.stringify(opts);
    if (running !== key) {
      running = undefined;
      info = startCluster(opts);
      running = key;
    }
    return { tmp: "/tmp", slurmdPid: info.slurmdPid };
  }

  before(function () {
    requireRootAndSlurm(this);
    running = undefined;
  });
  after(function () {
    stopCluster();
    removeJobDirs();
  });

  it("--overlap: two steps of a one-CPU allocation run at once and share the job's /tmp; one makes the job's namespace, the other joins it", async function () {
    const node = cluster({ plugstackLines: [pluginLine(SEED)] });
    const mark = logMark();
    const id = allocate(ALICE, ["-n1"]);
    // Each step leaves its name and waits (bounded) for the other's: both
    // see both only if they ran at the same time in the same /tmp.
    const step = (me: string, other: string): string =>
      `touch /tmp/${me}; i=0; until [ -e /tmp/${other} ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done; ` +
      `echo names $(ls -A /tmp); ${tmpRootLine("root")}`;
    let steps: RunResult[];
    try {
      steps = await Promise.all(
        [
          ["a", "b"],
          ["b", "a"],
        ].map(([me, other]) =>
          spawnAs(ALICE, ["srun", `--jobid=${id}`, "--overlap", "-n1", "bash", "-c", step(me!, other!)], 90_000),
        ),
      );
    } finally {
      run("scancel", [String(id)], { timeoutMs: 15_000 });
    }
    for (const r of steps) {
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^names a b$/m, r.stdout);
      assert.ok(isJobTmp(tmpRootOf(r.stdout, "root"), id), r.stdout);
    }
    const log = logSince(mark);
    for (const s of ["0", "1"]) assert.ok(loadedIn(log, id, s), `no load line in step ${id}.${s}:\n${log}`);
    // The election (docs/namespace-per-job.md): exactly one of the two
    // steps started the namespace, the other joined it.
    const mounted = [...log.matchAll(new RegExp(`job ${id}: private directories mounted, (.*)$`, "gm"))].map(
      (m) => m[1],
    );
    assert.deepStrictEqual(mounted.sort(), ["in the job's namespace", "in the job's namespace, started by this step"]);
    await removed(mark, [id]);
    assert.deepStrictEqual(jobTraces([id], node), []);
  });

  it(`a job array of ${ARRAY_TASKS} tasks all running at once on one node (OverSubscribe=FORCE, whatever its CPUs): each task its own directory and /tmp, nothing shared, nothing left after`, async function () {
    this.timeout(400_000);
    // FORCE:64: every core may be given to 64 jobs at once, so the 50
    // tasks run together on however few CPUs the lab has.
    const node = cluster({
      plugstackLines: [pluginLine(SEED)],
      extraConf: "PartitionName=DEFAULT OverSubscribe=FORCE:64",
    });
    const t = tag("arr");
    const ready = (i: number | string): string => `${OUT_DIR}/${t}-${i}.ready`;
    const go = `${OUT_DIR}/${t}.go`;
    const mark = logMark();
    submitBatch(
      ALICE,
      [
        "echo $SLURM_JOB_ID > /tmp/mine",
        `echo $SLURM_JOB_ID > ${ready("$SLURM_ARRAY_TASK_ID")}.part && mv ${ready("$SLURM_ARRAY_TASK_ID")}.part ${ready("$SLURM_ARRAY_TASK_ID")}`,
        // A barrier, not a delay: every task waits for the test's go.
        `i=0; while [ ! -e ${go} ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i+1)); done; test -e ${go} || exit 3`,
        "echo names $(ls -A /tmp)",
        "echo mine $(cat /tmp/mine)",
        tmpRootLine("root"),
      ].join("\n") + "\n",
      [`--array=1-${ARRAY_TASKS}`, "-o", `${OUT_DIR}/${t}-%a.out`],
    );
    const tasks = Array.from({ length: ARRAY_TASKS }, (_, i) => i + 1);
    let ids: number[] = [];
    try {
      // All of them running at the same time, each waiting for go.
      await waitFor(() => tasks.every((i) => fs.existsSync(ready(i))), 150_000, {
        what: `all ${ARRAY_TASKS} array tasks running at once (ready: ${tasks.filter((i) => fs.existsSync(ready(i))).length})`,
      });
      ids = tasks.map((i) => Number(fs.readFileSync(ready(i), "utf8").trim()));
      assert.equal(new Set(ids).size, ARRAY_TASKS, `one job id per task: ${ids.join(" ")}`);
      // On the host, while all run: one directory per task holding only
      // its own file, one namespace holder per task.
      for (const id of ids) {
        assert.deepStrictEqual(fs.readdirSync(`/tmp/slurm.${id}.0/tmp`), ["mine"], `job ${id}`);
        assert.equal(fs.readFileSync(`/tmp/slurm.${id}.0/tmp/mine`, "utf8"), `${id}\n`);
      }
      assert.equal(holdersOf(ids).length, ARRAY_TASKS, "one namespace holder per task");
    } finally {
      fs.writeFileSync(go, "");
    }
    for (const [n, id] of ids.entries()) {
      const r = await waitBatch(id, 120_000);
      assert.equal(r.state, "COMPLETED", `task ${n + 1} (job ${id})`);
      const out = fs.readFileSync(`${OUT_DIR}/${t}-${n + 1}.out`, "utf8");
      assert.match(out, /^names mine$/m, `task ${n + 1} saw only its own file:\n${out}`);
      assert.match(out, new RegExp(`^mine ${id}$`, "m"), out);
      assert.ok(isJobTmp(tmpRootOf(out, "root"), id), out);
    }
    for (const i of tasks) for (const f of [ready(i), `${OUT_DIR}/${t}-${i}.out`]) fs.rmSync(f, { force: true });
    fs.rmSync(go, { force: true });
    const log = logSince(mark);
    for (const id of ids) assert.ok(loadedIn(log, id, "batch"), `no load line in job ${id}'s batch step`);
    await removed(mark, ids, 120_000);
    assert.deepStrictEqual(jobTraces(ids, node), []);
  });

  it("a heterogeneous job over two nodes: each component's directories are named by its own job id (SLURM_JOB_ID_HET_GROUP_<n>), though SLURM_JOB_ID is the first component's in every task; nothing shared, all removed", async function () {
    this.timeout(300_000);
    // Only the backfill scheduler starts heterogeneous jobs, every
    // bf_interval (30 s by default).
    cluster({
      plugstackLines: [pluginLine(SEED)],
      nodes: 2,
      extraConf: "SchedulerParameters=batch_sched_delay=0,bf_interval=1",
    });
    assert.ok(info.node2 && info.slurmd2Pid, "second node started");
    const nodes: NodeView[] = [
      { tmp: "/tmp", slurmdPid: info.slurmdPid },
      // The second node's /tmp as its slurmd (and the job's steps there) see it.
      { tmp: `/proc/${info.slurmd2Pid}/root/tmp`, slurmdPid: info.slurmd2Pid },
    ];
    // What each task of the step over both components reports, as a script
    // of its own (no quoting inside srun's command line).
    const task = `${OUT_DIR}/${tag("het-task")}.sh`;
    fs.writeFileSync(
      task,
      [
        "#!/bin/bash",
        "touch /tmp/from-$SLURMD_NODENAME",
        // Both tasks have written before either looks.
        "sleep 1",
        'echo "task $SLURMD_NODENAME $SLURM_JOB_ID names" $(ls -A /tmp)',
        tmpRootLine("root-$SLURMD_NODENAME"),
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
    const mark = logMark();
    // One component per node (-w): the backfill scheduler plans each
    // component on a node of its own (Slurm's heterogeneous_jobs.html,
    // Limitations; seen: two components on one node never started).
    const r = sbatchWait(
      ALICE,
      [
        "#!/bin/bash",
        `#SBATCH -N1 -w ${info.node}`,
        "#SBATCH hetjob",
        `#SBATCH -N1 -w ${info.node2}`,
        "echo groups $SLURM_JOB_ID_HET_GROUP_0 $SLURM_JOB_ID_HET_GROUP_1",
        "touch /tmp/from-batch",
        // One step over both components: a task on each node.
        `srun --het-group=0,1 ${task}`,
      ].join("\n") + "\n",
      { timeoutMs: 120_000 },
    );
    fs.rmSync(task, { force: true });
    assert.equal(r.state, "COMPLETED", r.output);
    const [leader, other] = (/^groups (\d+) (\d+)$/m.exec(r.output) ?? []).slice(1).map(Number);
    assert.ok(leader === r.jobId && other !== undefined && other !== leader, r.output);
    const log = logSince(mark);
    const components: [string, number][] = [
      [info.node, leader!],
      [info.node2!, other!],
    ];
    for (const [n, id] of components) {
      // SLURM_JOB_ID is the leader's everywhere; the plugin's job id (and
      // so the directory) is the component's own.
      const names: string | undefined = new RegExp(`^task ${n} ${leader} names (.*)$`, "m").exec(r.output)?.[1];
      assert.ok(isJobTmp(tmpRootOf(r.output, `root-${n}`), id), `${n}: ${r.output}`);
      // Nothing shared: the batch step (component 0) and this node's task
      // only; the other node's task wrote into another job's directory.
      assert.equal(names, n === info.node ? `from-batch from-${n}` : `from-${n}`, r.output);
      assert.match(log, new RegExp(`job ${id}: private directories mounted`));
      assert.ok(loadedIn(log, id, "0"), `no load line in step ${id}.0:\n${log}`);
    }
    // Each node's epilog removes its own component's directories.
    await removed(mark, [leader!, other!]);
    for (const node of nodes) assert.deepStrictEqual(jobTraces([leader!, other!], node), []);
  });

  it("Slurm's test_159_1 (there for namespace/linux): the host's files in /tmp, /var/tmp and /dev/shm are not in the job, its /dev/shm is a tmpfs of its own, and its files stay off the host", async () => {
    const node = cluster({ plugstackLines: [pluginLine([...SEED, "tmpfs=/dev/shm"])] });
    const t = tag("host");
    const dirs = ["/tmp", "/var/tmp", "/dev/shm"];
    const mark = logMark();
    try {
      for (const d of dirs) fs.writeFileSync(`${d}/ptd-${t}`, "the host's\n");
      const r = sbatchWait(
        ALICE,
        [
          `for d in ${dirs.join(" ")}; do`,
          `  if [ -e $d/ptd-${t} ]; then echo "$d shows the host's file"; else echo "$d private"; fi`,
          `  echo job > $d/ptd-job-${t}`,
          "done",
          // The topmost mount on /dev/shm: type and source.
          `awk '$5 == "/dev/shm" { for (i = 7; $i != "-"; i++); r = $(i+1) " " $(i+2) } END { print "shm", r }' /proc/self/mountinfo`,
        ].join("\n") + "\n",
      );
      assert.equal(r.state, "COMPLETED", r.output);
      for (const d of dirs) assert.match(r.output, new RegExp(`^${d} private$`, "m"), r.output);
      assert.match(r.output, /^shm tmpfs private-tmpdir$/m, r.output);
      for (const d of dirs) {
        assert.equal(fs.readFileSync(`${d}/ptd-${t}`, "utf8"), "the host's\n", `${d}: the host's file untouched`);
        assert.equal(fs.existsSync(`${d}/ptd-job-${t}`), false, `${d}: the job's file reached the host`);
      }
      const log = logSince(mark);
      assert.ok(loadedIn(log, r.jobId, "batch"), log);
      assert.match(log, new RegExp(`job ${r.jobId}: private directories mounted`));
      await removed(mark, [r.jobId]);
      assert.deepStrictEqual(jobTraces([r.jobId], node), []);
    } finally {
      for (const d of dirs) fs.rmSync(`${d}/ptd-${t}`, { force: true });
    }
  });
});
