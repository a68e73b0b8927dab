// A real single-node Slurm for the end-to-end tests, driven through
// tests/slurm/cluster.sh (which documents the cluster's layout).
//
// Everything jobs or slurmstepd touch lives under PTD_LAB
// (/var/spool/private-tmpdir-lab by default), never under /tmp: the plugin
// gives jobs a private /tmp. Client commands get SLURM_CONF explicitly.

import { spawn, spawnSync } from "node:child_process";
import {
	closeSync,
	existsSync,
	fstatSync,
	mkdirSync,
	openSync,
	readFileSync,
	readSync,
	writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/* ------------------------------------------------------------------ paths */

function findRepoRoot(start: string): string {
	// The helper runs from tests/helpers/ (ts) or build/ts/tests/helpers/
	// (compiled); the repository is the first directory up with both.
	for (let dir = start; ; dir = dirname(dir)) {
		if (
			existsSync(join(dir, "package.json")) &&
			existsSync(join(dir, "tests", "slurm", "cluster.sh"))
		)
			return dir;
		if (dirname(dir) === dir)
			throw new Error(
				`no repository (package.json + tests/slurm/cluster.sh) above ${start}`,
			);
	}
}

export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
/** The plugin as `make` builds it; never under /tmp (jobs could not see it).
 * Inside a release root (tests/slurm/release-root.sh) it is the .so built
 * there from the source tarball against that release's Slurm. */
export const PLUGIN_SO =
	process.env["PTD_PLUGIN_SO"] ?? join(REPO_ROOT, "dist", "native", "private-tmpdir.so");
/** Its build without a job epilog, for PrologFlags=Contain: installed and
 * built beside it. */
export const CONTAIN_SO = join(dirname(PLUGIN_SO), "private-tmpdir-contain.so");
export const CLUSTER_SH = join(REPO_ROOT, "tests", "slurm", "cluster.sh");

export const LAB = process.env["PTD_LAB"] ?? "/var/spool/private-tmpdir-lab";
export const SLURM_CONF = join(LAB, "etc", "slurm.conf");
export const PLUGSTACK_CONF = join(LAB, "etc", "plugstack.conf");
/** Job output and the working directory of every command: mode 1777. */
export const OUT_DIR = join(LAB, "out");
export const SLURMD_LOG = join(LAB, "log", "slurmd.log");
export const SLURMCTLD_LOG = join(LAB, "log", "slurmctld.log");
const CLUSTER_ENV = join(LAB, "run", "cluster.env");

/** Unprivileged users cluster.sh creates (normal users, homes in /home). */
export const ALICE = "ptd-alice";
export const MALLORY = "ptd-mallory";

const PATH =
	process.env["PATH"] ??
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A plugstack.conf line loading our plugin with the given arguments. */
export function pluginLine(
	args: readonly string[] = [],
	kind: "required" | "optional" = "required",
	so: string = PLUGIN_SO,
): string {
	return [kind, so, ...args].join(" ");
}

/** What srun prints when a required plugin fails the step: 22.05 and 24.11
 * say "Plugin initialization failed", 26.05 "Unspecified error" (or, for a
 * failing slurm_spank_init, "Spank plugin failure, job failed"). srun may
 * still exit 0, so tests look for this (and for the plugin's own log line). */
export const LAUNCH_FAILED = /task \d+ launch failed: (Plugin initialization failed|Unspecified error|Spank plugin failure, job failed)/;

/* --------------------------------------------------------------- commands */

export interface RunResult {
	/** Exit status; null when killed by a signal (see `signal`). */
	status: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	timedOut: boolean;
}

interface RunOptions {
	timeoutMs?: number;
	env?: Record<string, string>;
	cwd?: string;
	input?: string;
}

/** Environment for Slurm clients: small and predictable (srun exports it
 * to the job), with SLURM_CONF so no /etc/slurm/slurm.conf is needed. */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	return { PATH, LANG: "C.UTF-8", SLURM_CONF, ...extra };
}

