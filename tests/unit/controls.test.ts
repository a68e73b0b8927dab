// The core's side of users' and admins' controls (#26): keep=, keep_max=
// and optout= in plugstack.conf, a job's --keep-tmpdir and
// --private-tmpdir parsed by the core, refused where the line does not
// offer them, and the records they plan.
import { strict as assert } from "node:assert";
import { Core, type Job, type PlanStep } from "../../host/core.js";
import { CoreError } from "../../host/errors.js";
import { F_ASIDE, F_SHARE, U_KEEP_ALWAYS, U_KEEP_FAILED, U_OFF } from "../../host/abi.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const KEEP = [...SEED, "keep=12h"];
const job: Job = { jobid: 100, restart: 0, uid: 1000, gid: 1000 };

function refused(f: () => unknown, code: string, msg: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof CoreError && e.code === code && msg.test(e.message));
}

function ops(p: PlanStep[]): string[] {
  return p.map((s) => s.op);
}

describe("core: keep=, keep_max= and optout= (plugstack.conf)", () => {
  const core = new Core();
  for (const [args, msg] of [
    [["keep=7"], /^keep=7: expected a time such as 30m, 12h or 7d/],
    [["keep=0s"], /^keep=0s: must be from 1s to 365d$/],
    [["keep=366d"], /^keep=366d: must be from 1s to 365d$/],
    [["keep=1w"], /^keep=1w: expected a time/],
    [["keep=1h", "keep=2h"], /^keep=2h: keep= given twice \(first keep=1h\)$/],
    [["keep_max=1G"], /^keep_max= without keep=/],
    [["keep=1h", "keep_max=0%"], /^keep_max=0%: a percentage must be from 1 to 100$/],
    [["keep=1h", "cleanup=no"], /^keep=1h: with cleanup=no the job directories stay anyway/],
    [["optout=maybe"], /^optout=maybe: expected optout=yes or optout=no$/],
    [["optout=yes", "optout=no"], /^optout=no: optout= given twice$/],
  ] as const) {
    it(`refuses ${args.join(" ")}, naming the option`, () => {
      refused(() => core.check([...SEED, ...args]), /twice/.test(msg.source) ? "DUPLICATE" : "BAD_VALUE", msg);
    });
  }
  it("takes s, m, h and d in any case, up to 365 days", () => {
    for (const v of ["1s", "30M", "12h", "365d"]) core.check([...SEED, `keep=${v}`, "keep_max=10G", "optout=yes"]);
  });
});

describe("core: a job's own options (--keep-tmpdir, --private-tmpdir)", () => {
  const core = new Core();
  it("parses the values: none or failed, always, off, on; anything else names the option", () => {
    assert.equal(core.userOption("keep", null), U_KEEP_FAILED);
    assert.equal(core.userOption("keep", "failed"), U_KEEP_FAILED);
    assert.equal(core.userOption("keep", "always"), U_KEEP_ALWAYS);
    assert.equal(core.userOption("private", "off"), U_OFF);
    assert.equal(core.userOption("private", "on"), 0);
    refused(
      () => core.userOption("keep", "sometimes"),
      "BAD_VALUE",
      /^--keep-tmpdir=sometimes: expected failed or always/,
    );
    refused(() => core.userOption("private", null), "BAD_VALUE", /^--private-tmpdir: expected --private-tmpdir=off/);
    refused(() => core.userOption("private", "\u0001x"), "BAD_VALUE", /^--private-tmpdir=/);
  });
  it("refuses them in every phase a job asks in where plugstack.conf does not offer them", () => {
    for (const phase of ["CHECK", "STEP", "SCRIPT"] as const) {
      refused(
        () => core.plan(phase, SEED, { ...job, userOpts: U_KEEP_FAILED }),
        "BAD_VALUE",
        /^--keep-tmpdir: this cluster keeps no job's directories \(plugstack\.conf has no keep=\)$/,
      );
      refused(
        () => core.plan(phase, SEED, { ...job, userOpts: U_OFF }),
        "BAD_VALUE",
        /^--private-tmpdir=off: not allowed on this cluster \(plugstack\.conf has no optout=yes\); every job gets a private \/var\/tmp$/,
      );
    }
  });
  it("never refuses at a job's end: what it may not ask is dropped, and its directories go as ever", () => {
    const plain = core.plan("EPILOG", SEED, job);
    assert.deepEqual(core.plan("EPILOG", SEED, { ...job, userOpts: U_KEEP_ALWAYS | U_OFF }), plain);
    assert.ok(ops(plain).includes("remove_at"));
  });
  it("--private-tmpdir=off with optout=yes: the step plans nothing (the node's own paths); the extern step as ever", () => {
    const line = [...SEED, "optout=yes"];
    assert.deepEqual(core.plan("STEP", line, { ...job, userOpts: U_OFF }), []);
    assert.deepEqual(core.plan("SCRIPT", line, { ...job, userOpts: U_OFF }), []);
    assert.ok(ops(core.plan("EXTERN", line, { ...job, userOpts: U_OFF })).includes("ns_enter"));
    assert.ok(ops(core.plan("STEP", line, job)).includes("bind"));
  });
});

