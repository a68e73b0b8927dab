// The C host (the plugin's own core.c/imports.c/ops.c, through the addon)
// and the Node host make the very same calls for the same inputs.
import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { Core } from "../../host/core.js";
import { Recorder } from "../../host/recorder.js";
import { loadAddon } from "../../host/addon.js";
import { Phase, type PhaseName } from "../../host/abi.js";
import { FIXTURES } from "./fixtures.js";
import { entries, expectedAfter, snapshot, type Entry } from "../helpers/prefix.js";
import { requireRoot } from "../helpers/root.js";

// Memory given explicitly: a tmpfs= size= percentage must be of the same
// numbers in both hosts.
const job = { jobid: 4711, restart: 3, uid: 1234, gid: 5678, memMb: 3000, nodeMemMb: 64000 };
const PHASES: PhaseName[] = ["CHECK", "EXTERN", "STEP", "EPILOG", "DRAIN", "SESSION"];

describe("C host and Node host: same plan, same errors", () => {
  for (const f of FIXTURES) {
    for (const phase of PHASES) {
      it(`${f.name}, ${phase}`, () => {
        const rec = new Recorder();
        const fail = new Core().run(phase, f.args, job, rec);
        const c = loadAddon().coreRun(
          Phase[phase],
          f.args,
          job.jobid,
          job.restart,
          job.uid,
          job.gid,
          job.memMb,
          job.nodeMemMb,
          true,
        );
        if (fail) {
          assert.equal(c.ok, false);
          assert.equal(c.code, fail.code);
          assert.equal(c.message, fail.message);
        } else {
          assert.equal(c.ok, true, c.message);
          assert.equal(c.trace, rec.text());
          if (phase === "STEP") assert.match(c.trace, /^unshare_mount_ns$/m);
          // The extern step starts the job's namespace holder, which runs
          // the namespace records; it never joins (F_NO_JOIN = 128).
          if (phase === "EXTERN")
            assert.match(
              c.trace,
              /^ns_enter\t\d+\tjob\.4711\t[^\t]+\t128\nunshare_mount_ns$/m,
              "the extern step never joins",
            );
        }
      });
    }
  }
});

describe("C host: a trap fails closed, at every import of the plan", function () {
  // Two bases, the second's parent missing (open_trusted creates it): a trap
  // at the Nth import must leave exactly what the first N-1 calls made, each
  // directory with its final owner and mode, and report TRAP.
  const TOP = `/var/tmp/ptd-trap-test.${process.pid}`; // per run: suites may run side by side
  const ARGS = [`base=${TOP}/x`, "mount=/tmp", `base=${TOP}/made/y`, "mount=/var/tmp", "mount=/scratch"];
  const JOB = { jobid: 1, restart: 0, uid: 60001, gid: 60002 };

  function fresh(): Map<string, Entry> {
    rmSync(TOP, { recursive: true, force: true });
    mkdirSync(TOP, { mode: 0o755 });
    chmodSync(TOP, 0o755);
    return snapshot(TOP);
  }
  after(() => rmSync(TOP, { recursive: true, force: true }));

  it("reports TRAP and leaves exactly the first N-1 calls' directories, for every N", function () {
    requireRoot(this);
    const plan = new Core().plan("EXTERN", ARGS, JOB);
    const addon = loadAddon();
    const dry = addon.coreRun(Phase.EXTERN, ARGS, JOB.jobid, JOB.restart, JOB.uid, JOB.gid, 0, 0, true);
    assert.equal(dry.trace.split("\n").filter((l) => l !== "").length, plan.length, "one import call per plan record");
    assert.ok(plan.length >= 7, `plan of ${plan.length} records`);
    // The addon never forks a namespace holder (ops.h: ptd_ops_holders), so
    // its extern step ends at ns_enter: the records after it are the
    // holder's, run in a real slurmstepd (tests/e2e).
    const ran = plan.findIndex((s) => s.op === "ns_enter") + 1;
    assert.ok(ran > 0);
    for (let n = 1; n <= ran + 1; n++) {
      const before = fresh();
      const r = addon.coreRun(Phase.EXTERN, ARGS, JOB.jobid, JOB.restart, JOB.uid, JOB.gid, 0, 0, false, n);
      if (n <= ran) {
        assert.deepStrictEqual([r.ok, r.code], [false, "TRAP"], `trap at ${n}: ${r.message}`);
        assert.match(r.message, /^the planning core trapped \(.+\); nothing more was done$/);
      } else {
        assert.equal(r.ok, true, `no trap (n = ${n}): ${r.message}`);
      }
      assert.deepStrictEqual(
        entries(snapshot(TOP)),
        entries(expectedAfter(TOP, before, plan, n - 1)),
        `trap at import ${n}`,
      );
    }
  });

  it("runs normally again after a trap (fresh instance per call)", () => {
    const t = loadAddon().coreRun(Phase.CHECK, ["mount=/tmp"], 0, 0, 0, 0, 0, 0, true, 1);
    assert.equal(t.ok, true, "CHECK calls no import: nothing to trap");
    const s = loadAddon().coreRun(Phase.STEP, ["mount=/tmp"], 0, 0, 0, 0, 0, 0, true, 1);
    assert.deepStrictEqual([s.ok, s.code], [false, "TRAP"]);
    const r = loadAddon().coreRun(Phase.STEP, ["mount=/tmp"], 0, 0, 0, 0, 0, 0, true);
    assert.equal(r.ok, true, r.message);
  });
});
