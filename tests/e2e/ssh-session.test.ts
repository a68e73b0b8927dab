// ssh sessions of a job's user join the job's namespace (#12): a real sshd
// on a loopback port, pam_slurm_adopt (Debian's libpam-slurm-adopt) in its
// account stack and our PAM session module in its session stack, on a real
// slurmd with PrologFlags=Contain (pam_slurm_adopt adopts into the extern
// step). Namespace ids are the processes' own /proc/self/ns/mnt.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR } from "../helpers/lab.js";
import { type RunResult } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { submitBatch, waitBatch } from "../helpers/jobs.js";
import { waitFor } from "../helpers/wait.js";
import { HOLDER_COMM as HOLDER, holdersOf as holders } from "../helpers/procfs.js";
import { sshAs, sshdLog, sshMissing, startSshd, stopSshd } from "../helpers/sshd.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

/** A batch job of user that prints its namespace, says it runs, and waits
 * for the test's go (then prints what its /tmp holds). */
async function waitingJob(
  user: string,
  tag: string,
): Promise<{ id: number; ns: () => string; go: () => Promise<string> }> {
  const ready = `${OUT_DIR}/${tag}-${process.pid}-${Date.now()}`;
  const id = submitBatch(
    user,
    [
      `readlink /proc/self/ns/mnt > ${ready}.ns`,
      `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done`,
      "echo tmp: $(ls /tmp | tr '\\n' ' ')",
    ].join("\n"),
  );
  await waitFor(() => fs.existsSync(ready), 30_000, { what: `job ${id} to run` });
  return {
    id,
    ns: () => fs.readFileSync(`${ready}.ns`, "utf8").trim(),
    go: async () => {
      fs.writeFileSync(`${ready}.go`, "");
      const r = await waitBatch(id);
      for (const s of ["", ".ns", ".go"]) fs.rmSync(`${ready}${s}`, { force: true });
      assert.equal(r.state, "COMPLETED", r.output);
      return r.output;
    },
  };
}

/** sshd ran none of the session's command: our module refused the PAM
 * session (sshd then exits before the user's shell, 254 in OpenSSH), and
 * the user was told so. */
function refusedByUs(s: RunResult): void {
  assert.doesNotMatch(s.stdout, /^in$/m, `the command ran: ${s.stdout}`);
  assert.notEqual(s.status, 0, `got in: ${s.stdout}`);
  assert.match(
    s.stdout + s.stderr,
    /Access denied by private-tmpdir: your job's private \/tmp cannot be joined on this node/,
  );
}

