// Users' and admins' controls (#26) on a real slurmd: --keep-tmpdir keeps a
// failed job's directories for its user (renamed whole into <base>.kept,
// 0700, listed by `private-tmpdir kept`, readable from the user's later
// jobs, gone after keep='s time or over keep_max=, also when no job ends
// and after a slurmd restart), --private-tmpdir=off runs a job with the
// node's /tmp where optout=yes allows it, and both are refused at
// submission, naming what is missing, where plugstack.conf does not.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { runAs } from "../helpers/clients.js";
import { ALICE, MALLORY, PLUGSTACK_CONF } from "../helpers/lab.js";
import { CLI, cli } from "../helpers/cli.js";
import type { KeptJson } from "../../host/kept.js";
import { type ClusterInfo, requireRootAndSlurm, restartSlurmd, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";

const KEPT = "/tmp/slurm.kept";
const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
/** keep= of the expiry tests: short, so the suite waits little. */
const TTL_S = 5;

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

function keptAs(user: string | null): KeptJson {
  const args = ["kept", "--config", PLUGSTACK_CONF, "--json"];
  if (user === null) {
    const r = cli(...args);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as KeptJson;
  }
  const r = runAs(user, [process.execPath, CLI, ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as KeptJson;
}

/** A batch job of user's that leaves known files in /tmp and /var/tmp, then
 * exits with code; returns its id once it is over (epilog included). */
function jobLeaving(user: string, code: number, args: readonly string[] = []): { id: number; state: string } {
  const r = sbatchWait(
    user,
    [
      "printf 'kept-%s' $SLURM_JOB_ID > /tmp/left",
      "head -c 4096 /dev/zero > /var/tmp/four-k",
      "chmod 777 /tmp",
      `exit ${code}`,
    ].join("\n"),
    { args: ["-n1", ...args] },
  );
  return { id: r.jobId, state: r.state };
}

/** What a describe leaves: the kept place and its waiter (a process that
 * outlives slurmd on purpose). */
function clearKept(): void {
  stopCluster();
  for (const pid of waiters()) process.kill(pid, "SIGKILL");
  fs.rmSync(KEPT, { recursive: true, force: true });
}

function keptPath(id: number): string {
  return `${KEPT}/slurm.${id}.0`;
}

describe("e2e: --keep-tmpdir keeps a failed job's directories for its user (keep=, keep_max=)", function () {
  let info: ClusterInfo;
  before(function () {
    requireRootAndSlurm(this);
    info = startCluster({ plugstackLines: [pluginLine([...SEED, "keep=1h"])] });
  });
  after(() => clearKept());

  it("a failed job's /tmp and /var/tmp are kept whole, 0700 its user's, listed by `kept` for that user only, read from the user's later job; a job that succeeded keeps nothing", async () => {
    assert.ok(info.slurmdPid > 0);
    const mark = logMark();
    const failed = jobLeaving(ALICE, 3, ["--keep-tmpdir"]);
    const ok = jobLeaving(ALICE, 0, ["--keep-tmpdir"]);
    const always = jobLeaving(ALICE, 0, ["--keep-tmpdir=always"]);
    const plain = jobLeaving(ALICE, 3);
    assert.equal(failed.state, "FAILED");
    assert.equal(ok.state, "COMPLETED");
    // The plugin's own line, naming where and until when.
    const line = await logWhen(
      mark,
      new RegExp(`job ${failed.id}: kept ${KEPT}/slurm\\.${failed.id}\\.0 for its user until \\d{4}-`),
      "the keep line",
    );
    assert.ok(line);
    const tree = keptPath(failed.id);
    assert.equal(fs.readFileSync(`${tree}/tmp/left`, "utf8"), `kept-${failed.id}`);
    assert.equal(fs.statSync(`${tree}/var_tmp/four-k`).size, 4096);
    const st = fs.statSync(tree);
    assert.equal(st.uid, uidOf(ALICE));
    assert.equal(st.mode & 0o777, 0o700, "the kept tree is its user's alone, whatever the job made of its modes");
    const place = fs.statSync(KEPT);
    assert.equal(place.uid, 0);
    assert.equal(place.mode & 0o777, 0o755);
    // The job directory itself is gone from the base: the layout sites know holds during the job only.
    assert.equal(fs.existsSync(`/tmp/slurm.${failed.id}.0`), false);
    // Another user cannot read it.
    const peek = runAs(MALLORY, ["cat", `${tree}/tmp/left`]);
    assert.notEqual(peek.status, 0, "another user reads nothing of a kept tree");
    assert.equal(fs.existsSync(keptPath(ok.id)), false, "--keep-tmpdir (failed) keeps nothing of a job that succeeded");
    assert.ok(fs.existsSync(keptPath(always.id)), "--keep-tmpdir=always keeps a job that succeeded");
    assert.equal(fs.existsSync(keptPath(plain.id)), false, "a job that did not ask keeps nothing");
    // Listed, measured by the remover, for its user only.
    const mine = await waitFor(
      () => {
        const k = keptAs(ALICE);
        const t = k.trees.find((x) => x.jobid === failed.id);
        return t && t.bytes !== null ? k : undefined;
      },
      20_000,
      { what: "the kept tree measured" },
    );
    const t = mine.trees.find((x) => x.jobid === failed.id)!;
    assert.equal(t.path, tree);
    assert.equal(t.uid, uidOf(ALICE));
    assert.equal(t.files, 2, JSON.stringify(t));
    assert.ok(t.bytes! >= 4096, JSON.stringify(t));
    const expires = Date.parse(t.expires) - Date.now();
    assert.ok(Date.parse(t.expires) - Date.parse(t.kept) === 3600_000, JSON.stringify(t));
    assert.ok(expires > 3500_000 && expires <= 3600_000, `expires in an hour: ${t.expires}`);
    assert.deepEqual(
      keptAs(MALLORY).trees.filter((x) => x.uid === uidOf(ALICE)),
      [],
      "another user lists none of them",
    );
    assert.ok(
      keptAs(null).trees.some((x) => x.jobid === always.id),
      "root lists every tree",
    );
    // From a later job of the user's on the node, at the same path (the
    // kept place is bound into the job's private /tmp).
    const later = sbatchWait(
      ALICE,
      `cat ${tree}/tmp/left; echo; touch ${tree}/tmp/grown 2>&1 || true; findmnt -no OPTIONS ${KEPT}`,
      { args: ["-n1"] },
    );
    assert.equal(later.state, "COMPLETED", later.output);
    assert.match(later.output, new RegExp(`^kept-${failed.id}$`, "m"));
    // Read-only there: a kept tree is to read, never to grow past its measure.
    assert.match(later.output, /Read-only file system/);
    assert.match(later.output, /^ro,/m);
    assert.equal(fs.existsSync(`${tree}/tmp/grown`), false);
    const other = sbatchWait(MALLORY, `cat ${tree}/tmp/left || echo DENIED`, { args: ["-n1"] });
    assert.match(other.output, /DENIED/);
    // The host's mount table has no trace of the binds.
    const mounts = fs.readFileSync(`/proc/${info.slurmdPid}/mountinfo`, "utf8");
    assert.doesNotMatch(mounts, /slurm\.kept/);
    assert.doesNotMatch(logSince(mark), /private-tmpdir: .*error/i);
  });

  it("refuses a bad --keep-tmpdir value and --private-tmpdir=off at submission, naming the option and what plugstack.conf lacks", () => {
    const bad = runAs(ALICE, ["sbatch", "--keep-tmpdir=sometimes", "--wrap", "true"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--keep-tmpdir=sometimes: expected failed or always/);
    const off = runAs(ALICE, ["sbatch", "--private-tmpdir=off", "--wrap", "true"]);
    assert.notEqual(off.status, 0);
    assert.match(off.stderr, /--private-tmpdir=off: not allowed on this cluster \(plugstack\.conf has no optout=yes\)/);
    const srun = runAs(ALICE, ["srun", "--private-tmpdir=off", "true"]);
    assert.notEqual(srun.status, 0);
    assert.match(srun.stderr, /not allowed on this cluster/);
  });
});

describe("e2e: kept trees over keep_max= go, oldest first", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine([...SEED, "keep=1h", "keep_max=1M"])] });
  });
  after(() => clearKept());

  it("the oldest tree goes when the kept place is over keep_max=", async () => {
    const mark = logMark();
    const big = (code: number) =>
      sbatchWait(ALICE, `head -c 700000 /dev/urandom > /tmp/big; exit ${code}`, { args: ["-n1", "--keep-tmpdir"] });
    const first = big(1);
    await waitFor(
      () => (keptAs(null).trees.find((t) => t.jobid === first.jobId)?.bytes ?? null) !== null || undefined,
      20_000,
      {
        what: "the first tree measured",
      },
    );
    await new Promise((r) => setTimeout(r, 1100));
    const second = big(1);
    await logWhen(
      mark,
      new RegExp(`kept ${KEPT}/slurm\\.${first.jobId}\\.0 removed: the kept place is over its budget`),
      "the budget line",
    );
    assert.equal(fs.existsSync(keptPath(first.jobId)), false);
    assert.ok(fs.existsSync(keptPath(second.jobId)), "the newest stays");
  });
});

