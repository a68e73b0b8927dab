// A running job never loses its /tmp (#21, 1): the remover's sweep takes in
// only what is known to have ended (slurmctld holds the job in no state but
// a final one). Before, it asked whether a step of the job ran on the node,
// and an allocation between its steps has none without PrologFlags=Contain:
// any other job's end removed its /tmp and emptied its tmpfs.
// Each case plants a crash's leftover beside the job, of a job that has
// really ended, and waits for it to go: the sweep ran, and decided, while
// the job was idle.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, restartSlurmd, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { pastSweepFloor, waitFor } from "../helpers/wait.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { allocate, endedJob, jobState, submitBatch, waitBatch } from "../helpers/jobs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const TMPFS = [...SEED, "tmpfs=/dev/shm", "size=16M"];
/** What a crash leaves: <root>/slurm.<id>.0 of alice's, a file deep in it. */
function plantLeftover(root: string, id: number): string {
  const d = `${root}/slurm.${id}.0`;
  fs.mkdirSync(`${d}/tmp/deep`, { recursive: true });
  fs.writeFileSync(`${d}/tmp/deep/f`, "x");
  execFileSync("chown", ["-R", `${ALICE}:`, d]);
  return d;
}

const WRITE =
  'echo a > /tmp/a; echo b > /var/tmp/b; if [ -d /dev/shm ] && [ -n "$PTD_SHM" ]; then echo c > /dev/shm/c; fi';
const READ = 'cat /tmp/a /var/tmp/b; if [ -n "$PTD_SHM" ]; then cat /dev/shm/c; fi';

