// Local disk per job with a hard size (#25) on a real slurmd: disk= gives
// each job an ext4 of its own, reserved in full on the local disk when the
// job starts, on a loop device, shared by the job's steps, seen by no other
// job nor the host, and gone with the job (its space back on the disk).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import { ALICE, MALLORY, OUT_DIR, PLUGSTACK_CONF } from "../helpers/lab.js";
import { cli } from "../helpers/cli.js";
import { thisNodeCores } from "../../host/core.js";
import { slurmAtLeast } from "../helpers/slurm-release.js";
import {
  type ClusterInfo,
  settledNode,
  requireRootAndSlurm,
  restartSlurmd,
  startCluster,
  stopCluster,
} from "../helpers/cluster.js";
import { sshAs, sshdLog, sshMissing, startSshd, stopSshd } from "../helpers/sshd.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf, hostMountinfo, taskMountOf as mountOf } from "../helpers/procfs.js";

const BASE = "/tmp/slurm";
const SIZE_MB = 64;
const LINE = ["base=/tmp/slurm", "mount=/tmp", `disk=/var/tmp`, `size=${SIZE_MB}M`];

/** The loop devices attached to one of our images ("<base>.disk/#<ino> (deleted)"). */
function ourLoops(): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync("/sys/block")) {
    if (!d.startsWith("loop")) continue;
    let backing = "";
    try {
      backing = fs.readFileSync(`/sys/block/${d}/loop/backing_file`, "utf8").trim();
    } catch {
      continue;
    }
    if (backing.startsWith(`${BASE}.disk/`)) out.push(`${d}: ${backing}`);
  }
  return out;
}

/** MiB users may still write on the filesystem the images are made on. */
function freeMb(): number {
  const s = fs.statfsSync(fs.existsSync(`${BASE}.disk`) ? `${BASE}.disk` : "/tmp");
  return Math.floor((s.bavail * s.bsize) / 1048576);
}

