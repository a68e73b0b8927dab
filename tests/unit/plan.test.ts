// The wasm core alone, in Node: plans for the seed's contract and an error
// value (never a trap) for every bad input.
import { strict as assert } from "node:assert";
import { Core, type Job, type PlanStep } from "../../host/core.js";
import { CoreError } from "../../host/errors.js";
import {
  DRAIN_BUDGET_S,
  F_ASIDE,
  F_CREATE,
  F_DEFER,
  F_EVERY_RESTART,
  F_NO_JOIN,
  F_NOEXEC,
  F_REQUEST,
  F_SESSION,
  F_SHARE,
  F_SWEEP,
  F_WIPE_ENDED,
  MAX_SLOTS,
  type PhaseName,
} from "../../host/abi.js";
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

/** One test per refused option list: its error code, and a message naming the option. */
function itRefuses(cases: readonly (readonly [string, string[], string, RegExp])[]): void {
  for (const [name, args, code, msg] of cases) {
    it(`refuses ${name} with ${code}, naming the option`, () => {
      assert.throws(
        () => new Core().check(args),
        (e: unknown) => {
          assert.ok(e instanceof CoreError, String(e));
          assert.equal(e.code, code);
          assert.match(e.message, msg);
          return true;
        },
      );
    });
  }
}

/** A step's plan as the extern step's: no task, so no variable and no
 * output to keep (ns_enter's target moves up by those), never joining. */