describe("e2e: kept trees go after keep='s time, on an idle node and across a slurmd restart", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine([...SEED, `keep=${TTL_S}s`])] });
  });
  after(() => clearKept());

  it("a kept tree is removed when its time is up with no job ending, and after slurmd restarts with no waiter left (as after a reboot)", async () => {
    const mark = logMark();
    const a = jobLeaving(ALICE, 2, ["--keep-tmpdir"]);
    const keptAt = Date.now();
    assert.ok(fs.existsSync(keptPath(a.id)));
    // Nothing ends on the node: the remover waiting for the next expiry removes it.
    await logWhen(
      mark,
      new RegExp(`kept ${KEPT}/slurm\\.${a.id}\\.0 removed: its time is up`),
      "the expiry line",
      60_000,
    );
    await waitFor(() => !fs.existsSync(keptPath(a.id)) || undefined, 10_000, { what: "the tree gone" });
    assert.ok(Date.now() - keptAt >= (TTL_S - 1) * 1000, "not before its time");
    // Again, with every waiter killed and slurmd restarted (a reboot's view).
    const b = jobLeaving(ALICE, 2, ["--keep-tmpdir"]);
    assert.ok(fs.existsSync(keptPath(b.id)));
    for (const pid of waiters()) process.kill(pid, "SIGKILL");
    await waitFor(() => waiters().length === 0 || undefined, 5_000, { what: "no waiter" });
    const mark2 = logMark();
    restartSlurmd();
    await logWhen(
      mark2,
      new RegExp(`kept ${KEPT}/slurm\\.${b.id}\\.0 removed: its time is up`),
      "the expiry line after the restart",
      60_000,
    );
    await waitFor(() => !fs.existsSync(keptPath(b.id)) || undefined, 10_000, { what: "the tree gone" });
    assert.ok(logSince(mark).length > 0);
  });
});

