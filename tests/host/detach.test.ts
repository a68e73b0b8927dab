// native/removal/detach.c against the real kernel: the remover leaves the caller's
// session and process group, and a Slurm job's cgroup it was started in (a
// step's slurmstepd), so the job's limits do not count it and Slurm's
// cleanup of the job's cgroup neither kills it nor is blocked by it; any
// other cgroup (slurmd's, for the epilog's remover) it keeps.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { requireRoot } from "../helpers/root.js";
import { REPO_ROOT } from "../helpers/repo.js";

const SCRATCH = `/var/tmp/ptd-detach-test.${process.pid}`;
// Hybrid hosts (this one) have v1's freezer, which proctrack/cgroup uses;
// unified hosts only /sys/fs/cgroup.
const HIER = fs.existsSync("/sys/fs/cgroup/freezer/cgroup.procs") ? "/sys/fs/cgroup/freezer" : "/sys/fs/cgroup";
const TOP = `${HIER}/ptd-detach-${process.pid}`;

/** The cgroup path of one hierarchy in a driver's report lines. */
function cgroupOf(lines: string[], who: string): string | undefined {
  const v1 = HIER.endsWith("/freezer");
  for (const l of lines) {
    const m = new RegExp(`^${who} cgroup (\\d+):([^:]*):(.*)$`).exec(l);
    if (m && (v1 ? (m[2] ?? "").split(",").includes("freezer") : m[2] === "")) return m[3];
  }
  return undefined;
}

async function runDriver(startIn: string): Promise<{ parent: string[]; child: string[] }> {
  const report = `${SCRATCH}/report.${Math.random().toString(16).slice(2)}`;
  const out = execFileSync(`${SCRATCH}/detach-driver`, [startIn, report], { encoding: "utf8" });
  for (let i = 0; i < 100 && !fs.existsSync(report); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(fs.existsSync(report), `the detached child never reported\n${out}`);
  return { parent: out.trim().split("\n"), child: fs.readFileSync(report, "utf8").trim().split("\n") };
}

describe("detach: the remover's own process (C, real kernel)", function () {
  this.timeout(60_000);
  before(function () {
    requireRoot(this);
    fs.mkdirSync(SCRATCH, { recursive: true });
    execFileSync("cc", [
      "-std=gnu11",
      "-O2",
      "-Wall",
      "-Werror",
      `-I${REPO_ROOT}/native`,
      "-o",
      `${SCRATCH}/detach-driver`,
      `${REPO_ROOT}/tests/native/detach-driver.c`,
      `${REPO_ROOT}/native/removal/detach.c`,
    ]);
    fs.mkdirSync(`${TOP}/uid_1001/job_7/step_0`, { recursive: true });
    fs.mkdirSync(`${TOP}/system/slurmd`, { recursive: true });
  });
  after(() => {
    for (const d of [
      `${TOP}/uid_1001/job_7/step_0`,
      `${TOP}/uid_1001/job_7`,
      `${TOP}/uid_1001`,
      `${TOP}/system/slurmd`,
      `${TOP}/system`,
      TOP,
    ]) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* still populated: the kernel frees it once its processes exit */
      }
    }
    fs.rmSync(SCRATCH, { recursive: true, force: true });
  });

  it("started in a Slurm job's cgroup, it moves to the top of the hierarchy; the caller stays", async () => {
    const r = await runDriver(`${TOP}/uid_1001/job_7/step_0`);
    assert.equal(cgroupOf(r.parent, "parent"), `/ptd-detach-${process.pid}/uid_1001/job_7/step_0`, r.parent.join("\n"));
    assert.equal(cgroupOf(r.child, "child"), "/", r.child.join("\n"));
    assert.ok(r.parent.includes("rc=0"));
  });

  it("started elsewhere (slurmd's cgroup), it stays there", async () => {
    const r = await runDriver(`${TOP}/system/slurmd`);
    assert.equal(cgroupOf(r.child, "child"), `/ptd-detach-${process.pid}/system/slurmd`, r.child.join("\n"));
  });

  it("has left the caller's session and process group, with stdio on /dev/null", async () => {
    const r = await runDriver(`${TOP}/system/slurmd`);
    const ids = (lines: string[], who: string) =>
      (/pid=(\d+) sid=(\d+) pgrp=(\d+)/.exec(lines.find((l) => l.startsWith(`${who} pid=`)) ?? "") ?? [])
        .slice(1)
        .map(Number);
    const [ppid, psid, ppgrp] = ids(r.parent, "parent");
    const [cpid, csid, cpgrp] = ids(r.child, "child");
    assert.ok(ppid && cpid, `${r.parent.join("\n")}\n${r.child.join("\n")}`);
    assert.notEqual(csid, psid, "a session of its own");
    assert.notEqual(cpgrp, ppgrp, "out of the caller's process group (run_command kills it)");
    assert.notEqual(csid, cpid, "not a session leader: it can never get a controlling terminal");
    assert.ok(r.child.includes("child stdin-is-devnull=1"), r.child.join("\n"));
  });

  it("runs at oom_score_adj 0, whatever its caller's (slurmstepd's -1000)", async () => {
    const r = await runDriver(`${TOP}/system/slurmd`);
    assert.ok(r.parent.includes("parent oom_score_adj=500"), r.parent.join("\n"));
    assert.ok(r.child.includes("child oom_score_adj=0"), r.child.join("\n"));
  });
});
