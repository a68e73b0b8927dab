// What the C trusts, through both hosts (the C core via the addon's
// coreRun, and the Node host: core.wasm in Node with the addon's ops as its
// imports), each in a child process with its own mount namespace as
// slurmstepd has:
//  - every directory above a base must be root's and, if others may write
//    it, sticky (not only the base's parent);
//  - a bind source found again by path after unshare must be the very
//    directory made before it (device and inode), not just one of the
//    job's user's;
//  - each failure is reported with its own reason: never an earlier op's,
//    never a later one's.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Phase, type PhaseName } from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";

const VICTIM = 60001;
const ATTACKER = 60002;
const HOST = fileURLToPath(new URL("../../host/", import.meta.url));

type Which = "C" | "Node";
interface Hook {
  /** Before the nth (1-based) call of this import... */
  op: string;
  nth: number;
  /** ...run this shell command. */
  sh: string;
}
interface Outcome {
  ok: boolean;
  message: string;
  mounted: string[];
}

/** Runs one phase for job 500 in a fresh node process; the Node host words
 * a failure with the addon's failure() (native/util/messages.c), as the CLI does. */
function run(which: Which, phase: PhaseName, args: string[], hooks: Hook[] = [], under = "/"): Outcome {
  const script = `
    import { execSync } from "node:child_process";
    import { readFileSync } from "node:fs";
    import { loadAddon } from ${JSON.stringify(`${HOST}addon.js`)};
    import { Core } from ${JSON.stringify(`${HOST}core.js`)};
    const hooks = ${JSON.stringify(hooks)};
    const seen = new Map();
    const before = (op) => {
      const n = (seen.get(op) ?? 0) + 1;
      seen.set(op, n);
      for (const h of hooks) if (h.op === op && h.nth === n) execSync(h.sh, { stdio: "inherit", shell: "/bin/sh" });
    };
    const a = loadAddon();
    let out;
    if (${JSON.stringify(which)} === "C") {
      const r = a.coreRun(${Phase[phase]}, ${JSON.stringify(args)}, 500, 0, ${VICTIM}, ${VICTIM}, 0, 0, false, 0, 0, before);
      out = { ok: r.ok, message: r.message };
    } else {
      a.opsReset();
      const imports = {};
      for (const op of ["open_trusted", "mkdir_at", "unshare_mount_ns", "make_slave", "open_private", "open_target", "bind", "remove_at", "mark_ended", "drain_at", "usage_path", "continue_at", "ns_release", "mount_tmpfs", "set_env"])
        imports[op] = (...v) => { before(op); return a[op](...v); };
      // Node never joins or holds a job's namespace (the addon has no
      // ns_enter): the step makes its own, as the C does with holders off.
      imports.ns_enter = () => { before("ns_enter"); return 0; };
      imports.ns_ready = () => { before("ns_ready"); return 0; };
      // Nor does it fork a step's tasks: no output to keep.
      imports.keep_output = () => { before("keep_output"); return 0; };
      const f = new Core().run(${JSON.stringify(phase)}, ${JSON.stringify(args)}, { jobid: 500, restart: 0, uid: ${VICTIM}, gid: ${VICTIM} }, imports);
      const why = a.opsDetail().text;
      out = f ? { ok: false, message: f.code === "HOST" ? a.failure(f.message, why, f.errno) : f.message } : { ok: true, message: "" };
    }
    out.mounted = readFileSync("/proc/self/mountinfo", "utf8").split("\\n").map((l) => l.split(" ")[4]).filter((m) => m && m.startsWith(${JSON.stringify(under)}));
    console.log(JSON.stringify(out));`;
  const c = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(c.status, 0, c.stderr);
  return JSON.parse(c.stdout) as Outcome;
}

/** strerror(3)'s text, which native/core/core.c appends. */
const EPERM = "Operation not permitted";
const ENOENT = "No such file or directory";

