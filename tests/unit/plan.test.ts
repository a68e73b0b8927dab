// The wasm core alone, in Node: plans for the seed's contract and an error
// value (never a trap) for every bad input.
import { strict as assert } from "node:assert";
import { Core, type Job } from "../../host/core.js";
import { CoreError } from "../../host/errors.js";
import { DRAIN_BUDGET_S, F_ASIDE, F_DEFER, F_EVERY_RESTART, F_NO_JOIN, F_SESSION, F_SWEEP, F_WIPE_ENDED } from "../../host/abi.js";
import { Recorder } from "../../host/recorder.js";

const job: Job = { jobid: 100, restart: 0, uid: 1000, gid: 1000 };
const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

function codeOf(args: string[]): string {
  try {
    new Core().check(args);
    return "OK";
  } catch (e) {
    assert.ok(e instanceof CoreError, `not a CoreError: ${String(e)}`);
    return e.code;
  }
}

describe("core: the seed's layout", () => {
  it("plans the seed README example exactly, directories before namespace, sources opened before any bind", () => {
    const plan = new Core().plan("STEP", SEED, job).map((s) => [s.op, s.str, s.path, s.mode.toString(8), s.flags]);
    assert.deepStrictEqual(plan, [
      ["open_trusted", "/tmp", "/tmp", "711", 1],
      ["mkdir_at", "slurm.100.0", "/tmp/slurm.100.0", "700", F_ASIDE | F_WIPE_ENDED],
      ["mkdir_at", "var_tmp", "/tmp/slurm.100.0/var_tmp", "700", 0],
      ["mkdir_at", "tmp", "/tmp/slurm.100.0/tmp", "700", 0],
      // In the host's namespace still: a pass's leftovers go on (never made here).
      ["continue_at", "slurm.hold", "/tmp/slurm.hold", "74", 0],
      // The job's namespace: where its holder listens (root's 0700, beside
      // the holding place), then join it, skipping to after record 15 (its
      // ns_ready), or become its holder and go on.
      ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", "700", F_ASIDE],
      ["ns_enter", "job.100", "/tmp/slurm.ns/job.100", (15).toString(8), 0],
      ["unshare_mount_ns", "", "", "0", 0],
      ["make_slave", "", "", "0", 0],
      ["open_private", "/tmp/slurm.100.0/var_tmp", "/tmp/slurm.100.0/var_tmp", "0", 0],
      ["open_target", "/var/tmp", "/var/tmp", "0", 0],
      ["open_private", "/tmp/slurm.100.0/tmp", "/tmp/slurm.100.0/tmp", "0", 0],
      ["open_target", "/tmp", "/tmp", "0", 0],
      ["bind", "/var/tmp", "/tmp/slurm.100.0/var_tmp", "0", 0],
      ["bind", "/tmp", "/tmp/slurm.100.0/tmp", "0", 0],
      ["ns_ready", "job.100", "/tmp/slurm.ns/job.100", "0", 0],
    ]);
  });

  it("runs the namespace records only when ns_enter says go on; \"joined\" goes on past ns_ready", () => {
    class Joins extends Recorder {
      constructor(private readonly answer: number) { super(); }
      override ns_enter(dir: number, name: string, path: string, flags: number): number {
        super.ns_enter(dir, name, path, flags);
        return this.answer;
      }
    }
    for (const phase of ["STEP", "EXTERN"] as const) {
      const plan = new Core().plan(phase, SEED, job);
      const enter = plan.findIndex((s) => s.op === "ns_enter");
      const joined = new Joins(1);
      assert.equal(new Core().run(phase, SEED, job, joined), undefined);
      assert.deepStrictEqual(joined.lines.map((l) => l.split("\t")[0]), plan.slice(0, enter + 1).map((s) => s.op), phase);
      const first = new Joins(0);
      assert.equal(new Core().run(phase, SEED, job, first), undefined);
      assert.deepStrictEqual(first.lines.map((l) => l.split("\t")[0]), plan.map((s) => s.op), phase);
    }
  });

  it("reopens each source after unshare against the very directory made for it (its slot)", () => {
    const plan = new Core().plan("STEP", SEED, job);
    const opens = plan.filter((s) => s.op === "open_private");
    assert.equal(opens.length, 2);
    for (const o of opens) {
      const made = plan.find((s) => s.op === "mkdir_at" && s.slot === o.arg);
      assert.equal(made?.path, o.path, `open_private ${o.path} names slot ${o.arg}`);
    }
  });

  it("gives every directory to the job's user", () => {
    const plan = new Core().plan("EXTERN", SEED, { jobid: 7, restart: 2, uid: 4242, gid: 77 });
    const dirs = plan.filter((s) => s.op === "mkdir_at");
    assert.deepStrictEqual(dirs.map((s) => [s.path, s.uid, s.gid]), [
      ["/tmp/slurm.7.2", 4242, 77],
      ["/tmp/slurm.7.2/var_tmp", 4242, 77],
      ["/tmp/slurm.7.2/tmp", 4242, 77],
      // but the one where the namespace's holder listens: root's
      ["/tmp/slurm.ns", 0, 0],
    ]);
    // The extern step moves squatters aside and wipes only a directory a
    // previous run marked ended: never an unconditional wipe.
    assert.deepStrictEqual(dirs.map((s) => s.flags), [F_ASIDE | F_WIPE_ENDED, 0, 0, F_ASIDE]);
  });

  it("plans for the extern step the step's very records; it starts the job's namespace but never joins it", () => {
    // The extern step may start after another step of the job (Slurm 24.05+
    // PrologFlags=RunInJob): whichever comes first makes the directories and
    // neither may empty what the other is using, so both plan the same. The
    // extern step stays in the host's namespace (F_NO_JOIN): its end removes
    // the directories there.
    for (const args of [SEED, ["mount=/a", "base=/var/tmp/x", "mount=/b/c", "cleanup=no"]]) {
      const ext = new Core().plan("EXTERN", args, { jobid: 7, restart: 2, uid: 4242, gid: 77 });
      const step = new Core().plan("STEP", args, { jobid: 7, restart: 2, uid: 4242, gid: 77 });
      assert.deepStrictEqual(ext, step.map((s) => (s.op === "ns_enter" ? { ...s, flags: F_NO_JOIN } : s)));
      assert.equal(ext.filter((s) => s.op === "ns_enter").length, 1);
    }
  });

  it("puts mount= before any base= under the default base /tmp/slurm", () => {
    const plan = new Core().plan("EXTERN", ["mount=/var/tmp", "cleanup=no"], job);
    assert.deepStrictEqual(plan.slice(0, 3).map((s) => s.path), ["/tmp", "/tmp/slurm.100.0", "/tmp/slurm.100.0/var_tmp"]);
    assert.equal(plan[3]?.path, "/tmp/slurm.ns");
  });

  it("gives each mount= to the latest base= before it", () => {
    const all = new Core().plan("EXTERN", ["mount=/a", "base=/var/tmp/x", "mount=/b/c", "base=/scratch/y", "mount=/d"], job);
    // One namespace per job, kept beside the first base only.
    const ns = all.findIndex((s) => s.op === "mkdir_at" && s.path === "/tmp/slurm.ns");
    assert.equal(all[ns]?.arg, 0, "in the first base's parent's slot");
    const plan = all.slice(0, ns);
    assert.deepStrictEqual(plan.map((s) => s.path), [
      "/tmp", "/tmp/slurm.100.0",
      "/var/tmp", "/var/tmp/x.100.0",
      "/scratch", "/scratch/y.100.0",
      "/tmp/slurm.100.0/a", "/var/tmp/x.100.0/b_c", "/scratch/y.100.0/d",
      // each base's holding place, looked at in its parent's slot
      "/tmp/slurm.hold", "/var/tmp/x.hold", "/scratch/y.hold",
    ]);
    assert.deepStrictEqual(plan.filter((s) => s.op === "continue_at").map((s) => [s.str, s.arg, s.mode]),
      [["slurm.hold", 0, DRAIN_BUDGET_S], ["x.hold", 2, DRAIN_BUDGET_S], ["y.hold", 4, DRAIN_BUDGET_S]]);
  });

  it("accepts mount=/tmp anywhere in the list (the seed needed it last)", () => {
    const plan = new Core().plan("STEP", ["base=/tmp/slurm", "mount=/tmp", "mount=/var/tmp"], job);
    const firstBind = plan.findIndex((s) => s.op === "bind");
    const lastOpen = plan.map((s) => s.op).lastIndexOf("open_private");
    assert.ok(lastOpen < firstBind, "every source is opened before the first bind");
  });

  it("takes every run's job directory into the holding place in the epilog; with cleanup=no only marks it ended", () => {
    const plan = new Core().plan("EPILOG", SEED, { ...job, restart: 3 });
    assert.deepStrictEqual(plan.map((s) => [s.op, s.str, s.path, s.flags, s.slot, s.arg, s.uid, s.mode]), [
      ["open_trusted", "/tmp", "/tmp", 0, 0, -1, 0, 0],
      // the job's namespace first: its holder stopped (one per job, not
      // per run: no restart count in its name)
      ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", F_ASIDE, 1, 0, 0, 0o700],
      ["ns_release", "job.100", "/tmp/slurm.ns/job.100", 0, -1, 1, 0, 0],
      // <base>.hold, root's 0700, a squatter exchanged and moved aside
      ["mkdir_at", "slurm.hold", "/tmp/slurm.hold", F_ASIDE, 2, 0, 0, 0o700],
      // "<name>.<jobid>." + any restart count, whatever the restart given
      // (the path, for messages, names this run's)
      ["remove_at", "slurm.100.", "/tmp/slurm.100.3", F_EVERY_RESTART | F_DEFER, 2, 0, job.uid, 0],
    ]);
    const kept = new Core().plan("EPILOG", [...SEED, "cleanup=no"], job);
    assert.deepStrictEqual(kept.map((s) => [s.op, s.str, s.path]), [
      ["open_trusted", "/tmp", "/tmp"],
      ["mkdir_at", "slurm.ns", "/tmp/slurm.ns"],
      ["ns_release", "job.100", "/tmp/slurm.ns/job.100"],
      ["mark_ended", "slurm.100.0", "/tmp/slurm.100.0"],
    ]);
  });

  it("plans the remover: each base's holding place emptied, orphans swept in, within the time budget", () => {
    const plan = new Core().plan("DRAIN", [...SEED, "base=/var/tmp/job", "mount=/scratch"], { jobid: 0, restart: 0, uid: 0, gid: 0 });
    assert.deepStrictEqual(plan.map((s) => [s.op, s.str, s.path, s.flags, s.slot, s.arg, s.mode]), [
      ["open_trusted", "/tmp", "/tmp", 0, 0, -1, 0],
      // holders of jobs no longer on the node released (one namespace
      // directory, beside the first base)
      ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", F_ASIDE, 1, 0, 0o700],
      ["ns_release", "job.", "/tmp/slurm.ns", F_SWEEP, -1, 1, 0],
      ["mkdir_at", "slurm.hold", "/tmp/slurm.hold", F_ASIDE, 2, 0, 0o700],
      ["drain_at", "slurm.", "/tmp/slurm.hold", F_SWEEP, 2, 0, DRAIN_BUDGET_S],
      ["open_trusted", "/var/tmp", "/var/tmp", 0, 3, -1, 0],
      ["mkdir_at", "job.hold", "/var/tmp/job.hold", F_ASIDE, 4, 3, 0o700],
      ["drain_at", "job.", "/var/tmp/job.hold", F_SWEEP, 4, 3, DRAIN_BUDGET_S],
    ]);
    // cleanup=no keeps job directories on purpose, those of jobs gone too.
    const kept = new Core().plan("DRAIN", [...SEED, "cleanup=no"], { jobid: 0, restart: 0, uid: 0, gid: 0 });
    assert.deepStrictEqual(kept.filter((s) => s.op === "drain_at").map((s) => s.flags), [0]);
  });

  it("plans an ssh session: only the namespace directory, then join the session user's job there (never elect, never fall back)", () => {
    const plan = new Core().plan("SESSION", [...SEED, "base=/var/tmp/job", "mount=/scratch"], { jobid: 0, restart: 0, uid: 1234, gid: 99 });
    assert.deepStrictEqual(plan.map((s) => [s.op, s.str, s.path, s.flags, s.slot, s.arg, s.mode, s.uid]), [
      ["open_trusted", "/tmp", "/tmp", 0, 0, -1, 0, 0],
      ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", F_ASIDE, 1, 0, 0o700, 0],
      // W_MODE: its ns_ready, the only place "joined" may jump past
      ["ns_enter", "job.", "/tmp/slurm.ns", F_SESSION, -1, 1, 3, 1234],
      ["ns_ready", "job.", "/tmp/slurm.ns", 0, -1, 1, 0, 0],
    ]);
    // A host that answers "go on" (0) instead of joining fails the session.
    const rec = new Recorder();
    rec.ns_enter = () => 0;
    const fail = new Core().run("SESSION", SEED, { jobid: 0, restart: 0, uid: 1234, gid: 99 }, rec);
    assert.equal(fail?.code, "HOST");
    assert.match(fail?.message ?? "", /enter the namespace of the session user's job in "\/tmp\/slurm\.ns"/);
  });

  it("has every step wipe a directory a previous run of the job marked ended (requeue)", () => {
    const plan = new Core().plan("STEP", SEED, job);
    assert.equal(plan[1]?.op, "mkdir_at");
    assert.equal(plan[1]?.flags, F_ASIDE | F_WIPE_ENDED, "aside + wipe-ended, never an unconditional wipe");
  });

  it("names jobs and restarts up to 2^32-1", () => {
    const plan = new Core().plan("EXTERN", SEED, { jobid: 4294967295, restart: 4294967295, uid: 4294967294, gid: 0 });
    assert.equal(plan[1]?.path, "/tmp/slurm.4294967295.4294967295");
    assert.equal(plan[1]?.uid, 4294967294);
  });
});

describe("core: rejected options", () => {
  const cases: [string, string[], string, RegExp][] = [
    ["unknown option", ["base=/tmp/slurm", "mnt=/tmp"], "UNKNOWN_OPTION", /^mnt=\/tmp: unknown option/],
    ["empty base=", ["base=", "mount=/tmp"], "EMPTY_VALUE", /^base=: empty value/],
    ["empty mount=", ["mount="], "EMPTY_VALUE", /^mount=: empty value/],
    ["relative mount=", ["mount=var/tmp"], "NOT_ABSOLUTE", /^mount=var\/tmp: not an absolute path/],
    ["relative base=", ["base=tmp/x", "mount=/tmp"], "NOT_ABSOLUTE", /^base=tmp\/x: /],
    ["no mount at all", ["base=/tmp/x"], "NO_MOUNTS", /no mount=/],
    ["no options", [], "NO_MOUNTS", /no mount=/],
    ["dot component", ["mount=/var/./tmp"], "BAD_PATH", /"\." or "\.\."/],
    ["dotdot component", ["mount=/var/../etc"], "BAD_PATH", /"\." or "\.\."/],
    ["double slash", ["mount=/var//tmp"], "BAD_PATH", /empty path component/],
    ["trailing slash", ["mount=/var/tmp/"], "BAD_PATH", /trailing/],
    ["root itself", ["mount=/"], "BAD_PATH", /"\/" itself/],
    ["control character", ["mount=/tmp\nx"], "BAD_CHAR", /^mount=\/tmp\\x0ax: control character/],
    ["over-long path", ["mount=/" + "a/".repeat(2048) + "a"], "TOO_LONG", /PATH_MAX/],
    ["over-long component", ["mount=/" + "a".repeat(256)], "TOO_LONG", /NAME_MAX/],
    ["private directory name too long", ["mount=/" + "a/".repeat(127) + "bc"], "TOO_LONG", /mount=.*: private directory name would exceed NAME_MAX/],
    ["job directory name too long", ["base=/x/" + "b".repeat(240), "mount=/tmp"], "TOO_LONG", /base=.*: job directory name would exceed NAME_MAX/],
    ["private path too long", ["base=/" + "b/".repeat(1950) + "b", "mount=/" + "c".repeat(250)], "TOO_LONG", /PATH_MAX/],
    ["job path too long for a base without mounts", ["mount=/tmp", "base=/" + "b/".repeat(2036) + "b"], "TOO_LONG", /base=.*PATH_MAX/],
    ["collision /var/tmp and /var_tmp", ["mount=/var/tmp", "mount=/var_tmp"], "COLLISION", /mount=\/var\/tmp and mount=\/var_tmp/],
    ["collision /a/b_c and /a_b/c", ["mount=/a/b_c", "mount=/a_b/c"], "COLLISION", /same private directory/],
    ["duplicate mount", ["mount=/tmp", "mount=/tmp"], "DUPLICATE", /given twice/],
    ["duplicate mount across bases", ["base=/x/a", "mount=/tmp", "base=/x/b", "mount=/tmp"], "DUPLICATE", /given twice/],
    ["duplicate base", ["base=/x/a", "mount=/a", "base=/x/a", "mount=/b"], "DUPLICATE", /base given twice/],
    ["default base named again", ["mount=/a", "base=/tmp/slurm", "mount=/b"], "DUPLICATE", /uses base=\/tmp\/slurm/],
    ["nested mount points", ["mount=/tmp", "mount=/tmp/x"], "NESTED", /lies under mount=\/tmp/],
    ["bad cleanup value", ["mount=/tmp", "cleanup=maybe"], "BAD_VALUE", /cleanup=yes or cleanup=no/],
    ["too many mounts", Array.from({ length: 33 }, (_, i) => `mount=/m${i}`), "TOO_MANY", /at most 32/],
    ["too many bases", Array.from({ length: 17 }, (_, i) => `base=/b${i}/x`).concat(["mount=/z"]), "TOO_MANY", /at most 16/],
  ];
  for (const [name, args, code, msg] of cases) {
    it(`refuses ${name} with ${code}, naming the option`, () => {
      try {
        new Core().check(args);
        assert.fail("accepted");
      } catch (e) {
        assert.ok(e instanceof CoreError);
        assert.equal(e.code, code);
        assert.match(e.message, msg);
      }
    });
  }

  it("refuses thousands of options without trapping", () => {
    assert.equal(codeOf(Array.from({ length: 5000 }, (_, i) => `mount=/m${i}`)), "TOO_MANY");
  });

  it("refuses options larger than the input buffer as BAD_INPUT", () => {
    assert.equal(codeOf(Array.from({ length: 100 }, () => "mount=/" + "x".repeat(1000))), "BAD_INPUT");
  });

  it("accepts non-ASCII UTF-8 paths byte for byte", () => {
    const plan = new Core().plan("EXTERN", ["mount=/scratch/ünï"], job);
    assert.equal(plan[2]?.path, "/tmp/slurm.100.0/scratch_ünï");
  });
});
