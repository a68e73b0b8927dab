// Step kinds and job life on a real slurmd: batch and srun steps, salloc,
// the extern step (PrologFlags=Contain), job arrays, requeue; and no mount
// leak into slurmd's namespace when "/" is shared, as on systemd hosts.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import {
  type ClusterInfo,
  requireRootAndSlurm,
  startCluster,
  type StartOptions,
  stopCluster,
} from "../helpers/cluster.js";
import { slurmAtLeast, slurmRelease } from "../helpers/slurm-release.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { hostMountinfo } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

/** Shell for a job: wait (up to 60 s) for the test to create `go`, then
 * fail unless it did. A barrier, not a delay: the job is alive for as long
 * as the test looks, however slow the host, and a job that was not waited
 * for fails instead of passing unseen. */
function waitGo(go: string): string {
  return `i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e ${go}`;
}

/** A fresh path in OUT_DIR (every PTD_LAB): the job touches `ready` (with
 * its job id in it) and waits for `go`, which the test makes. */
function barrier(tag: string): { ready: string; go: string } {
  const ready = `${OUT_DIR}/${tag}-${process.pid}-${Date.now()}.ready`;
  return { ready, go: `${ready}.go` };
}

function scontrol(...args: string[]): void {
  const r = runAs("root", ["scontrol", ...args]);
  assert.equal(r.status, 0, r.stderr);
}

describe("e2e: slurmd with a shared / (systemd-like): nothing a job mounts reaches it", function () {
  let info: ClusterInfo;
  before(function () {
    requireRootAndSlurm(this);
    info = startCluster({ plugstackLines: [pluginLine(SEED)], sharedRoot: true });
  });

  it("runs slurmd with a shared / (so a leak would show)", () => {
    const root = hostMountinfo(info.slurmdPid).find((l) => l.split(" ")[4] === "/");
    assert.match(root ?? "", / shared:\d+/);
  });

  it("shows none of a running job's binds in slurmd's mount table", async () => {
    const before = hostMountinfo(info.slurmdPid).length;
    // The topmost mount on each target (the last in mountinfo), as its
    // filesystem's root path: /tmp may itself be a tmpfs, as on Debian 13.
    const top = (t: string): string => `awk '$5 == "${t}" { r = $4 } END { print r }' /proc/self/mountinfo`;
    const { ready, go } = barrier("leak");
    const job = spawnAs(ALICE, [
      "srun",
      "-N1",
      "bash",
      "-c",
      `${top("/tmp")}; ${top("/var/tmp")}; echo $SLURM_JOB_ID > ${ready}.part && mv ${ready}.part ${ready}; ${waitGo(go)}`,
    ]);
    const id = Number(
      await waitFor(() => fs.existsSync(ready) && fs.readFileSync(ready, "utf8").trim(), 30_000, {
        what: "the job to start",
      }),
    );
    // The job is running (it waits for go), its binds in place.
    assert.ok(fs.existsSync(`/tmp/slurm.${id}.0/tmp`), `job ${id}'s directory on the host`);
    const during = hostMountinfo(info.slurmdPid);
    fs.writeFileSync(go, "");
    const r = await job;
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^(\/tmp)?\/slurm\.\d+\.0\/tmp\n(\/tmp)?\/slurm\.\d+\.0\/var_tmp\n$/,
      "the job itself sees its binds",
    );
    assert.deepStrictEqual(
      during.filter((l) => /slurm\.\d+\.0/.test(l)),
      [],
    );
    assert.equal(during.length, before);
  });
});

