// The wasm2c runtime's guarantees, on the Slurm release under test (the host's
// 22.05, or a release root's: PTD_PLUGIN_SO): inside a real slurmstepd that
// ran the plugin, no SIGSEGV/SIGBUS handler and no multi-GiB guard-page
// reservation; and, with the very objects that made that .so, a trap in the
// core fails the call closed and the runtime recovers for the next call.
//
// The detector (tests/helpers/procfs.ts) is shown to fail on processes known
// to have what it looks for: Node with a WebAssembly.Memory (V8's trap handler
// and its ~8 GiB guard region on x64), and a small C program that installs
// both handlers and holds (or maps and unmaps) 8 GiB PROT_NONE.
//
// The trap driver's objects: $PTD_PLUGIN_OBJS if set (taken as given), else
// the directory of PLUGIN_SO if it holds the objects (the host build:
// dist/native), else the /var/lib/private-tmpdir-build/*/dist/native whose
// private-tmpdir.so has PLUGIN_SO's bytes (a release root: the .so is
// installed as a copy). Either way a test relinks them and compares the
// result with PLUGIN_SO byte for byte (the build is reproducible).
import { strict as assert } from "node:assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "../helpers/repo.js";
import { PLUGIN_SO, pluginLine } from "../helpers/plugin.js";
import { ALICE, LAB, OUT_DIR } from "../helpers/lab.js";
import { runAs, type RunResult, spawnAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import {
  GiB,
  KiB,
  MiB,
  checksOf,
  comm,
  findProcesses,
  largestMapping,
  parentPid,
  runtimeViolations,
  snapshot,
  summary,
  vmSizeLessArenasKiB,
  type ProcSnapshot,
} from "../helpers/procfs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const WORK = join(LAB, "runtime-guarantees");
const PATH = process.env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* ------------------------------------------------------------- commands */

function sh(cmd: string, args: readonly string[], cwd = "/"): RunResult {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { PATH, LANG: "C.UTF-8" }, timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: false };
}

function mustSh(cmd: string, args: readonly string[], cwd = "/"): string {
  const r = sh(cmd, args, cwd);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} (cwd ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Held {
  snap: ProcSnapshot;
  /** everything the process printed (up to its exit) */
  stdout: string;
  status: number | null;
}

/** Run cmd until it prints "ready", read /proc/<pid>, then close its stdin
 * (it exits on EOF) and collect its output. */
function holdAndSnapshot(cmd: string, args: readonly string[]): Promise<Held> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: "/", env: { PATH, LANG: "C.UTF-8" }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "",
      stderr = "",
      snap: ProcSnapshot | undefined,
      err: unknown;
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (snap === undefined && err === undefined && /^ready$/m.test(stdout)) {
        try {
          snap = snapshot(child.pid as number);
        } catch (e) {
          err = e;
        }
        child.stdin.end();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      if (err !== undefined) reject(err);
      else if (snap === undefined)
        reject(new Error(`${cmd} ${args.join(" ")} ended (${status ?? signal}) before "ready"\n${stdout}\n${stderr}`));
      else resolve({ snap, stdout, status });
    });
  });
}

/* ------------------------------------------------------- slurmstepd side */

interface Step {
  jobId: number;
  taskPid: number;
  snap: ProcSnapshot;
  /** slurmd.log while the step ran */
  log: string;
}

/** Runs a sleeping srun step as ALICE and reads its slurmstepd (found in
 * /proc by its title "slurmstepd: [<jobid>.0]", and checked to be the
 * parent of the step's task: other clusters on this machine have steps of
 * the same job ids) while the task sleeps; then cancels the job. */