describe("e2e: ssh sessions join the job's namespace (pam_slurm_adopt, then our PAM session module; PrologFlags=Contain)", function () {
  let started = false;
  before(function () {
    requireRootAndSlurm(this);
    const missing = sshMissing();
    if (missing.length > 0) throw new Error(`cannot run the ssh tests: missing ${missing.join(", ")}`);
    startCluster({ plugstackLines: [pluginLine(SEED)], extraConf: "PrologFlags=Contain" });
    started = true;
    startSshd(SEED);
  });
  after(function () {
    if (!started) return;
    stopSshd();
    stopCluster();
  });

  it("the job's user sshes in and is in the job's namespace: what the session writes to /tmp is the job's, and goes with it", async () => {
    const job = await waitingJob(ALICE, "ssh-in");
    const s = sshAs(
      ALICE,
      "readlink /proc/self/ns/mnt; echo from-ssh > /tmp/from-ssh; ls -d /tmp/slurm.* 2>/dev/null | wc -l",
    );
    assert.equal(s.status, 0, `ssh: ${s.stderr}\n--- sshd.log ---\n${sshdLog()}`);
    const [ns, hostDirs] = s.stdout.trim().split("\n");
    assert.equal(ns, job.ns(), "the session is in the job's namespace");
    assert.notEqual(ns, fs.readlinkSync("/proc/self/ns/mnt"), "not the host's");
    assert.equal(hostDirs, "0", "the session sees the job's /tmp, not the host's (with its slurm.* directories)");
    assert.equal(
      fs.readFileSync(`/tmp/slurm.${job.id}.0/tmp/from-ssh`, "utf8"),
      "from-ssh\n",
      "written into the job's private directory",
    );
    assert.ok(!fs.existsSync("/tmp/from-ssh"), "nothing in the host's /tmp");
    assert.match(await job.go(), /^tmp: .*from-ssh/m, "the job sees the session's file");
    await waitFor(() => !fs.existsSync(`/tmp/slurm.${job.id}.0`), 30_000, {
      what: "the job's directory to be removed",
    });
  });

  it("a user without a job on the node is refused, as pam_slurm_adopt does", async () => {
    const job = await waitingJob(ALICE, "ssh-other");
    try {
      const before = sshdLog().length;
      const s = sshAs(MALLORY, "echo in; readlink /proc/self/ns/mnt");
      assert.notEqual(s.status, 0, `${MALLORY} got in: ${s.stdout}`);
      assert.doesNotMatch(s.stdout, /^in$/m);
      assert.match(
        sshdLog().slice(before),
        new RegExp(`Access denied for user ${MALLORY} by PAM account configuration`),
      );
    } finally {
      await job.go();
    }
  });

  it("the session cannot leave the job's namespace (no setns, no other process's root)", async () => {
    const job = await waitingJob(ALICE, "ssh-leave");
    try {
      const s = sshAs(
        ALICE,
        [
          "nsenter -t 1 -m true 2>/dev/null && echo left-by-nsenter",
          "ls /proc/1/root/ >/dev/null 2>&1 && echo left-by-proc-root",
          `for p in $(pgrep -x ${HOLDER}; pgrep -x slurmd); do cat /proc/$p/root/etc/hostname >/dev/null 2>&1 && echo reached-$p; done`,
          "readlink /proc/self/ns/mnt",
        ].join("; "),
      );
      assert.equal(s.status, 0, `ssh: ${s.stderr}\n${sshdLog()}`);
      assert.doesNotMatch(s.stdout, /left-by|reached-/, s.stdout);
      assert.equal(s.stdout.trim().split("\n").pop(), job.ns());
    } finally {
      await job.go();
    }
  });

  it("two jobs of the user on the node, and the session's cgroup names neither: refused, never a guess", async () => {
    const a = await waitingJob(ALICE, "ssh-two-a");
    const b = await waitingJob(ALICE, "ssh-two-b");
    try {
      assert.equal(holders([a.id, b.id]).length, 2, "a holder per job");
      const s = sshAs(ALICE, "echo in; readlink /proc/self/ns/mnt");
      refusedByUs(s);
    } finally {
      await Promise.all([a.go(), b.go()]);
    }
  });

  it("a job whose namespace is gone (its holder killed): the session is refused and the user told so; never the host's /tmp", async () => {
    const job = await waitingJob(ALICE, "ssh-gone");
    try {
      const pids = holders([job.id]);
      assert.equal(pids.length, 1, `one holder: ${pids.join(" ")}`);
      for (const p of pids) process.kill(p, "SIGKILL");
      await waitFor(() => holders([job.id]).length === 0, 10_000, { what: "the holder to die" });
      const logBefore = sshdLog().length;
      const s = sshAs(ALICE, "echo in; readlink /proc/self/ns/mnt");
      refusedByUs(s);
      const log = await waitFor(
        () => {
          const l = sshdLog().slice(logBefore);
          return /pam_open_session|session/i.test(l) ? l : undefined;
        },
        10_000,
        { what: "sshd's line" },
      );
      assert.match(log, /PAM: pam_open_session\(\)|open_session/i, log);
    } finally {
      await job.go();
    }
  });
});

describe("e2e: an ssh session adopted into a job has the job's memory-backed scratch and TMPDIR (#13)", function () {
  const LINE = [...SEED, "tmpfs=/dev/shm", "size=16M", "tmpdir=/var/tmp"];
  let started = false;
  before(function () {
    requireRootAndSlurm(this);
    const missing = sshMissing();
    if (missing.length > 0) throw new Error(`cannot run the ssh tests: missing ${missing.join(", ")}`);
    startCluster({ plugstackLines: [pluginLine(LINE)], extraConf: "PrologFlags=Contain" });
    started = true;
    startSshd(LINE);
  });
  after(function () {
    if (!started) return;
    stopSshd();
    stopCluster();
  });

  it("the session sees the job's own /dev/shm (its size, the job's file) and TMPDIR is the configured one", async () => {
    const tag = `ssh-shm-${process.pid}-${Date.now()}`;
    const ready = `${OUT_DIR}/${tag}`;
    const id = submitBatch(
      ALICE,
      [
        "echo job-wrote > /dev/shm/from-job",
        `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done`,
        "cat /dev/shm/from-ssh",
      ].join("\n"),
    );
    await waitFor(() => fs.existsSync(ready), 30_000, { what: `job ${id} to run` });
    let s: RunResult;
    try {
      s = sshAs(
        ALICE,
        "cat /dev/shm/from-job; echo ssh-wrote > /dev/shm/from-ssh; echo tmpdir=$TMPDIR; df -k --output=size /dev/shm | tail -1 | sed 's/ //g; s/^/kib /'",
      );
    } finally {
      fs.writeFileSync(`${ready}.go`, "");
    }
    const r = await waitBatch(id);
    assert.equal(s.status, 0, `ssh: ${s.stderr}\n--- sshd.log ---\n${sshdLog()}`);
    assert.match(s.stdout, /^job-wrote$/m, s.stdout);
    assert.match(s.stdout, /^tmpdir=\/var\/tmp$/m, s.stdout);
    assert.match(s.stdout, /^kib 16384$/m, s.stdout);
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /^ssh-wrote$/m, "the job sees what the session wrote to /dev/shm");
    assert.ok(
      !fs.existsSync("/dev/shm/from-job") && !fs.existsSync("/dev/shm/from-ssh"),
      "nothing in the host's /dev/shm",
    );
  });
});
