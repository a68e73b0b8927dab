// Memory-backed scratch (#13) on a real slurmd: tmpfs= gives each job a
// fresh tmpfs of its own on a mount point (here /dev/shm and /var/tmp),
// shared by all of the job's steps and tasks, sized, gone with the job;
// tmpdir= sets the tasks' TMPDIR whatever the submit host had.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { REPO_ROOT } from "../helpers/repo.js";
import { LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf as holders, hostMountinfo, taskMountOf as mountOf } from "../helpers/procfs.js";

const LINE = [
  "base=/tmp/slurm",
  "mount=/tmp",
  "tmpfs=/dev/shm",
  "size=64M",
  "tmpfs=/var/tmp",
  "size=32M",
  "mode=0700",
  "noexec",
  "tmpdir=/tmp",
];
const SHM_TOOL = `${OUT_DIR}/shm-tool`;
const SOURCE = "private-tmpdir";

/** Every process on the machine that still sees one of our tmpfs mounts. */
function processesSeeingOurTmpfs(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let mi: string;
    try {
      mi = fs.readFileSync(`/proc/${d}/mountinfo`, "utf8");
    } catch {
      continue;
    }
    if (mi.includes(` - tmpfs ${SOURCE} `)) out.push(Number(d));
  }
  return out;
}