async function sleepingStepdSnapshot(): Promise<Step> {
  const tag = join(OUT_DIR, `rt-${process.pid}-${Date.now()}`);
  const mark = logMark();
  let ended: RunResult | undefined;
  const job = spawnAs(
    ALICE,
    ["srun", "-N1", "bash", "-c", `echo "$SLURM_JOB_ID $$" > ${tag}.part && mv ${tag}.part ${tag} && exec sleep 60`],
    90_000,
  );
  void job.then((r) => {
    ended = r;
  });
  let jobId = 0;
  try {
    const [j, t] = await waitFor(
      () => {
        if (ended)
          throw new Error(`the step ended before it started its task: ${JSON.stringify(ended)}\n${logSince(mark)}`);
        if (!existsSync(tag)) return undefined;
        const m = /^(\d+) (\d+)$/.exec(readFileSync(tag, "utf8").trim());
        return m ? [Number(m[1]), Number(m[2])] : undefined;
      },
      30_000,
      { what: "the step's task to start" },
    );
    jobId = j as number;
    const taskPid = t as number;
    await waitFor(() => comm(taskPid) === "sleep", 10_000, { what: `task ${taskPid} to exec sleep` });
    const title = `slurmstepd: [${jobId}.0]`;
    const found = findProcesses((p) => p.comm === "slurmstepd" && p.cmdline === title);
    const stepd = parentPid(taskPid);
    assert.ok(
      found.some((p) => p.pid === stepd),
      `the parent of task ${taskPid} (pid ${stepd}, "${found.find((p) => p.pid === stepd)?.cmdline ?? ""}") ` +
        `is not among the processes titled "${title}": ${JSON.stringify(found)}`,
    );
    const snap = snapshot(stepd);
    return { jobId, taskPid, snap, log: logSince(mark) };
  } finally {
    if (jobId) runAs("root", ["scancel", String(jobId)]);
    await job;
    rmSync(tag, { force: true });
  }
}

describe("e2e: the wasm2c runtime inside a real slurmstepd: no SIGSEGV handler, no reservation", function () {
  let base: Step, plug: Step, soPath: string;

  before(async function () {
    requireRootAndSlurm(this);
    soPath = realpathSync(PLUGIN_SO);
    // The same kind of step in a cluster without the plugin, measured in
    // this run: the baseline for VmSize and VmPeak.
    startCluster({ plugstackLines: [] });
    base = await sleepingStepdSnapshot();
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    plug = await sleepingStepdSnapshot();
    console.log(`      without plugin: ${summary(base.snap)}`);
    console.log(`      with plugin:    ${summary(plug.snap)}`);
  });
  after(function () {
    stopCluster();
  });

  it("the plugin is loaded in the step's slurmstepd and ran there (maps, slurmd log); not in the baseline's", () => {
    const mapped = (s: ProcSnapshot): string[] => s.maps.filter((m) => m.path === soPath).map((m) => m.line);
    assert.ok(
      mapped(plug.snap).length > 0,
      `${soPath} is not in /proc/${plug.snap.pid}/maps; the .so mappings there: ` +
        JSON.stringify(
          plug.snap.maps.filter((m) => m.path.endsWith(".so") || m.path.includes(".so.")).map((m) => m.path),
        ),
    );
    assert.deepStrictEqual(mapped(base.snap), [], `the baseline slurmstepd (pid ${base.snap.pid}) maps the plugin`);
    assert.match(
      plug.log,
      new RegExp(`\\[${plug.jobId}\\.0\\] .*private-tmpdir: job ${plug.jobId}: private directories mounted`),
      `slurmd.log of the step:\n${plug.log}`,
    );
  });

  it("SIGSEGV and SIGBUS are not caught (bit sig-1 of SigCgt)", () => {
    const sig = runtimeViolations(plug.snap).filter((v) => v.check === "sigsegv" || v.check === "sigbus");
    assert.deepStrictEqual(sig, [], `${summary(plug.snap)}\nbaseline: ${summary(base.snap)}`);
  });

  it("no mapping ≥ 1 GiB; VmSize (less malloc arenas) within 64 MiB and VmPeak within 512 MiB of the plugin-less slurmstepd", () => {
    const v = runtimeViolations(plug.snap, { baseline: base.snap }).filter(
      (x) => x.check !== "sigsegv" && x.check !== "sigbus",
    );
    assert.deepStrictEqual(v, [], `${summary(plug.snap)}\nbaseline: ${summary(base.snap)}`);
    // and the baseline itself is the clean process it is taken to be
    assert.deepStrictEqual(runtimeViolations(base.snap), [], summary(base.snap));
    const d = vmSizeLessArenasKiB(plug.snap) - vmSizeLessArenasKiB(base.snap);
    console.log(
      `      VmSize ${plug.snap.vmSizeKiB} - ${base.snap.vmSizeKiB} kB (raw), ${d} kB without malloc arenas ` +
        `(${plug.snap.arenas} vs ${base.snap.arenas}); VmPeak ${plug.snap.vmPeakKiB} - ${base.snap.vmPeakKiB} kB`,
    );
  });
});

/* --------------------------------------------- the detector can fail */

const CONTROL_C = String.raw`
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static void handler(int sig) { (void) sig; }
int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "none";
	size_t n = (size_t) 8 << 30;
	char buf[64];
	if (!strcmp(mode, "hold") || !strcmp(mode, "transient")) {
		void *p = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) { perror("mmap"); return 1; }
		if (!strcmp(mode, "transient")) munmap(p, n);
	}
	if (!strcmp(mode, "hold")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = handler;
		if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGBUS, &sa, NULL)) { perror("sigaction"); return 1; }
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
`;

