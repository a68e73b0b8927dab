// native/ns/ (the holder: election.c, holder.c, server.c and their parts;
// joining: nsjoin.c) on the real kernel (#12: one mount
// namespace per job, kept by a holder process, joined by every later step).
// Every driver runs inside a throwaway mount namespace of its own
// (unshare -m --propagation private), so the holders' binds are made in
// copies of that, never in the host's: /proc/1/mountinfo is compared after
// every test.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { requireRoot } from "../helpers/root.js";
import { REPO_ROOT } from "../helpers/repo.js";

const SCRATCH = `/var/spool/ptd-ns-a-scratch/nsholder-test.${process.pid}`;
const DRIVER = `${SCRATCH}/nsholder-driver`;
const NOBODY = 65534;
const NATIVE = [
  "ns/dir.c",
  "ns/lock.c",
  "ns/connect.c",
  "ns/fdpass.c",
  "ns/server.c",
  "ns/election.c",
  "ns/holder.c",
  "ns/nsjoin.c",
  "removal/detach.c",
  "fs/walk.c",
  "fs/detail.c",
  "util/escape.c",
  "util/messages.c",
  "fs/tmpfs.c",
  "fs/disk.c",
  "fs/mkfs.c",
  "removal/remove.c",
  "removal/levels.c",
  "removal/entry.c",
  "removal/leftset.c",
  "removal/fixmode.c",
];

type Out = Record<string, string[]>;

/** key=value lines, every value of a key in order. */
function parse(text: string): Out {
  const out: Out = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i <= 0) continue;
    (out[line.slice(0, i)] ??= []).push(line.slice(i + 1));
  }
  return out;
}

function one(out: Out, key: string): string {
  const v = out[key];
  assert.ok(v && v.length === 1, `expected one ${key}= in ${JSON.stringify(out)}`);
  return v[0] as string;
}

/** The driver, in a throwaway mount namespace of its own; never throws on
 * its exit status (the output says what happened). */
function inNs(args: string[], cwd = SCRATCH): Out {
  try {
    return parse(
      execFileSync("unshare", ["-m", "--propagation", "private", DRIVER, ...args], {
        encoding: "utf8",
        cwd,
        timeout: 30_000,
      }),
    );
  } catch (e) {
    const err = e as { stdout?: string; status?: number };
    if (typeof err.stdout !== "string" || err.status === undefined) throw e;
    return parse(err.stdout);
  }
}

