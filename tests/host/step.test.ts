// The step phase through the plugin's own C, in a child process that enters
// its own mount namespace (as slurmstepd does): all binds, or, when the
// third bind fails, a clear error and nothing mounted outside that child;
// and a trap at every import in turn fails closed.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Core } from "../../host/core.js";
import { bindsAfter, entries, expectedAfter, snapshot } from "../helpers/prefix.js";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = `/var/tmp/ptd-step-test.${process.pid}`; // per run: suites may run side by side
const TARGETS = `/var/spool/ptd-step-targets.${process.pid}`; // per run: suites may run side by side
const UID = 60001;
const ARGS = [`base=${SCRATCH}/shared/slurm`, `mount=${TARGETS}/a`, `mount=${TARGETS}/b`, `mount=${TARGETS}/c`];
const addon = fileURLToPath(new URL("../../host/addon.js", import.meta.url));

interface ChildView {
  result: { ok: boolean; code: string; message: string };
  mounted: string[];
  seen: string[];
  mntns: string;
}

/** Runs the STEP phase in a fresh node process; returns what it saw inside.
 * trapAt N makes the Nth import call trap (0: none). */
function step(failBind: number, trapAt = 0, args = ARGS): ChildView {
  const script = `import { loadAddon } from ${JSON.stringify(addon)};
    import { readFileSync, writeFileSync, readdirSync, readlinkSync } from "node:fs";
    const r = loadAddon().coreRun(2, ${JSON.stringify(args)}, 300, 0, ${UID}, ${UID}, 0, 0, false, ${trapAt}, ${failBind});
    const mounted = readFileSync("/proc/self/mountinfo", "utf8").split("\\n")
      .map((l) => l.split(" ")[4]).filter((m) => m && m.startsWith(${JSON.stringify(TARGETS)}));
    let seen = [];
    if (r.ok && ${trapAt} === 0) { writeFileSync(${JSON.stringify(`${TARGETS}/a/from-job`)}, "x"); seen = readdirSync(${JSON.stringify(`${TARGETS}/a`)}); }
    const mntns = readlinkSync("/proc/self/ns/mnt");
    console.log(JSON.stringify({ result: { ok: r.ok, code: r.code, message: r.message }, mounted, seen, mntns }));`;
  const c = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(c.status, 0, c.stderr);
  return JSON.parse(c.stdout) as ChildView;
}

function hostMounts(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(TARGETS));
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

  it("a trap at every import in turn: TRAP, the child's binds and the directories a prefix of the plan, nothing in the host", () => {
    // Two bases, the second's parent missing: directories, namespace, binds.
    const args = [
      `base=${SCRATCH}/shared/slurm`,
      `mount=${TARGETS}/a`,
      `base=${SCRATCH}/shared/made/job`,
      `mount=${TARGETS}/b`,
      `mount=${TARGETS}/c`,
    ];
    const plan = new Core().plan("STEP", args, { jobid: 300, restart: 0, uid: UID, gid: UID });
    const unshare = plan.findIndex((p) => p.op === "unshare_mount_ns");
    assert.ok(
      unshare > 0 && plan.filter((p) => p.op === "bind").length === 3,
      "a plan with a namespace and three binds",
    );
    const hostNs = fs.readlinkSync("/proc/self/ns/mnt");
    for (let n = 1; n <= plan.length + 1; n++) {
      const where = `trap at import ${n} of ${plan.length} (${plan[n - 1]?.op ?? "none"})`;
      fs.rmSync(SCRATCH, { recursive: true, force: true });
      fs.mkdirSync(`${SCRATCH}/shared`, { recursive: true });
      fs.chmodSync(`${SCRATCH}/shared`, 0o1777);
      const before = snapshot(SCRATCH);
      const v = step(0, n, args);
      if (n <= plan.length) {
        assert.deepStrictEqual([v.result.ok, v.result.code], [false, "TRAP"], `${where}: ${v.result.message}`);
        assert.match(v.result.message, /^the planning core trapped \(.+\); nothing more was done$/, where);
      } else {
        assert.equal(v.result.ok, true, `${where}: ${v.result.message}`);
      }
      assert.equal(v.mntns !== hostNs, n - 1 > unshare, `${where}: the child's own namespace exactly once unshare ran`);
      assert.deepStrictEqual(v.mounted, bindsAfter(plan, n - 1), `${where}: the child's binds`);
      assert.deepStrictEqual(hostMounts(), [], `${where}: a mount in the host`);
      assert.deepStrictEqual(
        entries(snapshot(SCRATCH)),
        entries(expectedAfter(SCRATCH, before, plan, n - 1)),
        `${where}: on disk`,
      );
      for (const t of ["a", "b", "c"])
        assert.deepStrictEqual(fs.readdirSync(`${TARGETS}/${t}`), [], `${where}: the host's ${t}`);
    }
  });

  it("fails with a clear error when the third bind fails, and nothing leaks to the host", () => {
    const v = step(3);
    assert.equal(v.result.ok, false);
    assert.equal(v.result.code, "HOST");
    assert.match(
      v.result.message,
      new RegExp(`^bind ".*_c" on "${TARGETS}/c": injected failure \\(test\\) \\(Input/output error\\)$`),
    );
    assert.deepStrictEqual(
      v.mounted,
      [`${TARGETS}/a`, `${TARGETS}/b`],
      "it failed half-way, inside the child's namespace",
    );
    assert.deepStrictEqual(hostMounts(), []);
  });
});
