// The job's environment (#26): tmpdir_var= names set to tmpdir='s path only
// where the job's environment has none, and runtime='s XDG_RUNTIME_DIR: a
// tmpfs of the job's own on the directory, "<uid>" 0700 in it.
import { strict as assert } from "node:assert";
import { Core, type Job, type PlanStep } from "../../host/core.js";
import { CoreError } from "../../host/errors.js";
import { F_IF_UNSET, MAX_SLOTS } from "../../host/abi.js";
import { Recorder } from "../../host/recorder.js";

const job: Job = { jobid: 100, restart: 0, uid: 1000, gid: 1001 };
const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const VARS = [...SEED, "tmpdir=/tmp", "tmpdir_var=SLURM_TMPDIR", "tmpdir_var=TMP", "tmpdir_var=JOB_TMPDIR"];
const RUNTIME = [...SEED, "runtime=/run/user"];

const env = (plan: PlanStep[]) => plan.filter((s) => s.op === "set_env").map((s) => [s.str, s.path, s.flags]);

function refused(args: string[]): CoreError {
  try {
    new Core().check(args);
  } catch (e) {
    assert.ok(e instanceof CoreError, String(e));
    return e;
  }
  assert.fail(`accepted: ${args.join(" ")}`);
}

describe("core: tmpdir_var= (more names for tmpdir='s path, only if unset)", () => {
  it("sets TMPDIR (overwriting) then each name in order, only if unset, in every step and session", () => {
    const want = [
      ["TMPDIR", "/tmp", 0],
      ["SLURM_TMPDIR", "/tmp", F_IF_UNSET],
      ["TMP", "/tmp", F_IF_UNSET],
      ["JOB_TMPDIR", "/tmp", F_IF_UNSET],
    ];
    for (const phase of ["STEP", "SESSION"] as const)
      assert.deepStrictEqual(env(new Core().plan(phase, VARS, job)), want, phase);
    // The script's host paths come first, then the same.
    assert.deepStrictEqual(env(new Core().plan("SCRIPT", VARS, job)).slice(-4), want);
    for (const phase of ["CHECK", "EXTERN", "EPILOG", "DRAIN", "INIT"] as const)
      assert.deepStrictEqual(env(new Core().plan(phase, VARS, job)), [], phase);
  });

  it("passes the flag to the host import (the trace has it)", () => {
    const rec = new Recorder();
    assert.equal(new Core().run("STEP", VARS, job, rec), undefined);
    assert.deepStrictEqual(rec.lines.slice(-4), [
      "set_env\tTMPDIR\t/tmp\t0",
      `set_env\tSLURM_TMPDIR\t/tmp\t${F_IF_UNSET}`,
      `set_env\tTMP\t/tmp\t${F_IF_UNSET}`,
      `set_env\tJOB_TMPDIR\t/tmp\t${F_IF_UNSET}`,
    ]);
  });

  it("is accepted in any order with tmpdir=, and 8 names at most", () => {
    const names = ["A", "B_1", "_c", "SLURM_TMPDIR", "TEMP", "TMP", "JOB_TMPDIR", "x".repeat(64)];
    new Core().check([...SEED, ...names.map((n) => `tmpdir_var=${n}`), "tmpdir=/var/tmp"]);
    const e = refused([...SEED, "tmpdir=/tmp", ...names.map((n) => `tmpdir_var=${n}`), "tmpdir_var=NINTH"]);
    assert.equal(e.code, "TOO_MANY");
    assert.match(e.message, /^tmpdir_var=NINTH: too many tmpdir_var= options \(at most 8\)$/);
  });

  const cases: [string, string, RegExp][] = [
    ["tmpdir_var=", "EMPTY_VALUE", /^tmpdir_var=: empty value$/],
    ["tmpdir_var=1ABC", "BAD_CHAR", /^tmpdir_var=1ABC: not a variable name/],
    ["tmpdir_var=MY-TMP", "BAD_CHAR", /^tmpdir_var=MY-TMP: not a variable name/],
    ["tmpdir_var=A=B", "BAD_CHAR", /^tmpdir_var=A=B: not a variable name/],
    ["tmpdir_var=É", "BAD_CHAR", /not a variable name/],
    [`tmpdir_var=${"X".repeat(65)}`, "TOO_LONG", /: a variable name is at most 64 characters$/],
    ["tmpdir_var=TMPDIR", "BAD_VALUE", /^tmpdir_var=TMPDIR: TMPDIR is tmpdir='s own variable/],
    ["tmpdir_var=XDG_RUNTIME_DIR", "BAD_VALUE", /runtime='s variable/],
    ["tmpdir_var=PRIVATE_TMPDIR_HOST_TMP", "BAD_VALUE", /PRIVATE_TMPDIR_HOST_ names are the plugin's own/],
  ];
  for (const [arg, code, msg] of cases) {
    it(`refuses ${arg.slice(0, 40)} with ${code}, naming the option`, () => {
      const e = refused([...SEED, "tmpdir=/tmp", arg]);
      assert.equal(e.code, code);
      assert.match(e.message, msg);
    });
  }

  it("refuses a name given twice, and names without tmpdir=", () => {
    const twice = refused([...SEED, "tmpdir=/tmp", "tmpdir_var=TMP", "tmpdir_var=SLURM_TMPDIR", "tmpdir_var=TMP"]);
    assert.deepStrictEqual([twice.code, twice.message], ["DUPLICATE", "tmpdir_var=TMP: given twice"]);
    const alone = refused([...SEED, "tmpdir_var=SLURM_TMPDIR"]);
    assert.deepStrictEqual(
      [alone.code, alone.message],
      ["BAD_VALUE", "tmpdir_var=SLURM_TMPDIR: needs a tmpdir= (the path it is set to)"],
    );
  });
});

describe("core: runtime= (each job its own XDG_RUNTIME_DIR)", () => {
  it("opens the mount point with the others, mounts a tmpfs after the binds, makes <uid> 0700 in its root, sets XDG_RUNTIME_DIR", () => {
    const plan = new Core().plan("STEP", RUNTIME, job);
    const ops = plan.map((s) => s.op);
    const target = plan.findIndex((s) => s.op === "open_target" && s.path === "/run/user");
    assert.ok(target >= 0 && target < ops.indexOf("bind"), "opened before the first bind: a missing one fails first");
    const mount = plan.findIndex((s) => s.op === "mount_tmpfs");
    assert.ok(mount > ops.lastIndexOf("bind"));
    const [m, root, dir] = plan.slice(mount, mount + 3);
    assert.deepStrictEqual(
      [m?.slot, m?.path, m?.sizeMb, m?.inodes, m?.mode, m?.uid, m?.gid, m?.flags],
      [plan[target]?.slot, "/run/user", 64, 16384, 0o755, 0, 0, 0],
    );
    assert.deepStrictEqual([root?.op, root?.path], ["open_target", "/run/user"]);
    assert.deepStrictEqual(
      [dir?.op, dir?.arg, dir?.str, dir?.path, dir?.mode, dir?.uid, dir?.gid, dir?.flags],
      ["mkdir_at", root?.slot, "1000", "/run/user/1000", 0o700, 1000, 1001, 0],
    );
    assert.equal(mount + 3, ops.indexOf("ns_ready"), "by the namespace's maker only");
    assert.deepStrictEqual(env(plan), [["XDG_RUNTIME_DIR", "/run/user/1000", 0]]);
    assert.equal(ops[ops.length - 1], "set_env");
  });

  it("sizes it by runtime_size=, and is planned by the extern step's holder without any variable", () => {
    const plan = new Core().plan("STEP", [...RUNTIME, "runtime_size=16M"], job);
    assert.deepStrictEqual(
      plan.filter((s) => s.op === "mount_tmpfs").map((s) => [s.sizeMb, s.inodes]),
      [[16, 4096]],
    );
    const ext = new Core().plan("EXTERN", RUNTIME, job);
    assert.equal(ext.filter((s) => s.op === "mount_tmpfs").length, 1);
    assert.deepStrictEqual(env(ext), []);
  });

  it("a session and a step that joined set XDG_RUNTIME_DIR (the session user's), mounting nothing", () => {
    class Joins extends Recorder {
      override ns_enter(dir: number, name: string, path: string, flags: number): number {
        super.ns_enter(dir, name, path, flags);
        return 1;
      }
    }
    for (const phase of ["STEP", "SCRIPT", "SESSION"] as const) {
      const rec = new Joins();
      assert.equal(
        new Core().run(phase, [...RUNTIME, "tmpdir=/tmp", "tmpdir_var=SLURM_TMPDIR"], { ...job, uid: 1234 }, rec),
        undefined,
      );
      assert.ok(
        !rec.lines.some((l) => l.startsWith("mount_tmpfs") || (l.startsWith("mkdir_at") && l.includes("/run/user"))),
        phase,
      );
      assert.deepStrictEqual(rec.lines.slice(-3), [
        "set_env\tTMPDIR\t/tmp\t0",
        `set_env\tSLURM_TMPDIR\t/tmp\t${F_IF_UNSET}`,
        "set_env\tXDG_RUNTIME_DIR\t/run/user/1234\t0",
      ]);
    }
  });

  it("works with tmpfs= only, and a plan at every option's limit still fits", () => {
    new Core().check(["tmpfs=/tmp", "runtime=/run/user", "tmpdir=/tmp"]);
    const args = [
      ...Array.from({ length: 16 }, (_, g) => `base=/b${g}`).flatMap((b, g) => [b, `mount=/m${g}a`, `mount=/m${g}b`]),
      ...Array.from({ length: 16 }, (_, t) => `tmpfs=/t${t}`),
      "tmpdir=/t0",
      ...Array.from({ length: 8 }, (_, k) => `tmpdir_var=V${k}`),
      "runtime=/run/user",
    ];
    const plan = new Core().plan("SCRIPT", args, { ...job, memMb: 1024 });
    assert.equal(env(plan).length, 32 + 1 + 8 + 1);
    assert.ok(Math.max(...plan.map((s) => s.slot)) < MAX_SLOTS);
  });

  const cases: [string[], string, RegExp][] = [
    [["runtime=run/user"], "NOT_ABSOLUTE", /^runtime=run\/user: not an absolute path$/],
    [["runtime=/run/user/"], "BAD_PATH", /^runtime=\/run\/user\/: trailing "\/"$/],
    [
      ["runtime=/run/user", "runtime=/run/u"],
      "DUPLICATE",
      /^runtime=\/run\/u: runtime given twice \(first runtime=\/run\/user\)$/,
    ],
    [["runtime_size=16M"], "BAD_VALUE", /^runtime_size=16M: needs a runtime= \(the tmpfs it sizes\)$/],
    [["runtime=/run/user", "runtime_size=10%"], "BAD_VALUE", /^runtime_size=10%: expected a size such as 64M or 1G$/],
    [["runtime=/run/user", "runtime_size=0M"], "BAD_VALUE", /must be more than 0/],
    [
      ["runtime=/run/user", "runtime_size=1M", "runtime_size=2M"],
      "DUPLICATE",
      /^runtime_size=2M: runtime_size given twice/,
    ],
    [["runtime=/tmp/run"], "NESTED", /^mount=\/tmp and runtime=\/tmp\/run: the same path, or one under the other/],
    [["runtime=/tmp"], "NESTED", /^mount=\/tmp and runtime=\/tmp:/],
    [["runtime=/run", "tmpfs=/run/shm"], "NESTED", /^tmpfs=\/run\/shm and runtime=\/run:/],
    [["runtime=/var"], "NESTED", /^mount=\/var\/tmp and runtime=\/var:/],
  ];
  for (const [args, code, msg] of cases) {
    it(`refuses ${args.join(" ")} with ${code}, naming the option`, () => {
      const e = refused([...SEED, ...args]);
      assert.equal(e.code, code);
      assert.match(e.message, msg);
    });
  }
});
