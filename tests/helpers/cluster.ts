// The lab's Slurm cluster, driven through tests/slurm/cluster.sh: whether it
// can run here, (re)starting it with a plugstack.conf, restarting slurmd,
// stopping it, what it recorded of itself, and its node's state.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { PATH, explain, run, type RunResult } from "./clients.js";
import { CLUSTER_ENV, LAB, PLUGSTACK_CONF } from "./lab.js";
import { REPO_ROOT } from "./repo.js";
import { skipOrFail } from "./root.js";
import { waitFor } from "./wait.js";

export const CLUSTER_SH = join(REPO_ROOT, "tests", "slurm", "cluster.sh");

/** One node of the lab as the host sees it. */
export interface LabNode {
  /** Slurm's NodeName */
  name: string;
  /** What gethostname() says on the node: the NodeName with netns, this
   * machine's name without. */
  hostname: string;
  /** slurmd's pid in this (the host's) PID namespace */
  slurmdPid: number;
  /** The node's own address (netns only) */
  addr?: string;
  /** The node's files as its processes see them: /proc/<slurmd>/root */
  root: string;
}

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
  /** Each node a host of its own (cluster.sh NETNS=1): own PID, mount, UTS
   * and network namespaces, hostname = NodeName, own address on a bridge. */
  netns: boolean;
  /** Every node, the first one first. */
  nodes: LabNode[];
  /** netns: the address of slurmctld (the host's end of the bridge) */
  ctldAddr?: string;
}

/** The running cluster as cluster.sh recorded it; throws when none runs. */
export function clusterInfo(): ClusterInfo {
  if (!existsSync(CLUSTER_ENV)) throw new Error(`no cluster running (${CLUSTER_ENV} missing)`);
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
  const netns = kv.get("NETNS") === "1";
  const host = hostname().split(".")[0] ?? hostname();
  const node = (name: string, pid: number, addr: string | undefined): LabNode => ({
    name,
    hostname: netns ? name : host,
    slurmdPid: pid,
    ...(addr ? { addr } : {}),
    root: `/proc/${pid}/root`,
  });
  const nodes = [node(get("NODE"), Number(get("SLURMD_PID")), kv.get("NODE1_ADDR"))];
  if (kv.get("NODE2")) nodes.push(node(get("NODE2"), Number(get("SLURMD2_PID")), kv.get("NODE2_ADDR")));
  return {
    node: get("NODE"),
    slurmdPid: Number(get("SLURMD_PID")),
    slurmctldPid: Number(get("SLURMCTLD_PID")),
    logPath: get("SLURMD_LOG"),
    slurmConf: get("SLURM_CONF"),
    plugstack: get("PLUGSTACK"),
    sharedRoot: get("SHARED_ROOT") === "1",
    ...(kv.get("NODE2") ? { node2: get("NODE2"), slurmd2Pid: Number(get("SLURMD2_PID")) } : {}),
    netns,
    nodes,
    ...(kv.get("CTLD_ADDR") ? { ctldAddr: get("CTLD_ADDR") } : {}),
  };
}