/** A driver's child of its own, not awaited here. */
function spawnInNs(args: string[]): { done: Promise<Out> } {
  const p = spawn("unshare", ["-m", "--propagation", "private", DRIVER, ...args], {
    cwd: SCRATCH,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  p.stdout.setEncoding("utf8").on("data", (s: string) => {
    text += s;
  });
  return { done: new Promise((resolve) => p.on("close", () => resolve(parse(text)))) };
}

function nsOf(pid: number | string): string {
  return fs.readlinkSync(`/proc/${pid}/ns/mnt`).replace(/^mnt:\[(\d+)\]$/, "$1");
}

/** Gone, or a zombie nobody reaped yet (the holder's parent is init). */
function exited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Every live process named like the holder. */
function holders(): Set<number> {
  const found = new Set<number>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, "utf8").trim() === "ptd-nsholder" && !exited(Number(d)))
        found.add(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A job's directories: run/ (root's 0700, the sockets), src/ with a marker
 * and target/, where the holder binds src. */
let seq = 0;
function job(): { run: string; src: string; target: string; marker: string; name: string } {
  const base = `${SCRATCH}/job${++seq}`;
  for (const d of ["run", "src", "target"]) fs.mkdirSync(`${base}/${d}`, { recursive: true });
  fs.chmodSync(`${base}/run`, 0o700);
  fs.writeFileSync(`${base}/src/MARKER-job`, "");
  return {
    run: `${base}/run`,
    src: `${base}/src`,
    target: `${base}/target`,
    marker: `${base}/target/MARKER-job`,
    name: `${1000 + seq}.0`,
  };
}

function holderPid(j: ReturnType<typeof job>): number {
  const p = inNs(["peer", j.run, j.name]);
  assert.equal(one(p, "rc"), "0", JSON.stringify(p));
  return Number(one(p, "pid"));
}

describe("nsholder: one mount namespace per job, kept by a holder (C, real kernel)", function () {
  this.timeout(120_000);
  let mountinfo = "";
  let preexisting = new Set<number>();

  before(function () {
    requireRoot(this);
    fs.mkdirSync(SCRATCH, { recursive: true });
    execFileSync("cc", [
      "-std=gnu11",
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-pthread",
      `-I${REPO_ROOT}/native`,
      "-o",
      DRIVER,
      `${REPO_ROOT}/tests/native/nsholder-driver.c`,
      ...NATIVE.map((f) => `${REPO_ROOT}/native/${f}`),
    ]);
    preexisting = holders();
  });
  beforeEach(() => {
    mountinfo = fs.readFileSync("/proc/1/mountinfo", "utf8");
  });
  afterEach(() => {
    // Any holder a failed test left: ours, stopped by its pid.
    for (const pid of holders())
      if (!preexisting.has(pid))
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
    assert.equal(fs.readFileSync("/proc/1/mountinfo", "utf8"), mountinfo, "the host's mount table changed");
  });
  after(() => {
    if (fs.existsSync(SCRATCH)) fs.rmSync(SCRATCH, { recursive: true, force: true });
  });

  it("keeps the job's namespace with its bind: a later, unrelated process joins it and sees the bind", () => {
    const j = job();
    const s = inNs(["start", j.run, j.name, j.src, j.target]);
    assert.deepEqual([one(s, "rc"), one(s, "started")], ["0", "1"], JSON.stringify(s));
    // The starter and its namespace are gone; the holder keeps the bind.
    const pid = holderPid(j);
    assert.ok(!fs.existsSync(j.marker), "the bind must not be seen outside the job's namespace");
    const stat = fs
      .readFileSync(`/proc/${pid}/stat`, "utf8")
      .slice(fs.readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2)
      .split(" ");
    assert.notEqual(stat[3], String(pid), "not a session leader (double fork after setsid)");
    // Joined from another throwaway namespace, in a working directory the
    // join returns to.
    const cwd = `${SCRATCH}/job${seq}/src`;
    const r = inNs(["join", j.run, j.name, j.marker], cwd);
    assert.equal(one(r, "rc"), "0", JSON.stringify(r));
    assert.equal(one(r, "ns"), nsOf(pid), "the joiner is in the holder's namespace");
    assert.notEqual(one(r, "ns_before"), one(r, "ns"));
    assert.notEqual(one(r, "ns"), nsOf("self"), "not the host's namespace");
    assert.equal(one(r, "seen"), "1", "the joiner sees the holder's bind");
    assert.deepEqual([one(r, "cwd"), one(r, "same_cwd")], [cwd, "1"], "back in its working directory, by its path");
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("joins from a process with 3 more threads: a bare setns is EINVAL, after unshare(CLONE_FS) it works; only that thread moves, its children are in", () => {
    const j = job();
    assert.equal(one(inNs(["start", j.run, j.name, j.src, j.target]), "rc"), "0");
    const pid = holderPid(j);
    const r = inNs(["join", j.run, j.name, j.marker, "mt"]);
    assert.equal(
      one(r, "bare_setns"),
      "EINVAL",
      "without unshare(CLONE_FS) the kernel refuses a thread sharing its fs",
    );
    assert.equal(one(r, "rc"), "0", JSON.stringify(r));
    assert.equal(one(r, "ns"), nsOf(pid));
    assert.equal(one(r, "seen"), "1");
    assert.deepEqual(
      r["other_thread_ns"],
      [one(r, "ns_before"), one(r, "ns_before"), one(r, "ns_before")],
      "the other threads stay",
    );
    assert.deepEqual(
      [one(r, "child_ns"), one(r, "child_seen")],
      [nsOf(pid), "1"],
      "a child forked after the join is in the job's namespace",
    );
    assert.equal(one(r, "same_cwd"), "1");
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("concurrent first starters (10 at a barrier) end with exactly one holder, all in its namespace", async () => {
    const j = job();
    const barrier = `${SCRATCH}/barrier${seq}`;
    const had = holders();
    const starters = Array.from({ length: 10 }, () => spawnInNs(["start", j.run, j.name, j.src, j.target, barrier]));
    await until(
      "10 starters at the barrier",
      () => fs.readdirSync(SCRATCH).filter((f) => f.startsWith(`barrier${seq}.ready.`)).length === 10,
    );
    fs.writeFileSync(barrier, "");
    const outs = await Promise.all(starters.map((s) => s.done));
    assert.deepEqual(
      outs.map((o) => one(o, "rc")),
      Array(10).fill("0"),
      JSON.stringify(outs),
    );
    assert.equal(
      outs.filter((o) => one(o, "started") === "1").length,
      1,
      "one starter started it, the others found it",
    );
    const fresh = [...holders()].filter((p) => !had.has(p));
    assert.deepEqual(fresh, [holderPid(j)], "exactly one holder process");
    const joins = await Promise.all(
      Array.from({ length: 10 }, () => spawnInNs(["join", j.run, j.name, j.marker]).done),
    );
    assert.deepEqual(
      joins.map((o) => [one(o, "rc"), one(o, "ns"), one(o, "seen")]),
      Array(10).fill(["0", nsOf(fresh[0] as number), "1"]),
    );
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("every wait is bounded: a holder stalled in its setup (a hung mount; the extern step's holder makes the namespace) is not waited for by its starter and is ended by its own alarm; a release and a second starter each return within their bound", async () => {
    const j = job();
    const t0 = Date.now();
    const first = inNs(["start-extern", j.run, j.name, "STALL:60000", j.target]);
    assert.deepEqual([one(first, "rc"), one(first, "started")], ["0", "1"], JSON.stringify(first));
    assert.ok(Date.now() - t0 < 3_000, `the starter waited ${Date.now() - t0} ms for its holder`);
    await until("the stalled holder", () => holders().size > preexisting.size);
    const stalled = [...holders()].filter((p) => !preexisting.has(p));
    // A release with a 5 s deadline while the holder holds the election
    // lock: back after 5 s, not after the stall.
    const r0 = Date.now();
    const rel = inNs(["release", j.run, j.name]);
    const relMs = Date.now() - r0;
    assert.equal(one(rel, "rc"), String(-110), JSON.stringify(rel)); // -ETIMEDOUT
    assert.match(one(rel, "reason"), /still held after \d+ ms \(a holder stuck in its setup\?\)/);
    assert.ok(relMs < 8_000, `release took ${relMs} ms`);
    // A second starter waits for the lock no longer than its bound: the
    // stalled holder's alarm (10 s) frees it first, and it makes one.
    const b = await spawnInNs(["start", j.run, j.name, j.src, j.target]).done;
    assert.deepEqual([one(b, "rc"), one(b, "started")], ["0", "1"], JSON.stringify(b));
    assert.ok(Date.now() - t0 < 15_000, `the second starter got its holder after ${Date.now() - t0} ms`);
    for (const pid of stalled) await until(`stalled holder ${pid} to end`, () => exited(pid));
    const pid = holderPid(j);
    const r = inNs(["release", j.run, j.name]);
    assert.equal(one(r, "rc"), "0", JSON.stringify(r));
    await until("the holder to exit", () => exited(pid));
  });

  it("a step stalled in making the namespace it will hand off (a hung mount) holds only the election lock: a release and a second starter each return within their bound; once the stall ends, its holder serves", async () => {
    const j = job();
    const had = holders();
    const first = spawnInNs(["start", j.run, j.name, "STALL:25000", j.target]);
    await until("the stalled starter to hold the lock", () => fs.existsSync(`${j.run}/${j.name}.lock`));
    const r0 = Date.now();
    const rel = inNs(["release", j.run, j.name]);
    assert.equal(one(rel, "rc"), String(-110), JSON.stringify(rel)); // -ETIMEDOUT
    assert.ok(Date.now() - r0 < 8_000, `release took ${Date.now() - r0} ms`);
    const s0 = Date.now();
    const second = inNs(["start", j.run, j.name, j.src, j.target]);
    const secondMs = Date.now() - s0;
    assert.equal(one(second, "rc"), String(-110), JSON.stringify(second));
    assert.match(one(second, "reason"), /still held after 12000 ms/);
    assert.ok(secondMs < 14_000, `the second starter waited ${secondMs} ms`);
    assert.deepEqual(
      [...holders()].filter((p) => !had.has(p)),
      [],
      "no holder while the namespace is being made",
    );
    const a = await first.done;
    assert.deepEqual([one(a, "rc"), one(a, "started")], ["0", "1"], JSON.stringify(a));
    const pid = holderPid(j);
    // (A stalled setup binds nothing: only the namespace is checked.)
    const joined = inNs(["join", j.run, j.name, j.marker]);
    assert.deepEqual([one(joined, "rc"), one(joined, "ns")], ["0", nsOf(pid)]);
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
    await until("the holder to exit", () => exited(pid));
  });

  it("a step hands off the namespace it made itself: the holder is in that very namespace (the starter's), and serves joiners while the starter is gone", () => {
    const j = job();
    const s = inNs(["start", j.run, j.name, j.src, j.target]);
    assert.deepEqual([one(s, "rc"), one(s, "started")], ["0", "1"], JSON.stringify(s));
    const made = /^mnt:\[(\d+)\]$/.exec(one(s, "own_ns"))?.[1];
    assert.ok(made, JSON.stringify(s));
    const pid = holderPid(j);
    assert.equal(nsOf(pid), made, "the holder holds the namespace the starter made");
    const r = inNs(["join", j.run, j.name, j.marker]);
    assert.deepEqual([one(r, "rc"), one(r, "seen"), one(r, "ns")], ["0", "1", made]);
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("a release kills a holder that neither answers nor exits by its deadline (stopped) through its pidfd, and leaves no socket and no lock", async () => {
    const j = job();
    assert.equal(one(inNs(["start", j.run, j.name, j.src, j.target]), "rc"), "0");
    const pid = holderPid(j);
    process.kill(pid, "SIGSTOP");
    try {
      const t0 = Date.now();
      const r = inNs(["release", j.run, j.name]);
      const ms = Date.now() - t0;
      assert.equal(one(r, "rc"), "0", JSON.stringify(r));
      assert.match(one(r, "notice"), /the holder of "[^"]+\.sock" did not stop within 5000 ms: killed/);
      assert.ok(ms >= 4_900 && ms < 9_000, `release took ${ms} ms`);
      await until("the stopped holder to be gone", () => exited(pid));
      assert.deepEqual(fs.readdirSync(j.run), [], "no socket, no lock left");
    } finally {
      if (!exited(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("a setup that fails is reported with its reason and leaves no holder and no socket", () => {
    const j = job();
    const had = holders();
    const s = inNs(["start", j.run, j.name, "FAIL", j.target]);
    assert.deepEqual(
      [one(s, "rc"), one(s, "reason"), one(s, "started")],
      [String(-13), "test setup refuses on purpose", "0"],
    );
    assert.deepEqual(
      [...holders()].filter((p) => !had.has(p)),
      [],
    );
    assert.ok(!fs.existsSync(`${j.run}/${j.name}.sock`));
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
    assert.deepEqual(fs.readdirSync(j.run), [], "release leaves nothing of the job behind");
  });

  it("a holder whose setup fails (the extern step's, not waited for) leaves no holder, no socket and a free lock: the next starter makes the namespace", async () => {
    const j = job();
    const had = holders();
    const s = inNs(["start-extern", j.run, j.name, "FAIL", j.target]);
    assert.deepEqual([one(s, "rc"), one(s, "started")], ["0", "1"], JSON.stringify(s));
    await until("the failed holder to be gone", () => [...holders()].filter((p) => !had.has(p)).length === 0);
    assert.ok(!fs.existsSync(`${j.run}/${j.name}.sock`));
    const t0 = Date.now();
    const b = inNs(["start", j.run, j.name, j.src, j.target]);
    assert.deepEqual([one(b, "rc"), one(b, "started")], ["0", "1"], JSON.stringify(b));
    assert.ok(Date.now() - t0 < 2_000, "the lock was free");
    assert.equal(one(inNs(["join", j.run, j.name, j.marker]), "seen"), "1");
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("the holder refuses a non-root client: no namespace, no stop", () => {
    const j = job();
    assert.equal(one(inNs(["start", j.run, j.name, j.src, j.target]), "rc"), "0");
    const pid = holderPid(j);
    // Only if the directory were loosened could a user reach the socket;
    // then the holder's own SO_PEERCRED check must still refuse.
    fs.chmodSync(j.run, 0o755);
    fs.chmodSync(`${j.run}/${j.name}.sock`, 0o777);
    try {
      for (const cmd of ["J", "Q"]) {
        const u = inNs(["asuser", String(NOBODY), `${j.run}/${j.name}.sock`, cmd]);
        assert.equal(one(u, "connect"), "ok", `${cmd}: ${JSON.stringify(u)}`);
        assert.ok(["eof", "ECONNRESET"].includes(one(u, "recv")), `${cmd}: dropped unanswered: ${JSON.stringify(u)}`);
        assert.equal(one(u, "got_fd"), "0");
      }
      assert.ok(!exited(pid), "a user's 'Q' does not stop the holder");
      // And root's joiner refuses the loosened directory.
      const r = inNs(["join", j.run, j.name, j.marker]);
      assert.equal(one(r, "rc"), String(-1), JSON.stringify(r));
      assert.match(one(r, "reason"), /not root's 0700/);
    } finally {
      fs.chmodSync(j.run, 0o700);
    }
    assert.equal(one(inNs(["join", j.run, j.name, j.marker]), "seen"), "1", "root still joins");
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("a joiner refuses a listener that is not root", async () => {
    const j = job();
    const fake = spawnInNs(["fake", j.run, j.name, String(NOBODY)]);
    await until("the fake listener", () => fs.existsSync(`${j.run}/${j.name}.sock`));
    const r = inNs(["join", j.run, j.name, j.marker]);
    assert.equal(one(r, "rc"), String(-1), JSON.stringify(r));
    assert.match(one(r, "reason"), /served by uid 65534, not root/);
    assert.equal(one(r, "ns"), one(r, "ns_before"), "still where it was");
    assert.equal(one(await fake.done, "fake_got"), "nothing", "it never even asked");
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0");
  });

  it("a stale socket (its holder was killed) is refused to joiners, then replaced by the next starter", async () => {
    const j = job();
    assert.equal(one(inNs(["start", j.run, j.name, j.src, j.target]), "rc"), "0");
    const old = holderPid(j);
    process.kill(old, "SIGKILL");
    await until("the killed holder to exit", () => exited(old));
    assert.ok(fs.existsSync(`${j.run}/${j.name}.sock`), "a killed holder leaves its socket");
    assert.equal(one(inNs(["join", j.run, j.name, j.marker]), "rc"), String(-111), "ECONNREFUSED");
    const s = inNs(["start", j.run, j.name, j.src, j.target]);
    assert.deepEqual([one(s, "rc"), one(s, "started")], ["0", "1"], JSON.stringify(s));
    const pid = holderPid(j);
    assert.notEqual(pid, old);
    const r = inNs(["join", j.run, j.name, j.marker]);
    assert.deepEqual([one(r, "rc"), one(r, "ns"), one(r, "seen")], ["0", nsOf(pid), "1"]);
    // A socket bound but never listened on, as well.
    const k = job();
    assert.equal(one(inNs(["stale", k.run, k.name]), "rc"), "0");
    assert.equal(one(inNs(["start", k.run, k.name, k.src, k.target]), "started"), "1");
    assert.equal(one(inNs(["join", k.run, k.name, k.marker]), "seen"), "1");
    for (const x of [j, k]) assert.equal(one(inNs(["release", x.run, x.name]), "rc"), "0");
  });

  it("release stops the holder and removes its socket (the holder then exits on its own); a member keeps the namespace until it exits", async () => {
    const j = job();
    assert.equal(one(inNs(["start", j.run, j.name, j.src, j.target]), "rc"), "0");
    const pid = holderPid(j);
    const ns = nsOf(pid);
    // A task of the job, still running when the job's epilog releases.
    const gate = `${SCRATCH}/member${seq}`;
    const member = spawnInNs(["join", j.run, j.name, j.marker, "wait", gate]);
    await until(
      "the member to join",
      () => fs.existsSync(`${gate}.joined`) && fs.readFileSync(`${gate}.joined`, "utf8").endsWith("\n"),
    );
    const mpid = Number(fs.readFileSync(`${gate}.joined`, "utf8"));
    const rel = inNs(["release", j.run, j.name]);
    assert.equal(one(rel, "rc"), "0", JSON.stringify(rel));
    // Release returns once the socket is gone; the holder's exit (which
    // takes its mounts down) follows, off the epilog's path.
    await until("the holder to exit", () => exited(pid));
    assert.deepEqual(fs.readdirSync(j.run), [], "no socket, no lock file left");
    assert.equal(nsOf(mpid), ns, "the member is still in the job's namespace");
    assert.ok(fs.existsSync(`/proc/${mpid}/root${j.marker}`), "and still sees the bind there");
    assert.equal(one(inNs(["join", j.run, j.name, j.marker]), "rc"), String(-2), "ENOENT: nothing to join");
    assert.equal(one(inNs(["release", j.run, j.name]), "rc"), "0", "a second release has nothing to do");
    fs.writeFileSync(gate, "");
    const m = await member.done;
    assert.deepEqual([one(m, "rc"), one(m, "ns"), one(m, "seen")], ["0", ns, "1"]);
  });
});