describe("core: keeping a job's directories (the plan)", () => {
  const core = new Core();
  it("a step makes the kept place (root's 0755, a squatter moved aside), binds it into the job where a mount= covers it, and leaves the job's request after ns_ready", () => {
    const p = core.plan("STEP", KEEP, { ...job, userOpts: U_KEEP_ALWAYS });
    const kept = p.find((s) => s.op === "mkdir_at" && s.path === "/tmp/slurm.kept");
    assert.ok(kept);
    assert.deepEqual([kept.mode, kept.uid, kept.gid, kept.flags], [0o755, 0, 0, F_ASIDE]);
    const open = p.findIndex((s) => s.op === "open_shared" && s.path === "/tmp/slurm.kept");
    const bind = p.findIndex((s) => s.op === "bind_shared" && s.path === "/tmp/slurm.kept");
    assert.ok(open > 0 && bind > open && bind > p.findIndex((s) => s.op === "bind"));
    const ask = p.at(-1)!;
    assert.deepEqual([ask.op, ask.str, ask.mode], ["keep_ask", "keep.100", U_KEEP_ALWAYS]);
    assert.equal(p.at(-2)?.op, "ns_ready");
    // No request, no record; a base outside every mount=: not bound.
    assert.ok(!ops(core.plan("STEP", KEEP, job)).includes("keep_ask"));
    const elsewhere = core.plan("STEP", ["base=/local/slurm", "mount=/tmp", "keep=1h"], job);
    assert.ok(ops(elsewhere).includes("mkdir_at") && !ops(elsewhere).includes("open_shared"));
  });
  it("the end: the holder released, the request read, the outcome asked, each base's directories kept before their removal", () => {
    const p = core.plan("EPILOG", KEEP, { ...job, userOpts: U_KEEP_FAILED });
    assert.deepEqual(ops(p), [
      "open_trusted",
      "mkdir_at",
      "ns_release",
      "keep_asked",
      "job_failed",
      "mkdir_at",
      "mkdir_at",
      "keep_at",
      "remove_at",
    ]);
    const asked = p[3]!;
    assert.deepEqual([asked.str, asked.mode], ["keep.100", U_KEEP_FAILED]);
    const keep = p[7]!;
    assert.deepEqual([keep.str, keep.path, keep.mode, keep.uid], ["slurm.100.", "/tmp/slurm.kept", 12 * 3600, 1000]);
  });
  it("the remover sweeps each kept place before it drains the holding place: keep_max= as MiB or a share (default 10%)", () => {
    const share = core.plan("DRAIN", KEEP, job).find((s) => s.op === "kept_sweep");
    assert.deepEqual([share?.path, share?.mode, share?.sizeMb, share?.flags], ["/tmp/slurm.kept", 43200, 10, F_SHARE]);
    const abs = core.plan("DRAIN", [...KEEP, "keep_max=2G"], job);
    const i = abs.findIndex((s) => s.op === "kept_sweep");
    assert.deepEqual(
      [abs[i]?.sizeMb, abs[i]?.flags, abs.slice(i + 1).find((s) => s.op !== "usage_path")?.op],
      [2048, 0, "drain_at"],
    );
    assert.ok(!ops(core.plan("DRAIN", SEED, job)).includes("kept_sweep"));
  });
});
