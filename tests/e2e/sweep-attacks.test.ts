// What users can do to the remover's sweep (#21, 3 and 7) on a real slurmd:
// plant names to starve it, or rename a directory holding another user's
// files to a job directory's name to have root delete them.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { pastSweepFloor, waitFor } from "../helpers/wait.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { endedJob } from "../helpers/jobs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

describe("e2e: the sweep against planted and renamed names (#21)", function () {
  this.timeout(900_000);
  before(function () {
    requireRootAndSlurm(this);
  });
  after(() => {
    stopCluster();
    for (const n of fs.readdirSync("/tmp"))
      if (/^(slurm\.\d+\.\d+|ptd-share-\d+)$/.test(n)) fs.rmSync(`/tmp/${n}`, { recursive: true, force: true });
    removeJobDirs();
  });

  it("a directory with another user's files, renamed to an ended job's directory name, is left in place with them", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const ended = await endedJob(MALLORY);
    const share = `/tmp/ptd-share-${process.pid}`;
    assert.equal(runAs(MALLORY, ["bash", "-c", `mkdir -m 777 ${share}`]).status, 0);
    assert.equal(runAs(ALICE, ["bash", "-c", `echo alice > ${share}/mine`]).status, 0);
    assert.equal(runAs(MALLORY, ["mv", share, `/tmp/slurm.${ended}.0`]).status, 0);
    await pastSweepFloor([`/tmp/slurm.${ended}.0`]);
    const mark = logMark();
    assert.equal(runAs(MALLORY, ["srun", "-N1", "true"]).status, 0); // its epilog starts the remover
    const alice = execFileSync("id", ["-u", ALICE], { encoding: "utf8" }).trim();
    await waitFor(
      () =>
        new RegExp(
          `left 1 directories of jobs that have ended in place \\("slurm\\.${ended}\\.0" was not made by the plugin and holds files of uid ${alice}\\)`,
        ).test(logSince(mark)),
      60_000,
      { what: `the remover's word\n${logSince(mark)}` },
    );
    assert.equal(fs.readFileSync(`/tmp/slurm.${ended}.0/mine`, "utf8"), "alice\n", "alice's file kept");
    fs.rmSync(`/tmp/slurm.${ended}.0`, { recursive: true, force: true });
  });

  it("10,000 planted names of each kind (files, symlinks, FIFOs, other users' directories) do not keep a job's files from going", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const N = 10_000;
    // Ids far above the lab's: jobs slurmctld never had (ended, to the sweep).
    // One process, not 40,000 forks: the planting is not what is tested.
    const plant = `import os
for i in range(700000, ${700000 + N}):
    open("/tmp/slurm.%d.1" % i, "w").close()
    os.symlink("/etc", "/tmp/slurm.%d.2" % i)
    os.mkfifo("/tmp/slurm.%d.3" % i)
    os.mkdir("/tmp/slurm.%d.0" % i)
`;
    assert.equal(runAs(MALLORY, ["python3", "-c", plant], { timeoutMs: 600_000 }).status, 0);
    await pastSweepFloor(Array.from({ length: N }, (_, i) => `/tmp/slurm.${700000 + i}.0`));
    const mark = logMark();
    const r = runAs(
      ALICE,
      ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID; mkdir /tmp/d; cd /tmp/d; seq 2000 | xargs touch"],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const id = Number(r.stdout.trim());
    const line = await waitFor(
      () =>
        new RegExp(
          `private-tmpdir: job ${id} uid \\d+: removed 0 bytes, 2000 files, 4 directories in ([0-9.]+) s`,
        ).exec(logSince(mark)),
      60_000,
      {
        what: `job ${id}'s removal line\n${logSince(mark)
          .split("\n")
          .filter((l) => /private-tmpdir/.test(l))
          .join("\n")}`,
      },
    );
    assert.ok(!fs.existsSync(`/tmp/slurm.${id}.0`));
    // Within the pass, not left pending behind the planted names.
    assert.doesNotMatch(logSince(mark), /entries pending after this pass \(time budget spent\)/);
    assert.ok(Number(line[1]) < 10, `removal took ${line[1]} s`);
    // Only what passed every check was taken: mallory's own directories
    // (nothing of anyone else in them); files, symlinks and FIFOs stay.
    await waitFor(() => /took in 10000 directories of jobs that have ended/.test(logSince(mark)), 60_000, {
      what: "the sweep's count",
    });
    const left = fs.readdirSync("/tmp").filter((n) => /^slurm\.7\d{5}\.\d$/.test(n));
    assert.equal(left.length, 3 * N, "files, symlinks and FIFOs are never taken in");
    assert.ok(fs.lstatSync("/etc").isDirectory());
  });
});