describe("e2e: local disk per job (disk=, size=)", function () {
  let info: ClusterInfo;
  before(function () {
    requireRootAndSlurm(this);
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
  });
  after(() => stopCluster());

  it("two jobs at once: each its own ext4 on a loop device, its size reserved at the start, ENOSPC past it for that job alone, shared by its steps; nothing left after", async () => {
    const mark = logMark();
    const hostMounts = hostMountinfo(info.slurmdPid);
    const tag = `${process.pid}-${Date.now()}`;
    const ready = (who: string) => `${OUT_DIR}/disk-${tag}-${who}`;
    const probe = `${OUT_DIR}/disk-probe-${tag}.sh`;
    fs.writeFileSync(
      probe,
      [
        "#!/bin/bash",
        "cat /var/tmp/mine",
        "echo names $(ls -A /var/tmp | sort | tr '\\n' ' ')",
        "echo owner $(stat -c '%a %U' /var/tmp)",
        'awk \'$5=="/var/tmp" {print "vartmp", $0}\' /proc/self/mountinfo',
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
    const script = (who: string) =>
      [
        `echo ${who}-$SLURM_JOB_ID > /var/tmp/mine`,
        // Past the size: ENOSPC in this job.
        "dd if=/dev/zero of=/var/tmp/fill bs=1M count=200 2>&1 | grep -o 'No space left on device' | head -1",
        "echo filled $(du -sm /var/tmp/fill | cut -f1)",
        "rm -f /var/tmp/fill",
        // Both jobs hold their disks at once until the test has looked.
        `touch ${ready(who)}; i=0; while [ ! -e ${ready("go")} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`,
        `srun -n1 --overlap ${probe}`,
      ].join("\n");
    const free0 = freeMb();
    const a = submitBatch(ALICE, script("a"), ["-n1"]);
    const b = submitBatch(MALLORY, script("b"), ["-n1"]);
    // While both run, their images hold their whole size on the disk.
    await waitFor(() => (fs.existsSync(ready("a")) && fs.existsSync(ready("b"))) || undefined, 60_000, {
      what: "both jobs to have filled their disks",
    });
    const loops = ourLoops();
    // What an admin sees meanwhile: both jobs, each its disk's size and use.
    const st = cli("status", "--config", PLUGSTACK_CONF, "--json");
    fs.writeFileSync(ready("go"), "");
    const [ra, rb] = await Promise.all([waitBatch(a), waitBatch(b)]);
    assert.equal(st.status, 0, st.stderr);
    const status = JSON.parse(st.stdout) as {
      jobs: { jobid: number; uid: number; holder: number | null; paths: Record<string, unknown>[] }[];
      loops: unknown[];
    };
    for (const id of [a, b]) {
      const j = status.jobs.find((x) => x.jobid === id);
      assert.ok(j && j.holder !== null, `status lists job ${id} with its holder: ${st.stdout}`);
      const disk = j.paths.find((p) => p["path"] === "/var/tmp");
      assert.ok(disk, st.stdout);
      assert.equal(disk["kind"], "disk");
      assert.equal(disk["fstype"], "ext4");
      assert.match(String(disk["source"]), /^\/dev\/loop\d+$/);
      // Its size, less ext4's own tables; nearly nothing used (the fill was removed).
      assert.ok(Number(disk["sizeMb"]) > SIZE_MB * 0.8 && Number(disk["sizeMb"]) <= SIZE_MB, st.stdout);
      assert.ok(Number(disk["usedMb"]) < 8, st.stdout);
      assert.deepEqual(
        j.paths.find((p) => p["path"] === "/tmp"),
        {
          path: "/tmp",
          kind: "bind",
          source: j.paths.find((p) => p["path"] === "/tmp")?.["source"],
          fstype: j.paths.find((p) => p["path"] === "/tmp")?.["fstype"],
          sizeMb: null,
          usedMb: null,
        },
      );
    }
    assert.equal(status.loops.length, 2, st.stdout);
    assert.equal(loops.length, 2, `one loop device a job while both ran: ${loops.join("; ")}`);
    for (const [r, who, user] of [
      [ra, "a", ALICE],
      [rb, "b", MALLORY],
    ] as const) {
      assert.equal(r.state, "COMPLETED", `job ${r.jobId}: ${r.output}`);
      assert.match(r.output, /^No space left on device$/m, `a write past size= fails:\n${r.output}`);
      const filled = Number(/^filled (\d+)$/m.exec(r.output)?.[1]);
      assert.ok(filled > SIZE_MB * 0.8 && filled <= SIZE_MB, `wrote ${filled} MiB of ${SIZE_MB}:\n${r.output}`);
      assert.match(r.output, new RegExp(`^${who}-${r.jobId}$`, "m"), "a later step sees the batch step's file");
      assert.match(r.output, /^names mine$/m, `only its own file, no lost+found:\n${r.output}`);
      assert.match(r.output, new RegExp(`^owner 1777 ${user}$`, "m"), r.output);
      const m = mountOf(r.output, "vartmp");
      assert.ok(m, `mountinfo line:\n${r.output}`);
      assert.equal(m.type, "ext4", JSON.stringify(m));
      assert.match(m.source, /^\/dev\/loop\d+$/, JSON.stringify(m));
      for (const o of ["nosuid", "nodev"]) assert.ok(m.opts.split(",").includes(o), `${o} in ${m.opts}`);
    }
    // Each job's own device: the other's file was never there (names above).
    assert.notEqual(mountOf(ra.output, "vartmp")?.source, mountOf(rb.output, "vartmp")?.source);
    const log = logSince(mark);
    for (const id of [a, b])
      assert.match(log, new RegExp(`private-tmpdir: job ${id}: private directories mounted`), "the plugin ran");
    // Gone with the job: holders, loop devices, and the space.
    await waitFor(() => holdersOf([a, b]).length === 0, 10_000, { what: "the holders to exit" });
    await waitFor(() => ourLoops().length === 0 || undefined, 10_000, {
      what: `the loop devices to be detached (still: ${ourLoops().join("; ")})`,
    });
    await waitFor(() => freeMb() >= free0 - 16 || undefined, 10_000, {
      what: `the images' space back (free ${freeMb()} MiB, was ${free0})`,
    });
    assert.deepStrictEqual(hostMountinfo(info.slurmdPid), hostMounts, "slurmd's mount table changed");
  });

  it("a descriptor passed out of the job (to the user's process outside it) does not keep the disk: at the job's end it gets EIO and the space is back at once", async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const sock = `ptd-fd-${tag}`;
    const flag = (n: string) => `${OUT_DIR}/fd-${tag}-${n}`;
    // Outside any job: receives a descriptor on an abstract socket, waits
    // for the test, then writes through it and says what happened.
    const receiver = [
      "import os, socket, time, errno",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
      `s.bind("\\0${sock}"); s.listen(1)`,
      `open("${flag("listening")}", "w").close()`,
      "c, _ = s.accept()",
      "msg, fds, _, _ = socket.recv_fds(c, 16, 1)",
      `open("${flag("got")}", "w").close()`,
      `while not os.path.exists("${flag("go")}"): time.sleep(0.1)`,
      "try:",
      "    os.lseek(fds[0], 0, 0); os.write(fds[0], b'x' * 1048576); os.fsync(fds[0]); print('write-ok')",
      "except OSError as e:",
      "    print('write-failed', errno.errorcode.get(e.errno, e.errno))",
      `while not os.path.exists("${flag("end")}"): time.sleep(0.1)`,
    ].join("\n");
    const free0 = freeMb();
    const held = spawnAs(ALICE, ["python3", "-c", receiver], 120_000);
    await waitFor(() => fs.existsSync(flag("listening")) || undefined, 20_000, { what: "the receiver" });
    let r;
    try {
      r = sbatchWait(
        ALICE,
        [
          "dd if=/dev/zero of=/var/tmp/held bs=1M count=32 status=none",
          `python3 -c 'import socket, os; s = socket.socket(socket.AF_UNIX); s.connect("\\0${sock}"); ` +
            `socket.send_fds(s, [b"x"], [os.open("/var/tmp/held", os.O_RDWR)])'`,
          `i=0; while [ ! -e ${flag("got")} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo sent`,
        ].join("\n"),
      );
      assert.equal(r.state, "COMPLETED", r.output);
      assert.match(r.output, /^sent$/m);
      await waitFor(() => holdersOf([r!.jobId]).length === 0 || undefined, 20_000, { what: "the holder to exit" });
      // The job is over; its file is still open outside it. The space is
      // the disk's again all the same.
      await waitFor(() => freeMb() >= free0 - 16 || undefined, 20_000, {
        what: `the image's space back while a descriptor is held (free ${freeMb()} MiB, was ${free0})`,
      });
      fs.writeFileSync(flag("go"), "");
      await waitFor(() => fs.existsSync(flag("go")) || undefined, 1000);
    } finally {
      fs.writeFileSync(flag("go"), "");
      fs.writeFileSync(flag("end"), "");
    }
    const out = await held;
    assert.match(out.stdout, /^write-failed EIO$/m, `${out.stdout}\n${out.stderr}`);
    await waitFor(() => ourLoops().length === 0 || undefined, 20_000, {
      what: `the loop device detached once the descriptor closed (${ourLoops().join("; ")})`,
    });
    for (const n of ["listening", "got", "go", "end"]) fs.rmSync(flag(n), { force: true });
  });

  it("a user's planted images' directory (a directory of theirs, with a symlink in it) is moved aside: the next job's disk is made in root's own, nothing in theirs", async () => {
    // Between jobs no image exists: the directory may go, and a user can
    // then plant the name in the sticky /tmp before the next job.
    fs.rmSync(`${BASE}.disk`, { recursive: true, force: true });
    const plant = runAs(MALLORY, [
      "bash",
      "-c",
      `mkdir -m 0777 ${BASE}.disk && ln -s /etc ${BASE}.disk/loot && echo planted`,
    ]);
    assert.match(plant.stdout, /^planted$/m, plant.stderr);
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo ok > /var/tmp/f && cat /var/tmp/f && findmnt -n -o FSTYPE /var/tmp | tail -1");
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /^ok\next4$/m, r.output);
    const st = fs.lstatSync(`${BASE}.disk`);
    assert.ok(
      st.isDirectory() && st.uid === 0 && (st.mode & 0o777) === 0o700,
      `root's 0700: ${st.uid} ${st.mode.toString(8)}`,
    );
    assert.deepStrictEqual(fs.readdirSync(`${BASE}.disk`), [], "nothing named in the images' directory");
    await logWhen(
      mark,
      /"slurm\.disk" \(owner uid \d+, mode 0777\) was not ours: moved aside to "slurm\.disk\.aside\.[0-9a-f]+"/,
      "the notice",
    );
    const aside = fs.readdirSync("/tmp").filter((n) => n.startsWith("slurm.disk.aside."));
    assert.ok(aside.length >= 1, "the planted directory is kept aside for the admin");
    for (const a of aside) {
      assert.deepStrictEqual(fs.readdirSync(`/tmp/${a}`), ["loot"], "nothing made in the user's directory");
      fs.rmSync(`/tmp/${a}`, { recursive: true, force: true });
    }
  });

  it("size=P%: P% of the job's cores' share of the images' filesystem (its cores from Slurm, the node's counted as the plugin does)", async () => {
    stopCluster();
    info = startCluster({
      plugstackLines: [pluginLine(["base=/tmp/slurm", "mount=/tmp", "disk=/var/tmp", "size=3%"])],
    });
    const r = sbatchWait(
      ALICE,
      "df -m --output=size /var/tmp | tail -1 | tr -d ' '; scontrol show job -d $SLURM_JOB_ID | grep -o 'CPU_IDs=[^ ]*'",
    );
    assert.equal(r.state, "COMPLETED", r.output);
    const got = Number(/^(\d+)$/m.exec(r.output)?.[1]);
    const ids = /CPU_IDs=(\S+)/.exec(r.output)?.[1] ?? "";
    // "0-1,3": the job's CPUs on the node (one thread a core here).
    const cores = ids.split(",").reduce((n, p) => {
      const [a, b] = p.split("-").map(Number);
      return n + (b === undefined ? 1 : (b as number) - (a as number) + 1);
    }, 0);
    const s = fs.statfsSync(`${BASE}.disk`);
    const fsMb = Math.floor((s.blocks * s.bsize) / 1048576);
    const nodeCores = thisNodeCores();
    const want = Math.max(64, Math.floor((Math.floor((fsMb * 3) / 100) * Math.min(cores, nodeCores)) / nodeCores));
    assert.ok(cores >= 1, `the job's CPUs: ${r.output}`);
    assert.ok(
      got > want * 0.85 && got <= want,
      `df ${got} MiB for ${want} MiB (3% of ${fsMb} MiB, ${cores} of ${nodeCores} cores)`,
    );
  });

  it("request: a job's own --tmp is its disk's size (capped by max=); a job without one gets size=; asked of slurmctld once, by the job's first step", async () => {
    stopCluster();
    info = startCluster({
      plugstackLines: [
        pluginLine(["base=/tmp/slurm", "mount=/tmp", "disk=/var/tmp", "size=64M", "max=256M", "request"]),
      ],
      tmpDiskMb: 1024,
    });
    const size = "df -m --output=size /var/tmp | tail -1 | xargs";
    const probe = `echo size $(${size}); srun -n1 --overlap bash -c 'echo step $(${size})'`;
    const sizes: Record<string, number[]> = {};
    for (const [name, args] of [
      ["asked 128M", ["--tmp=128M"]],
      ["asked 512M, above max=", ["--tmp=512M"]],
      ["none", []],
    ] as const) {
      const r = sbatchWait(ALICE, probe, { args });
      assert.equal(r.state, "COMPLETED", `${name}: ${r.output}`);
      const got = [/^size (\d+)$/m, /^step (\d+)$/m].map((re) => Number(re.exec(r.output)?.[1]));
      assert.equal(got[0], got[1], `${name}: the step sees the batch step's disk: ${r.output}`);
      sizes[name] = got;
    }
    // df shows the filesystem less ext4's own: its journal (16 MiB from 128 MiB
    // to 1 GiB, 4 MiB below) and inode tables take up to a fifth of a small one.
    const near = (mb: number, want: number) => mb > want * 0.75 && mb <= want;
    assert.ok(near(sizes["asked 128M"]?.[0] ?? 0, 128), JSON.stringify(sizes));
    assert.ok(near(sizes["asked 512M, above max="]?.[0] ?? 0, 256), JSON.stringify(sizes));
    assert.ok(near(sizes["none"]?.[0] ?? 0, 64), JSON.stringify(sizes));
  });

  it("a size the disk cannot reserve: the job fails at its start with the sizes in slurmd's log, never runs with a shared /var/tmp, the node stays in service, nothing is left", async () => {
    stopCluster();
    info = startCluster({
      plugstackLines: [pluginLine(["base=/tmp/slurm", "mount=/tmp", "disk=/var/tmp", "size=100T"])],
    });
    const mark = logMark();
    const hostMounts = hostMountinfo(info.slurmdPid);
    const witness = `/var/tmp/ptd-witness-${process.pid}`;
    fs.writeFileSync(witness, "host\n");
    try {
      const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", `cat ${witness} && echo ran-with-shared-var-tmp`], {
        timeoutMs: 60_000,
      });
      assert.ok(r.status !== 0 || LAUNCH_FAILED.test(r.stderr), `the step failed: ${r.status} ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /ran-with-shared-var-tmp/);
      await logWhen(
        mark,
        /private-tmpdir: job \d+: check the room for a disk of its own on "\/var\/tmp": cannot reserve 104857600 MiB: \d+ MiB free of \d+ MiB/,
        "the refusal, with the sizes",
      );
      // A batch job too: refused in slurm_spank_init, where Slurm 25.05+
      // fails the job and keeps the node (before 25.05 a required plugin
      // failing a batch step drains it whatever the callback: README).
      if (slurmAtLeast(25, 5)) {
        const b = sbatchWait(ALICE, `cat ${witness} && echo ran-with-shared-var-tmp`, { args: ["--no-requeue"] });
        assert.equal(b.state, "FAILED", b.output);
        assert.doesNotMatch(b.output, /ran-with-shared-var-tmp/);
      }
    } finally {
      fs.rmSync(witness, { force: true });
    }
    assert.deepStrictEqual(ourLoops(), [], "no loop device left");
    assert.deepStrictEqual(hostMountinfo(info.slurmdPid), hostMounts, "slurmd's mount table changed");
    const state = await settledNode();
    assert.match(state, /^(idle|mixed)$/, `the node stays in service: ${state}`);
  });
});

describe("e2e: local disk per job under PrologFlags=Contain: ssh sessions, slurmd killed", function () {
  const line = ["base=/tmp/slurm", "mount=/tmp", "disk=/var/tmp", `size=${SIZE_MB}M`];
  let started = false;
  before(function () {
    requireRootAndSlurm(this);
    const missing = sshMissing();
    if (missing.length > 0) throw new Error(`cannot run the ssh tests: missing ${missing.join(", ")}`);
    startCluster({ plugstackLines: [pluginLine(line)], extraConf: "PrologFlags=Contain" });
    started = true;
    startSshd(line);
  });
  after(function () {
    if (!started) return;
    stopSshd();
    stopCluster();
  });

  /** A batch job of ALICE that runs script, says so, and waits for go(). */
  async function waiting(script: string[], tail: string[]): Promise<{ id: number; go: () => void; ready: string }> {
    const ready = `${OUT_DIR}/disk-wait-${process.pid}-${Date.now()}`;
    const id = submitBatch(
      ALICE,
      [
        ...script,
        `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done`,
        ...tail,
      ].join("\n"),
    );
    await waitFor(() => fs.existsSync(ready), 30_000, { what: `job ${id} to run` });
    return { id, ready, go: () => fs.writeFileSync(`${ready}.go`, "") };
  }

  it("the job's user sshes in: the session is on the job's own disk (its file, its size) and the job sees what it wrote", async () => {
    const job = await waiting(["echo job-wrote > /var/tmp/from-job"], ["cat /var/tmp/from-ssh"]);
    let s;
    try {
      s = sshAs(
        ALICE,
        'cat /var/tmp/from-job; echo ssh-wrote > /var/tmp/from-ssh; awk \'$5=="/var/tmp" {for (i = 7; i < NF; i++) if ($i == "-") print "fs", $(i+1), $(i+2)}\' /proc/self/mountinfo',
      );
    } finally {
      job.go();
    }
    const r = await waitBatch(job.id);
    assert.equal(s.status, 0, `ssh: ${s.stderr}\n--- sshd.log ---\n${sshdLog()}`);
    assert.match(s.stdout, /^job-wrote$/m, s.stdout);
    assert.match(s.stdout, /^fs ext4 \/dev\/loop\d+$/m, s.stdout);
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /^ssh-wrote$/m, "the job sees what the session wrote");
    assert.ok(
      !fs.existsSync("/var/tmp/from-job") && !fs.existsSync("/var/tmp/from-ssh"),
      "nothing in the host's /var/tmp",
    );
    await waitFor(() => ourLoops().length === 0 || undefined, 20_000, {
      what: `no loop device (${ourLoops().join("; ")})`,
    });
  });

  it("slurmd killed while a job runs, the job ending while it is down: its disk, loop device and holder are released once slurmd is back", async () => {
    const free0 = freeMb();
    const job = await waiting(["dd if=/dev/zero of=/var/tmp/data bs=1M count=16 status=none"], ["echo done"]);
    assert.equal(ourLoops().length, 1, "the job's disk is attached");
    assert.ok(
      freeMb() <= free0 - SIZE_MB + 8,
      `the job's ${SIZE_MB} MiB are reserved (free ${freeMb()}, was ${free0})`,
    );
    job.go();
    // The job ends while slurmd is down: no epilog, no extern step's end
    // told by slurmd.
    restartSlurmd(3000);
    const r = await waitBatch(job.id, 120_000);
    assert.equal(r.state, "COMPLETED", r.output);
    await waitFor(() => (holdersOf([job.id]).length === 0 && ourLoops().length === 0) || undefined, 90_000, {
      what: `the holder and the loop device released (holders ${holdersOf([job.id]).join(" ")}; loops ${ourLoops().join("; ")})`,
    });
    await waitFor(() => freeMb() >= free0 - 16 || undefined, 20_000, {
      what: `the space back (free ${freeMb()} MiB, was ${free0})`,
    });
  });
});