describe("e2e: the runtime-guarantee detector fails on processes that break the guarantees", function () {
  let control: string;
  before(function () {
    requireRootAndSlurm(this);
    mkdirSync(WORK, { recursive: true, mode: 0o755 });
    writeFileSync(join(WORK, "control.c"), CONTROL_C);
    control = join(WORK, "control");
    mustSh("cc", ["-std=gnu11", "-O2", "-Wall", "-Werror", "-o", control, join(WORK, "control.c")]);
  });

  it("node with a WebAssembly.Memory (V8's wasm trap handler catches SIGSEGV; ~8 GiB guard region): SIGSEGV, mapping, VmSize", async () => {
    const keep =
      "process.stdout.write('ready\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
    const plain = await holdAndSnapshot(process.execPath, ["-e", keep]);
    const wasm = await holdAndSnapshot(process.execPath, [
      "-e",
      `globalThis.m = new WebAssembly.Memory({ initial: 1 }); ${keep}`,
    ]);
    const v = runtimeViolations(wasm.snap, { baseline: plain.snap });
    console.log(`      node plain: ${summary(plain.snap)}\n      node wasm:  ${summary(wasm.snap)}`);
    for (const c of ["sigsegv", "mapping", "vmsize-delta"] as const)
      assert.ok(checksOf(v).includes(c), `not flagged: ${c}; flagged: ${JSON.stringify(v)}\n${summary(wasm.snap)}`);
    assert.ok((largestMapping(wasm.snap.maps)?.size ?? 0n) >= BigInt(4 * GiB), summary(wasm.snap));
  });

  it("a C program holding 8 GiB PROT_NONE with SIGSEGV/SIGBUS handlers: every check fails", async () => {
    const none = await holdAndSnapshot(control, ["none"]);
    const hold = await holdAndSnapshot(control, ["hold"]);
    assert.deepStrictEqual(runtimeViolations(none.snap, { maxVmPeakKiB: GiB / KiB }), [], summary(none.snap));
    const v = runtimeViolations(hold.snap, { baseline: none.snap });
    assert.deepStrictEqual(
      checksOf(v),
      ["mapping", "sigbus", "sigsegv", "vmpeak-delta", "vmsize-delta"],
      JSON.stringify(v, null, 1),
    );
    assert.deepStrictEqual(checksOf(runtimeViolations(hold.snap, { maxVmPeakKiB: GiB / KiB })), [
      "mapping",
      "sigbus",
      "sigsegv",
      "vmpeak",
    ]);
  });

  it("a reservation mapped and unmapped again is still seen, in VmPeak", async () => {
    const none = await holdAndSnapshot(control, ["none"]);
    const transient = await holdAndSnapshot(control, ["transient"]);
    assert.deepStrictEqual(
      checksOf(runtimeViolations(transient.snap, { baseline: none.snap })),
      ["vmpeak-delta"],
      summary(transient.snap),
    );
    assert.deepStrictEqual(checksOf(runtimeViolations(transient.snap, { maxVmPeakKiB: GiB / KiB })), ["vmpeak"]);
  });
});

/* ------------------------------------------------- the trap path, in C */

// The link of native/Makefile, in its order (entry/plugin.o first): the
// plugin's sources as native/sources.txt lists them, so a new source file
// cannot make the relink differ silently.
function makefileObjects(): string[] {
  const srcs = execFileSync("sh", [join(REPO_ROOT, "native", "tools", "sources.sh"), "plugin"], { encoding: "utf8" })
    .trim()
    .split("\n");
  assert.ok(srcs[0] === "entry/plugin.c", `native/sources.txt must list entry/plugin.c first: ${srcs.join(" ")}`);
  return [...srcs.map((c) => c.replace(/\.c$/, ".o")), "core_wasm.o"];
}
const SO_OBJS = makefileObjects();
const OBJS = SO_OBJS.slice(1);

interface Build {
  /** the .o files (dist/native of a build tree) */
  objDir: string;
  /** its generated headers (w2c_config.h) and its native/ sources */
  genDir: string;
  srcDir: string;
  how: string;
}