function clusterSh(
  verb: string,
  env: Record<string, string> = {},
  timeoutMs = 120_000,
  prefix: readonly string[] = [],
): RunResult {
  // CTLD_PORT/SLURMD_PORT (and for netns LAB_NET/LAB_BRIDGE) of cluster.sh
  // let a second lab run beside this one.
  const ports = Object.fromEntries(
    ["CTLD_PORT", "SLURMD_PORT", "LAB_NET", "LAB_BRIDGE"].flatMap((k) =>
      process.env[k] ? [[k, process.env[k] as string]] : [],
    ),
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
  /** The nodes' TmpDisk in MiB (jobs may ask --tmp up to it); none by default. */
  tmpDiskMb?: number;
  /** 2: a second node with its own /tmp (see cluster.sh NODES). */
  nodes?: 1 | 2;
  /** With nodes: 2, each node a host of its own: own PID, mount, UTS and
   * network namespaces, hostname and address (cluster.sh NETNS=1). */
  netns?: boolean;
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
  if (opts.netns && opts.nodes !== 2) throw new Error("startCluster: netns needs nodes: 2");
  const stop = clusterSh("stop", { KEEP_MUNGE: "1" });
  if (stop.status !== 0) throw new Error(explain("cluster.sh stop", stop));

  mkdirSync(dirname(PLUGSTACK_CONF), { recursive: true, mode: 0o755 });
  writeFileSync(PLUGSTACK_CONF, opts.plugstackLines.map((l) => `${l}\n`).join(""), { mode: 0o644 });
  // Generous: on a fresh CI machine this includes apt-get install.
  const start = clusterSh(
    "start",
    {
      PLUGSTACK: PLUGSTACK_CONF,
      // PTD_SHARED_ROOT=1 runs every suite against a systemd-like shared "/".
      SHARED_ROOT: opts.sharedRoot || process.env["PTD_SHARED_ROOT"] === "1" ? "1" : "0",
      EXTRA_CONF: opts.extraConf ?? "",
      TMP_DISK: opts.tmpDiskMb === undefined ? "" : String(opts.tmpDiskMb),
      NODES: String(opts.nodes ?? 1),
      NETNS: opts.netns ? "1" : "0",
    },
    600_000,
    opts.pinCpu ? ["taskset", "-c", firstCpu()] : [],
  );
  if (start.status !== 0)
    throw new Error(`${explain("cluster.sh start", start)}\nplugstack.conf:\n${opts.plugstackLines.join("\n")}`);
  return clusterInfo();
}

/** slurmd killed as in a crash (SIGKILL: its jobs' slurmstepd go on) and
 * started again, downMs later (jobs may end meanwhile); returns once it has
 * started. One node only. */
export function restartSlurmd(downMs = 0): ClusterInfo {
  const r = clusterSh("restart-slurmd", { DOWN_MS: String(downMs) });
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

/** sinfo's state of our node: "idle", "drained", "down*", ... */
export function nodeState(): string {
  const r = run("sinfo", ["-h", "-n", nodeName(), "-o", "%T"], { timeoutMs: 15_000 });
  if (r.status !== 0) throw new Error(explain("sinfo", r));
  return r.stdout.trim();
}

/** sinfo's state of our node once no job holds it (not completing,
 * allocated or mixed), within 30 s: where a failed job left it. */
export async function settledNode(): Promise<string> {
  return waitFor(
    () => {
      const s = nodeState();
      return /completing|allocated|mixed/.test(s) ? "" : s;
    },
    30_000,
    { what: "the job to leave the node" },
  );
}

/** Resume a drained node (a failing batch job or `required` plugin drains
 * it); waits until it is idle. */
export function resumeNode(): void {
  const r = clusterSh("resume", {}, 60_000);
  if (r.status !== 0) throw new Error(explain("cluster.sh resume", r));
}

function haveCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { env: { PATH } }).status === 0;
}

/** Call after requireRootAndSlurm in suites that start a netns lab
 * (startCluster({ netns: true })): it needs ip (iproute2) and nsenter. */
export function requireNetns(ctx: Mocha.Context): void {
  const missing = ["ip", "nsenter"].filter((c) => !haveCommand(c));
  if (missing.length > 0)
    skipOrFail(
      ctx,
      `a lab of hosts in their own namespaces cannot run: missing ${missing.join(", ")} (iproute2, util-linux)`,
    );
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
  if (missing.length > 0) reasons.push(`missing ${missing.join(", ")} (run: sudo ${CLUSTER_SH} install)`);
  const labNorm = `${LAB.replace(/\/+$/, "")}/`;
  if (labNorm.startsWith("/tmp/") || labNorm.startsWith("/var/tmp/"))
    throw new Error(`PTD_LAB=${LAB} is under /tmp; jobs would not see it`);
  if (reasons.length === 0) return;
  const msg = `real-Slurm tests cannot run: ${reasons.join("; ")}`;
  skipOrFail(ctx, msg);
}