describe("e2e: memory-backed scratch (tmpfs=, size=, mode=, noexec, tmpdir=)", function () {
  let info: ClusterInfo;
  before(function () {
    requireRootAndSlurm(this);
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
    const cc = spawnSync(
      "gcc",
      ["-O1", "-Wall", "-Werror", "-o", SHM_TOOL, `${REPO_ROOT}/tests/native/shm-tool.c`, "-lrt"],
      { encoding: "utf8" },
    );
    assert.equal(cc.status, 0, `gcc shm-tool: ${cc.stderr}`);
    fs.chmodSync(SHM_TOOL, 0o755);
  });
  after(() => stopCluster());

  it("two jobs at once: each its own /dev/shm (files and shm_open objects), shared by its tasks and steps, nothing reaches the host", async () => {
    const mark = logMark();
    const hostMounts = hostMountinfo(info.slurmdPid);
    const tag = `${process.pid}-${Date.now()}`;
    const ready = (who: string) => `${OUT_DIR}/shm-${tag}-${who}`;
    // What a later step looks at, as a script of its own (no quoting
    // inside srun's bash -c).
    const probe = `${OUT_DIR}/shm-probe-${tag}.sh`;
    fs.writeFileSync(
      probe,
      [
        "#!/bin/bash",
        `${SHM_TOOL} read ptd-seg | sed s/^/later-step:/`,
        "cat /dev/shm/ptd-file",
        "echo names $(ls /dev/shm | sort | tr '\\n' ' ')",
        "echo owner $(stat -c '%a %U' /dev/shm /var/tmp | tr '\\n' ' ')",
        "echo size $(df -k --output=size /dev/shm | tail -1) $(df -k --output=size /var/tmp | tail -1)",
        ...[
          ["shm", "/dev/shm"],
          ["vartmp", "/var/tmp"],
          ["tmp", "/tmp"],
        ].map(([t, at]) => `awk -v t=${t} '$5=="${at}" {print t, $0}' /proc/self/mountinfo`),
        "cp /bin/true /var/tmp/t && chmod 755 /var/tmp/t && { /var/tmp/t && echo exec-ran || echo exec-refused; }",
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
    const script = (who: string, other: string) =>
      [
        // Two tasks of one step: task 0 makes the segment, task 1 reads it.
        `srun -n2 -O --overlap bash -c 'if [ "$SLURM_PROCID" = 0 ]; then ${SHM_TOOL} create ptd-seg ${who}-secret; echo made; ` +
          `else i=0; until ${SHM_TOOL} read ptd-seg; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done; fi'`,
        "echo file-$SLURM_JOB_ID > /dev/shm/ptd-file",
        // Both jobs hold their segment at once before looking for the other's.
        `touch ${ready(who)}; i=0; while [ ! -e ${ready(other)} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`,
        `srun -n1 --overlap ${probe}`,
      ].join("\n");
    // Two tasks on one CPU each (-O): both jobs fit the node at once.
    const a = submitBatch(ALICE, script("a", "b"), ["-n2", "-O"]);
    const b = submitBatch(MALLORY, script("b", "a"), ["-n2", "-O"]);
    const [ra, rb] = await Promise.all([waitBatch(a), waitBatch(b)]);
    for (const [r, who] of [
      [ra, "a"],
      [rb, "b"],
    ] as const) {
      assert.equal(r.state, "COMPLETED", `job ${r.jobId}: ${r.output}`);
      assert.match(r.output, new RegExp(`^${who}-secret$`, "m"), `task 1 read task 0's segment:\n${r.output}`);
      assert.match(r.output, new RegExp(`^later-step:${who}-secret$`, "m"), "a later step sees the segment");
      assert.match(r.output, new RegExp(`^file-${r.jobId}$`, "m"), "a later step sees the batch step's file");
      // Only its own two entries: the other job's segment and file are not there.
      assert.match(r.output, /^names ptd-file ptd-seg$/m, r.output);
      const user = who === "a" ? ALICE : MALLORY;
      assert.match(r.output, new RegExp(`^owner 1777 ${user} 700 ${user}$`, "m"), r.output);
      assert.match(r.output, /^size 65536 32768$/m, "size= as configured, in KiB");
      const shm = mountOf(r.output, "shm"),
        vt = mountOf(r.output, "vartmp"),
        tmp = mountOf(r.output, "tmp");
      assert.ok(shm && vt && tmp, `mountinfo lines:\n${r.output}`);
      assert.deepStrictEqual([shm.type, shm.source], ["tmpfs", SOURCE], `/dev/shm: ${JSON.stringify(shm)}`);
      assert.deepStrictEqual([vt.type, vt.source], ["tmpfs", SOURCE]);
      for (const m of [shm, vt])
        for (const o of ["nosuid", "nodev"]) assert.ok(m.opts.split(",").includes(o), `${o} in ${m.opts}`);
      assert.ok(!shm.opts.split(",").includes("noexec"), "noexec only where asked");
      assert.ok(vt.opts.split(",").includes("noexec"), `noexec on /var/tmp: ${vt.opts}`);
      assert.match(r.output, /^exec-refused$/m, "a program copied to the noexec tmpfs does not run");
      // mount= is still a bind of the job's directory (whatever /tmp's
      // filesystem: a tmpfs in the release roots).
      assert.ok(tmp.source !== SOURCE && tmp.root.endsWith(`/slurm.${r.jobId}.0/tmp`), `/tmp: ${JSON.stringify(tmp)}`);
    }
    assert.notEqual(mountOf(ra.output, "shm")?.super, undefined);
    // Not the host's /dev/shm: nothing of either job there.
    for (const n of ["ptd-seg", "ptd-file"])
      assert.ok(!fs.existsSync(`/dev/shm/${n}`), `/dev/shm/${n} reached the host`);
    const log = logSince(mark);
    for (const id of [a, b])
      assert.match(
        log,
        new RegExp(`private-tmpdir: job ${id}: private directories mounted`),
        "the plugin mounted them",
      );
    // Gone with the job: no holder, and no process anywhere still sees one
    // of these tmpfs (its memory is freed with its last mount).
    await waitFor(() => holders([a, b]).length === 0, 10_000, { what: "the holders to exit" });
    await waitFor(() => processesSeeingOurTmpfs().length === 0 || undefined, 10_000, {
      what: `no process seeing a ${SOURCE} tmpfs (still: ${processesSeeingOurTmpfs().join(" ")})`,
    });
    assert.deepStrictEqual(hostMountinfo(info.slurmdPid), hostMounts, "slurmd's mount table changed");
  });

  it("a write past size= fails with ENOSPC inside the job; another job's /dev/shm and the host's are unaffected", async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const full = `${OUT_DIR}/full-${tag}`;
    const a = submitBatch(
      ALICE,
      [
        "dd if=/dev/zero of=/dev/shm/fill bs=1M count=100 2>&1 | grep -o 'No space left on device' | head -1",
        "echo used $(du -sk /dev/shm/fill | cut -f1)",
        `touch ${full}; i=0; while [ ! -e ${full}.done ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`,
      ].join("\n"),
    );
    await waitFor(() => fs.existsSync(full), 30_000, { what: "the first job to fill its /dev/shm" });
    // While it is full: another job writes 48 MiB, the host writes too.
    const host = `/dev/shm/ptd-host-${tag}`;
    try {
      fs.writeFileSync(host, Buffer.alloc(8 << 20));
      const rb = sbatchWait(
        MALLORY,
        "dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 status=none && echo wrote $(du -sk /dev/shm/fill | cut -f1)",
      );
      assert.equal(rb.state, "COMPLETED", rb.output);
      assert.match(rb.output, /^wrote 49152$/m, rb.output);
    } finally {
      fs.rmSync(host, { force: true });
      fs.writeFileSync(`${full}.done`, "");
    }
    const ra = await waitBatch(a);
    assert.equal(ra.state, "COMPLETED", ra.output);
    assert.match(ra.output, /^No space left on device$/m, ra.output);
    const used = Number(/^used (\d+)$/m.exec(ra.output)?.[1]);
    assert.ok(used > 60_000 && used <= 65_536, `filled up to size=64M: ${used} KiB`);
  });

  it("a descriptor held on the job's /dev/shm after the job (passed out of it) pins none of its files' memory", async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const ready = `${OUT_DIR}/held-${tag}`;
    const id = submitBatch(
      ALICE,
      [
        "mkdir /dev/shm/d",
        "dd if=/dev/zero of=/dev/shm/a bs=1M count=16 status=none",
        "dd if=/dev/zero of=/dev/shm/d/b bs=1M count=16 status=none",
        `echo $$ > ${ready}.pid; touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`,
      ].join("\n"),
    );
    await waitFor(() => fs.existsSync(ready), 30_000, { what: `job ${id} to fill its /dev/shm` });
    // As a process outside the job would, with a descriptor passed to it.
    const pid = Number(fs.readFileSync(`${ready}.pid`, "utf8"));
    const held = fs.openSync(`/proc/${pid}/root/dev/shm/a`, "r");
    const used = (): number => {
      const r = spawnSync("stat", ["-f", "-c", "%b %f %S", `/proc/${process.pid}/fd/${held}`], { encoding: "utf8" });
      const [blocks, free, size] = r.stdout.trim().split(" ").map(Number) as [number, number, number];
      return ((blocks - free) * size) >> 20;
    };
    try {
      assert.ok(used() >= 32, `the job's 32 MiB in its tmpfs: ${used()} MiB`);
      fs.writeFileSync(`${ready}.go`, "");
      const r = await waitBatch(id);
      assert.equal(r.state, "COMPLETED", r.output);
      await waitFor(() => holders([id]).length === 0, 10_000, { what: "the holder to go with the job" });
      // The tmpfs lives on through the descriptor, but empty.
      assert.equal(used(), 0, "MiB still used in the ended job's tmpfs");
    } finally {
      fs.closeSync(held);
    }
  });

  // The submitted TMPDIR exists on the node (else slurmstepd itself falls
  // back to /tmp, which would prove nothing).
  it("TMPDIR is the configured private path, whatever the submit environment had", () => {
    const r = sbatchWait(ALICE, "echo batch $TMPDIR\nsrun -n1 bash -c 'echo step $TMPDIR; mktemp | sed s/^/made:/'", {
      env: { TMPDIR: OUT_DIR },
    });
    assert.equal(r.state, "COMPLETED", r.output);
    const out = r.output;
    assert.match(out, /^batch \/tmp$/m, out);
    assert.match(out, /^step \/tmp$/m, out);
    assert.match(out, /^made:\/tmp\/tmp\.\w+$/m, "mktemp uses it");
  });
});

