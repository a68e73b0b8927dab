// The epilog's removal through the plugin's own C (addon): every restart
// count of the job, the holding place (taken out of reach at once, emptied
// later by the remover), one remover at a time, the orphan sweep, and a
// concurrent writer. In a scratch parent that behaves like /tmp.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { loadAddon } from "../../host/addon.js";
import { DRAIN_BUDGET_S, Phase } from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = `/var/tmp/ptd-hold-test.${process.pid}`; // per run: suites may run side by side
const PARENT = `${SCRATCH}/shared`;
const BASE = `${PARENT}/slurm`;
const HOLD = `${BASE}.hold`;
const ARGS = [`base=${BASE}`, "mount=/var/tmp", "mount=/tmp"];
const USER = 60001;
const OTHER = 60002;

function jobDir(name: string, uid = USER, files = 1): string {
  const d = `${PARENT}/${name}`;
  fs.mkdirSync(`${d}/tmp`, { recursive: true });
  for (let i = 0; i < files; i++) fs.writeFileSync(`${d}/tmp/f${i}`, "x");
  execFileSync("chown", ["-R", `${uid}:${uid}`, d]);
  return d;
}

const epilog = (jobid: number, restart = 0, uid = USER) =>
  loadAddon().coreRun(Phase.EPILOG, ARGS, jobid, restart, uid, uid, 0, 0, false);
const drain = () => loadAddon().coreRun(Phase.DRAIN, ARGS, 0, 0, 0, 0, 0, 0, false);
const held = (): string[] => fs.readdirSync(HOLD);
// The holding place and the namespace directory (root's, the plugin's own) aside.
const left = (): string[] =>
  fs
    .readdirSync(PARENT)
    .filter((n) => n !== "slurm.hold" && n !== "slurm.ns")
    .sort();