describe("e2e: step kinds and job life", function () {
  // Each test names the cluster it needs; one already running as asked is
  // kept (this describe's own starts only: other files start others), so
  // any test runs alone (-g) or in any order.
  let running: string | undefined;
  function cluster(opts: StartOptions): void {
    const key = JSON.stringify(opts);
    if (running === key) return;
    running = undefined;
    startCluster(opts);
    running = key;
  }
  const seed: StartOptions = { plugstackLines: [pluginLine(SEED)] };

  before(function () {
    requireRootAndSlurm(this);
    running = undefined;
  });
  after(function () {
    stopCluster();
    removeJobDirs();
  });

  it("salloc: every srun step of the allocation shares the job's /tmp", () => {
    cluster(seed);
    const r = runAs(ALICE, [
      "salloc",
      "-N1",
      "bash",
      "-c",
      "srun bash -c 'echo one > /tmp/s'; srun cat /tmp/s; srun bash -c 'stat -c %U /tmp'",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "one\nptd-alice\n");
  });

  it("srun --pty (an interactive step on a terminal) gets the private /tmp too", () => {
    cluster(seed);
    // script(1) gives srun the terminal --pty needs.
    const r = runAs(
      ALICE,
      ["script", "-qec", "srun --pty bash -c 'findmnt -n -o SOURCE --target /tmp; test -t 0 && echo TTY'", "/dev/null"],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    // SOURCE is device[path in that filesystem]: /tmp/slurm... on "/", or
    // /slurm... when /tmp is a filesystem of its own.
    assert.match(r.stdout, /\[(\/tmp)?\/slurm\.\d+\.0\/tmp\]/);
    assert.match(r.stdout, /TTY/);
  });

  it("job arrays: each task has its own /tmp", () => {
    cluster(seed);
    const id = submitBatch(ALICE, "echo $SLURM_ARRAY_TASK_ID > /tmp/t; sleep 1; echo seen $(cat /tmp/*)\n", [
      "--array=1-3",
      "-o",
      `${OUT_DIR}/arr-%A_%a.out`,
    ]);
    return (async () => {
      for (const t of [1, 2, 3]) {
        const f = `${OUT_DIR}/arr-${id}_${t}.out`;
        await waitFor(() => fs.existsSync(f) && /seen/.test(fs.readFileSync(f, "utf8")), 60_000, {
          what: `array task ${t}`,
        });
        assert.equal(fs.readFileSync(f, "utf8"), `seen ${t}\n`);
      }
    })();
  });

  it("PrologFlags=Contain: the extern step and the job's steps work, sharing one /tmp", async () => {
    cluster({ plugstackLines: [pluginLine(SEED)], extraConf: "PrologFlags=Contain" });
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo b > /tmp/f\nsrun -Q cat /tmp/f\n");
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, "b\n");
    const log = logSince(mark);
    // The extern step makes the directories in the host's namespace (it runs
    // no task) and removes them at its end; the epilog then finds nothing.
    assert.match(
      log,
      new RegExp(
        `\\[${r.jobId}\\.extern\\] .*private-tmpdir: job ${r.jobId}: private directories made \\(extern step\\)`,
      ),
    );
    assert.match(
      log,
      new RegExp(`\\[${r.jobId}\\.batch\\] .*private-tmpdir: job ${r.jobId}: private directories mounted`),
    );
    await logWhen(
      mark,
      new RegExp(
        `\\[${r.jobId}\\.extern\\] private-tmpdir: job ${r.jobId} uid \\d+: removed \\d+ bytes, 1 files, 3 directories in [0-9.]+ s \\(extern step\\)`,
      ),
      "the extern step's removal line",
    );
    assert.equal(
      fs.readdirSync("/tmp").some((n) => n.startsWith(`slurm.${r.jobId}.`)),
      false,
      "nothing left",
    );
  });

  it("PrologFlags=Contain,RunInJob (Slurm 24.05+: the extern step runs init_post_opt first): the extern step and the job's steps share one /tmp", async function () {
    if (!slurmAtLeast(24, 5)) {
      console.warn(`    PENDING: Slurm ${slurmRelease()} has no PrologFlags=RunInJob (24.05 added it)`);
      this.skip();
    }
    cluster({ plugstackLines: [pluginLine(SEED)], extraConf: "PrologFlags=Contain,RunInJob" });
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo b > /tmp/f\nsrun -Q cat /tmp/f\nstat -c %U /tmp\n");
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, "b\nptd-alice\n");
    const log = logSince(mark);
    assert.match(
      log,
      new RegExp(
        `\\[${r.jobId}\\.extern\\] .*private-tmpdir: job ${r.jobId}: private directories made \\(extern step\\)`,
      ),
    );
    for (const step of ["batch", "0"])
      assert.match(
        log,
        new RegExp(`\\[${r.jobId}\\.${step}\\] .*private-tmpdir: job ${r.jobId}: private directories mounted`),
        step,
      );
    // Slurm runs no SPANK job epilog under RunInJob (seen on 24.11 and
    // 26.05): the extern step's end is the only cleanup there is.
    await logWhen(
      mark,
      new RegExp(
        `\\[${r.jobId}\\.extern\\] private-tmpdir: job ${r.jobId} uid \\d+: removed \\d+ bytes, 1 files, 3 directories in [0-9.]+ s \\(extern step\\)`,
      ),
      "the extern step's removal line",
    );
    assert.equal(
      fs.readdirSync("/tmp").some((n) => n.startsWith(`slurm.${r.jobId}.`)),
      false,
      "nothing left",
    );
  });

  it("requeue with cleanup=yes: nothing of the first run is left, and the new run starts empty, in the seed's layout", async () => {
    cluster({ plugstackLines: [pluginLine(SEED)], extraConf: "AuthInfo=cred_expire=5" });
    const ready = `${OUT_DIR}/rqy-${process.pid}-${Date.now()}`;
    const go = `${ready}.go`;
    const id = submitBatch(
      ALICE,
      `if [ -e /tmp/marker ]; then echo STALE; fi\necho run$SLURM_RESTART_COUNT > /tmp/marker\ntouch ${ready}.$SLURM_RESTART_COUNT\nwhile [ ! -e ${go} ]; do sleep 0.1; done\n`,
      ["--open-mode=append"],
    );
    await waitFor(() => fs.existsSync(`${ready}.`) || fs.existsSync(`${ready}.0`), 60_000, { what: "the first run" });
    assert.ok(fs.existsSync(`/tmp/slurm.${id}.0/tmp/marker`));
    scontrol("requeue", String(id));
    // The first run's directory is removed by its epilog before the new run.
    await waitFor(() => !fs.existsSync(`/tmp/slurm.${id}.0/tmp/marker`) || fs.existsSync(`${ready}.1`), 60_000, {
      what: "the first run's epilog",
    });
    await waitFor(() => fs.existsSync(`${ready}.1`), 90_000, { what: "the second run" });
    assert.equal(
      fs.readFileSync(`/tmp/slurm.${id}.0/tmp/marker`, "utf8"),
      "run1\n",
      "the new run's own file, in base.jobid.0",
    );
    fs.writeFileSync(go, "");
    const r = await waitBatch(id, 60_000);
    assert.equal(r.state, "COMPLETED", r.output);
    assert.doesNotMatch(r.output, /STALE/);
    await waitFor(() => !fs.readdirSync("/tmp").some((n) => n.startsWith(`slurm.${id}.`)), 20_000, {
      what: "the last epilog",
    });
  });

  it("requeue: the new run starts with an empty /tmp even with cleanup=no, in the seed's layout", async () => {
    // cred_expire is also how long a requeued job waits before it may run
    // again (default 120 s); releasing it earlier by hand races slurmd's
    // revoked credential ("Job credential revoked").
    cluster({ plugstackLines: [pluginLine([...SEED, "cleanup=no"])], extraConf: "AuthInfo=cred_expire=5" });
    const ready = `${OUT_DIR}/rq-${process.pid}-${Date.now()}`;
    const go = `${ready}.go`;
    // Each run waits for go: the first is requeued while it runs (not after
    // it ended), and the second is let go once the test has seen it start.
    const id = submitBatch(
      ALICE,
      `if [ -e /tmp/marker ]; then echo STALE; fi\necho run > /tmp/marker\necho RESTART=$SLURM_RESTART_COUNT\ntouch ${ready}.$SLURM_RESTART_COUNT\n${waitGo(go)}\n`,
      ["--open-mode=append"],
    );
    await waitFor(() => fs.existsSync(`${ready}.`) || fs.existsSync(`${ready}.0`), 60_000, { what: "the first run" });
    assert.ok(fs.existsSync(`/tmp/slurm.${id}.0/tmp/marker`));
    scontrol("requeue", String(id));
    await waitFor(() => fs.existsSync(`${ready}.1`), 90_000, { what: "the second run" });
    fs.writeFileSync(go, "");
    const r = await waitBatch(id, 60_000);
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /RESTART=1/);
    assert.doesNotMatch(r.output, /STALE/);
    assert.equal(fs.readFileSync(`/tmp/slurm.${id}.0/tmp/marker`, "utf8"), "run\n");
  });
});
