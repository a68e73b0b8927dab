// Every wait of the plugin is bounded inside a real slurmstepd and slurmd's
// epilog (#21, 4): a stall is injected at each wait a job's steps and its
// end have on another process (the election lock, the holder's answer, the
// holder's exit at the release), and each returns within its bound, the
// job keeps its private /tmp, and nothing of it is left. (A stall inside a
// holder's own setup cannot be injected into slurmstepd without a hook in
// the product; tests/host/nsholder.test.ts drives that one through the same
// C on the real kernel.)
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { spawn } from "node:child_process";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { nodeState, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { allocate } from "../helpers/jobs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const NS_DIR = "/tmp/slurm.ns";

/** Mount points of the host's namespace that name the job's directories. */
function hostMountsOf(id: number): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.includes(`slurm.${id}.`));
}

function gone(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return / Z /.test(st.slice(st.lastIndexOf(")")));
  } catch {
    return true;
  }
}

describe("e2e: every wait is bounded inside slurmstepd and the epilog (#21)", function () {
  this.timeout(600_000);
  before(function () {
    requireRootAndSlurm(this);
  });
  after(() => {
    stopCluster();
    removeJobDirs();
  });

  it("a job's holder that answers nothing (stopped): the next step makes its own namespace within its bound and sees the job's files; the job's end kills the holder and leaves nothing", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const id = allocate(ALICE);
    let holder = 0;
    try {
      const w = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "bash", "-c", "echo a > /tmp/a; echo b > /var/tmp/b"]);
      assert.equal(w.status, 0, w.stderr);
      const hs = holdersOf([id]);
      assert.equal(hs.length, 1, `the job's holder: ${hs}`);
      holder = hs[0]!;
      process.kill(holder, "SIGSTOP");
      const mark = logMark();
      const t0 = Date.now();
      const r = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "bash", "-c", "cat /tmp/a /var/tmp/b; stat -c %U /tmp"], {
        timeoutMs: 120_000,
      });
      const ms = Date.now() - t0;
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `a\nb\n${ALICE}\n`, "the job's own /tmp and /var/tmp, from its own binds");
      assert.ok(ms < 30_000, `the step waited ${ms} ms for a holder that answers nothing`);
      assert.match(
        logSince(mark),
        new RegExp(`job ${id}: cannot keep the job's namespace "${NS_DIR}/job\\.${id}" .*this step makes its own`),
      );
      assert.ok(!gone(holder), "the stopped holder is still there while the job runs");
    } finally {
      runAs("root", ["scancel", String(id)]);
    }
    const mark = logMark();
    await waitFor(() => holder !== 0 && gone(holder), 60_000, {
      what: `the stopped holder ${holder} to be killed by the job's end\n${logSince(mark)}`,
    });
    // Logged once the epilog's phase is over, a moment after the kill.
    await logWhen(
      mark,
      new RegExp(`job ${id}: .*the holder of "job\\.${id}\\.sock" did not stop within 5000 ms: killed`),
      "the epilog to say it killed the holder",
      30_000,
    );
    await waitFor(() => !fs.existsSync(`/tmp/slurm.${id}.0`), 60_000, { what: "the job's directory to go" });
    assert.deepStrictEqual(
      fs.readdirSync(NS_DIR).filter((n) => n.startsWith(`job.${id}.`)),
      [],
      "no socket, no lock left",
    );
    assert.deepStrictEqual(hostMountsOf(id), [], "no mount of the job in the host's table");
    assert.match(nodeState(), /^(idle|mixed|completing)/, "the node stays in service");
  });

  it("the job's election lock held by another process: the first step waits at most its bound, then runs with its own namespace and the job's private /tmp; the next step starts the holder", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const id = allocate(ALICE);
    if (!fs.existsSync(NS_DIR)) fs.mkdirSync(NS_DIR, { mode: 0o700 });
    const ready = `/run/ptd-lock-ready-${process.pid}`;
    // Root's: only root can create names in the plugin's directory.
    const locker = spawn(
      "python3",
      [
        "-c",
        `
import fcntl, os, time
fd = os.open("${NS_DIR}/job.${id}.lock", os.O_RDONLY | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
open("${ready}", "w").close()
time.sleep(120)
`,
      ],
      { stdio: "ignore" },
    );
    try {
      await waitFor(() => fs.existsSync(ready), 20_000, { what: "the lock to be held" });
      const mark = logMark();
      const t0 = Date.now();
      const r = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "bash", "-c", "echo x > /tmp/x; stat -c %U /tmp"], {
        timeoutMs: 120_000,
      });
      const ms = Date.now() - t0;
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${ALICE}\n`);
      assert.ok(ms >= 11_000 && ms < 40_000, `the step waited ${ms} ms (bound: 12 s)`);
      assert.ok(fs.existsSync(`/tmp/slurm.${id}.0/tmp/x`), "the step wrote into the job's private /tmp");
      const log = logSince(mark);
      assert.match(
        log,
        new RegExp(`job ${id}: cannot keep the job's namespace .*"job\\.${id}\\.lock" still held after 12000 ms`),
      );
      assert.deepStrictEqual(holdersOf([id]), [], "no holder while the lock is held");
    } finally {
      locker.kill("SIGKILL");
      fs.rmSync(ready, { force: true });
    }
    try {
      await waitFor(() => locker.exitCode !== null || locker.signalCode !== null, 10_000, {
        what: "the locker to exit",
      });
      const r = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "cat", "/tmp/x"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "x\n");
      assert.equal(holdersOf([id]).length, 1, "the lock free again, a later step starts the job's holder");
    } finally {
      runAs("root", ["scancel", String(id)]);
    }
    await waitFor(() => holdersOf([id]).length === 0 && !fs.existsSync(`/tmp/slurm.${id}.0`), 60_000, {
      what: "the job's holder and directory to go",
    });
    assert.deepStrictEqual(hostMountsOf(id), []);
  });
});
