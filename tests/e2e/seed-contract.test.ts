// The seed's contract on a real slurmd, jobs run as unprivileged users:
// private /tmp and /var/tmp, the layout epilog scripts rely on, and proof
// that the plugin (not luck) did it.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { coreSha256 } from "../../host/core.js";
import { LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, settledNode, startCluster, stopCluster } from "../helpers/cluster.js";
import { slurmAtLeast, slurmRelease } from "../helpers/slurm-release.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { mountPoints } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

function uidOf(user: string): number {
  return Number(runAs("root", ["id", "-u", user]).stdout.trim());
}

function srunOk(user: string, script: string): { out: string; jobId: number } {
  const r = runAs(user, ["srun", "-N1", "bash", "-c", `echo JOB=$SLURM_JOB_ID; ${script}`]);
  assert.equal(r.status, 0, `srun failed: ${r.stderr}`);
  const jobId = Number(/JOB=(\d+)/.exec(r.stdout)?.[1]);
  assert.ok(jobId > 0, r.stdout);
  return { out: r.stdout, jobId };
}

// Run against a private "/" (this machine) and a shared one (systemd hosts).
for (const sharedRoot of [false, true]) {
  describe(`e2e: the seed's contract (cleanup=no, to inspect what jobs left; ${sharedRoot ? "shared" : "private"} /)`, function () {
    let info: ClusterInfo;
    before(function () {
      requireRootAndSlurm(this);
      info = startCluster({ plugstackLines: [pluginLine([...SEED, "cleanup=no"])], sharedRoot });
    });
    after(removeJobDirs);

    it("proves the plugin was loaded: its load line, with the core's sha256, for the job's step", () => {
      const mark = logMark();
      const { jobId } = srunOk(ALICE, "true");
      const log = logSince(mark);
      assert.match(
        log,
        new RegExp(
          `\\[${jobId}\\.0\\] private-tmpdir: loaded \\S+ core sha256 ${coreSha256()}; options: base=/tmp/slurm mount=/var/tmp mount=/tmp cleanup=no`,
        ),
      );
    });

    it("puts a job's /tmp and /var/tmp files in /tmp/slurm.<jobid>.0/{tmp,var_tmp} on the host, not in the host's /tmp", () => {
      const tag = `ptd-${process.pid}-${Date.now()}`;
      const { jobId, out } = srunOk(
        ALICE,
        `echo t > /tmp/${tag}; echo v > /var/tmp/${tag}; stat -c '%U %a' /tmp /var/tmp`,
      );
      assert.match(out, /ptd-alice 700\nptd-alice 700/);
      const dir = `/tmp/slurm.${jobId}.0`;
      assert.equal(fs.readFileSync(`${dir}/tmp/${tag}`, "utf8"), "t\n");
      assert.equal(fs.readFileSync(`${dir}/var_tmp/${tag}`, "utf8"), "v\n");
      assert.equal(fs.existsSync(`/tmp/${tag}`), false, "not in the host's /tmp");
      assert.equal(fs.existsSync(`/var/tmp/${tag}`), false, "not in the host's /var/tmp");
      const alice = uidOf(ALICE);
      for (const p of [dir, `${dir}/tmp`, `${dir}/var_tmp`]) {
        const st = fs.statSync(p);
        assert.deepStrictEqual([st.uid, st.mode & 0o7777], [alice, 0o700], p);
      }
    });

    it("gives overlapping jobs of two users separate /tmp: neither sees the other's files", async () => {
      // A barrier, not a delay: alice's job writes its secret, says so in
      // OUT_DIR and waits (up to 60 s, then fails) until mallory's job has
      // run, so the two always overlap.
      const ready = `${OUT_DIR}/overlap-${process.pid}-${Date.now()}.ready`;
      const go = `${ready}.go`;
      const a = spawnAs(ALICE, [
        "srun",
        "-N1",
        "bash",
        "-c",
        `echo secret > /tmp/alice-secret; echo $SLURM_JOB_ID > ${ready}.part && mv ${ready}.part ${ready}; i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e ${go} && ls -A /tmp`,
      ]);
      const aliceJob = Number(
        await waitFor(() => fs.existsSync(ready) && fs.readFileSync(ready, "utf8").trim(), 30_000, {
          what: "alice's job to write its secret",
        }),
      );
      assert.equal(fs.readFileSync(`/tmp/slurm.${aliceJob}.0/tmp/alice-secret`, "utf8"), "secret\n");
      const m = srunOk(MALLORY, "echo LS: $(ls -A /tmp); cat /tmp/slurm.*/tmp/alice-secret 2>/dev/null; true");
      fs.writeFileSync(go, "");
      const ra = await a;
      assert.equal(ra.status, 0, ra.stderr);
      assert.doesNotMatch(m.out, /^secret$/m, "mallory read alice's file");
      assert.match(m.out, /^LS:$/m, `mallory sees files in /tmp: ${m.out}`);
      assert.equal(ra.stdout.trim(), "alice-secret", "alice sees only her own file");
    });

    // -Q: srun's own notices ("step creation temporarily disabled,
    // retrying" while the previous step ends) are not the job's output.
    it("shares one /tmp between the batch step and every srun step of a job", () => {
      const r = sbatchWait(
        ALICE,
        "echo batch > /tmp/f\nsrun -Q bash -c 'cat /tmp/f; echo step1 >> /tmp/f'\nsrun -Q cat /tmp/f\n",
      );
      assert.equal(r.status, 0, r.output);
      assert.equal(r.output, "batch\nbatch\nstep1\n");
    });

    it("leaves the host's and slurmd's mount tables as they were", () => {
      const host = mountPoints();
      const slurmd = mountPoints(info.slurmdPid);
      srunOk(ALICE, "true");
      sbatchWait(ALICE, "srun true");
      assert.deepStrictEqual(mountPoints(), host);
      assert.deepStrictEqual(mountPoints(info.slurmdPid), slurmd);
    });

    it("puts a task whose --chdir lies in /tmp in the private /tmp", () => {
      const r = runAs(ALICE, [
        "srun",
        "-N1",
        "--chdir=/tmp",
        "bash",
        "-c",
        'test "$(stat -c %d:%i .)" = "$(stat -c %d:%i /tmp)" && echo SAME; touch ./here; ls -A /tmp',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^SAME\nhere$/m);
    });
  });
}

describe("e2e: bad plugstack options fail the job, naming the option in the slurmd log", function () {
  before(function () {
    requireRootAndSlurm(this);
  });
  after(function () {
    stopCluster();
  });

  const cases: [string, string[], RegExp][] = [
    ["relative mount", ["base=/tmp/slurm", "mount=var/tmp"], /private-tmpdir: .*mount=var\/tmp: not an absolute path/],
    [
      "unknown option",
      ["base=/tmp/slurm", "mount=/tmp", "colour=blue"],
      /private-tmpdir: .*colour=blue: unknown option/,
    ],
    ["empty base", ["base=", "mount=/tmp"], /private-tmpdir: .*base=: empty value/],
    ["collision", ["mount=/var/tmp", "mount=/var_tmp"], /private-tmpdir: .*both map to the same private directory/],
  ];
  for (const [name, args, re] of cases) {
    it(`${name}: the job fails and never runs with the shared /tmp; the node stays in service`, async () => {
      startCluster({ plugstackLines: [pluginLine(args)] });
      const mark = logMark();
      const tag = `ptd-bad-${Date.now()}`;
      const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", `touch /tmp/${tag}`], { timeoutMs: 30_000 });
      // srun may exit 0 after a failed launch; its message says so.
      assert.ok(r.status !== 0 || LAUNCH_FAILED.test(r.stderr), `srun must fail: ${r.stderr}`);
      assert.equal(fs.existsSync(`/tmp/${tag}`), false, "the job ran with the shared /tmp");
      assert.match(logSince(mark), re);
      // Bad configuration fails jobs, never takes the node out of service.
      const state = await settledNode();
      assert.match(state, /^(idle|mixed)$/, `node state ${state}`);
    });
  }

  it("a batch job with a bad line fails, never runs with the shared /tmp, and the node stays in service (Slurm 25.05+: slurm_spank_init_failure_mode)", async function () {
    // Before 25.05 Slurm drains a node whose required plugin fails a batch
    // step's init: there is no failure mode to ask for (README, "Slurm releases").
    if (!slurmAtLeast(25, 5)) {
      console.warn(
        `    PENDING: Slurm ${slurmRelease()} has no slurm_spank_init_failure_mode (25.05 added it): a failing batch step drains the node`,
      );
      this.skip();
    }
    startCluster({ plugstackLines: [pluginLine(["base=/tmp/slurm", "mount=var/tmp"])] });
    const mark = logMark();
    const tag = `ptd-bad-batch-${Date.now()}`;
    const r = sbatchWait(ALICE, `touch /tmp/${tag}\necho RAN\n`);
    assert.equal(r.state, "FAILED", r.output);
    assert.doesNotMatch(r.output, /RAN/);
    assert.equal(fs.existsSync(`/tmp/${tag}`), false, "the job ran with the shared /tmp");
    assert.match(
      logSince(mark),
      new RegExp(
        `\\[${r.jobId}\\.batch\\] error: private-tmpdir: bad plugstack.conf option: mount=var/tmp: not an absolute path`,
      ),
    );
    const state = await settledNode();
    assert.match(state, /^(idle|mixed)$/, `node state ${state}`);
    // And the next job still gets a node.
    const again = runAs(ALICE, ["srun", "-N1", "true"], { timeoutMs: 30_000 });
    assert.ok(LAUNCH_FAILED.test(again.stderr), again.stderr);
  });
});