function asExtern(step: PlanStep[]): PlanStep[] {
  const keeps = step.filter((s) => s.op === "keep_output").length;
  return step
    .filter((s) => s.op !== "set_env" && s.op !== "keep_output")
    .map((s) => (s.op === "ns_enter" ? { ...s, flags: F_NO_JOIN, mode: s.mode - keeps } : s));
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
      // The usage lines' names for the removal a step may continue.
      ["usage_path", "var_tmp", "/var/tmp", "0", 0],
      ["usage_path", "tmp", "/tmp", "0", 0],
      ["continue_at", "slurm.hold", "/tmp/slurm.hold", "74", 0],
      // Still in the host's namespace: what it needs to keep the step's
      // output written under each mount point (sbatch -o /tmp/out.%j).
      ["keep_output", "/var/tmp", "/tmp/slurm.100.0/var_tmp", "0", 0],
      ["keep_output", "/tmp", "/tmp/slurm.100.0/tmp", "0", 0],
      // The job's namespace: where its holder listens (root's 0700, beside
      // the holding place), then join it, skipping to after record 19 (its
      // ns_ready), or become its holder and go on.
      ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", "700", F_ASIDE],
      ["ns_enter", "job.100", "/tmp/slurm.ns/job.100", (19).toString(8), 0],
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
    // The batch step and the interactive step: the same, then for the
    // script each private directory's path on the host (sbcast's way in).
    const script = new Core().plan("SCRIPT", SEED, job).map((s) => [s.op, s.str, s.path, s.mode.toString(8), s.flags]);
    assert.deepStrictEqual(script, [
      ...plan,
      ["set_env", "PRIVATE_TMPDIR_HOST_VAR_TMP", "/tmp/slurm.100.0/var_tmp", "0", 0],
      ["set_env", "PRIVATE_TMPDIR_HOST_TMP", "/tmp/slurm.100.0/tmp", "0", 0],
    ]);
  });

  it('runs the namespace records only when ns_enter says go on; "joined" goes on past ns_ready', () => {
    class Joins extends Recorder {
      constructor(private readonly answer: number) {
        super();
      }
      override ns_enter(dir: number, name: string, path: string, flags: number): number {
        super.ns_enter(dir, name, path, flags);
        return this.answer;
      }
    }
    for (const phase of ["STEP", "EXTERN"] as const) {
      const plan = new Core().plan(phase, SEED, job);
      const enter = plan.findIndex((s) => s.op === "ns_enter");
      const ready = plan.findIndex((s) => s.op === "ns_ready");
      const joined = new Joins(1);
      assert.equal(new Core().run(phase, SEED, job, joined), undefined);
      assert.deepStrictEqual(
        joined.lines.map((l) => l.split("\t")[0]),
        [...plan.slice(0, enter + 1), ...plan.slice(ready + 1)].map((s) => s.op),
        phase,
      );
      const first = new Joins(0);
      assert.equal(new Core().run(phase, SEED, job, first), undefined);
      assert.deepStrictEqual(
        first.lines.map((l) => l.split("\t")[0]),
        plan.map((s) => s.op),
        phase,
      );
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
    assert.deepStrictEqual(
      dirs.map((s) => [s.path, s.uid, s.gid]),
      [
        ["/tmp/slurm.7.2", 4242, 77],
        ["/tmp/slurm.7.2/var_tmp", 4242, 77],
        ["/tmp/slurm.7.2/tmp", 4242, 77],
        // but the one where the namespace's holder listens: root's
        ["/tmp/slurm.ns", 0, 0],
      ],
    );
    // The extern step moves squatters aside and wipes only a directory a
    // previous run marked ended: never an unconditional wipe.
    assert.deepStrictEqual(
      dirs.map((s) => s.flags),
      [F_ASIDE | F_WIPE_ENDED, 0, 0, F_ASIDE],
    );
  });

  it("plans for the extern step the step's very records; it starts the job's namespace but never joins it", () => {
    // The extern step may start after another step of the job (Slurm 24.05+
    // PrologFlags=RunInJob): whichever comes first makes the directories and
    // neither may empty what the other is using, so both plan the same. The
    // extern step stays in the host's namespace (F_NO_JOIN): its end removes
    // the directories there. It runs no task: no variable to set.
    for (const args of [SEED, ["mount=/a", "base=/var/tmp/x", "mount=/b/c", "cleanup=no"]]) {
      const ext = new Core().plan("EXTERN", args, { jobid: 7, restart: 2, uid: 4242, gid: 77 });
      const step = new Core().plan("STEP", args, { jobid: 7, restart: 2, uid: 4242, gid: 77 });
      assert.deepStrictEqual(ext, asExtern(step));
      assert.equal(ext.filter((s) => s.op === "ns_enter").length, 1);
    }
  });

  it("puts mount= before any base= under the default base /tmp/slurm", () => {
    const plan = new Core().plan("EXTERN", ["mount=/var/tmp", "cleanup=no"], job);
    assert.deepStrictEqual(
      plan.slice(0, 3).map((s) => s.path),
      ["/tmp", "/tmp/slurm.100.0", "/tmp/slurm.100.0/var_tmp"],
    );
    assert.equal(plan[3]?.path, "/tmp/slurm.ns");
  });

  it("gives each mount= to the latest base= before it", () => {
    const all = new Core().plan(
      "EXTERN",
      ["mount=/a", "base=/var/tmp/x", "mount=/b/c", "base=/scratch/y", "mount=/d"],
      job,
    );
    // One namespace per job, kept beside the first base only.
    const ns = all.findIndex((s) => s.op === "mkdir_at" && s.path === "/tmp/slurm.ns");
    assert.equal(all[ns]?.arg, 0, "in the first base's parent's slot");
    const plan = all.slice(0, ns);
    assert.deepStrictEqual(
      plan.map((s) => s.path),
      [
        "/tmp",
        "/tmp/slurm.100.0",
        "/var/tmp",
        "/var/tmp/x.100.0",
        "/scratch",
        "/scratch/y.100.0",
        "/tmp/slurm.100.0/a",
        "/var/tmp/x.100.0/b_c",
        "/scratch/y.100.0/d",
        // each base's mount paths (for the usage lines), then its holding
        // place, looked at in its parent's slot
        "/a",
        "/tmp/slurm.hold",
        "/b/c",
        "/var/tmp/x.hold",
        "/d",
        "/scratch/y.hold",
      ],
    );
    assert.deepStrictEqual(
      plan.filter((s) => s.op === "continue_at").map((s) => [s.str, s.arg, s.mode]),
      [
        ["slurm.hold", 0, DRAIN_BUDGET_S],
        ["x.hold", 2, DRAIN_BUDGET_S],
        ["y.hold", 4, DRAIN_BUDGET_S],
      ],
    );
  });

  it("accepts mount=/tmp anywhere in the list (the seed needed it last)", () => {
    const plan = new Core().plan("STEP", ["base=/tmp/slurm", "mount=/tmp", "mount=/var/tmp"], job);
    const firstBind = plan.findIndex((s) => s.op === "bind");
    const lastOpen = plan.map((s) => s.op).lastIndexOf("open_private");
    assert.ok(lastOpen < firstBind, "every source is opened before the first bind");
  });

  it("takes every run's job directory into the holding place in the epilog; with cleanup=no only marks it ended", () => {
    const plan = new Core().plan("EPILOG", SEED, { ...job, restart: 3 });
    assert.deepStrictEqual(
      plan.map((s) => [s.op, s.str, s.path, s.flags, s.slot, s.arg, s.uid, s.mode]),
      [
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
      ],
    );
    const kept = new Core().plan("EPILOG", [...SEED, "cleanup=no"], job);
    assert.deepStrictEqual(
      kept.map((s) => [s.op, s.str, s.path]),
      [
        ["open_trusted", "/tmp", "/tmp"],
        ["mkdir_at", "slurm.ns", "/tmp/slurm.ns"],
        ["ns_release", "job.100", "/tmp/slurm.ns/job.100"],
        ["mark_ended", "slurm.100.0", "/tmp/slurm.100.0"],
      ],
    );
  });

  it("plans the remover: each base's holding place emptied, orphans swept in, within the time budget", () => {
    const plan = new Core().plan("DRAIN", [...SEED, "base=/var/tmp/job", "mount=/scratch"], {
      jobid: 0,
      restart: 0,
      uid: 0,
      gid: 0,
    });
    assert.deepStrictEqual(
      plan.map((s) => [s.op, s.str, s.path, s.flags, s.slot, s.arg, s.mode]),
      [
        ["open_trusted", "/tmp", "/tmp", 0, 0, -1, 0],
        // holders of jobs no longer on the node released (one namespace
        // directory, beside the first base)
        ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", F_ASIDE, 1, 0, 0o700],
        ["ns_release", "job.", "/tmp/slurm.ns", F_SWEEP, -1, 1, 0],
        ["mkdir_at", "slurm.hold", "/tmp/slurm.hold", F_ASIDE, 2, 0, 0o700],
        // each private directory's name and the mount path it is, for the
        // usage lines of the drain that follows
        ["usage_path", "var_tmp", "/var/tmp", 0, -1, -1, 0],
        ["usage_path", "tmp", "/tmp", 0, -1, -1, 0],
        ["drain_at", "slurm.", "/tmp/slurm.hold", F_SWEEP, 2, 0, DRAIN_BUDGET_S],
        ["open_trusted", "/var/tmp", "/var/tmp", 0, 3, -1, 0],
        ["mkdir_at", "job.hold", "/var/tmp/job.hold", F_ASIDE, 4, 3, 0o700],
        ["usage_path", "scratch", "/scratch", 0, -1, -1, 0],
        ["drain_at", "job.", "/var/tmp/job.hold", F_SWEEP, 4, 3, DRAIN_BUDGET_S],
      ],
    );
    // cleanup=no keeps job directories on purpose, those of jobs gone too.
    const kept = new Core().plan("DRAIN", [...SEED, "cleanup=no"], { jobid: 0, restart: 0, uid: 0, gid: 0 });
    assert.deepStrictEqual(
      kept.filter((s) => s.op === "drain_at").map((s) => s.flags),
      [0],
    );
  });

  it("plans an ssh session: only the namespace directory, then join the session user's job there (never elect, never fall back)", () => {
    const plan = new Core().plan("SESSION", [...SEED, "base=/var/tmp/job", "mount=/scratch"], {
      jobid: 0,
      restart: 0,
      uid: 1234,
      gid: 99,
    });
    assert.deepStrictEqual(
      plan.map((s) => [s.op, s.str, s.path, s.flags, s.slot, s.arg, s.mode, s.uid]),
      [
        ["open_trusted", "/tmp", "/tmp", 0, 0, -1, 0, 0],
        ["mkdir_at", "slurm.ns", "/tmp/slurm.ns", F_ASIDE, 1, 0, 0o700, 0],
        // W_MODE: its ns_ready, the only place "joined" may jump past
        ["ns_enter", "job.", "/tmp/slurm.ns", F_SESSION, -1, 1, 3, 1234],
        ["ns_ready", "job.", "/tmp/slurm.ns", 0, -1, 1, 0, 0],
      ],
    );
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
    [
      "private directory name too long",
      ["mount=/" + "a/".repeat(127) + "bc"],
      "TOO_LONG",
      /mount=.*: private directory name would exceed NAME_MAX/,
    ],
    [
      "job directory name too long",
      ["base=/x/" + "b".repeat(240), "mount=/tmp"],
      "TOO_LONG",
      /base=.*: job directory name would exceed NAME_MAX/,
    ],
    [
      "private path too long",
      ["base=/" + "b/".repeat(1950) + "b", "mount=/" + "c".repeat(250)],
      "TOO_LONG",
      /PATH_MAX/,
    ],
    [
      "job path too long for a base without mounts",
      ["mount=/tmp", "base=/" + "b/".repeat(2036) + "b"],
      "TOO_LONG",
      /base=.*PATH_MAX/,
    ],
    [
      "collision /var/tmp and /var_tmp",
      ["mount=/var/tmp", "mount=/var_tmp"],
      "COLLISION",
      /mount=\/var\/tmp and mount=\/var_tmp/,
    ],
    ["collision /a/b_c and /a_b/c", ["mount=/a/b_c", "mount=/a_b/c"], "COLLISION", /same private directory/],
    ["duplicate mount", ["mount=/tmp", "mount=/tmp"], "DUPLICATE", /given twice/],
    [
      "duplicate mount across bases",
      ["base=/x/a", "mount=/tmp", "base=/x/b", "mount=/tmp"],
      "DUPLICATE",
      /given twice/,
    ],
    ["duplicate base", ["base=/x/a", "mount=/a", "base=/x/a", "mount=/b"], "DUPLICATE", /base given twice/],
    ["default base named again", ["mount=/a", "base=/tmp/slurm", "mount=/b"], "DUPLICATE", /uses base=\/tmp\/slurm/],
    ["nested mount points", ["mount=/tmp", "mount=/tmp/x"], "NESTED", /lies under mount=\/tmp/],
    ["bad cleanup value", ["mount=/tmp", "cleanup=maybe"], "BAD_VALUE", /cleanup=yes or cleanup=no/],
    ["too many mounts", Array.from({ length: 33 }, (_, i) => `mount=/m${i}`), "TOO_MANY", /at most 32/],
    [
      "too many bases",
      Array.from({ length: 17 }, (_, i) => `base=/b${i}/x`).concat(["mount=/z"]),
      "TOO_MANY",
      /at most 16/,
    ],
  ];
  itRefuses(cases);

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

describe("core: memory-backed scratch (tmpfs=, size=, mode=, noexec, tmpdir=)", () => {
  const memJob: Job = { ...job, memMb: 4096, nodeMemMb: 65536 };
  const SHM = [...SEED, "tmpfs=/dev/shm", "size=2G", "mode=0700", "noexec", "tmpfs=/scratch/mem"];
  const sizeOf = (args: string[], j: Job): number[] =>
    new Core()
      .plan("STEP", args, j)
      .filter((s) => s.op === "mount_tmpfs")
      .map((s) => s.sizeMb);

  it("opens every tmpfs mount point with the binds' targets, then mounts each after the binds, in option order", () => {
    const plan = new Core().plan("STEP", SHM, memJob);
    const enter = plan.findIndex((s) => s.op === "ns_enter");
    assert.deepStrictEqual(
      plan.slice(enter).map((s) => [s.op, s.slot, s.arg, s.mode, s.uid, s.gid, s.flags, s.str, s.path, s.sizeMb]),
      [
        // W_MODE: its ns_ready's index, past the tmpfs records too
        ["ns_enter", -1, 4, 23, job.uid, 0, 0, "job.100", "/tmp/slurm.ns/job.100", 0],
        ["unshare_mount_ns", -1, -1, 0, 0, 0, 0, "", "", 0],
        ["make_slave", -1, -1, 0, 0, 0, 0, "", "", 0],
        ["open_private", 5, 2, 0, job.uid, 0, 0, "/tmp/slurm.100.0/var_tmp", "/tmp/slurm.100.0/var_tmp", 0],
        ["open_target", 6, -1, 0, 0, 0, 0, "/var/tmp", "/var/tmp", 0],
        ["open_private", 7, 3, 0, job.uid, 0, 0, "/tmp/slurm.100.0/tmp", "/tmp/slurm.100.0/tmp", 0],
        ["open_target", 8, -1, 0, 0, 0, 0, "/tmp", "/tmp", 0],
        // the tmpfs mount points, after the binds' sources and targets
        ["open_target", 9, -1, 0, 0, 0, 0, "/dev/shm", "/dev/shm", 0],
        ["open_target", 10, -1, 0, 0, 0, 0, "/scratch/mem", "/scratch/mem", 0],
        ["bind", 5, 6, 0, 0, 0, 0, "/var/tmp", "/tmp/slurm.100.0/var_tmp", 0],
        ["bind", 7, 8, 0, 0, 0, 0, "/tmp", "/tmp/slurm.100.0/tmp", 0],
        // W_SLOT: the mount point's slot; W_ARG -1; the root the job's user's
        ["mount_tmpfs", 9, -1, 0o700, job.uid, job.gid, F_NOEXEC, "/dev/shm", "/dev/shm", 2048],
        // the defaults: 50% of the job's memory, mode 1777, exec allowed
        ["mount_tmpfs", 10, -1, 0o1777, job.uid, job.gid, 0, "/scratch/mem", "/scratch/mem", 2048],
        ["ns_ready", -1, 4, 0, 0, 0, 0, "job.100", "/tmp/slurm.ns/job.100", 0],
      ],
    );
  });

  it("limits every tmpfs's inodes: nr_inodes= as given, else one per 4 KiB of its size, at least 1,024; W_INODES is 0 outside mount_tmpfs", () => {
    const inodesOf = (args: string[], j: Job = memJob): number[] =>
      new Core()
        .plan("STEP", args, j)
        .filter((s) => s.op === "mount_tmpfs")
        .map((s) => s.inodes);
    assert.deepStrictEqual(inodesOf(SHM), [524288, 524288], "2 GiB each");
    assert.deepStrictEqual(inodesOf([...SEED, "tmpfs=/dev/shm", "size=1M"]), [1024], "never fewer than 1,024");
    assert.deepStrictEqual(inodesOf([...SEED, "tmpfs=/dev/shm", "size=16M"]), [4096]);
    assert.deepStrictEqual(
      inodesOf([
        ...SEED,
        "tmpfs=/dev/shm",
        "size=16M",
        "nr_inodes=100",
        "tmpfs=/a",
        "nr_inodes=64k",
        "tmpfs=/b",
        "nr_inodes=2M",
      ]),
      [100, 65536, 2097152],
    );
    for (const s of new Core().plan("STEP", SHM, memJob))
      assert.equal(s.inodes > 0, s.op === "mount_tmpfs", `${s.op}: inodes ${s.inodes}`);
    for (const [bad, code] of [
      ["nr_inodes=0", /must be from 1 to 4294967295/],
      ["nr_inodes=4294967296", /must be from 1 to 4294967295/],
      ["nr_inodes=4194304k", /must be from 1 to 4294967295/],
      ["nr_inodes=", /expected a count/],
      ["nr_inodes=12x", /expected a count/],
      ["nr_inodes=-1", /expected a count/],
      ["nr_inodes=k", /expected a count/],
    ] as const) {
      assert.throws(
        () => new Core().plan("STEP", [...SEED, "tmpfs=/dev/shm", bad], memJob),
        (e: Error) => code.test(e.message) && e.message.includes(bad),
        bad,
      );
    }
    assert.throws(
      () => new Core().plan("STEP", [...SEED, "nr_inodes=10"], memJob),
      /must follow a tmpfs= or disk= option/,
    );
    assert.throws(
      () => new Core().plan("STEP", [...SEED, "tmpfs=/dev/shm", "nr_inodes=10", "nr_inodes=20"], memJob),
      /given twice/,
    );
  });

  it("changes nothing before the namespace, nor any bind, and W_SIZE_MB is 0 outside mount_tmpfs", () => {
    const without = new Core().plan("STEP", SEED, memJob);
    const plan = new Core().plan("STEP", SHM, memJob);
    const enter = without.findIndex((s) => s.op === "ns_enter");
    assert.deepStrictEqual(plan.slice(0, enter), without.slice(0, enter));
    const binds = (p: PlanStep[]): PlanStep[] => p.filter((s) => s.op === "bind" || s.op === "open_private");
    assert.deepStrictEqual(binds(plan), binds(without));
    for (const s of plan) assert.equal(s.sizeMb > 0, s.op === "mount_tmpfs", `${s.op}: sizeMb ${s.sizeMb}`);
  });

  it("plans the extern step's namespace records with the tmpfs mounts too (its holder makes them), without TMPDIR", () => {
    const args = [...SHM, "tmpdir=/dev/shm"];
    const ext = new Core().plan("EXTERN", args, memJob);
    const step = new Core().plan("STEP", args, memJob);
    assert.deepStrictEqual(ext, asExtern(step));
  });

  it("gives a configuration of tmpfs= only the default base, for the job's and the namespace's directories", () => {
    const plan = new Core().plan("STEP", ["tmpfs=/dev/shm", "size=64M"], memJob);
    assert.deepStrictEqual(
      plan.map((s) => [s.op, s.path, s.sizeMb]),
      [
        ["open_trusted", "/tmp", 0],
        ["mkdir_at", "/tmp/slurm.100.0", 0],
        ["continue_at", "/tmp/slurm.hold", 0],
        ["mkdir_at", "/tmp/slurm.ns", 0],
        ["ns_enter", "/tmp/slurm.ns/job.100", 0],
        ["unshare_mount_ns", "", 0],
        ["make_slave", "", 0],
        ["open_target", "/dev/shm", 0],
        ["mount_tmpfs", "/dev/shm", 64],
        ["ns_ready", "/tmp/slurm.ns/job.100", 0],
      ],
    );
    // A base given after it is the only base.
    const based = new Core().plan("EPILOG", ["tmpfs=/dev/shm", "base=/var/tmp/x"], memJob);
    assert.deepStrictEqual(
      based.filter((s) => s.op === "open_trusted").map((s) => s.path),
      ["/var/tmp"],
    );
  });

  it("keeps absolute sizes in MiB, rounded up, binary units in either case", () => {
    const cases: [string, number][] = [
      ["1K", 1],
      ["1024K", 1],
      ["1025K", 2],
      ["1k", 1],
      ["512M", 512],
      ["512m", 512],
      ["8G", 8192],
      ["8g", 8192],
      ["1T", 1048576],
      ["1t", 1048576],
      ["007M", 7],
      ["4294967295M", 4294967295],
      ["4194303G", 4194303 * 1024],
      ["4398046510080K", 4294967295],
      ["4095T", 4095 * 1048576],
    ];
    for (const [size, mb] of cases) {
      // whatever the memory: absolute sizes need none
      assert.deepStrictEqual(sizeOf(["tmpfs=/a", `size=${size}`], { ...job, memMb: 0, nodeMemMb: 0 }), [mb], size);
    }
  });

  it("takes a percentage of the job's memory, of the node's when the job has none, rounded down but at least 1 MiB", () => {
    const cases: [string[], number, number, number][] = [
      [["size=25%"], 4096, 65536, 1024],
      [["size=25%"], 0, 10000, 2500],
      [[], 4096, 65536, 2048], // the default, 50%
      [[], 0, 1001, 500],
      [["size=33%"], 100, 0, 33],
      [["size=1%"], 150, 0, 1],
      [["size=1%"], 50, 0, 1], // 0.5 MiB: at least 1
      [[], 1, 1, 1],
      [["size=100%"], 4294967295, 0, 4294967295],
      [["size=99%"], 4294967295, 0, Math.floor((4294967295 * 99) / 100)],
    ];
    for (const [size, memMb, nodeMemMb, mb] of cases) {
      assert.deepStrictEqual(
        sizeOf(["tmpfs=/a", ...size], { ...job, memMb, nodeMemMb }),
        [mb],
        `${size.join()} of ${memMb}/${nodeMemMb}`,
      );
    }
  });

  it("refuses a percentage when neither the job's nor the node's memory is known, only in the phases that mount", () => {
    const unknown: Job = { ...job, memMb: 0, nodeMemMb: 0 };
    const cases: [string[], RegExp][] = [
      [
        ["tmpfs=/dev/shm"],
        /^size=50%: the job's and the node's memory are unknown \(the default size of tmpfs=\/dev\/shm\)$/,
      ],
      [
        ["tmpfs=/a", "size=8G", "tmpfs=/dev/shm", "size=25%"],
        /^size=25%: the job's and the node's memory are unknown \(tmpfs=\/dev\/shm\)$/,
      ],
    ];
    for (const [args, msg] of cases) {
      for (const phase of ["EXTERN", "STEP"] as const) {
        assert.throws(
          () => new Core().plan(phase, args, unknown),
          (e: unknown) => e instanceof CoreError && e.code === "BAD_INPUT" && msg.test(e.message),
          `${phase} ${args.join(" ")}`,
        );
        const fail = new Core().run(phase, args, unknown, new Recorder());
        assert.equal(fail?.code, "BAD_INPUT");
      }
      for (const phase of ["CHECK", "EPILOG", "DRAIN", "SESSION"] as const) new Core().plan(phase, args, unknown);
    }
  });

  it("sets TMPDIR after ns_ready in a step and an ssh session only", () => {
    const args = [...SEED, "tmpfs=/dev/shm", "tmpdir=/dev/shm"];
    const step = new Core().plan("SCRIPT", args, memJob);
    assert.deepStrictEqual(
      step.slice(-4).map((s) => [s.op, s.slot, s.arg, s.mode, s.uid, s.gid, s.flags, s.str, s.path, s.sizeMb]),
      [
        ["ns_ready", -1, 4, 0, 0, 0, 0, "job.100", "/tmp/slurm.ns/job.100", 0],
        ["set_env", -1, -1, 0, 0, 0, 0, "PRIVATE_TMPDIR_HOST_VAR_TMP", "/tmp/slurm.100.0/var_tmp", 0],
        ["set_env", -1, -1, 0, 0, 0, 0, "PRIVATE_TMPDIR_HOST_TMP", "/tmp/slurm.100.0/tmp", 0],
        ["set_env", -1, -1, 0, 0, 0, 0, "TMPDIR", "/dev/shm", 0],
      ],
    );
    const session = new Core().plan("SESSION", args, { ...memJob, uid: 1234 });
    assert.deepStrictEqual(
      session.map((s) => s.op),
      ["open_trusted", "mkdir_at", "ns_enter", "ns_ready", "set_env"],
    );
    assert.deepStrictEqual([session[4]?.str, session[4]?.path], ["TMPDIR", "/dev/shm"]);
    for (const phase of ["CHECK", "EXTERN", "EPILOG", "DRAIN"] as const) {
      assert.ok(!new Core().plan(phase, args, memJob).some((s) => s.op === "set_env"), phase);
    }
    // A subdirectory of a bind's mount point, as given.
    const sub = new Core().plan("STEP", [...SEED, "tmpdir=/tmp/job"], memJob);
    assert.deepStrictEqual(
      sub.filter((s) => s.str === "TMPDIR").map((s) => s.path),
      ["/tmp/job"],
    );
  });

  it("runs set_env in a step that joined the job's namespace, and in a session that joined", () => {
    class Joins extends Recorder {
      override ns_enter(dir: number, name: string, path: string, flags: number): number {
        super.ns_enter(dir, name, path, flags);
        return 1;
      }
    }
    const args = [...SEED, "tmpfs=/dev/shm", "tmpdir=/dev/shm"];
    for (const phase of ["STEP", "SCRIPT", "SESSION"] as const) {
      const rec = new Joins();
      assert.equal(new Core().run(phase, args, memJob, rec), undefined);
      assert.ok(!rec.lines.some((l) => l.startsWith("mount_tmpfs")), `${phase}: joined, nothing mounted`);
      assert.equal(rec.lines[rec.lines.length - 1], "set_env\tTMPDIR\t/dev/shm\t0", phase);
    }
    // A step that makes the namespace (no holder to join) mounts, then sets.
    const rec = new Recorder();
    assert.equal(new Core().run("SCRIPT", args, memJob, rec), undefined);
    assert.deepStrictEqual(rec.lines.slice(-5), [
      "mount_tmpfs\t9\t/dev/shm\t2048\t524288\t1777\t1000\t1000\t0",
      "ns_ready",
      "set_env\tPRIVATE_TMPDIR_HOST_VAR_TMP\t/tmp/slurm.100.0/var_tmp\t0",
      "set_env\tPRIVATE_TMPDIR_HOST_TMP\t/tmp/slurm.100.0/tmp\t0",
      "set_env\tTMPDIR\t/dev/shm\t0",
    ]);
  });

  it("names a failed tmpfs mount, a failed TMPDIR and a failed host path's variable, and stops there", () => {
    const args = [...SEED, "tmpfs=/dev/shm", "tmpdir=/tmp"];
    const mount = new Recorder();
    mount.mount_tmpfs = () => -1;
    const f1 = new Core().run("STEP", args, memJob, mount);
    assert.deepStrictEqual([f1?.code, f1?.message, f1?.errno], ["HOST", 'mount tmpfs on "/dev/shm"', 1]);
    assert.equal(new Core().plan("STEP", args, memJob)[f1?.failedOp ?? -1]?.op, "mount_tmpfs");
    assert.ok(!mount.lines.some((l) => l === "ns_ready"), "nothing after the failed mount");
    const env = new Recorder();
    env.set_env = (name) => (name === "TMPDIR" ? -12 : 0);
    const f2 = new Core().run("STEP", args, memJob, env);
    assert.deepStrictEqual([f2?.code, f2?.message, f2?.errno], ["HOST", 'set TMPDIR="/tmp"', 12]);
    const host = new Recorder();
    const tried: string[] = [];
    host.set_env = (name) => (tried.push(name), -7);
    const f3 = new Core().run("SCRIPT", args, memJob, host);
    assert.deepStrictEqual(
      [f3?.code, f3?.message, f3?.errno],
      ["HOST", 'set PRIVATE_TMPDIR_HOST_VAR_TMP="/tmp/slurm.100.0/var_tmp"', 7],
    );
    assert.deepStrictEqual(tried, ["PRIVATE_TMPDIR_HOST_VAR_TMP"], "nothing set after the failed one");
  });
});

describe("core: each private directory's host path, for sbcast (PRIVATE_TMPDIR_HOST_<NAME>)", () => {
  // slurmd writes sbcast's files in the host's namespace (no SPANK hook runs
  // there), so a job reaches its private /tmp through this path.
  const hostEnv = (phase: PhaseName, args: string[], j = job) =>
    new Core()
      .plan(phase, args, j)
      .filter((s) => s.op === "set_env" && s.str.startsWith("PRIVATE_TMPDIR_HOST_"))
      .map((s) => [s.str, s.path]);

  it("names each mount='s private directory of this run on the host, in option order, after ns_ready", () => {
    const j = { jobid: 4294967295, restart: 3, uid: 1000, gid: 1000 };
    const args = ["mount=/var/tmp", "base=/scratch/ptd/job", "mount=/tmp", "mount=/opt/app/cache"];
    assert.deepStrictEqual(hostEnv("SCRIPT", args, j), [
      ["PRIVATE_TMPDIR_HOST_VAR_TMP", "/tmp/slurm.4294967295.3/var_tmp"],
      ["PRIVATE_TMPDIR_HOST_TMP", "/scratch/ptd/job.4294967295.3/tmp"],
      ["PRIVATE_TMPDIR_HOST_OPT_APP_CACHE", "/scratch/ptd/job.4294967295.3/opt_app_cache"],
    ]);
    const plan = new Core().plan("SCRIPT", args, j);
    const ready = plan.findIndex((s) => s.op === "ns_ready");
    assert.deepStrictEqual(
      plan.slice(ready + 1).map((s) => [s.op, s.slot, s.arg, s.mode, s.uid, s.gid, s.flags]),
      Array.from({ length: 3 }, () => ["set_env", -1, -1, 0, 0, 0, 0]),
    );
  });

  it("names exactly the directory the step makes and binds (the one the job sees as the mount point)", () => {
    const plan = new Core().plan("SCRIPT", SEED, job);
    const env = hostEnv("SCRIPT", SEED);
    assert.deepStrictEqual(
      env.map(([, value]) => plan.find((s) => s.op === "bind" && s.path === value)?.str),
      ["/var/tmp", "/tmp"],
    );
    for (const [name, value] of env) {
      const made = plan.find((s) => s.op === "mkdir_at" && s.path === value);
      assert.ok(made && made.uid === job.uid && made.mode === 0o700, `${name}: ${value} is not made the user's 0700`);
    }
  });

  it("upper-cases the directory name and maps every byte but [A-Z0-9_] to _ (a shell can expand it)", () => {
    assert.deepStrictEqual(hostEnv("SCRIPT", ["mount=/a-b.c/Scratch 2", "mount=/d\u00e9j\u00e0"]), [
      ["PRIVATE_TMPDIR_HOST_A_B_C_SCRATCH_2", "/tmp/slurm.100.0/a-b.c_Scratch 2"],
      ["PRIVATE_TMPDIR_HOST_D__J__", "/tmp/slurm.100.0/d\u00e9j\u00e0"],
    ]);
  });

  it("gives a name two mounts share to the first of them only (a later one would replace it unseen)", () => {
    // Different directories (other base, other case, "-" and "_"), one name.
    const args = [
      "mount=/var/tmp",
      "mount=/a-b",
      "mount=/TMP",
      "mount=/tmp",
      "base=/scratch/x",
      "mount=/var_tmp",
      "mount=/a_b",
    ];
    assert.deepStrictEqual(hostEnv("SCRIPT", args), [
      ["PRIVATE_TMPDIR_HOST_VAR_TMP", "/tmp/slurm.100.0/var_tmp"],
      ["PRIVATE_TMPDIR_HOST_A_B", "/tmp/slurm.100.0/a-b"],
      ["PRIVATE_TMPDIR_HOST_TMP", "/tmp/slurm.100.0/TMP"],
    ]);
  });

  it("gives a tmpfs= none: it exists only in the job's namespace, where sbcast never writes", () => {
    const memJob: Job = { ...job, memMb: 4096 };
    assert.deepStrictEqual(hostEnv("SCRIPT", ["tmpfs=/tmp", "tmpfs=/dev/shm", "tmpdir=/tmp"], memJob), []);
    assert.deepStrictEqual(hostEnv("SCRIPT", ["mount=/var/tmp", "tmpfs=/tmp"], memJob), [
      ["PRIVATE_TMPDIR_HOST_VAR_TMP", "/tmp/slurm.100.0/var_tmp"],
    ]);
  });

  it("is set in the batch and interactive step only: not in other steps (spank_setenv's first call costs a step 0.5 ms), the extern step (no task), an ssh session (no job id), the epilog or the remover", () => {
    const args = [...SEED, "tmpdir=/tmp"];
    assert.equal(hostEnv("SCRIPT", args).length, 2);
    for (const phase of ["CHECK", "EXTERN", "STEP", "SESSION", "EPILOG", "DRAIN"] as const) {
      assert.deepStrictEqual(hostEnv(phase, args), [], phase);
    }
  });

  it("fits the largest configuration: 32 mounts of the longest names under 16 bases, 32 variables", () => {
    const args = Array.from({ length: 16 }, (_, g) => [
      `base=/${"b".repeat(200)}/${"c".repeat(200)}/${g}`,
      `mount=/${String(g).padStart(2, "0")}${"m".repeat(253)}`,
      `mount=/${String(g).padStart(2, "0")}${"n".repeat(253)}`,
    ]).flat();
    const env = hostEnv("SCRIPT", args, { ...job, jobid: 4294967295, restart: 4294967295 });
    assert.equal(env.length, 32);
    assert.ok(env.every(([n]) => n?.length === "PRIVATE_TMPDIR_HOST_".length + 255));
  });
});

describe("core: rejected tmpfs=, size=, mode=, noexec and tmpdir= options", () => {
  const T = ["tmpfs=/dev/shm"];
  const cases: [string, string[], string, RegExp][] = [
    [
      "size= before any tmpfs=",
      ["mount=/tmp", "size=8G"],
      "BAD_VALUE",
      /^size=8G: must follow a tmpfs= or disk= option$/,
    ],
    [
      "mode= before any tmpfs=",
      ["mode=0700", "tmpfs=/a"],
      "BAD_VALUE",
      /^mode=0700: must follow a tmpfs= or disk= option$/,
    ],
    ["noexec before any tmpfs=", ["noexec", "tmpfs=/a"], "BAD_VALUE", /^noexec: must follow a tmpfs= or disk= option$/],
    [
      "size= twice for one tmpfs=",
      [...T, "size=8G", "size=1G"],
      "DUPLICATE",
      /^size=1G: given twice for tmpfs=\/dev\/shm$/,
    ],
    [
      "mode= twice for one tmpfs=",
      [...T, "mode=0700", "mode=0700"],
      "DUPLICATE",
      /^mode=0700: given twice for tmpfs=\/dev\/shm$/,
    ],
    [
      "noexec twice for one tmpfs=",
      [...T, "noexec", "size=1G", "noexec"],
      "DUPLICATE",
      /^noexec: given twice for tmpfs=\/dev\/shm$/,
    ],
    ["size= without a unit", [...T, "size=1024"], "BAD_VALUE", /^size=1024: expected a size such as 8G, 512M or 50%$/],
    [
      "size= with an unknown unit",
      [...T, "size=8X"],
      "BAD_VALUE",
      /^size=8X: expected a size such as 8G, 512M or 50%$/,
    ],
    ["size= with a two-letter unit", [...T, "size=8GB"], "BAD_VALUE", /^size=8GB: expected/],
    ["size= with a unit alone", [...T, "size=G"], "BAD_VALUE", /^size=G: expected/],
    ["empty size=", [...T, "size="], "BAD_VALUE", /^size=: expected a size such as 8G, 512M or 50%$/],
    ["size= with a sign", [...T, "size=+8G"], "BAD_VALUE", /^size=\+8G: expected/],
    ["size= negative", [...T, "size=-8G"], "BAD_VALUE", /^size=-8G: expected/],
    ["size= with a space", [...T, "size=8 G"], "BAD_VALUE", /^size=8 G: expected/],
    ["size= with a fraction", [...T, "size=1.5G"], "BAD_VALUE", /^size=1\.5G: expected/],
    ["size= in hex", [...T, "size=0x10M"], "BAD_VALUE", /^size=0x10M: expected/],
    ["size= with a control byte for %", [...T, "size=50\x05"], "BAD_VALUE", /^size=50\\x05: expected/],
    ["size=0", [...T, "size=0M"], "BAD_VALUE", /^size=0M: must be more than 0$/],
    ["size=0K", [...T, "size=0K"], "BAD_VALUE", /^size=0K: must be more than 0$/],
    [
      "size= over 4294967295 MiB",
      [...T, "size=4294967296M"],
      "BAD_VALUE",
      /^size=4294967296M: too large \(at most 4294967295M\)$/,
    ],
    ["size= over 4294967295 MiB in K", [...T, "size=4398046510081K"], "BAD_VALUE", /too large/],
    ["size= over 4294967295 MiB in T", [...T, "size=4096T"], "BAD_VALUE", /^size=4096T: too large/],
    [
      "size= of more digits than any integer",
      [...T, `size=${"9".repeat(400)}G`],
      "BAD_VALUE",
      /^size=9+\.\.\.: too large/,
    ],
    ["size=0%", [...T, "size=0%"], "BAD_VALUE", /^size=0%: a percentage must be from 1 to 100$/],
    ["size=101%", [...T, "size=101%"], "BAD_VALUE", /^size=101%: a percentage must be from 1 to 100$/],
    ["size= a huge percentage", [...T, `size=${"1".repeat(30)}%`], "BAD_VALUE", /a percentage must be from 1 to 100$/],
    ["size=%", [...T, "size=%"], "BAD_VALUE", /^size=%: expected/],
    [
      "mode= of 2 digits",
      [...T, "mode=77"],
      "BAD_VALUE",
      /^mode=77: expected 3 or 4 octal digits, such as 1777 or 0700$/,
    ],
    ["mode= of 5 digits", [...T, "mode=01777"], "BAD_VALUE", /^mode=01777: expected 3 or 4 octal digits/],
    ["mode= not octal", [...T, "mode=0800"], "BAD_VALUE", /^mode=0800: expected 3 or 4 octal digits/],
    ["empty mode=", [...T, "mode="], "BAD_VALUE", /^mode=: expected 3 or 4 octal digits/],
    ["mode= symbolic", [...T, "mode=u+rwx"], "BAD_VALUE", /^mode=u\+rwx: expected/],
    ["noexec with a value", [...T, "noexec=yes"], "BAD_VALUE", /^noexec=yes: noexec takes no value/],
    ["empty tmpfs=", ["tmpfs="], "EMPTY_VALUE", /^tmpfs=: empty value$/],
    ["relative tmpfs=", ["tmpfs=dev/shm"], "NOT_ABSOLUTE", /^tmpfs=dev\/shm: not an absolute path$/],
    ["tmpfs=/", ["tmpfs=/"], "BAD_PATH", /^tmpfs=\/: "\/" itself cannot be used$/],
    ["tmpfs= with a dotdot", ["tmpfs=/dev/../etc"], "BAD_PATH", /^tmpfs=\/dev\/\.\.\/etc: "\." or "\.\." component$/],
    [
      "tmpfs= with a control character",
      ["tmpfs=/dev/sh\tm"],
      "BAD_CHAR",
      /^tmpfs=\/dev\/sh\\x09m: control character at byte 7$/,
    ],
    ["tmpfs= too long", ["tmpfs=/" + "a/".repeat(2048) + "a"], "TOO_LONG", /^tmpfs=\/a\/a.*: longer than PATH_MAX$/],
    [
      "too many tmpfs=",
      Array.from({ length: 17 }, (_, i) => `tmpfs=/t${i}`),
      "TOO_MANY",
      /^tmpfs=\/t16: too many tmpfs= and disk= options \(at most 16\)$/,
    ],
    [
      "tmpfs= twice",
      ["tmpfs=/dev/shm", "size=1G", "tmpfs=/dev/shm"],
      "DUPLICATE",
      /^tmpfs=\/dev\/shm: mount point given twice$/,
    ],
    [
      "a path as mount= and tmpfs=",
      ["mount=/tmp", "tmpfs=/tmp"],
      "DUPLICATE",
      /^tmpfs=\/tmp: given both as mount= and tmpfs=$/,
    ],
    [
      "a path as tmpfs= and mount=",
      ["tmpfs=/tmp", "mount=/tmp"],
      "DUPLICATE",
      /^tmpfs=\/tmp: given both as mount= and tmpfs=$/,
    ],
    [
      "tmpfs= under mount=",
      ["mount=/tmp", "tmpfs=/tmp/shm"],
      "NESTED",
      /^tmpfs=\/tmp\/shm: lies under mount=\/tmp; nested mount points are not supported$/,
    ],
    [
      "mount= under tmpfs=",
      ["tmpfs=/scratch", "mount=/scratch/x"],
      "NESTED",
      /^mount=\/scratch\/x: lies under tmpfs=\/scratch;/,
    ],
    ["tmpfs= under tmpfs=", ["tmpfs=/a", "tmpfs=/a/b"], "NESTED", /^tmpfs=\/a\/b: lies under tmpfs=\/a;/],
    ["tmpfs= over tmpfs=", ["tmpfs=/a/b", "tmpfs=/a"], "NESTED", /^tmpfs=\/a\/b: lies under tmpfs=\/a;/],
    ["empty tmpdir=", [...T, "tmpdir="], "EMPTY_VALUE", /^tmpdir=: empty value$/],
    ["relative tmpdir=", [...T, "tmpdir=tmp"], "NOT_ABSOLUTE", /^tmpdir=tmp: not an absolute path$/],
    ["tmpdir= with a trailing slash", [...T, "tmpdir=/dev/shm/"], "BAD_PATH", /^tmpdir=\/dev\/shm\/: trailing "\/"$/],
    [
      "tmpdir= twice",
      [...T, "tmpdir=/dev/shm", "tmpdir=/dev/shm/x"],
      "DUPLICATE",
      /^tmpdir=\/dev\/shm\/x: tmpdir given twice \(first tmpdir=\/dev\/shm\)$/,
    ],
    [
      "tmpdir= outside every mount",
      [...T, "mount=/tmp", "tmpdir=/var/tmp"],
      "BAD_VALUE",
      /^tmpdir=\/var\/tmp: not inside any mount=, tmpfs= or disk= path$/,
    ],
    [
      "tmpdir= beside a mount, not under it",
      ["mount=/tmp", "tmpdir=/tmpx"],
      "BAD_VALUE",
      /^tmpdir=\/tmpx: not inside any mount=, tmpfs= or disk= path$/,
    ],
    ["tmpdir= above a mount", ["tmpfs=/dev/shm", "tmpdir=/dev"], "BAD_VALUE", /^tmpdir=\/dev: not inside/],
    ["tmpdir= alone", ["tmpdir=/tmp"], "NO_MOUNTS", /^no mount=, tmpfs= or disk= option: nothing to make private$/],
    [
      "an unknown option, listing them all",
      ["tmpfs=/a", "tmpfss=/b"],
      "UNKNOWN_OPTION",
      /^tmpfss=\/b: unknown option \(expected base=, mount=, tmpfs=, disk=, size=, max=, request, mode=, nr_inodes=, noexec, share=, tmpdir=, tmpdir_var=, runtime=, runtime_size=, cleanup=, keep=, keep_max= or optout=\)$/,
    ],
    ["NOEXEC", [...T, "NOEXEC"], "UNKNOWN_OPTION", /^NOEXEC: unknown option/],
    ["a base only", ["base=/tmp/x"], "NO_MOUNTS", /^no mount=, tmpfs= or disk= option: nothing to make private$/],
  ];
  itRefuses(cases);

  it("accepts the limits: 16 tmpfs= with sizes, modes and noexec, 32 mount= and 16 bases, every slot within MAX_SLOTS", () => {
    const args = [
      ...Array.from({ length: 16 }, (_, i) => [`base=/b${i}/x`, `mount=/m${i}a`, `mount=/m${i}b`]).flat(),
      ...Array.from({ length: 16 }, (_, i) => [`tmpfs=/t${i}`, `size=${i + 1}G`, "mode=0755", "noexec"]).flat(),
      "tmpdir=/t3",
    ];
    const plan = new Core().plan("STEP", args, { ...job, memMb: 1 });
    assert.equal(plan.filter((s) => s.op === "mount_tmpfs").length, 16);
    assert.ok(Math.max(...plan.map((s) => s.slot)) < MAX_SLOTS, "a slot past MAX_SLOTS");
    assert.deepStrictEqual(
      plan.filter((s) => s.op === "mount_tmpfs").map((s) => s.sizeMb),
      Array.from({ length: 16 }, (_, i) => (i + 1) * 1024),
    );
  });

  it("accepts mode= of 3 and 4 digits up to 7777, and size=/mode=/noexec in any order after their tmpfs=", () => {
    for (const [mode, want] of [
      ["000", 0],
      ["755", 0o755],
      ["0700", 0o700],
      ["7777", 0o7777],
      ["1777", 0o1777],
    ] as const) {
      const plan = new Core().plan("STEP", ["tmpfs=/a", `mode=${mode}`], { ...job, memMb: 10 });
      assert.equal(plan.find((s) => s.op === "mount_tmpfs")?.mode, want, mode);
    }
    const plan = new Core().plan("STEP", ["tmpfs=/a", "noexec", "mode=0750", "size=3M", "tmpfs=/b", "size=5M"], job);
    assert.deepStrictEqual(
      plan.filter((s) => s.op === "mount_tmpfs").map((s) => [s.path, s.sizeMb, s.mode, s.flags]),
      [
        ["/a", 3, 0o750, F_NOEXEC],
        ["/b", 5, 0o1777, 0],
      ],
    );
  });
});

describe("core: share= (a host directory users share, kept visible in the job)", () => {
  const X = [...SEED, "share=/tmp/.X11-unix"];

  it("opens the host's directory after unshare, before any bind; binds it after every bind and tmpfs, before ns_ready", () => {
    const plan = new Core().plan("STEP", [...X, "tmpfs=/dev/shm", "size=1G", "share=/dev/shm/.s"], job);
    const ops = plan.map((s) => `${s.op} ${s.path}`);
    const at = (o: string): number => ops.indexOf(o);
    assert.ok(at("open_shared /tmp/.X11-unix") > at("make_slave "), ops.join("\n"));
    assert.ok(
      at("open_shared /tmp/.X11-unix") < at("bind /tmp/slurm.100.0/var_tmp"),
      "opened while /tmp is the host's",
    );
    assert.ok(at("open_shared /dev/shm/.s") < at("bind /tmp/slurm.100.0/var_tmp"));
    assert.ok(at("bind_shared /tmp/.X11-unix") > at("mount_tmpfs /dev/shm"), "after every private mount");
    assert.ok(at("bind_shared /dev/shm/.s") > at("mount_tmpfs /dev/shm"));
    assert.ok(
      ops.map((o) => o.startsWith("bind_shared")).lastIndexOf(true) < at("ns_ready /tmp/slurm.ns/job.100"),
      "the holder serves the namespace with its shares",
    );
    assert.ok(ops.slice(at("ns_ready /tmp/slurm.ns/job.100") + 1).every((o) => o.startsWith("set_env")));
    const open = plan.find((s) => s.op === "open_shared" && s.path === "/tmp/.X11-unix");
    const bind = plan.find((s) => s.op === "bind_shared" && s.path === "/tmp/.X11-unix");
    assert.ok(open && bind);
    assert.equal(bind.slot, open.slot, "the bind takes the descriptor the open filled");
    assert.deepStrictEqual([bind.uid, bind.gid, bind.str], [1000, 1000, "/tmp/.X11-unix"]);
    // Not in the phases that make no namespace, nor in the extern step's
    // own records beyond what its holder carries out.
    for (const phase of ["EPILOG", "DRAIN", "SESSION", "CHECK"] as const) {
      assert.ok(!new Core().plan(phase, X, job).some((s) => s.op.endsWith("_shared")), phase);
    }
    assert.equal(new Core().plan("EXTERN", X, job).filter((s) => s.op === "bind_shared").length, 1, "the holder's");
  });

  it("runs both records in order through the host, and a host that shares nothing leaves the job running", () => {
    const rec = new Recorder();
    assert.equal(new Core().run("STEP", X, job, rec), undefined);
    const shared = rec.lines.filter((l) => l.includes("_shared"));
    assert.deepStrictEqual(shared, [
      `open_shared\t${shared[0]?.split("\t")[1]}\t/tmp/.X11-unix`,
      `bind_shared\t${shared[0]?.split("\t")[1]}\t/tmp/.X11-unix\t1000\t1000\t0`,
    ]);
  });

  it("names a failed shared bind and stops there (the job never runs half set up)", () => {
    const rec = new Recorder();
    rec.bind_shared = () => -20;
    const f = new Core().run("STEP", X, job, rec);
    assert.deepStrictEqual([f?.code, f?.message, f?.errno], ["HOST", 'bind shared directory "/tmp/.X11-unix"', 20]);
    assert.ok(!rec.lines.includes("ns_ready"));
  });

  const cases: [string, string[], string, RegExp][] = [
    [
      "share= outside every mount",
      [...SEED, "share=/run/.X11-unix"],
      "BAD_VALUE",
      /^share=\/run\/\.X11-unix: not directly inside a mount=, tmpfs= or disk= path/,
    ],
    ["share= two levels down", [...SEED, "share=/tmp/a/b"], "BAD_VALUE", /^share=\/tmp\/a\/b: not directly inside/],
    ["share= of a mount point itself", [...SEED, "share=/tmp"], "BAD_VALUE", /^share=\/tmp: not directly inside/],
    ["share= twice", [...X, "share=/tmp/.X11-unix"], "DUPLICATE", /^share=\/tmp\/\.X11-unix: given twice$/],
    ["share= relative", [...SEED, "share=.X11-unix"], "NOT_ABSOLUTE", /^share=\.X11-unix: not an absolute path$/],
    ["share= with ..", [...SEED, "share=/tmp/.."], "BAD_PATH", /^share=\/tmp\/\.\.: "\." or "\.\." component$/],
    ["empty share=", [...SEED, "share="], "EMPTY_VALUE", /^share=: empty value$/],
    [
      "tmpdir= inside a share=",
      [...X, "tmpdir=/tmp/.X11-unix/x"],
      "BAD_VALUE",
      /^tmpdir=\/tmp\/\.X11-unix\/x: inside share=\/tmp\/\.X11-unix, which the host's users share$/,
    ],
    [
      "a 17th share=",
      [...SEED, ...Array.from({ length: 17 }, (_, i) => `share=/tmp/.s${i}`)],
      "TOO_MANY",
      /^share=\/tmp\/\.s16: too many share= options \(at most 16\)$/,
    ],
  ];
  itRefuses(cases);

  it("accepts 16 share= with every option at its limit, every slot within MAX_SLOTS", () => {
    const args = [
      ...Array.from({ length: 16 }, (_, i) => [`base=/b${i}/x`, `mount=/m${i}a`, `mount=/m${i}b`]).flat(),
      ...Array.from({ length: 16 }, (_, i) => [`tmpfs=/t${i}`, `size=${i + 1}G`]).flat(),
      ...Array.from({ length: 16 }, (_, i) => `share=${i % 2 ? `/t${i}` : `/m${i}a`}/.X11-unix`),
    ];
    const plan = new Core().plan("SCRIPT", args, { ...job, memMb: 1 });
    assert.equal(plan.filter((s) => s.op === "bind_shared").length, 16);
    assert.equal(plan.filter((s) => s.op === "set_env").length, 32, "each mount='s host path");
    assert.ok(Math.max(...plan.map((s) => s.slot)) < MAX_SLOTS, "a slot past MAX_SLOTS");
  });
});

describe("core: local disk per job (disk=, size=, max=)", () => {
  const coreJob: Job = { ...job, cores: 2, nodeCores: 8 };
  const DISK = [...SEED, "disk=/scratch", "size=50%", "max=20G", "disk=/data", "size=2G", "noexec", "nr_inodes=64k"];

  it("makes the images' directory with the job's, then measures its filesystem and mounts each disk after the binds, in option order", () => {
    const plan = new Core().plan("STEP", DISK, coreJob);
    const dir = plan.find((s) => s.op === "mkdir_at" && s.path === "/tmp/slurm.disk");
    assert.ok(dir, "the images' directory");
    assert.deepStrictEqual([dir.mode, dir.uid, dir.gid, dir.flags], [0o700, 0, 0, F_ASIDE]);
    assert.ok(plan.indexOf(dir) < plan.findIndex((s) => s.op === "unshare_mount_ns"), "made in the host's namespace");
    const disks = plan.filter((s) => s.op === "measure_disk" || s.op === "mount_disk");
    assert.deepStrictEqual(
      disks.map((s) => [s.op, s.arg, s.path, s.str, s.sizeMb, s.maxMb, s.inodes, s.mode, s.uid, s.gid, s.flags]),
      [
        ["measure_disk", dir.slot, "/tmp/slurm.disk", "/tmp/slurm.disk", 0, 0, 0, 0, 0, 0, 0],
        ["mount_disk", dir.slot, "/scratch", "/sbin/mke2fs", 50, 20480, 0, 0o1777, 1000, 1000, F_SHARE],
        ["mount_disk", dir.slot, "/data", "/sbin/mke2fs", 2048, 0, 65536, 0o1777, 1000, 1000, F_NOEXEC],
      ],
    );
    const lastBind = plan.map((s) => s.op).lastIndexOf("bind");
    const ready = plan.findIndex((s) => s.op === "ns_ready");
    for (const s of disks)
      assert.ok(plan.indexOf(s) > lastBind && plan.indexOf(s) < ready, `${s.op} inside the namespace`);
  });

  it("a share: percent of the job's cores' share of the measured filesystem, capped by max=, at least 64 MiB", () => {
    const core = new Core();
    const plan = core.plan("STEP", DISK, coreJob);
    const share = plan.find((s) => s.op === "mount_disk" && s.path === "/scratch");
    assert.ok(share);
    // 2 of 8 cores of 100,000 MiB: 25,000, half of it 12,500.
    assert.equal(core.diskSizeMb(share, 100_000), 12_500);
    assert.equal(core.diskSizeMb(share, 1_000_000), 20_480, "max=20G");
    assert.equal(core.diskSizeMb(share, 100), 64, "at least 64 MiB");
    // A job with more cores than the node counts gets the whole share.
    core.plan("STEP", DISK, { ...job, cores: 16, nodeCores: 8 });
    assert.equal(core.diskSizeMb(share, 10_000), 5_000);
    const fixed = plan.find((s) => s.op === "mount_disk" && s.path === "/data");
    assert.ok(fixed);
    assert.equal(core.diskSizeMb(fixed, 100), 2048, "an absolute size is as given");
  });

  it("CHECK looks for mke2fs once, naming the first disk=; INIT checks each disk's room unless the job's namespace is held", () => {
    const check = new Core().plan("CHECK", DISK, job);
    assert.deepStrictEqual(
      check.map((s) => [s.op, s.str, s.path]),
      [["need_program", "/sbin/mke2fs", "/scratch"]],
    );
    assert.deepStrictEqual(new Core().plan("CHECK", SEED, job), [], "nothing without a disk=");
    const init = new Core().plan("INIT", DISK, coreJob);
    assert.deepStrictEqual(
      init.map((s) => [s.op, s.path, s.sizeMb, s.flags]),
      [
        ["need_program", "/scratch", 0, 0],
        ["open_trusted", "/tmp", 0, F_CREATE],
        ["mkdir_at", "/tmp/slurm.ns", 0, F_ASIDE],
        ["ns_held", "/tmp/slurm.ns/job.100", 0, 0],
        ["mkdir_at", "/tmp/slurm.disk", 0, F_ASIDE],
        ["measure_disk", "/tmp/slurm.disk", 0, 0],
        ["disk_fits", "/scratch", 50, F_SHARE],
        ["disk_fits", "/data", 2048, 0],
      ],
    );
    assert.deepStrictEqual(new Core().plan("INIT", SEED, job), [], "nothing without a disk=");
  });

  it("refuses a share when the job's cores are unknown, naming the size and the disk", () => {
    assert.throws(
      () => new Core().plan("STEP", [...SEED, "disk=/scratch"], job),
      /^.*size=90%: the job's and the node's cores are unknown \(the default size of disk=\/scratch\)$/,
    );
  });

  it("request: the job's own --tmp is the size when it gave one (capped by max=, at least 64 MiB), else the rule; INIT asks the controller once, after the holder is looked for", () => {
    const args = [...SEED, "disk=/scratch", "size=50%", "max=20G", "request", "disk=/data", "size=2G"];
    const core = new Core();
    const plan = core.plan("STEP", args, { ...coreJob, requestMb: 3000 });
    const disks = plan.filter((s) => s.op === "mount_disk");
    assert.deepStrictEqual(
      disks.map((s) => [s.path, s.flags]),
      [
        ["/scratch", F_SHARE | F_REQUEST],
        ["/data", 0],
      ],
    );
    const [scratch, data] = disks;
    assert.ok(scratch && data);
    assert.equal(core.diskSizeMb(scratch, 100_000), 3000, "the job's --tmp");
    assert.equal(core.diskSizeMb(data, 100_000), 2048, "a disk= without request keeps its size");
    core.plan("STEP", args, { ...coreJob, requestMb: 50_000 });
    assert.equal(core.diskSizeMb(scratch, 100_000), 20_480, "capped by max=");
    core.plan("STEP", args, { ...coreJob, requestMb: 10 });
    assert.equal(core.diskSizeMb(scratch, 100_000), 64, "at least 64 MiB");
    core.plan("STEP", args, coreJob);
    assert.equal(core.diskSizeMb(scratch, 100_000), 12_500, "no --tmp: the rule");
    const init = new Core().plan("INIT", args, coreJob).map((s) => s.op);
    assert.deepStrictEqual(init.slice(init.indexOf("ns_held")), [
      "ns_held",
      "mkdir_at",
      "job_request",
      "measure_disk",
      "disk_fits",
      "disk_fits",
    ]);
  });

  const D = ["disk=/scratch"];
  itRefuses([
    [
      "request on a tmpfs=",
      ["tmpfs=/a", "request"],
      "BAD_VALUE",
      /^request: only a disk= takes it \(a job's --tmp is disk\), not tmpfs=\/a$/,
    ],
    ["request with a value", [...D, "request=yes"], "BAD_VALUE", /^request=yes: request takes no value/],
    ["request twice", [...D, "request", "request"], "DUPLICATE", /^request: given twice for disk=\/scratch$/],
    ["max= as a percentage", [...D, "max=50%"], "BAD_VALUE", /^max=50%: expected a size such as 100G or 512M$/],
    [
      "max= below an absolute size=",
      [...D, "size=20G", "max=10G"],
      "BAD_VALUE",
      /^size=20G: more than max=10G for disk=\/scratch$/,
    ],
    [
      "an absolute size= above max=",
      [...D, "max=10G", "size=20G"],
      "BAD_VALUE",
      /^size=20G: more than max=10G for disk=\/scratch$/,
    ],
    ["max= twice", [...D, "max=1G", "max=2G"], "DUPLICATE", /^max=2G: given twice for disk=\/scratch$/],
    ["max= before any disk=", ["mount=/tmp", "max=1G"], "BAD_VALUE", /^max=1G: must follow a tmpfs= or disk= option$/],
    ["a disk= also a mount=", ["mount=/tmp", "disk=/tmp"], "DUPLICATE", /^disk=\/tmp: given both as mount= and disk=$/],
    ["a disk= under a mount=", ["mount=/tmp", "disk=/tmp/x"], "NESTED", /^disk=\/tmp\/x: lies under mount=\/tmp/],
    ["a disk= and a tmpfs= on one path", ["disk=/a", "tmpfs=/a"], "DUPLICATE", /^tmpfs=\/a: mount point given twice$/],
    ["relative disk=", ["disk=scratch"], "NOT_ABSOLUTE", /^disk=scratch: not an absolute path$/],
    [
      "17 tmpfs= and disk= together",
      [...Array.from({ length: 9 }, (_, i) => `disk=/d${i}`), ...Array.from({ length: 8 }, (_, i) => `tmpfs=/t${i}`)],
      "TOO_MANY",
      /^tmpfs=\/t7: too many tmpfs= and disk= options \(at most 16\)$/,
    ],
  ]);
});