for (const which of ["C", "Node"] as Which[]) {
  describe(`trust and failure reasons, ${which} host`, function () {
    let scratch = "";
    let targets = "";
    beforeEach(function () {
      requireRoot(this);
      // Per run, so that two runs of the suite never share a tree.
      scratch = fs.mkdtempSync("/var/tmp/ptd-trust-");
      targets = fs.mkdtempSync("/var/spool/ptd-trust-targets-");
      fs.chmodSync(scratch, 0o755);
      fs.mkdirSync(`${scratch}/shared`, { mode: 0o1777 });
      fs.chmodSync(`${scratch}/shared`, 0o1777);
      for (const t of ["a", "b"]) fs.mkdirSync(`${targets}/${t}`);
    });
    afterEach(() => {
      for (const d of [scratch, targets]) if (d) fs.rmSync(d, { recursive: true, force: true });
    });

    it("refuses a base whose grandparent a user owns, naming it; nothing is made below", () => {
      // u is the attacker's: it could rename r away and put a tree of its
      // own there. r itself (the base's parent) is root's and 0755.
      fs.mkdirSync(`${scratch}/u/r`, { recursive: true, mode: 0o755 });
      fs.chownSync(`${scratch}/u`, ATTACKER, ATTACKER);
      const r = run(which, "EXTERN", [`base=${scratch}/u/r/slurm`, `mount=${targets}/a`]);
      assert.deepStrictEqual(
        [r.ok, r.message],
        [false, `open directory "${scratch}/u/r": "u" is owned by uid ${ATTACKER}, not root (${EPERM})`],
      );
      assert.deepStrictEqual(fs.readdirSync(`${scratch}/u/r`), []);
    });

    it("refuses a base below a world-writable, non-sticky directory higher up, naming it", () => {
      fs.mkdirSync(`${scratch}/open/r/s`, { recursive: true, mode: 0o755 });
      fs.chmodSync(`${scratch}/open`, 0o777);
      const r = run(which, "EXTERN", [`base=${scratch}/open/r/s/slurm`, `mount=${targets}/a`]);
      assert.deepStrictEqual(
        [r.ok, r.message],
        [false, `open directory "${scratch}/open/r/s": "open" is writable by others and not sticky (${EPERM})`],
      );
      assert.deepStrictEqual(fs.readdirSync(`${scratch}/open/r/s`), []);
    });

    it("refuses, in the epilog too, to remove below a user-owned ancestor", () => {
      fs.mkdirSync(`${scratch}/u/r/slurm.500.0`, { recursive: true, mode: 0o755 });
      fs.chownSync(`${scratch}/u/r/slurm.500.0`, VICTIM, VICTIM);
      fs.chownSync(`${scratch}/u`, ATTACKER, ATTACKER);
      const r = run(which, "EPILOG", [`base=${scratch}/u/r/slurm`, `mount=${targets}/a`]);
      assert.deepStrictEqual(
        [r.ok, r.message],
        [false, `open directory "${scratch}/u/r": "u" is owned by uid ${ATTACKER}, not root (${EPERM})`],
      );
      assert.ok(fs.existsSync(`${scratch}/u/r/slurm.500.0`));
    });

    it("binds only the directory made before unshare: one the job's user swapped in is refused, nothing is bound", () => {
      const base = `${scratch}/shared/slurm`;
      const priv = `${base}.500.0/${targets.slice(1).replaceAll("/", "_")}_b`;
      // Between the directories and the first open after unshare, the
      // job's user (who owns the job directory) renames another of its
      // own directories, holding a planted file, over a mount directory.
      const swap = `mkdir -p ${base}.500.0/other && touch ${base}.500.0/other/planted && chown -R ${VICTIM}:${VICTIM} ${base}.500.0/other && rm -rf ${priv} && mv ${base}.500.0/other ${priv}`;
      const r = run(
        which,
        "STEP",
        [`base=${base}`, `mount=${targets}/a`, `mount=${targets}/b`],
        [{ op: "open_private", nth: 1, sh: swap }],
        targets,
      );
      assert.deepStrictEqual(
        [r.ok, r.message],
        [false, `open private directory "${priv}": not the directory made for this step (replaced since) (${EPERM})`],
      );
      assert.deepStrictEqual(r.mounted, [], "no bind at all");
    });

    it("a failing op never carries an earlier op's reason (a squatter moved aside, then a missing mount point)", () => {
      const base = `${scratch}/shared/slurm`;
      fs.symlinkSync("/etc", `${base}.500.0`);
      const r = run(which, "STEP", [`base=${base}`, `mount=${targets}/a`, `mount=${targets}/gone`], [], targets);
      assert.deepStrictEqual([r.ok, r.message], [false, `open mount point "${targets}/gone": ${ENOENT}`]);
      assert.deepStrictEqual(r.mounted, []);
    });

    it("with two bases, the epilog reports the first failure with its own reason, not the second's", () => {
      // First base: the job directory is the attacker's. Second: a symlink.
      fs.mkdirSync(`${scratch}/shared/one.500.0`);
      fs.chownSync(`${scratch}/shared/one.500.0`, ATTACKER, ATTACKER);
      fs.mkdirSync(`${scratch}/two`, { mode: 0o755 });
      fs.symlinkSync("/etc", `${scratch}/two/job.500.0`);
      const r = run(which, "EPILOG", [
        `base=${scratch}/shared/one`,
        `mount=${targets}/a`,
        `base=${scratch}/two/job`,
        `mount=${targets}/b`,
      ]);
      assert.equal(r.ok, false);
      assert.match(
        r.message,
        new RegExp(`^remove "${scratch}/shared/one\\.500\\.0": .*uid ${ATTACKER}.*\\(${EPERM}\\)$`),
      );
      assert.doesNotMatch(r.message, /symlink/);
      assert.ok(
        fs.existsSync(`${scratch}/shared/one.500.0`) && fs.lstatSync(`${scratch}/two/job.500.0`).isSymbolicLink(),
      );
    });
  });
}