/** The processes holding a kept place's waiter lock open. */
function waiters(): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${p}/fd/${fd}`) === `${KEPT}/.waiter`) {
          out.push(Number(p));
          break;
        }
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

describe("e2e: --private-tmpdir=off where optout=yes allows it", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine([...SEED, "optout=yes"])] });
  });
  after(() => clearKept());

  it("--keep-tmpdir is refused at submission here (no keep=), naming what is missing", () => {
    const r = runAs(ALICE, ["sbatch", "--keep-tmpdir", "--wrap", "true"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--keep-tmpdir: this cluster keeps no job's directories \(plugstack\.conf has no keep=\)/);
  });

  it("the job's steps see the node's /tmp; a job without it its private one; the log says so", () => {
    const marker = `/tmp/ptd-host-marker-${process.pid}`;
    fs.writeFileSync(marker, "host");
    fs.chmodSync(marker, 0o644);
    try {
      const mark = logMark();
      const off = sbatchWait(ALICE, `cat ${marker}; echo; srun -n1 cat ${marker}`, {
        args: ["-n1", "--private-tmpdir=off"],
      });
      assert.equal(off.state, "COMPLETED", off.output);
      assert.match(off.output, /^host\nhost$/m);
      assert.match(
        logSince(mark),
        new RegExp(`job ${off.jobId}: --private-tmpdir=off: this step runs with the node's shared directories`),
      );
      const on = sbatchWait(ALICE, `cat ${marker} || echo PRIVATE`, { args: ["-n1"] });
      assert.match(on.output, /PRIVATE/);
      assert.doesNotMatch(on.output, /^host$/m);
    } finally {
      fs.rmSync(marker, { force: true });
    }
  });
});

describe("e2e: --keep-tmpdir under PrologFlags=Contain (the extern step's end asks Slurm whether the job failed)", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine([...SEED, "keep=1h"])], extraConf: "PrologFlags=Contain" });
  });
  after(() => clearKept());

  it("a failed job is kept, one that succeeded is not", async () => {
    const mark = logMark();
    const failed = jobLeaving(ALICE, 5, ["--keep-tmpdir"]);
    const ok = jobLeaving(ALICE, 0, ["--keep-tmpdir"]);
    await logWhen(mark, new RegExp(`job ${failed.id}: kept ${KEPT}/slurm\\.${failed.id}\\.0`), "the keep line");
    assert.equal(fs.readFileSync(`${keptPath(failed.id)}/tmp/left`, "utf8"), `kept-${failed.id}`);
    assert.equal(fs.existsSync(keptPath(ok.id)), false);
    assert.doesNotMatch(logSince(mark), new RegExp(`job ${ok.id}: kept`));
  });
});
