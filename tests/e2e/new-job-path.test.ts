// Nothing of ours on a new job's path that can run elsewhere (#22), on a
// real slurmd: the job's first step makes its namespace itself and hands it
// to a holder it does not wait for, and later steps still join that very
// namespace; an epilog (or a step) that finds a remover at work starts no
// other, and that remover still takes every directory.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { allocate, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { sshAs, sshdLog, sshMissing, startSshd, stopSshd } from "../helpers/sshd.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const HOLD = "/tmp/slurm.hold";

describe("e2e: a new job's path (#22)", function () {
  this.timeout(600_000);
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine([...SEED, "tmpfs=/dev/shm", "size=16M"])] });
  });
  after(() => {
    stopCluster();
    removeJobDirs();
  });

  it("the first step makes the job's namespace and hands it to its holder: the holder holds the step's own namespace, and the next step joins it and sees its /tmp and /dev/shm", async () => {
    const id = allocate(ALICE);
    try {
      const mark = logMark();
      const first = runAs(ALICE, [
        "srun",
        `--jobid=${id}`,
        "-N1",
        "bash",
        "-c",
        "readlink /proc/self/ns/mnt; echo a > /tmp/a; echo c > /dev/shm/c",
      ]);
      assert.equal(first.status, 0, first.stderr);
      const made = first.stdout.trim();
      assert.match(made, /^mnt:\[\d+\]$/);
      assert.notEqual(made, fs.readlinkSync("/proc/self/ns/mnt"), "not the host's namespace");
      const holders = await waitFor(
        () => {
          const h = holdersOf([id]);
          return h.length ? h : undefined;
        },
        10_000,
        { what: "the job's holder" },
      );
      assert.equal(holders.length, 1);
      assert.equal(
        fs.readlinkSync(`/proc/${holders[0]}/ns/mnt`),
        made,
        "the holder keeps the namespace the first step made",
      );
      assert.match(
        logSince(mark),
        new RegExp(`job ${id}: private directories mounted, in the job's namespace, started by this step$`, "m"),
      );
      const second = runAs(ALICE, [
        "srun",
        `--jobid=${id}`,
        "-N1",
        "bash",
        "-c",
        "readlink /proc/self/ns/mnt; cat /tmp/a /dev/shm/c",
      ]);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(
        second.stdout,
        `${made}\na\nc\n`,
        "the second step is in that namespace, with the first step's files",
      );
      assert.match(logSince(mark), new RegExp(`job ${id}: private directories mounted, in the job's namespace$`, "m"));
    } finally {
      runAs("root", ["scancel", String(id)]);
    }
    await waitFor(() => holdersOf([id]).length === 0 && !fs.existsSync(`/tmp/slurm.${id}.0`), 60_000, {
      what: "the job's holder and directory to go",
    });
  });

  it("back to back jobs: the first job's end starts a remover, which stays for the next jobs' directories: their epilogs start none, and every directory goes", async () => {
    // Nothing at work to begin with: a remover left by an earlier test has gone.
    await waitFor(
      () => {
        try {
          execFileSync("flock", ["-n", HOLD, "true"]);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      { what: "no remover at work" },
    );
    const mark = logMark();
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID; echo x > /tmp/f"]);
      assert.equal(r.status, 0, r.stderr);
      ids.push(Number(r.stdout.trim()));
    }
    const log = await waitFor(
      () => {
        const l = logSince(mark);
        return ids.every((id) => new RegExp(`job ${id} uid \\d+: removed`).test(l)) ? l : undefined;
      },
      60_000,
      { what: `every job's directory to go\n${logSince(mark)}` },
    );
    const covered = ids.filter((id) =>
      new RegExp(
        `job ${id}: 1 directories taken out of reach in [0-9.]+ s; removal continues after the epilog, by the remover already at work`,
      ).test(log),
    );
    assert.ok(!covered.includes(ids[0]!), "the first job's end starts the remover");
    assert.ok(
      covered.length >= 2,
      `the next jobs' epilogs leave their directories to it: ${covered.length} of 3\n${log}`,
    );
    for (const id of ids) assert.ok(!fs.existsSync(`/tmp/slurm.${id}.0`));
  });

  it("while a remover is at work (it holds the holding place's lock), epilogs and steps start none: the directories wait in the holding place, and the next remover takes them all", async () => {
    // A first job makes the holding place.
    assert.equal(runAs(ALICE, ["srun", "-N1", "true"]).status, 0);
    await waitFor(() => fs.existsSync(HOLD) && fs.readdirSync(HOLD).length === 0, 30_000, {
      what: "an empty holding place",
    });
    const ready = `/run/ptd-hold-locked-${process.pid}`;
    // Root in the host's namespace, as a remover is: flock on the holding
    // place itself.
    const locker = spawn(
      "python3",
      [
        "-c",
        `
import fcntl, os, time
fd = os.open("${HOLD}", os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
open("${ready}", "w").close()
time.sleep(300)
`,
      ],
      { stdio: "ignore" },
    );
    const ids: number[] = [];
    const mark = logMark();
    try {
      await waitFor(() => fs.existsSync(ready), 20_000, { what: "the holding place to be locked" });
      for (let i = 0; i < 3; i++) {
        const r = runAs(ALICE, [
          "srun",
          "-N1",
          "bash",
          "-c",
          "echo $SLURM_JOB_ID; for i in $(seq 50); do echo x > /tmp/f$i; done",
        ]);
        assert.equal(r.status, 0, r.stderr);
        ids.push(Number(r.stdout.trim()));
      }
      const log = await waitFor(
        () => {
          const l = logSince(mark);
          return ids.every((id) =>
            new RegExp(
              `job ${id}: 1 directories taken out of reach in [0-9.]+ s; removal continues after the epilog, by the remover already at work`,
            ).test(l),
          )
            ? l
            : undefined;
        },
        30_000,
        { what: `each epilog to leave its directory to the remover at work\n${logSince(mark)}` },
      );
      // Nobody took them: they wait in the holding place, out of reach.
      const held = fs.readdirSync(HOLD);
      assert.ok(held.length >= 3, `in the holding place: ${held.join(" ")}`);
      for (const id of ids) {
        assert.ok(!fs.existsSync(`/tmp/slurm.${id}.0`), `job ${id}'s directory taken out of reach`);
        assert.doesNotMatch(log, new RegExp(`job ${id} uid \\d+: removed`));
      }
    } finally {
      locker.kill("SIGKILL");
      fs.rmSync(ready, { force: true });
    }
    // The lock free: the next job's end starts a remover, which takes all.
    assert.equal(runAs(ALICE, ["srun", "-N1", "true"]).status, 0);
    await waitFor(
      () => {
        const l = logSince(mark);
        return (
          ids.every((id) => new RegExp(`job ${id} uid \\d+: removed`).test(l)) && fs.readdirSync(HOLD).length === 0
        );
      },
      60_000,
      { what: `the next remover to take every directory\n${logSince(mark)}` },
    );
  });

  it("PrologFlags=Contain (pam_slurm_adopt needs it): the extern step does not wait for the holder it starts; an ssh session of the job's user and the batch step join its namespace", async () => {
    const missing = sshMissing();
    if (missing.length > 0) throw new Error(`cannot run the ssh test: missing ${missing.join(", ")}`);
    startCluster({
      plugstackLines: [pluginLine([...SEED, "tmpfs=/dev/shm", "size=16M"])],
      extraConf: "PrologFlags=Contain",
    });
    startSshd(SEED);
    const tag = `${OUT_DIR}/ptd-handoff-ssh-${process.pid}`;
    try {
      const mark = logMark();
      const id = submitBatch(
        ALICE,
        [
          `readlink /proc/self/ns/mnt > ${tag}.ns; echo batch > /tmp/from-batch`,
          `touch ${tag}.ready; i=0; while [ ! -e ${tag}.go ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done`,
          "srun -n1 bash -c 'readlink /proc/self/ns/mnt; cat /tmp/from-ssh'",
        ].join("\n"),
      );
      await waitFor(() => fs.existsSync(`${tag}.ready`), 30_000, { what: `job ${id} to run` });
      const made = fs.readFileSync(`${tag}.ns`, "utf8").trim();
      const log = logSince(mark);
      assert.match(
        log,
        new RegExp(`job ${id}: private directories made \\(extern step\\), the job's namespace started$`, "m"),
      );
      assert.match(
        log,
        new RegExp(`job ${id}: private directories mounted, in the job's namespace$`, "m"),
        "the batch step joined it",
      );
      const s = sshAs(ALICE, "readlink /proc/self/ns/mnt; cat /tmp/from-batch; echo ssh > /tmp/from-ssh");
      assert.equal(s.status, 0, `ssh: ${s.stderr}\n--- sshd.log ---\n${sshdLog()}`);
      assert.equal(
        s.stdout,
        `${made}\nbatch\n`,
        "the session is in the namespace the batch step made, and sees its /tmp",
      );
      fs.writeFileSync(`${tag}.go`, "");
      const r = await waitBatch(id);
      assert.equal(r.state, "COMPLETED", r.output);
      assert.equal(
        r.output.trim().split("\n").slice(-2).join("\n"),
        `${made}\nssh`,
        "a later step joins it too and sees the session's file",
      );
    } finally {
      fs.writeFileSync(`${tag}.go`, "");
      stopSshd();
      for (const x of [".ns", ".ready", ".go"]) fs.rmSync(`${tag}${x}`, { force: true });
    }
  });
});