describe("e2e: a running job never loses its /tmp between its steps (#21)", function () {
  this.timeout(600_000);
  before(function () {
    requireRootAndSlurm(this);
  });
  after(() => {
    stopCluster();
    removeJobDirs();
  });

  for (const contain of [false, true]) {
    for (const shm of [false, true]) {
      const what = `${contain ? "with" : "without"} PrologFlags=Contain, ${shm ? "tmpfs= /dev/shm" : "bind /tmp only"}`;
      it(`salloc --no-shell, ${what}: other users' jobs end, the sweep runs, the next step sees every file`, async () => {
        startCluster({
          plugstackLines: [pluginLine(shm ? TMPFS : SEED)],
          extraConf: contain ? "PrologFlags=Contain" : "",
        });
        const ended = await endedJob(ALICE);
        const id = allocate(ALICE);
        const env = shm ? "PTD_SHM=1; " : "";
        try {
          const w = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "bash", "-c", `${env}${WRITE}`]);
          assert.equal(w.status, 0, w.stderr);
          const leftover = plantLeftover("/tmp", ended);
          // The job's own directory too: the sweep must weigh it, and keep it.
          await pastSweepFloor([leftover, `/tmp/slurm.${id}.0`]);
          const mark = logMark();
          // Other users' jobs start and end on the node: each epilog starts the remover.
          for (let i = 0; i < 2; i++) assert.equal(runAs(MALLORY, ["srun", "-N1", "true"]).status, 0);
          await waitFor(
            () => !fs.existsSync(leftover) && /took in 1 directories of jobs that have ended/.test(logSince(mark)),
            60_000,
            { what: `the ended job's leftover to be swept\n${logSince(mark)}` },
          );
          assert.match(jobState(id), /^RUNNING$/);
          // The answer is kept for a minute where only root creates names.
          const memo = fs.lstatSync("/run/private-tmpdir");
          assert.deepStrictEqual([memo.uid, memo.mode & 0o7777, memo.isDirectory()], [0, 0o700, true]);
          const kept = fs.readdirSync("/run/private-tmpdir").filter((n) => /^held\.[0-9a-f]{16}$/.test(n));
          assert.equal(kept.length >= 1, true, "slurmctld's answer kept");
          const r = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "bash", "-c", `${env}${READ}`]);
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout, shm ? "a\nb\nc\n" : "a\nb\n", "every file of the earlier step");
        } finally {
          runAs("root", ["scancel", String(id)]);
        }
        await waitFor(() => !fs.existsSync(`/tmp/slurm.${id}.0`), 60_000, {
          what: "the job's directory to go after its end",
        });
      });
    }
  }

  it("the second node of a two-node batch job, between its sruns: kept while other jobs end there", async () => {
    // Two slurmd of this machine, not yet two hosts (netns: true): in the
    // release roots the remover's squeue on a netns node exits 1 after ~9 s
    // without slurmctld seeing it, so the sweep keeps everything (#24).
    const info: ClusterInfo = startCluster({ plugstackLines: [pluginLine(TMPFS)], nodes: 2 });
    assert.ok(info.node2 && info.slurmd2Pid, "second node started");
    const node2Tmp = `/proc/${info.slurmd2Pid}/root/tmp`;
    const ended = await endedJob(ALICE, ["-w", info.node2]);
    const tag = `${OUT_DIR}/ptd-kept2-${process.pid}`;
    const script = `#!/bin/bash
srun -N2 --ntasks-per-node=1 bash -c 'PTD_SHM=1; ${WRITE.replace(/'/g, "'\\''")}' || exit 1
touch ${tag}.written
for i in $(seq 1200); do [ -e ${tag}.go ] && break; sleep 0.1; done
srun -N2 --ntasks-per-node=1 -l bash -c 'PTD_SHM=1; ${READ.replace(/'/g, "'\\''")}'
`;
    // Waited for by polling slurmctld (waitBatch), not sbatch -W: its own
    // polling, ever further apart, noticed the job's end ~30 s late.
    const job = submitBatch(ALICE, script, ["-N2", "-o", `${tag}.out`]);
    try {
      await waitFor(() => fs.existsSync(`${tag}.written`), 60_000, { what: "the first srun" });
      const leftover = plantLeftover(node2Tmp, ended);
      await pastSweepFloor([leftover]);
      const mark = logMark();
      // Only one node is the batch job's: the other has no step of it now.
      for (let i = 0; i < 2; i++)
        assert.equal(runAs(MALLORY, ["srun", "-N1", "-w", info.node2, "--overlap", "true"]).status, 0);
      await waitFor(() => !fs.existsSync(leftover), 60_000, { what: `the second node's sweep\n${logSince(mark)}` });
      fs.writeFileSync(`${tag}.go`, "");
      const r = await waitBatch(job, 120_000);
      assert.equal(
        r.status,
        0,
        `${r.state}\n${fs.existsSync(`${tag}.out`) ? fs.readFileSync(`${tag}.out`, "utf8") : ""}`,
      );
      const out = fs.readFileSync(`${tag}.out`, "utf8").split("\n").filter(Boolean).sort();
      assert.deepStrictEqual(
        out,
        ["0: a", "0: b", "0: c", "1: a", "1: b", "1: c"],
        "both nodes kept /tmp, /var/tmp and /dev/shm",
      );
    } finally {
      fs.writeFileSync(`${tag}.go`, "");
      await waitBatch(job, 120_000);
      for (const s of [".out", ".written", ".go"]) fs.rmSync(`${tag}${s}`, { force: true });
    }
  });

  it("a crash's leftover of a job that ended while slurmd was down, older than any grace, is removed at slurmd's start", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const ended = await endedJob(ALICE);
    assert.match(jobState(ended), /^COMPLETED$/);
    const leftover = plantLeftover("/tmp", ended);
    await pastSweepFloor([leftover]);
    const mark = logMark();
    restartSlurmd();
    await waitFor(
      () => !fs.existsSync(leftover) && /took in 1 directories of jobs that have ended/.test(logSince(mark)),
      60_000,
      { what: `slurmd's start to sweep it\n${logSince(mark)}` },
    );
  });

  it("a step joins only its own job's holder: a holder of another user's job with the same id (a MaxJobId wrap) is never joined", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const theirs = allocate(MALLORY);
    try {
      const w = runAs(MALLORY, ["srun", `--jobid=${theirs}`, "-N1", "bash", "-c", "echo mallory > /tmp/m"]);
      assert.equal(w.status, 0, w.stderr);
      // The holder of mallory's job, as if it answered for the next job id:
      // what a holder that outlived its job meets after a wrap.
      const next = theirs + 1;
      for (const sfx of [".sock", ".lock"])
        fs.renameSync(`/tmp/slurm.ns/job.${theirs}${sfx}`, `/tmp/slurm.ns/job.${next}${sfx}`);
      const mark = logMark();
      const r = runAs(ALICE, [
        "srun",
        "-N1",
        "bash",
        "-c",
        "echo $SLURM_JOB_ID; ls /tmp; echo alice > /tmp/a; stat -c %U /tmp",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const [id, ...rest] = r.stdout.trim().split("\n");
      assert.equal(Number(id), next, "the job got the id the stale holder answers for");
      assert.deepStrictEqual(rest, [ALICE], "alice's own empty /tmp, never mallory's");
      assert.match(logSince(mark), new RegExp(`job\\.${next}\\.sock\\W* is uid \\d+'s, not this job's user's`));
      const m = runAs(MALLORY, ["srun", `--jobid=${theirs}`, "-N1", "cat", "/tmp/m"]);
      assert.equal(m.stdout, "mallory\n", "mallory's job is untouched");
    } finally {
      runAs("root", ["scancel", String(theirs)]);
    }
  });

  it("a controller that cannot be asked keeps everything, and the remover says so", async () => {
    const info = startCluster({ plugstackLines: [pluginLine(SEED)] });
    const ended = await endedJob(ALICE);
    const leftover = plantLeftover("/tmp", ended);
    await pastSweepFloor([leftover]);
    // slurmctld stopped: the epilog still runs (slurmd's), the sweep cannot ask.
    const mark = logMark();
    process.kill(info.slurmctldPid, "SIGSTOP");
    try {
      restartSlurmd();
      await waitFor(
        () =>
          /cannot tell which jobs have ended: .*; directories and namespaces of jobs not known to have ended are kept/.test(
            logSince(mark),
          ),
        90_000,
        { what: `the remover's word\n${logSince(mark)}` },
      );
      assert.ok(fs.existsSync(leftover), "kept while nothing says its job ended");
    } finally {
      process.kill(info.slurmctldPid, "SIGCONT");
    }
  });
});