describe("epilog removal: every restart count, the holding place, the remover (C host)", function () {
  this.timeout(120_000);
  beforeEach(function () {
    requireRoot(this);
    fs.rmSync(SCRATCH, { recursive: true, force: true });
    fs.mkdirSync(PARENT, { recursive: true });
    fs.chmodSync(PARENT, 0o1777); // like /tmp
    loadAddon().holdTest({ defer: false, running: null, minAge: 10 });
  });
  afterEach(() =>
    loadAddon().holdTest({ defer: false, running: null, minAge: 10, budgetMs: -1, lingerMs: 0, continueProbe: false }),
  );
  after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

  it("removes the job's directory of every restart count, matched exactly, whatever restart the epilog is given", () => {
    for (const n of ["7.0", "7.1", "7.12", "7.4294967295"]) jobDir(`slurm.${n}`);
    // Not job 7's: leading zero, trailing junk, another job, no count, > 2^32-1.
    const decoys = ["slurm.7.01", "slurm.7.1x", "slurm.77.0", "slurm.7.", "slurm.7.4294967296", "slurm.7.1.0"];
    for (const d of decoys) jobDir(d);
    const r = epilog(7, 0);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual(left(), [...decoys].sort());
    assert.deepStrictEqual([r.removed.files, r.removed.deferred], [4, 0]);
    assert.deepStrictEqual(held(), [], "removed from the holding place at once without a remover");
  });

  it("makes the holding place root's, 0700; a squatter's is exchanged and moved aside, never used", () => {
    fs.mkdirSync(HOLD);
    fs.writeFileSync(`${HOLD}/planted`, "x");
    fs.chownSync(HOLD, OTHER, OTHER);
    fs.chmodSync(HOLD, 0o777);
    jobDir("slurm.9.0");
    const r = epilog(9);
    assert.equal(r.ok, true, r.message);
    assert.match(r.notice, /"slurm\.hold" \(owner uid 60002, mode 0777\) was not ours: moved aside/);
    const st = fs.lstatSync(HOLD);
    assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o700]);
    assert.deepStrictEqual(held(), []);
    const aside = fs.readdirSync(PARENT).filter((n) => n.startsWith("slurm.hold.aside."));
    assert.equal(aside.length, 1);
    assert.deepStrictEqual(fs.readdirSync(`${PARENT}/${aside[0]}`), ["planted"], "the squatter's own, untouched");
  });

  it("defers: the epilog only renames into the holding place; the remover empties it and logs one line per job", () => {
    loadAddon().holdTest({ defer: true });
    jobDir("slurm.8.0", USER, 5);
    jobDir("slurm.8.1", USER, 2);
    const r = epilog(8);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual([r.removed.deferred, r.removed.files], [2, 0], "nothing removed on the epilog's path");
    assert.deepStrictEqual(left(), []);
    assert.equal(held().length, 2);
    for (const h of held()) assert.match(h, /^slurm\.8\.[01]\.60001\.[0-9a-f]{16}$/, "named unpredictably");
    loadAddon().holdTest({ defer: false });
    const d = drain();
    assert.equal(d.ok, true, d.message);
    assert.deepStrictEqual(held(), []);
    // The usage record's lines (usage.test.ts) aside.
    const lines = loadAddon()
      .holdTest()
      .filter((l) => !l.startsWith("private-tmpdir: usage "))
      .sort();
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(
      lines[0] ?? "",
      /^private-tmpdir: job 8 uid 60001: removed \d+ bytes, (5|2) files, 2 directories in [0-9.]+ s \(test\)$/,
    );
  });

  it("runs one remover per holding place: while another holds the lock, nothing is touched", async () => {
    loadAddon().holdTest({ defer: true });
    jobDir("slurm.10.0");
    assert.equal(epilog(10).ok, true);
    loadAddon().holdTest({ defer: false });
    const locker = spawn("flock", ["--exclusive", HOLD, "sh", "-c", "echo locked; read x"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    await new Promise<void>((res) => locker.stdout.once("data", () => res()));
    try {
      assert.equal(drain().ok, true);
      assert.equal(held().length, 1, "left to the remover holding the lock");
    } finally {
      locker.stdin.end("\n");
      await new Promise((res) => locker.once("exit", res));
    }
    assert.equal(drain().ok, true);
    assert.deepStrictEqual(held(), []);
  });

  it("sweeps in directories of jobs no longer on the node, any restart count, and never a running job's", () => {
    jobDir("slurm.900.0");
    jobDir("slurm.900.3");
    jobDir("slurm.901.0"); // still running
    jobDir("slurm.902.0", 0); // root's: not a job directory of ours
    jobDir("slurm.x.0");
    loadAddon().holdTest({ running: [901], minAge: 0 });
    assert.equal(drain().ok, true);
    assert.deepStrictEqual(left(), ["slurm.901.0", "slurm.902.0", "slurm.x.0"]);
    assert.deepStrictEqual(held(), []);
    assert.ok(
      loadAddon()
        .holdTest()
        .some((l) => /took in 2 directories of jobs that have ended/.test(l)),
    );
    // cleanup=no keeps job directories on purpose: its remover sweeps none.
    jobDir("slurm.904.0");
    assert.equal(loadAddon().coreRun(Phase.DRAIN, [...ARGS, "cleanup=no"], 0, 0, 0, 0, 0, 0, false).ok, true);
    assert.ok(left().includes("slurm.904.0"));
    // Without a way to tell which jobs run, nothing is swept.
    jobDir("slurm.903.0");
    loadAddon().holdTest({ running: null });
    assert.equal(drain().ok, true);
    assert.ok(left().includes("slurm.903.0"));
  });

  it("a writer holding a descriptor into an ended job's tree: pending while it writes, gone once it stops", async () => {
    loadAddon().holdTest({ defer: true });
    jobDir("slurm.11.0");
    // As a same-uid process through /proc/<pid>/root/tmp would: a
    // descriptor opened before the epilog, still writing after it.
    const py = `import os, sys, time
os.setuid(${USER})
fd = os.open(${JSON.stringify(`${PARENT}/slurm.11.0/tmp`)}, os.O_RDONLY | os.O_DIRECTORY)
print("open", flush=True)
sys.stdin.readline()
i = 0
while not os.path.exists(${JSON.stringify(`${SCRATCH}/stop`)}):
    try:
        os.close(os.open("w%d" % i, os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=fd))
    except OSError:
        pass
    i += 1
`;
    const writer = spawn("python3", ["-c", py], { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise<void>((res) => writer.stdout.once("data", () => res()));
    assert.equal(epilog(11).ok, true);
    writer.stdin.write("go\n");
    await new Promise((res) => setTimeout(res, 300)); // let it write into the held tree
    loadAddon().holdTest({ defer: false });
    loadAddon().holdTest();
    assert.equal(drain().ok, true);
    // Whichever wins this pass, the tree is never back within a user's
    // reach and never lost: removed, or held and said to be pending.
    const lines = loadAddon().holdTest();
    if (held().length)
      assert.ok(
        lines.some((l) =>
          /1 entries pending after this pass \(could not be removed yet\): slurm\.11\.0\.60001\.[0-9a-f]{16}/.test(l),
        ),
        lines.join("\n"),
      );
    else
      assert.ok(
        lines.some((l) => /job 11 uid 60001: removed/.test(l)),
        lines.join("\n"),
      );
    assert.deepStrictEqual(left(), []);
    fs.writeFileSync(`${SCRATCH}/stop`, "");
    await new Promise((res) => writer.once("exit", res));
    assert.equal(drain().ok, true);
    assert.deepStrictEqual(held(), [], "nothing left once the writer stopped");
  });

  it("a remover that stays (a job's end) takes a directory moved in while it waits, and only in its budget's first half", () => {
    loadAddon().holdTest({ defer: true });
    jobDir("slurm.14.0");
    jobDir("slurm.15.0");
    assert.equal(epilog(14).ok, true);
    loadAddon().holdTest({ defer: false, lingerMs: 3000 });
    // The next job's epilog, while this remover is at work: a rename into
    // the holding place by another process (this one is busy in the drain).
    spawn("sh", ["-c", `sleep 0.5; mv ${PARENT}/slurm.15.0 ${HOLD}/slurm.15.0.60001.00000000000000ff`], {
      stdio: "inherit",
    });
    let t0 = Date.now();
    assert.equal(drain().ok, true);
    let ms = Date.now() - t0;
    assert.deepStrictEqual([held(), left()], [[], []], "both gone: the second by the same remover");
    const lines = loadAddon().holdTest();
    assert.ok(
      lines.some((l) => /job 14 uid 60001: removed/.test(l)) && lines.some((l) => /job 15 uid 60001: removed/.test(l)),
      lines.join("\n"),
    );
    // It stayed its 3 s after the last arrival (0.5 s, then a 0.1 s settle), not for ever.
    assert.ok(ms >= 3400 && ms < 10_000, `returned after ${ms} ms`);
    // Past the budget's first half it does not stay: a later job's end
    // finds the lock free and starts a remover with a whole budget.
    jobDir("slurm.16.0");
    loadAddon().holdTest({ defer: true });
    assert.equal(epilog(16).ok, true);
    loadAddon().holdTest({ defer: false, budgetMs: 1000, lingerMs: 3000 });
    t0 = Date.now();
    assert.equal(drain().ok, true);
    ms = Date.now() - t0;
    assert.deepStrictEqual(held(), []);
    assert.ok(ms < 1500, `stayed ${ms} ms with a 1 s budget`);
    // No lingering at all unless asked (slurmd's start, a step's continuation).
    jobDir("slurm.17.0");
    loadAddon().holdTest({ defer: true });
    assert.equal(epilog(17).ok, true);
    loadAddon().holdTest({ defer: false, budgetMs: -1, lingerMs: 0 });
    t0 = Date.now();
    assert.equal(drain().ok, true);
    assert.ok(Date.now() - t0 < 1000, `no stay: ${Date.now() - t0} ms`);
  });

  it("a pass that spends its time budget leaves the rest held and says so; the next pass finishes it with one line for the whole tree", () => {
    loadAddon().holdTest({ defer: true });
    jobDir("slurm.12.0", USER, 3000);
    assert.equal(epilog(12).ok, true);
    loadAddon().holdTest({ defer: false, budgetMs: 0 });
    assert.equal(drain().ok, true);
    const first = loadAddon().holdTest();
    assert.equal(held().length, 1, "still held");
    assert.ok(
      first.some((l) => /slurm\.hold: 1 entries pending after this pass \(time budget spent\)/.test(l)),
      first.join("\n"),
    );
    assert.ok(!first.some((l) => /job 12 uid/.test(l)), "no job line before it is gone");
    const some = fs.readdirSync(`${HOLD}/${held()[0]}/tmp`).length;
    assert.ok(some > 0 && some < 3000, `the pass removed part of it (${some} of 3000 left)`);
    loadAddon().holdTest({ budgetMs: -1 });
    assert.equal(drain().ok, true);
    assert.deepStrictEqual(held(), []);
    const lines = loadAddon().holdTest();
    assert.deepStrictEqual(
      lines.filter((l) => /job 12 uid/.test(l)).map((l) => l.replace(/in [0-9.]+ s/, "in T s")),
      ["private-tmpdir: job 12 uid 60001: removed 3000 bytes, 3000 files, 2 directories in T s (test)"],
      lines.join("\n"),
    );
  });

  it("a step goes on with a holding place a pass left work in, and only then: never makes, moves or trusts one", async () => {
    const extern = (jobid: number, args = ARGS) =>
      loadAddon().coreRun(Phase.EXTERN, args, jobid, 0, USER, USER, 0, 0, false);
    loadAddon().holdTest({ continueProbe: true });
    const lines = () => loadAddon().holdTest();
    // No holding place: none is made.
    assert.equal(extern(20).ok, true);
    assert.deepStrictEqual([lines(), fs.existsSync(HOLD)], [[], false]);
    // Empty: nothing to go on with.
    fs.mkdirSync(HOLD, { mode: 0o700 });
    assert.equal(extern(21).ok, true);
    assert.deepStrictEqual(lines(), []);
    // A held directory left pending: a remover on this very directory.
    fs.mkdirSync(`${HOLD}/slurm.3.0.60001.0123456789abcdef`);
    assert.equal(extern(22).ok, true);
    assert.deepStrictEqual(lines(), [`continue ${HOLD} ${DRAIN_BUDGET_S} ino ${fs.statSync(HOLD).ino}`]);
    // cleanup=no plans no continuation.
    assert.equal(extern(23, [...ARGS, "cleanup=no"]).ok, true);
    assert.deepStrictEqual(lines(), []);
    // A remover holds the lock: no second one forked on the step's path.
    const locker = spawn("flock", ["--exclusive", HOLD, "sh", "-c", "echo locked; read x"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    await new Promise<void>((res) => locker.stdout.once("data", () => res()));
    try {
      assert.equal(extern(24).ok, true);
      assert.deepStrictEqual(lines(), []);
    } finally {
      locker.stdin.end("\n");
      await new Promise((res) => locker.once("exit", res));
    }
    // Not ours (a user's, another mode, a symlink to ours): left alone, untouched.
    fs.chownSync(HOLD, OTHER, OTHER);
    assert.equal(extern(25).ok, true);
    fs.chownSync(HOLD, 0, 0);
    fs.chmodSync(HOLD, 0o755);
    assert.equal(extern(26).ok, true);
    fs.chmodSync(HOLD, 0o700);
    fs.renameSync(HOLD, `${SCRATCH}/real.hold`);
    fs.symlinkSync(`${SCRATCH}/real.hold`, HOLD);
    assert.equal(extern(27).ok, true);
    assert.deepStrictEqual(lines(), []);
    assert.ok(fs.lstatSync(HOLD).isSymbolicLink(), "the step never moves anything aside");
    assert.deepStrictEqual(fs.readdirSync(`${SCRATCH}/real.hold`), ["slurm.3.0.60001.0123456789abcdef"]);
  });

  it("removes only trees the plugin made for that name: a directory renamed to a job's name with a third user's files stays, in the sweep and in the epilog", () => {
    const uidOf = (p: string) => fs.statSync(p).uid;
    // The plugin's own job directory carries the mark, as root made it.
    const a = loadAddon();
    a.opsReset();
    assert.deepStrictEqual(
      [a.open_trusted(0, PARENT, 0o711, 1), a.mkdir_at(0, 1, "slurm.300.0", `${BASE}.300.0`, 0o700, USER, USER, 10)],
      [0, 0],
    );
    const mark = (p: string) =>
      execFileSync(
        "python3",
        ["-c", "import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], 'trusted.private-tmpdir.made').decode())", p],
        { encoding: "utf8" },
      );
    assert.equal(mark(`${BASE}.300.0`), "slurm.300.0");
    // USER's world-writable directory, OTHER's file in it, renamed by USER
    // to a job's name: once for a job that has ended, once for USER's own.
    const victims: string[] = [];
    for (const name of ["slurm.999999.0", "slurm.300.5"]) {
      const d = `${PARENT}/${name}`;
      fs.mkdirSync(`${d}/sub`, { recursive: true });
      execFileSync("chown", ["-R", `${USER}:${USER}`, d]);
      fs.chmodSync(d, 0o777);
      fs.chmodSync(`${d}/sub`, 0o777);
      fs.writeFileSync(`${d}/sub/theirs`, "other's");
      fs.chownSync(`${d}/sub/theirs`, OTHER, OTHER);
      victims.push(`${d}/sub/theirs`);
    }
    // A legacy directory (made before the mark, only USER's files): still removed.
    jobDir("slurm.998.0");
    loadAddon().holdTest({ running: [300], minAge: 0 });
    assert.equal(drain().ok, true);
    const lines = loadAddon().holdTest();
    assert.ok(
      lines.some((l) =>
        /left 1 directories of jobs that have ended in place \("slurm\.999999\.0" was not made by the plugin and holds files of uid 60002\)/.test(
          l,
        ),
      ),
      lines.join("\n"),
    );
    assert.ok(!fs.existsSync(`${PARENT}/slurm.998.0`), "the legacy directory went");
    const r = epilog(300, 0);
    assert.equal(r.ok, false, "the epilog says what it left");
    assert.match(r.message, /slurm\.300\.5" was not made by the plugin and holds files of uid 60002/);
    assert.ok(!fs.existsSync(`${BASE}.300.0`), "the job's own directory went");
    for (const v of victims) assert.equal(fs.readFileSync(v, "utf8"), "other's", `${v} kept`);
    assert.equal(uidOf(victims[0]!), OTHER);
    // The mark names the directory it was made as: renamed, it is not the plugin's.
    a.opsReset();
    assert.deepStrictEqual(
      [a.open_trusted(0, PARENT, 0o711, 1), a.mkdir_at(0, 1, "slurm.301.0", `${BASE}.301.0`, 0o700, USER, USER, 10)],
      [0, 0],
    );
    fs.writeFileSync(`${BASE}.301.0/f`, "x");
    fs.chownSync(`${BASE}.301.0/f`, OTHER, OTHER);
    fs.renameSync(`${BASE}.301.0`, `${BASE}.997.0`);
    loadAddon().holdTest({ running: [], minAge: 0 });
    assert.equal(drain().ok, true);
    assert.ok(
      loadAddon()
        .holdTest()
        .some((l) => /"slurm\.997\.0" was made as "slurm\.301\.0"/.test(l)),
    );
    assert.ok(fs.existsSync(`${BASE}.997.0/f`));
  });
});
