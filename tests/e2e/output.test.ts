// Output under a private /tmp (#24 item 5): `sbatch -o /tmp/out.%j` makes
// slurmstepd open the file inside the job's namespace, in the job's private
// /tmp, which goes with the job. The plugin links each output file the step
// holds open at the same path in the node's own /tmp once the tasks are
// forked, as the user: the job sees it at its path, and it is there after
// the job, where Slurm alone would have put it. Attacks: a name planted at
// that path, a symlink planted on the way.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { slurmAtLeast } from "../helpers/slurm-release.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

describe("e2e: output the job writes under its private /tmp is kept at its path on the node", function () {
  let alice: number;
  let mallory: number;
  // What the jobs and the attacker leave on the host: removed whatever happens.
  const leftovers: string[] = [];
  before(function () {
    requireRootAndSlurm(this);
    alice = Number(runAs("root", ["id", "-u", ALICE]).stdout.trim());
    mallory = Number(runAs("root", ["id", "-u", MALLORY]).stdout.trim());
    startCluster({ plugstackLines: [pluginLine(SEED)] });
  });
  afterEach(() => {
    for (const p of leftovers.splice(0)) fs.rmSync(p, { force: true, recursive: true });
  });
  after(() => stopCluster());

  it("sbatch -o/-e and srun -o %t under /tmp: each file at its path in the node's /tmp after the job, the user's, all the job wrote; the job saw them at that path", () => {
    const mark = logMark();
    const r = sbatchWait(
      ALICE,
      `echo out-line
echo err-line >&2
test -f /tmp/ptd-out.$SLURM_JOB_ID && echo "seen in the job's /tmp"
srun -n1 -o /tmp/ptd-step.%j.%t echo step-line
echo last-line`,
      { args: ["-o", "/tmp/ptd-out.%j", "-e", "/tmp/ptd-err.%j"] },
    );
    const id = r.jobId;
    const files = [`/tmp/ptd-out.${id}`, `/tmp/ptd-err.${id}`, `/tmp/ptd-step.${id}.0`];
    leftovers.push(...files);
    assert.equal(r.state, "COMPLETED", logSince(mark));
    assert.equal(fs.readFileSync(files[0] ?? "", "utf8"), "out-line\nseen in the job's /tmp\nlast-line\n");
    assert.equal(fs.readFileSync(files[1] ?? "", "utf8"), "err-line\n");
    assert.equal(fs.readFileSync(files[2] ?? "", "utf8"), "step-line\n");
    for (const f of files) {
      const st = fs.lstatSync(f);
      assert.ok(st.isFile(), f);
      assert.equal(st.uid, alice, `${f}: the user's`);
    }
    // The job's own directories are gone as ever: the files outlive them.
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false);
    const log = logSince(mark);
    for (const f of files) assert.match(log, new RegExp(`job ${id}: output ${f} kept on the node at its path`), f);
  });

  it("a name another user planted at the output's path stays theirs, untouched; the output is kept beside it under a random suffix", () => {
    const planted = "/tmp/ptd-planted.out";
    leftovers.push(planted);
    const p = runAs(MALLORY, ["sh", "-c", `printf mallory > ${planted} && chmod 0666 ${planted}`]);
    assert.equal(p.status, 0, p.stderr);
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo victim-line", { args: ["-o", planted] });
    const kept = fs.readdirSync("/tmp").filter((n) => /^ptd-planted\.out\.private-tmpdir\.[0-9a-f]{8}$/.test(n));
    leftovers.push(...kept.map((n) => `/tmp/${n}`));
    assert.equal(r.state, "COMPLETED", logSince(mark));
    assert.equal(fs.readFileSync(planted, "utf8"), "mallory", "the planted file is not written");
    assert.equal(fs.lstatSync(planted).uid, mallory);
    assert.equal(kept.length, 1, `kept beside it: ${kept.join(" ")}`);
    const k = `/tmp/${kept[0]}`;
    assert.equal(fs.readFileSync(k, "utf8"), "victim-line\n");
    assert.equal(fs.lstatSync(k).uid, alice);
    assert.match(
      logSince(mark),
      new RegExp(`job ${r.jobId}: output ${planted} kept on the node as ${k} \\(a file of its name was there\\)`),
    );
  });

  it("a symlink another user planted where the output's directory is: nothing followed, nothing made through it", () => {
    const target = "/var/tmp/ptd-mallory-target";
    const link = "/tmp/ptd-symdir";
    leftovers.push(link, target);
    const p = runAs(MALLORY, ["sh", "-c", `mkdir -m 0777 ${target} && ln -s ${target} ${link}`]);
    assert.equal(p.status, 0, p.stderr);
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo victim-line", { args: ["-o", `${link}/out.%j`] });
    assert.deepStrictEqual(fs.readdirSync(target), [], "nothing written through the symlink");
    assert.equal(fs.readlinkSync(link), target);
    if (slurmAtLeast(23, 2)) {
      // slurmstepd makes the missing directory in the job's /tmp (23.02+)
      // and the job runs; on the node the way is refused and said.
      assert.equal(r.state, "COMPLETED", logSince(mark));
      assert.match(
        logSince(mark),
        new RegExp(
          `job ${r.jobId}: output ${link}/out\\.${r.jobId} stays in the job's private /tmp and goes with it: its directory on the node cannot be had as the user`,
        ),
      );
    } else {
      // 22.05 opens the file without making its directory: the job's /tmp
      // has none, so Slurm fails the job itself, as without the plugin
      // (where protected_symlinks refuses the other user's symlink).
      assert.notEqual(r.state, "COMPLETED");
    }
  });

  it("--chdir into a /tmp directory the job does not have: what each release does with the default output (slurm-%j.out there)", () => {
    const dir = "/tmp/ptd-cwd";
    leftovers.push(dir);
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo cwd=$(pwd)", { args: ["--chdir", dir, "-o", "slurm-%j.out"] });
    const out = `${dir}/slurm-${r.jobId}.out`;
    if (slurmAtLeast(23, 2)) {
      // slurmstepd makes the directory in the job's /tmp and opens the
      // output there; the plugin makes it on the node as the user and links
      // the file, so it is where Slurm alone would have put it.
      assert.equal(r.state, "COMPLETED", logSince(mark));
      assert.equal(fs.readFileSync(out, "utf8"), `cwd=${dir}\n`);
      assert.equal(fs.lstatSync(dir).uid, alice, "the directory made on the node is the user's");
      assert.equal(fs.lstatSync(out).uid, alice);
    } else {
      // 22.05 cannot open the output (no such directory in the job's /tmp)
      // and fails the job, reason in slurmd's log.
      assert.notEqual(r.state, "COMPLETED");
      assert.equal(fs.existsSync(out), false);
    }
  });
});
