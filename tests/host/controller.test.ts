// What the remover learns from slurmctld (native/jobs/controller.c), through the
// plugin's own C: squeue's answer read line by line, and every doubt (a
// failing, silent, garbled or hanging squeue) an error, never an empty set:
// an empty set would let the sweep take every job's /tmp.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { loadAddon } from "../../host/addon.js";

const DIR = `/var/tmp/ptd-controller-test.${process.pid}`;

function fake(name: string, body: string): string {
  const p = `${DIR}/${name}`;
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

describe("asking slurmctld which jobs it holds (squeue, C host)", function () {
  this.timeout(30_000);
  before(() => fs.mkdirSync(DIR, { recursive: true }));
  after(() => fs.rmSync(DIR, { recursive: true, force: true }));

  it("keeps every job in a state that is not final, and asks with a format of its own", () => {
    const args = `${DIR}/args`;
    const sq = fake(
      "ok",
      `printf '%s\\n' "$@" > ${args}; env > ${args}.env
printf '101 R\\n102 PD\\n103 CG\\n104 CD\\n105 CA\\n106 F\\n107 TO\\n108 NF\\n109 S\\n110 OOM\\n111 RQ\\n112 ZZ\\n'`,
    );
    const r = loadAddon().ctlJobs(sq, 5000);
    assert.ok("jobs" in r, JSON.stringify(r));
    assert.deepStrictEqual(
      [...r.jobs].sort((a, b) => a - b),
      [101, 102, 103, 109, 111, 112],
    );
    const argv = fs.readFileSync(args, "utf8").trim().split("\n");
    assert.deepStrictEqual(argv, ["--noheader", "--all", "--local", "--states=all", "--format=%A %t"]);
    // The caller's SQUEUE_FORMAT and the like never reach it.
    assert.doesNotMatch(fs.readFileSync(`${args}.env`, "utf8"), /SQUEUE_|SLURM_CONF=/);
  });

  it("an empty answer is an answer: no job is held", () => {
    const r = loadAddon().ctlJobs(fake("empty", "exit 0"), 5000);
    assert.deepStrictEqual(r, { jobs: [] });
  });

  for (const [name, body, why] of [
    ["failing", "echo '101 R'; exit 1", /failed \(exit status 1\)/],
    ["killed", "echo '101 R'; kill -9 $$", /failed \(signal 9\)/],
    ["garbled", "printf '101 R\\nslurm_load_jobs error: Unable to contact slurm controller\\n'", /line 2 is not/],
    ["no state", "printf '101\\n'", /line 1 is not/],
    ["too large an id", "printf '4294967296 R\\n'", /line 1 is not/],
  ] as const) {
    it(`a ${name} squeue is a doubt, not an empty set`, () => {
      const r = loadAddon().ctlJobs(fake(name.replace(/ /g, "-"), body), 5000);
      assert.ok("errno" in r, JSON.stringify(r));
      assert.match(r.why, why);
    });
  }

  it("a squeue that hangs is given up on (and killed) within the bound", () => {
    const pidFile = `${DIR}/hang.pid`;
    const t0 = Date.now();
    const r = loadAddon().ctlJobs(fake("hang", `echo $$ > ${pidFile}; echo '101 R'; exec sleep 60`), 1500);
    const took = Date.now() - t0;
    assert.ok("errno" in r && /no answer within 1 s/.test(r.why), JSON.stringify(r));
    assert.ok(took < 5000, `took ${took} ms`);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    assert.equal(
      fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8")),
      false,
      "squeue killed",
    );
  });

  it("no squeue is a doubt", () => {
    const r = loadAddon().ctlJobs(`${DIR}/missing`, 5000);
    assert.ok("errno" in r && /failed \(exit status 127\)/.test(r.why), JSON.stringify(r));
  });
});