function run(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
	const r = spawnSync(cmd, args, {
		cwd: opts.cwd ?? "/",
		env: clientEnv(opts.env),
		input: opts.input ?? "",
		encoding: "utf8",
		timeout: opts.timeoutMs ?? 60_000,
		killSignal: "SIGTERM",
		maxBuffer: 64 * 1024 * 1024,
	});
	const timedOut =
		(r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
	if (r.error && !timedOut)
		throw new Error(`cannot run ${cmd}: ${r.error.message}`);
	return {
		status: r.status,
		signal: r.signal,
		stdout: r.stdout ?? "",
		stderr: r.stderr ?? "",
		timedOut,
	};
}

function explain(what: string, r: RunResult): string {
	const how = r.timedOut
		? "timed out"
		: r.signal
			? `killed by ${r.signal}`
			: `exited ${r.status}`;
	return `${what} ${how}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Run `args` as `user` (runuser -u user -- args), cwd $PTD_LAB/out, with
 * SLURM_CONF set. Default timeout 60 s (then SIGTERM; timedOut is true). */
export function runAs(
	user: string,
	args: readonly string[],
	opts: { timeoutMs?: number; env?: Record<string, string>; cwd?: string; input?: string } = {},
): RunResult {
	return run("runuser", ["-u", user, "--", ...args], { cwd: OUT_DIR, ...opts });
}

/** Like runAs, but returns at once: for jobs that must overlap. */
export function spawnAs(
	user: string,
	args: readonly string[],
	timeoutMs = 60_000,
): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		const child = spawn("runuser", ["-u", user, "--", ...args], {
			cwd: OUT_DIR,
			env: clientEnv(),
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "", stderr = "", timedOut = false;
		const timer = setTimeout(() => { timedOut = true; child.kill("SIGTERM"); }, timeoutMs);
		child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
		child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
		child.on("error", reject);
		child.on("close", (status, signal) => {
			clearTimeout(timer);
			resolve({ status, signal, stdout, stderr, timedOut });
		});
	});
}

/* ---------------------------------------------------------------- cluster */

export interface ClusterInfo {
	node: string;
	slurmdPid: number;
	slurmctldPid: number;
	/** slurmd.log (the plugin's slurm_debug lines land here: SlurmdDebug=debug) */
	logPath: string;
	slurmConf: string;
	plugstack: string;
	sharedRoot: boolean;
	/** With nodes: 2: the second node and its slurmd (own /tmp, /var/tmp). */
	node2?: string;
	slurmd2Pid?: number;
}

/** The running cluster as cluster.sh recorded it; throws when none runs. */
export function clusterInfo(): ClusterInfo {
	if (!existsSync(CLUSTER_ENV))
		throw new Error(`no cluster running (${CLUSTER_ENV} missing)`);
	const kv = new Map<string, string>();
	for (const line of readFileSync(CLUSTER_ENV, "utf8").split("\n")) {
		const eq = line.indexOf("=");
		if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
	}
	const get = (k: string): string => {
		const v = kv.get(k);
		if (v === undefined) throw new Error(`${CLUSTER_ENV}: no ${k}`);
		return v;
	};
	return {
		node: get("NODE"),
		slurmdPid: Number(get("SLURMD_PID")),
		slurmctldPid: Number(get("SLURMCTLD_PID")),
		logPath: get("SLURMD_LOG"),
		slurmConf: get("SLURM_CONF"),
		plugstack: get("PLUGSTACK"),
		sharedRoot: get("SHARED_ROOT") === "1",
		...(kv.get("NODE2") ? { node2: get("NODE2"), slurmd2Pid: Number(get("SLURMD2_PID")) } : {}),
	};
}

function clusterSh(
	verb: string,
	env: Record<string, string> = {},
	timeoutMs = 120_000,
	prefix: readonly string[] = [],
): RunResult {
	// CTLD_PORT/SLURMD_PORT (cluster.sh) let a second lab run beside this one.
	const ports = Object.fromEntries(
		["CTLD_PORT", "SLURMD_PORT"].flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])),
	);
	const argv = [...prefix, "bash", CLUSTER_SH, verb];
	return run(argv[0] as string, argv.slice(1), {
		env: { PTD_LAB: LAB, ...ports, ...env },
		timeoutMs,
	});
}

export interface StartOptions {
	/** Lines of $PTD_LAB/etc/plugstack.conf, e.g. [pluginLine(["base=/tmp"])] */
	plugstackLines: readonly string[];
	/** slurmd in its own mount namespace with a SHARED "/" (systemd-like). */
	sharedRoot?: boolean;
	/** Extra slurm.conf lines (newline separated). */
	extraConf?: string;
	/** 2: a second node with its own /tmp (see cluster.sh NODES). */
	nodes?: 1 | 2;
	/** Every daemon on one CPU (see firstCpu()). */
	pinCpu?: boolean;
}

/** The first CPU this process may run on (Cpus_allowed_list: "0-1", "2,5").
 *
 * Why tests pin daemons to it: Slurm's namespace plugins keep a job's
 * namespace alive by bind-mounting /proc/<pid>/ns/mnt, which the kernel
 * refuses (EINVAL) unless the new namespace's id is above the caller's.
 * Linux 6.18 hands out those ids in per-CPU batches, so when slurmd runs in a
 * non-initial namespace, as in a release root, such binds fail at random
 * (seen: 20 of 20 from one CPU, 0 of 20 from the other). On a real node
 * slurmd is in the initial namespace, whose id is below every other. */
export function firstCpu(): string {
	const m = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"));
	return m?.[1] ?? "0";
}

/** (Re)start the cluster with this plugstack: stop, then start. Throws with
 * cluster.sh's output (it prints log tails on failure). */
export function startCluster(opts: StartOptions): ClusterInfo {
	const stop = clusterSh("stop", { KEEP_MUNGE: "1" });
	if (stop.status !== 0) throw new Error(explain("cluster.sh stop", stop));

	mkdirSync(dirname(PLUGSTACK_CONF), { recursive: true, mode: 0o755 });
	writeFileSync(
		PLUGSTACK_CONF,
		opts.plugstackLines.map((l) => `${l}\n`).join(""),
		{ mode: 0o644 },
	);
	// Generous: on a fresh CI machine this includes apt-get install.
	const start = clusterSh(
		"start",
		{
			PLUGSTACK: PLUGSTACK_CONF,
			// PTD_SHARED_ROOT=1 runs every suite against a systemd-like shared "/".
			SHARED_ROOT: opts.sharedRoot || process.env["PTD_SHARED_ROOT"] === "1" ? "1" : "0",
			EXTRA_CONF: opts.extraConf ?? "",
			NODES: String(opts.nodes ?? 1),
		},
		600_000,
		opts.pinCpu ? ["taskset", "-c", firstCpu()] : [],
	);
	if (start.status !== 0)
		throw new Error(
			`${explain("cluster.sh start", start)}\nplugstack.conf:\n${opts.plugstackLines.join("\n")}`,
		);
	return clusterInfo();
}

/** slurmd killed as in a crash (SIGKILL: its jobs' slurmstepd go on) and
 * started again; returns once it has started. One node only. */
export function restartSlurmd(): ClusterInfo {
	const r = clusterSh("restart-slurmd");
	if (r.status !== 0) throw new Error(explain("cluster.sh restart-slurmd", r));
	return clusterInfo();
}

/** Stop our daemons (munged too). */
export function stopCluster(): void {
	const r = clusterSh("stop");
	if (r.status !== 0) throw new Error(explain("cluster.sh stop", r));
}

function nodeName(): string {
	try {
		return clusterInfo().node;
	} catch {
		return hostname().split(".")[0] ?? hostname();
	}
}

/** The Slurm release the tests run against (slurmd -V), as [major, minor],
 * e.g. [24, 11]: for behaviour that only some releases have. */
export function slurmVersion(): [number, number] {
	const r = run("slurmd", ["-V"], { timeoutMs: 15_000 });
	const m = /^slurm(?:-wlm)? (\d+)\.(\d+)\./.exec(r.stdout.trim());
	if (r.status !== 0 || !m) throw new Error(explain("slurmd -V", r));
	return [Number(m[1]), Number(m[2])];
}

/** "22.05", "24.11", ... */
export function slurmRelease(): string {
	const [a, b] = slurmVersion();
	return `${a}.${String(b).padStart(2, "0")}`;
}

/** True when the running Slurm is at least major.minor. */
export function slurmAtLeast(major: number, minor: number): boolean {
	const [a, b] = slurmVersion();
	return a > major || (a === major && b >= minor);
}

/** sinfo's state of our node: "idle", "drained", "down*", ... */
export function nodeState(): string {
	const r = run("sinfo", ["-h", "-n", nodeName(), "-o", "%T"], { timeoutMs: 15_000 });
	if (r.status !== 0) throw new Error(explain("sinfo", r));
	return r.stdout.trim();
}

/** Resume a drained node (a failing batch job or `required` plugin drains
 * it); waits until it is idle. */
export function resumeNode(): void {
	const r = clusterSh("resume", {}, 60_000);
	if (r.status !== 0) throw new Error(explain("cluster.sh resume", r));
}

/* ------------------------------------------------------------- batch jobs */

export interface BatchResult {
	jobId: number;
	/** The job's exit code; 128+signal when a signal ended it. */
	status: number;
	/** Final JobState: COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ... */
	state: string;
	/** The job's stdout+stderr ($PTD_LAB/out/<jobId>.out). */
	output: string;
}

const FINAL_STATES = new Set([
	"COMPLETED",
	"FAILED",
	"CANCELLED",
	"TIMEOUT",
	"NODE_FAIL",
	"OUT_OF_MEMORY",
	"BOOT_FAIL",
	"DEADLINE",
	"PREEMPTED",
]);

/** Submit `script` as `user` (sbatch, -o $PTD_LAB/out/%j.out) and wait until
 * the job is finished, epilog included (JobState leaves COMPLETING only after
 * the SPANK epilog ran). A script without "#!" gets "#!/bin/bash".
 *
 * Waits by polling scontrol every 50 ms rather than `sbatch --wait`, whose
 * own polling took 10 s per job on 22.05. On timeout the job is cancelled
 * and this throws (check nodeState(): a failed batch launch drains it). */
export function sbatchWait(
	user: string,
	script: string,
	opts: { args?: readonly string[]; timeoutMs?: number; env?: Record<string, string> } = {},
): BatchResult {
	const timeoutMs = opts.timeoutMs ?? 60_000;
	const body = script.startsWith("#!") ? script : `#!/bin/bash\n${script}`;
	const sub = runAs(
		user,
		["sbatch", "--parsable", "-o", join(OUT_DIR, "%j.out"), ...(opts.args ?? [])],
		{ input: body, timeoutMs: 30_000, ...(opts.env ? { env: opts.env } : {}) },
	);
	const m = /^(\d+)/.exec(sub.stdout.trim());
	if (sub.status !== 0 || !m?.[1]) throw new Error(explain("sbatch", sub));
	const jobId = Number(m[1]);

	const deadline = Date.now() + timeoutMs;
	let last = "";
	for (;;) {
		const r = run("scontrol", ["-o", "show", "job", String(jobId)], { timeoutMs: 15_000 });
		last = r.stdout;
		const state = /\bJobState=(\S+)/.exec(r.stdout)?.[1];
		if (r.status === 0 && state !== undefined && FINAL_STATES.has(state)) {
			const ec = /\bExitCode=(\d+):(\d+)/.exec(r.stdout);
			const code = Number(ec?.[1] ?? 255);
			const sig = Number(ec?.[2] ?? 0);
			const outFile = join(OUT_DIR, `${jobId}.out`);
			return {
				jobId,
				status: sig !== 0 ? 128 + sig : code,
				state,
				output: existsSync(outFile) ? readFileSync(outFile, "utf8") : "",
			};
		}
		if (Date.now() > deadline) {
			run("scancel", [String(jobId)], { timeoutMs: 15_000 });
			throw new Error(
				`batch job ${jobId} not finished after ${timeoutMs} ms (node ${nodeState()}):\n${last}\n${logTails()}`,
			);
		}
		sleepMs(50);
	}
}

/** Submit without waiting: for tests that act on the host while the job runs. */
export function submitBatch(user: string, script: string, args: readonly string[] = []): number {
	const body = script.startsWith("#!") ? script : `#!/bin/bash\n${script}`;
	const sub = runAs(user, ["sbatch", "--parsable", "-o", join(OUT_DIR, "%j.out"), ...args], {
		input: body,
		timeoutMs: 30_000,
	});
	const m = /^(\d+)/.exec(sub.stdout.trim());
	if (sub.status !== 0 || !m?.[1]) throw new Error(explain("sbatch", sub));
	return Number(m[1]);
}

/** Wait (without blocking the event loop) until a batch job is finished. */
export async function waitBatch(jobId: number, timeoutMs = 60_000): Promise<BatchResult> {
	const state = await waitFor(() => {
		const r = run("scontrol", ["-o", "show", "job", String(jobId)], { timeoutMs: 15_000 });
		const st = /\bJobState=(\S+)/.exec(r.stdout)?.[1];
		return st !== undefined && FINAL_STATES.has(st) ? r.stdout : undefined;
	}, timeoutMs, { what: `batch job ${jobId}`, intervalMs: 50 });
	const ec = /\bExitCode=(\d+):(\d+)/.exec(state);
	const outFile = join(OUT_DIR, `${jobId}.out`);
	return {
		jobId,
		status: Number(ec?.[2] ?? 0) !== 0 ? 128 + Number(ec?.[2]) : Number(ec?.[1] ?? 255),
		state: /\bJobState=(\S+)/.exec(state)?.[1] ?? "",
		output: existsSync(outFile) ? readFileSync(outFile, "utf8") : "",
	};
}

/* ------------------------------------------------------------------- logs */

/** Whole slurmd.log of the current cluster start ("" before the first). */
export function slurmdLog(): string {
	return existsSync(SLURMD_LOG) ? readFileSync(SLURMD_LOG, "utf8") : "";
}

/** A mark for logSince(): slurmd.log's current size in bytes. */
export function logMark(path: string = SLURMD_LOG): number {
	if (!existsSync(path)) return 0;
	const fd = openSync(path, "r");
	try {
		return fstatSync(fd).size;
	} finally {
		closeSync(fd);
	}
}

/** slurmd.log from byte offset `mark` (from logMark()) on. Marks are valid
 * until the next startCluster() (which rotates the log). */
export function logSince(mark: number, path: string = SLURMD_LOG): string {
	if (!existsSync(path)) return "";
	const fd = openSync(path, "r");
	try {
		const size = fstatSync(fd).size;
		if (mark >= size) return "";
		const buf = Buffer.alloc(size - mark);
		let got = 0;
		while (got < buf.length) {
			const n = readSync(fd, buf, got, buf.length - got, mark + got);
			if (n === 0) break;
			got += n;
		}
		return buf.subarray(0, got).toString("utf8");
	} finally {
		closeSync(fd);
	}
}

/** Last lines of slurmctld.log and slurmd.log, for error messages. */
export function logTails(lines = 30): string {
	return [SLURMCTLD_LOG, SLURMD_LOG]
		.map((p) => {
			const all = existsSync(p) ? readFileSync(p, "utf8").split("\n") : [];
			return `==> ${p} <==\n${all.slice(-lines - 1).join("\n")}`;
		})
		.join("\n");
}

/* ---------------------------------------------------------------- polling */

function sleepMs(ms: number): void {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

type Falsy = false | null | undefined | 0 | "";

/** Poll `pred` every `intervalMs` until it returns a truthy value (which is
 * returned); reject after `timeoutMs` with `what` in the message. Use it for
 * effects of the epilog, which runs after srun returns. */
export async function waitFor<T>(
	pred: () => T | Falsy,
	timeoutMs: number,
	opts: { intervalMs?: number; what?: string } = {},
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = pred();
		if (v) return v as T;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? pred.toString()}`);
		await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
	}
}


/** slurmd's log since `mark`, once it matches `re`. A job's removal line
 * comes from the detached remover, which lets the job's end be reported
 * first (PTD_REMOVER_SETTLE_MS in native/entry/plugin.c): it lands after srun or
 * sbatch has returned. */
export async function logWhen(mark: number, re: RegExp, what: string, timeoutMs = 20_000): Promise<string> {
	return waitFor(() => {
		const log = logSince(mark);
		return re.test(log) && log;
	}, timeoutMs, { what: `${what}: ${re.source}` });
}

/* ----------------------------------------------------------------- mounts */

/** Raw lines of /proc/<pid|self>/mountinfo. */
export function hostMountinfo(pid?: number): string[] {
	return readFileSync(`/proc/${pid ?? "self"}/mountinfo`, "utf8")
		.split("\n")
		.filter((l) => l !== "");
}

/** Mount points (field 5 of mountinfo, octal escapes such as \040 decoded). */
export function mountPoints(pid?: number): string[] {
	return hostMountinfo(pid).map((l) =>
		(l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) =>
			String.fromCharCode(parseInt(o, 8)),
		),
	);
}

/* ----------------------------------------------------------------- gating */

function haveCommand(name: string): boolean {
	return spawnSync("sh", ["-c", `command -v ${name}`], { env: { PATH } }).status === 0;
}

/** Call first (e.g. in `before`) in suites that need root and a real Slurm.
 * When they are missing: under CI (process.env.CI set) throw, so the suite
 * fails loudly; elsewhere skip the suite and say why. */
export function requireRootAndSlurm(ctx: Mocha.Context): void {
	const reasons: string[] = [];
	if (process.getuid?.() !== 0) reasons.push("not running as root");
	const missing = ["slurmctld", "slurmd", "srun", "sbatch", "scontrol", "sinfo", "munged", "runuser", "unshare"].filter(
		(c) => !haveCommand(c),
	);
	if (missing.length > 0)
		reasons.push(`missing ${missing.join(", ")} (run: sudo ${CLUSTER_SH} install)`);
	const labNorm = `${LAB.replace(/\/+$/, "")}/`;
	if (labNorm.startsWith("/tmp/") || labNorm.startsWith("/var/tmp/"))
		throw new Error(`PTD_LAB=${LAB} is under /tmp; jobs would not see it`);
	if (reasons.length === 0) return;
	const msg = `real-Slurm tests cannot run: ${reasons.join("; ")}`;
	if (process.env["CI"]) throw new Error(`${msg} (CI is set: failing instead of skipping)`);
	console.warn(`    SKIPPED: ${msg}`);
	ctx.skip();
}
