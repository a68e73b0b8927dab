// The step phase through the plugin's own C, in a child process that enters
// its own mount namespace (as slurmstepd does): all binds, or, when the
// third bind fails, a clear error and nothing mounted outside that child.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = "/var/tmp/ptd-step-test";
const TARGETS = "/var/spool/ptd-step-targets";
const UID = 60001;
const ARGS = [`base=${SCRATCH}/shared/slurm`, `mount=${TARGETS}/a`, `mount=${TARGETS}/b`, `mount=${TARGETS}/c`];
const addon = fileURLToPath(new URL("../../host/addon.js", import.meta.url));

interface ChildView {
  result: { ok: boolean; code: string; message: string };
  mounted: string[];
  seen: string[];
}

/** Runs the STEP phase in a fresh node process; returns what it saw inside. */
function step(failBind: number): ChildView {
  const script = `import { loadAddon } from ${JSON.stringify(addon)};
    import { readFileSync, writeFileSync, readdirSync } from "node:fs";
    const r = loadAddon().coreRun(2, ${JSON.stringify(ARGS)}, 300, 0, ${UID}, ${UID}, false, false, ${failBind});
    const mounted = readFileSync("/proc/self/mountinfo", "utf8").split("\\n")
      .map((l) => l.split(" ")[4]).filter((m) => m && m.startsWith(${JSON.stringify(TARGETS)}));
    let seen = [];
    if (r.ok) { writeFileSync(${JSON.stringify(`${TARGETS}/a/from-job`)}, "x"); seen = readdirSync(${JSON.stringify(`${TARGETS}/a`)}); }
    console.log(JSON.stringify({ result: { ok: r.ok, code: r.code, message: r.message }, mounted, seen }));`;
  const c = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(c.status, 0, c.stderr);
  return JSON.parse(c.stdout) as ChildView;
}

function hostMounts(): string[] {
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(TARGETS));
}

describe("step phase through the C host, in a child's own mount namespace", function () {
  beforeEach(function () {
    requireRoot(this);
    for (const d of [SCRATCH, TARGETS]) fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(`${SCRATCH}/shared`, { recursive: true });
    fs.chmodSync(`${SCRATCH}/shared`, 0o1777);
    for (const t of ["a", "b", "c"]) fs.mkdirSync(`${TARGETS}/${t}`, { recursive: true });
  });
  after(() => {
    for (const d of [SCRATCH, TARGETS]) fs.rmSync(d, { recursive: true, force: true });
  });

  it("binds every private directory in the child and nothing in the host", () => {
    const v = step(0);
    assert.deepStrictEqual(v.result, { ok: true, code: "OK", message: "" });
    assert.deepStrictEqual(v.mounted, [`${TARGETS}/a`, `${TARGETS}/b`, `${TARGETS}/c`]);
    assert.deepStrictEqual(v.seen, ["from-job"]);
    assert.ok(fs.existsSync(`${SCRATCH}/shared/slurm.300.0/${TARGETS.slice(1).replaceAll("/", "_")}_a/from-job`));
    assert.deepStrictEqual(fs.readdirSync(`${TARGETS}/a`), [], "the host's directory is untouched");
    assert.deepStrictEqual(hostMounts(), []);
  });

  it("fails with a clear error when the third bind fails, and nothing leaks to the host", () => {
    const v = step(3);
    assert.equal(v.result.ok, false);
    assert.equal(v.result.code, "HOST");
    assert.match(v.result.message, new RegExp(`^bind ".*_c" on "${TARGETS}/c": injected failure \\(test\\) \\(Input/output error\\)$`));
    assert.deepStrictEqual(v.mounted, [`${TARGETS}/a`, `${TARGETS}/b`], "it failed half-way, inside the child's namespace");
    assert.deepStrictEqual(hostMounts(), []);
  });
});