function sameBytes(a: string, b: string): boolean {
  return existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

function findBuild(): Build {
  const tree = (objDir: string, how: string): Build => ({
    objDir,
    genDir: join(objDir, "..", "gen"),
    srcDir: join(objDir, "..", "..", "native"),
    how,
  });
  const explicit = process.env["PTD_PLUGIN_OBJS"];
  if (explicit) return tree(explicit, "PTD_PLUGIN_OBJS");
  const hasObjs = (d: string): boolean => SO_OBJS.every((o) => existsSync(join(d, o)));
  const beside = dirname(realpathSync(PLUGIN_SO));
  if (hasObjs(beside)) return tree(beside, `beside ${PLUGIN_SO}`);
  const builds = "/var/lib/private-tmpdir-build";
  const tried: string[] = [beside];
  for (const name of existsSync(builds) ? readdirSync(builds).sort() : []) {
    const d = join(builds, name, "dist", "native");
    tried.push(d);
    if (hasObjs(d) && sameBytes(join(d, "private-tmpdir.so"), PLUGIN_SO))
      return tree(d, `${d}/private-tmpdir.so has the bytes of ${PLUGIN_SO}`);
  }
  throw new Error(`no build objects for ${PLUGIN_SO} (set PTD_PLUGIN_OBJS); looked in: ${tried.join(", ")}`);
}

function parseKv(out: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const line of out.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return kv;
}

describe("native: the .so's own objects: a trap fails closed, the runtime recovers, no handler, no reservation", function () {
  let build: Build, driver: string, held: Held, kv: Map<string, string>;

  before(async function () {
    requireRootAndSlurm(this);
    build = findBuild();
    const dir = join(WORK, "driver");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const config = join(build.genDir, "w2c_config.h");
    driver = join(dir, "trap-driver");
    mustSh("cc", [
      "-std=gnu11",
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-include",
      config,
      `-I${build.srcDir}`,
      `-I${build.genDir}`,
      "-I/usr/src/wasm2c",
      "-o",
      `${driver}.part`,
      join(REPO_ROOT, "tests", "native", "trap-driver.c"),
      ...OBJS.map((o) => join(build.objDir, o)),
      "-lm",
    ]);
    renameSync(`${driver}.part`, driver);
    held = await holdAndSnapshot(driver, ["--wait"]);
    kv = parseKv(held.stdout);
    console.log(`      objects: ${build.objDir} (${build.how})`);
    console.log(
      `      ${readFileSync(config, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("#define WASM_RT"))
        .join("; ")}`,
    );
  });

  it("those objects, linked as native/Makefile does, give PLUGIN_SO byte for byte", () => {
    const so = join(WORK, "driver", "relinked.so");
    mustSh("cc", ["-shared", "-Wl,--build-id=none", "-Wl,-z,now", "-o", so, ...SO_OBJS], build.objDir);
    mustSh("strip", ["--strip-unneeded", so]);
    assert.ok(
      sameBytes(so, PLUGIN_SO),
      `${so} (from ${build.objDir}) differs from ${PLUGIN_SO}: not the objects of the .so under test`,
    );
  });

  it("a trap in the core fails the call closed (-1, TRAP), and the next call succeeds", () => {
    const out = `driver output:\n${held.stdout}`;
    assert.equal(held.status, 0, out);
    assert.equal(kv.get("trap.rc"), "-1", out);
    assert.equal(kv.get("trap.code"), "TRAP", out);
    assert.match(kv.get("trap.message") ?? "", /the planning core trapped/, out);
    assert.equal(kv.get("trap.hook_consumed"), "yes", out);
    assert.equal(kv.get("trap.trace_lines"), "0", out);
    assert.equal(kv.get("recover.rc"), "0", out);
    assert.ok(Number(kv.get("recover.trace_lines")) > 0, out);
    assert.equal(kv.get("bad_option.rc"), "-1", out);
    assert.equal(kv.get("bad_option.code"), "NOT_ABSOLUTE", out);
  });

  it("after both calls: SIGSEGV and SIGBUS at their defaults, no alternate stack, no mapping ≥ 1 GiB, VmPeak < 1 GiB (the driver's own report)", () => {
    const out = `driver output:\n${held.stdout}`;
    assert.equal(kv.get("sigsegv"), "default", out);
    assert.equal(kv.get("sigbus"), "default", out);
    assert.equal(kv.get("altstack"), "disabled", out);
    assert.ok(Number(kv.get("largest_mapping_bytes")) < GiB, out);
    assert.ok(Number(kv.get("vmpeak_kib")) < GiB / KiB, out);
  });

  it("the same, as the detector reads /proc/<driver pid>", () => {
    assert.deepStrictEqual(runtimeViolations(held.snap, { maxVmPeakKiB: GiB / KiB }), [], summary(held.snap));
    assert.ok(held.snap.vmPeakKiB < (64 * MiB) / KiB, summary(held.snap));
  });
});
