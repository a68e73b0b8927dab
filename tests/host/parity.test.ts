// The C host (the plugin's own core.c/imports.c/ops.c, through the addon)
// and the Node host make the very same calls for the same inputs.
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { Core } from "../../host/core.js";
import { Recorder } from "../../host/recorder.js";
import { loadAddon } from "../../host/addon.js";
import { Phase, type PhaseName } from "../../host/abi.js";
import { FIXTURES } from "./fixtures.js";

const job = { jobid: 4711, restart: 3, uid: 1234, gid: 5678 };
const PHASES: PhaseName[] = ["CHECK", "EXTERN", "STEP", "EPILOG"];

describe("C host and Node host: same plan, same errors", () => {
  for (const f of FIXTURES) {
    for (const phase of PHASES) {
      it(`${f.name}, ${phase}`, () => {
        const rec = new Recorder();
        const fail = new Core().run(phase, f.args, job, rec);
        const c = loadAddon().coreRun(Phase[phase], f.args, job.jobid, job.restart, job.uid, job.gid, true);
        if (fail) {
          assert.equal(c.ok, false);
          assert.equal(c.code, fail.code);
          assert.equal(c.message, fail.message);
        } else {
          assert.equal(c.ok, true, c.message);
          assert.equal(c.trace, rec.text());
          if (phase === "STEP") assert.match(c.trace, /^unshare_mount_ns$/m);
          if (phase === "EXTERN") assert.doesNotMatch(c.trace, /^(unshare_mount_ns|make_slave|bind)\b/m, "the extern step stays in the host's namespace");
        }
      });
    }
  }
});

describe("C host: a trap fails closed", () => {
  it("reports TRAP and does nothing when the core traps mid-plan", () => {
    const r = loadAddon().coreRun(Phase.EXTERN, ["base=/var/tmp/ptd-trap-test/x", "mount=/tmp"], 1, 0, 0, 0, false, true);
    assert.equal(r.ok, false);
    assert.equal(r.code, "TRAP");
    assert.match(r.message, /trapped/);
    assert.equal(existsSync("/var/tmp/ptd-trap-test"), false, "nothing was created");
  });

  it("runs normally again after a trap (fresh instance per call)", () => {
    const r = loadAddon().coreRun(Phase.CHECK, ["mount=/tmp"], 0, 0, 0, 0, true);
    assert.equal(r.ok, true, r.message);
  });
});
