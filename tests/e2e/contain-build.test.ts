// private-tmpdir-contain.so (#22, below the floor), on a real slurmd: the
// plugin built without slurm_spank_job_epilog, for nodes with
// PrologFlags=Contain. That symbol alone makes slurmd fork and exec
// `slurmstepd spank epilog` after every job; with Contain the extern step's
// end is the job's end and removes the directories, so this build does
// without it. Without Contain nothing would remove them: it refuses every
// step, naming the fix, before anything is made.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { CONTAIN_SO, LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { ALICE } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince, logWhen, slurmdLog } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { allocate, jobState } from "../helpers/jobs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { cmdline, holdersOf, liveProcessesNamed } from "../helpers/procfs.js";
import { coreSha256 } from "../../host/core.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const CONTAIN = "PrologFlags=Contain";
const EPILOG_RAN = (id: number): RegExp => new RegExp(`Running spank/epilog for jobid \\[${id}\\]`);
const EPILOG_DONE = (id: number): RegExp => new RegExp(`completed epilog for (jobid ${id}$|JobId=${id} )`, "m");
const jobDirs = (): string[] =>
  fs
    .readdirSync("/tmp")
    .filter((n) => /^slurm\.\d+\.\d+$/.test(n))
    .sort();

describe("e2e: private-tmpdir-contain.so, the build without a job epilog (#22)", function () {
  this.timeout(600_000);
  before(function () {
    requireRootAndSlurm(this);
    assert.ok(fs.existsSync(CONTAIN_SO), `${CONTAIN_SO} is built beside the plugin`);
  });
  after(() => {
    stopCluster();
    removeJobDirs();
  });

  // What the evidence below is worth: the same job under private-tmpdir.so
  // does show slurmd running the SPANK epilog.
  it("control: private-tmpdir.so under Contain makes slurmd run `slurmstepd spank epilog` after each job", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)], extraConf: CONTAIN });
    const mark = logMark();
    const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID"]);
    assert.equal(r.status, 0, r.stderr);
    const id = Number(r.stdout.trim());
    await logWhen(mark, EPILOG_DONE(id), "the job's epilog", 60_000);
    assert.match(logSince(mark), EPILOG_RAN(id));
  });

  it("with PrologFlags=Contain: the steps share the job's private /tmp, the extern step's end removes its directories, and slurmd starts no epilog process", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED, "required", CONTAIN_SO)], extraConf: CONTAIN });
    const mark = logMark();
    const id = allocate(ALICE);
    try {
      const first = runAs(ALICE, [
        "srun",
        `--jobid=${id}`,
        "-N1",
        "bash",
        "-c",
        "readlink /proc/self/ns/mnt; echo a > /tmp/a; echo v > /var/tmp/v",
      ]);
      assert.equal(first.status, 0, first.stderr);
      assert.notEqual(
        first.stdout.trim(),
        fs.readlinkSync("/proc/self/ns/mnt"),
        "the step is not in the host's namespace",
      );
      const dir = `/tmp/slurm.${id}.0`;
      assert.equal(fs.readFileSync(`${dir}/tmp/a`, "utf8"), "a\n", "the step's /tmp is the job's directory");
      assert.equal(fs.readFileSync(`${dir}/var_tmp/v`, "utf8"), "v\n", "the step's /var/tmp is the job's directory");
      assert.equal(fs.statSync(`${dir}/tmp`).uid, fs.statSync(`${dir}/tmp/a`).uid, "owned by the job's user");
      assert.notEqual(fs.statSync(`${dir}/tmp`).uid, 0);
      const second = runAs(ALICE, [
        "srun",
        `--jobid=${id}`,
        "-N1",
        "bash",
        "-c",
        "readlink /proc/self/ns/mnt; cat /tmp/a",
      ]);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout, `${first.stdout.trim()}\na\n`, "the second step joins the first one's namespace");
      // This build was loaded, in the extern step as in the job's steps.
      assert.match(
        logSince(mark),
        new RegExp(
          `\\[${id}\\.extern\\] private-tmpdir: loaded \\S+/contain core sha256 ${coreSha256()}; options: ${SEED.join(" ")}`,
        ),
      );
      assert.match(logSince(mark), new RegExp(`\\[${id}\\.0\\] private-tmpdir: loaded \\S+/contain core sha256 `));
    } finally {
      runAs("root", ["scancel", String(id)]);
    }
    // The line of whichever remover took the directories: the one this
    // extern step started, or one still at work from an earlier job's end
    // (it logs under its own starter's step).
    await logWhen(
      mark,
      new RegExp(`private-tmpdir: job ${id} uid \\d+: removed \\d+ bytes, 2 files, 3 directories in [0-9.]+ s \\(`),
      "the job's removal line",
      60_000,
    );
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false, "nothing left");
    await waitFor(() => jobState(id) !== "RUNNING" && jobState(id) !== "COMPLETING", 60_000, {
      what: `job ${id} to complete`,
    });
    // slurmd logs its end of the job's epilog stage whether or not it ran
    // anything in it: after that line, no SPANK epilog can come.
    await logWhen(mark, EPILOG_DONE(id), "slurmd's end of the job's epilog stage", 60_000);
    const log = logSince(mark);
    assert.doesNotMatch(log, EPILOG_RAN(id));
    assert.doesNotMatch(log, /calling \S+slurmstepd spank epilog/);
  });

  // What this build gives up against private-tmpdir.so: no epilog runs at
  // a job's end when its extern step was killed. The next job's end on the
  // node takes what it left (the remover's sweep), its holder too.
  it("the extern step's slurmstepd killed (SIGKILL): nothing runs at that job's end; the next job's end on the node removes its directories and releases its holder", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED, "required", CONTAIN_SO)], extraConf: CONTAIN });
    const id = allocate(ALICE);
    const dir = `/tmp/slurm.${id}.0`;
    try {
      const step = runAs(ALICE, ["srun", `--jobid=${id}`, "-N1", "bash", "-c", "echo kept > /tmp/f"]);
      assert.equal(step.status, 0, step.stderr);
      await waitFor(() => holdersOf([id]).length === 1 || undefined, 10_000, { what: "the job's holder" });
      const ext = liveProcessesNamed("slurmstepd").filter((p) => (cmdline(p) ?? "").includes(`[${id}.extern]`));
      assert.equal(ext.length, 1, `one extern slurmstepd of job ${id}: ${ext.join(" ")}`);
      process.kill(ext[0] as number, "SIGKILL");
    } finally {
      runAs("root", ["scancel", String(id)]);
    }
    await waitFor(() => !["RUNNING", "COMPLETING"].includes(jobState(id)), 60_000, { what: `job ${id} to end` });
    assert.equal(
      fs.readFileSync(`${dir}/tmp/f`, "utf8"),
      "kept\n",
      "nothing ran at the job's end: its directory is still there",
    );
    // Later jobs end on the node, one every 10 s: the remover each starts
    // sweeps. slurmctld's answers are kept a minute (ctlmemo.h), so one
    // asked while the job ran keeps it that long.
    const mark = logMark();
    const gone = (): boolean => !fs.existsSync(dir) && holdersOf([id]).length === 0;
    for (let t = 0; t < 15 && !gone(); t++) {
      const next = runAs(ALICE, ["srun", "-N1", "true"]);
      assert.equal(next.status, 0, next.stderr);
      await waitFor(gone, 10_000, { what: "the sweep" }).catch(() => undefined);
    }
    assert.ok(gone(), `job ${id}'s directory and holder are gone after later jobs' ends`);
    // By a later job's end (its extern step's remover), not slurmd's start;
    // the line comes once the tree is gone from the holding place.
    await logWhen(
      mark,
      new RegExp(`private-tmpdir: job ${id} uid \\d+: removed [^\\n]*\\(extern step\\)`),
      "the removal line",
      30_000,
    );
  });

  it("without PrologFlags=Contain: slurmd's start says why it cannot work, and every step fails before anything is made", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED, "required", CONTAIN_SO)] });
    assert.match(
      slurmdLog(),
      /private-tmpdir: private-tmpdir-contain\.so removes a job's directories at its extern step's end, but slurm\.conf has no PrologFlags=Contain: every step on this node fails/,
    );
    const before = jobDirs();
    const mark = logMark();
    const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", "echo ran > /tmp/ran; echo ran"]);
    assert.ok(r.status !== 0 || LAUNCH_FAILED.test(r.stderr), `the step failed: ${r.status} ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /ran/, "no task ran");
    await logWhen(
      mark,
      /private-tmpdir: private-tmpdir-contain\.so removes a job's directories at its extern step's end, but slurm\.conf has no PrologFlags=Contain: add it to slurm\.conf, or name private-tmpdir\.so/,
      "the step's refusal",
    );
    assert.deepEqual(
      jobDirs().filter((n) => !before.includes(n)),
      [],
      "no job directory made",
    );
  });
});