describe("e2e: memory-backed scratch, sizes and refusals", function () {
  before(function () {
    requireRootAndSlurm(this);
  });
  afterEach(() => stopCluster());

  it("size=N% is a share of the job's memory on the node (--mem), or of the node's when Slurm allocated none", () => {
    const LINE = [pluginLine(["mount=/tmp", "tmpfs=/dev/shm", "size=50%"])];
    const SHOW = "df -k --output=size /dev/shm | tail -1 | sed 's/ //g; s/^/kib /'";
    // The lab's CR_Core: memory is not a consumable, Slurm gives the job none.
    startCluster({ plugstackLines: LINE });
    const none = sbatchWait(ALICE, SHOW, { args: ["--mem=256"] });
    assert.equal(none.state, "COMPLETED", none.output);
    const nodeMb = Math.floor(
      Number(/^MemTotal:\s+(\d+) kB$/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))?.[1]) / 1024,
    );
    const kib = Number(/^kib (\d+)$/m.exec(none.output)?.[1]);
    assert.equal(kib, Math.floor((nodeMb * 50) / 100) * 1024, `50% of the node's ${nodeMb} MiB: ${none.output}`);
    stopCluster();
    // Memory a consumable (only here: the lab's other jobs would each take
    // the whole node by default): 50% of what --mem allocated.
    startCluster({ plugstackLines: LINE, extraConf: "SelectTypeParameters=CR_Core_Memory" });
    const withMem = sbatchWait(ALICE, SHOW, { args: ["--mem=256"] });
    assert.equal(withMem.state, "COMPLETED", withMem.output);
    assert.match(withMem.output, /^kib 131072$/m, `50% of --mem=256 (MiB): ${withMem.output}`);
  });

  it("without tmpdir=, the submitted TMPDIR is left alone (no change for existing sites)", () => {
    startCluster({ plugstackLines: [pluginLine(["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"])] });
    const r = sbatchWait(ALICE, "echo batch $TMPDIR", { env: { TMPDIR: OUT_DIR } });
    assert.equal(r.state, "COMPLETED", r.output);
    const out = r.output;
    assert.ok(out.split("\n").includes(`batch ${OUT_DIR}`), out);
  });

  it("a bad size= fails every step with the option named in slurmd's log, never a shared /dev/shm", async () => {
    startCluster({ plugstackLines: [pluginLine(["mount=/tmp", "tmpfs=/dev/shm", "size=12Q"])] });
    const mark = logMark();
    const r = runAs(ALICE, ["srun", "-n1", "bash", "-c", "echo ran > /dev/shm/ptd-bad; echo ran"], {
      timeoutMs: 60_000,
    });
    // srun may exit 0 after a failed launch; its message is the proof.
    assert.doesNotMatch(r.stdout, /^ran$/m, "the step ran");
    assert.match(r.stderr, LAUNCH_FAILED, r.stderr);
    assert.ok(!fs.existsSync("/dev/shm/ptd-bad"), "the task wrote to the host's /dev/shm");
    await logWhen(mark, /private-tmpdir: bad plugstack\.conf option: size=12Q: /, "the refusal naming size=12Q");
  });
});
