#!/usr/bin/env node
// private-tmpdir: the admin's view of the plugin, from the same core.wasm the
// plugin embeds. `plan` and `check` ask the wasm core (never a second
// implementation); `cleanup` runs the plugin's own epilog C through the
// addon. Usage, exit codes and the JSON are documented in docs/cli.md.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statfsSync, statSync } from "node:fs";
import { posix } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { byteString, shown, toBytes } from "./bytes.js";
import { Core, coreSha256, thisNodeCores, thisNodeMemMb, type Job, type PlanStep } from "./core.js";
import { argsLine, coreLine } from "./core-line.js";
import { CoreError } from "./errors.js";
import { EXIT_PIPE, err, out, OutputClosed, OutputFailed } from "./output.js";
import { planLine, planText, PLAN_SCHEMA, type PlanJson } from "./plan-view.js";
import { nodeStatus, statusText } from "./status.js";
import { keptText, keptTrees } from "./kept.js";
import { ourLines, PLUGIN_FILE, readPlugstack, type PluginLine, type Plugstack } from "./plugstack.js";

const EXIT_OK = 0;
const EXIT_FAIL = 1; // a configuration or plan error, or a failed cleanup
const EXIT_USAGE = 2;

const DEFAULT_CONFIG = "/etc/slurm/plugstack.conf";
// Debian's PluginDir (where npm run install-plugin puts the .so).
const DEFAULT_PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/slurm-wlm";
const U32_MAX = 4294967295;

class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `Usage: private-tmpdir <command> [options]

What the private-tmpdir SPANK plugin will do, from the same planning core.

Commands:
  plan      print the directories and mounts for a job, in the plugin's order
  check     validate the plugin's lines in plugstack.conf
  cleanup   remove a job's directories, as the plugin's epilog does
  status    what the plugin holds on this node now: each job's private paths
  kept      the job directories kept on this node (--keep-tmpdir): yours, or all as root
  help      help on a command

Options:
  --version  print the package version and the sha256 of the embedded core
  --help     this help

Exit status: 0 ok, 1 configuration, plan, cleanup or output error, 2 usage
error, 141 stdout closed by its reader (as a writer killed by SIGPIPE).
See docs/cli.md.
`,
  plan: `Usage: private-tmpdir plan --job ID [--restart N] [--uid U --gid G] [--mem MB] [--node-mem MB] [--cores N] [--node-cores N] [--disk-mb MB] [--request MB] [--keep-tmpdir failed|always] [--private-tmpdir off] [--config FILE | --args WORDS] [--json]

Prints, for every plugstack.conf line that loads ${PLUGIN_FILE}, what the
plugin does for the job: the directories (owner, mode) the extern step
(PrologFlags=Contain) and every other step make, the step's mounts (binds
and tmpfs) and the epilog's removals, in the order the plugin does them.

  --config FILE  plugstack.conf to read (default ${DEFAULT_CONFIG}); its
                 include lines are followed
  --args WORDS   plan this line's options instead of reading plugstack.conf
                 (split on blanks as Slurm splits a line)
  --job ID       the job id (required)
  --restart N    the job's restart count (default 0)
  --uid U --gid G
                 the job's user and group ids, given together (default 0
                 and 0): the owner the plugin gives the directories
  --mem MB       the job's memory on the node in MiB, as Slurm allocates it
                 (default 0: Slurm allocated none); a tmpfs= size= given
                 in % is of it
  --node-mem MB  the node's memory in MiB, of which a size= in % is taken
                 when --mem is 0 (default this machine's)
  --cores N      the job's cores on the node, as Slurm allocates them
                 (default 0: unknown); a disk= size= given in % is of their
                 share of the node's cores
  --node-cores N the node's cores (default this machine's)
  --disk-mb MB   the size in MiB of the filesystem a disk='s images are made
                 on (default: measured on this machine)
  --request MB   the job's own --tmp in MiB (default 0: none), which a disk=
                 with request takes as its size (capped by max=)
  --keep-tmpdir WHEN, --private-tmpdir off
                 the job's own options (sbatch's), as the core reads them:
                 refused as at submission where the line does not offer them
  --json         machine-readable output (schema in docs/cli.md)
`,
  check: `Usage: private-tmpdir check [--config FILE] [--plugin-dir DIRS] [--json] [--verbose]

Validates every line that loads ${PLUGIN_FILE} with the plugin's own core,
and every line Slurm would ignore. Each error is printed on stderr as
"<file>:<line>: <message>", the message the plugin would log. Warns about an
optional line (Slurm then runs jobs with the shared /tmp when the plugin
fails) and about a .so that is missing or cannot be loaded. Exit 0 when the
configuration is valid, 1 otherwise; warnings do not change it.

  --config FILE  plugstack.conf to read (default ${DEFAULT_CONFIG})
  --plugin-dir DIRS
                 slurm.conf's PluginDir (":"-separated), where a plugin
                 given without a "/" is looked for (default
                 ${DEFAULT_PLUGIN_DIR})
  --json         print the result as JSON on stdout (schema in docs/cli.md)
  --verbose      say so on stdout when all is well
`,
  cleanup: `Usage: private-tmpdir cleanup --job ID --uid U [--restart N] [--gid G] [--config FILE | --args WORDS] [--verbose] [--progress]

Removes the job's private directories exactly as the plugin's epilog does
(the same C code): only directories owned by uid U, never following
a symlink, never leaving their filesystem. For sites that keep an Epilog
script, and for cleaning up by hand. Prints nothing on success.

  --config FILE  plugstack.conf to read (default ${DEFAULT_CONFIG})
  --args WORDS   the options of the line the job ran with, when that line
                 is no longer in plugstack.conf: e.g.
                 --args 'base=/tmp/slurm mount=/var/tmp mount=/tmp'
  --job ID       the job id (required)
  --uid U        the job's user id (required)
  --restart N    the job's restart count (default 0)
  --gid G        the job's group id (default 0; not used by removal)
  --verbose      print the plugin's summary line per plugstack line
  --progress     print a line on stderr before each removal (the default
                 when stderr is a terminal)
`,
  kept: `Usage: private-tmpdir kept [--config FILE | --args WORDS] [--all] [--json]

The job directories kept on this node after their job (sbatch
--keep-tmpdir, where plugstack.conf has keep=): for each, the job, its size
and files once measured, when it goes, and its path. Each is its user's
alone (0700); a user sees their own, root sees every user's (--all: the
same for root; for others, nothing more).

  --config FILE  plugstack.conf to read (default ${DEFAULT_CONFIG})
  --args WORDS   the options of a line instead of reading plugstack.conf
  --json         the same as JSON (schema 1): {schema, trees: [{jobid,
                 restart, uid, path, kept, expires, bytes, files}]}
`,
  status: `Usage: private-tmpdir status [--config FILE | --args WORDS] [--json]

What the plugin holds on this node now, for an admin: each job whose
namespace is kept (its holder's pid, the job's uid), each of its private
paths with its kind (bind, tmpfs, disk), what is mounted there in the job
and, for a tmpfs= or disk=, its size and use; what waits in the holding
places for removal; the loop devices of disk= images. Run as root (a job's
mounts are read through its holder's /proc entries).

  --config FILE  plugstack.conf to read (default ${DEFAULT_CONFIG})
  --args WORDS   the options of a line instead of reading plugstack.conf
  --json         machine-readable output (schema in docs/cli.md)
`,
};

type Values = Record<string, string | boolean | undefined>;

function parse(argv: string[], options: ParseArgsConfig["options"]): Values {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    });
    return values as Values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function u32(v: Values, name: string, dflt?: number): number {
  const s = v[name];
  if (s === undefined) {
    if (dflt === undefined) throw new UsageError(`--${name} is required`);
    return dflt;
  }
  if (typeof s !== "string" || !/^\d+$/.test(s) || Number(s) > U32_MAX)
    throw new UsageError(`--${name} must be a whole number from 0 to ${U32_MAX}, not "${String(s)}"`);
  return Number(s);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "unknown";
}

/** file:line as messages name it; a byte-string file name is shown() by the caller. */
const where = (p: { file: string; line: number }): string => (p.line > 0 ? `${p.file}:${p.line}` : p.file);
/** A core message or a name fit for one line of a terminal (no raw CR). */
const clean = (text: string): string => shown(byteString(text));

interface Finding {
  /** A text name (byte-string names are shown()). */
  file: string;
  line: number;
  code: string;
  message: string;
  /** How Slurm takes it; absent for the core's verdicts and the CLI's own. */
  severity?: string;
  /** The line number in Slurm's messages, where it differs from line. */
  slurmLine?: number;
}

/** Everything wrong with the configuration as far as this plugin is concerned.
 * `lines` are this plugin's lines, already made fit for the core. */
function audit(
  config: string,
  ps: Plugstack,
  lines: PluginLine[],
  refused: Finding[],
): { errors: Finding[]; warnings: Finding[] } {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  for (const p of ps.problems) {
    const f: Finding = { file: shown(p.file), line: p.line, code: p.code, message: p.message, severity: p.severity };
    if (p.slurmLine !== p.line) f.slurmLine = p.slurmLine;
    (p.severity === "warning" ? warnings : errors).push(f);
  }
  errors.push(...refused);
  if (lines.length === 0 && refused.length === 0 && !ps.fatal)
    errors.push({ file: config, line: 0, code: "NOT_CONFIGURED", message: `no line loads ${PLUGIN_FILE}` });
  const first = lines[0];
  for (const l of lines.slice(1)) {
    if (first)
      warnings.push({
        file: l.file,
        line: l.line,
        code: "LOADED_AGAIN",
        message: `${PLUGIN_FILE} is loaded again (first at ${where(first)}); slurmd runs both lines`,
      });
  }
  const core = new Core();
  for (const l of lines) {
    try {
      core.check(l.args);
      // The longest names any job can get: a plan that cannot fit is refused
      // here rather than by the first job with a large id.
      // (A core of the node: a disk= share is then planned too.)
      const big: Job = { jobid: U32_MAX, restart: U32_MAX, uid: U32_MAX - 1, gid: U32_MAX - 1, cores: 1 };
      for (const phase of ["INIT", "EXTERN", "STEP", "SCRIPT", "EPILOG"] as const) core.plan(phase, l.args, big);
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      errors.push({ file: l.file, line: l.line, code: e.code, message: clean(e.message) });
    }
  }
  return { errors, warnings };
}

/** This plugin's lines made fit for the core, and the ones that cannot be. */
function forCore(ps: Plugstack): { lines: PluginLine[]; refused: Finding[] } {
  const lines: PluginLine[] = [];
  const refused: Finding[] = [];
  for (const l of ourLines(ps)) {
    try {
      lines.push(coreLine(l));
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      refused.push({ file: shown(l.file), line: l.line, code: e.code, message: e.message });
    }
  }
  return { lines, refused };
}

/** Where slurmd would load the plugin from: a path starting with "/" as
 * given, anything else in the first PluginDir that has it (as Slurm's SPANK
 * loader looks it up). */
function pluginPath(plugin: string, dirs: readonly string[]): string | undefined {
  if (plugin.startsWith("/")) return plugin;
  for (const d of dirs) {
    const p = posix.join(d, plugin);
    try {
      closeSync(openSync(toBytes(byteString(p)), "r"));
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") return p; // there, but not openable: say why below
    }
  }
  return undefined;
}

/** Why dlopen() would refuse the file, without loading it here: it must be
 * a readable regular file holding an ELF shared object. */
function soProblem(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(toBytes(byteString(path)), "r");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === "ENOENT" ? "no such file" : `cannot read it: ${err.code ?? String(e)}`;
  }
  try {
    if (!fstatSync(fd).isFile()) return "not a regular file";
    const h = Buffer.alloc(18);
    const n = readSync(fd, h, 0, h.length, 0);
    if (n < h.length || h.readUInt32BE(0) !== 0x7f454c46) return "not an ELF file";
    const type = h[5] === 2 ? h.readUInt16BE(16) : h.readUInt16LE(16);
    if (type !== 3) return "not an ELF shared object";
    return undefined;
  } catch (e) {
    return `cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  } finally {
    closeSync(fd);
  }
}

/** What only check reports: lines that fail open, and a .so slurmd could
 * not load (a required line then fails every job; an optional one runs
 * them all with the shared /tmp). */
/** A root-owned executable only root may change, as the plugin requires
 * (native/fs/disk.c ptd_need_program). */
function isRootExecutable(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0 && (st.mode & 0o100) !== 0;
  } catch {
    return false;
  }
}

function deployWarnings(lines: PluginLine[], pluginDirs: readonly string[]): Finding[] {
  const out: Finding[] = [];
  for (const l of lines) {
    if (l.kind === "optional")
      out.push({
        file: l.file,
        line: l.line,
        code: "OPTIONAL_LINE",
        message: `optional line: if ${PLUGIN_FILE} fails to load or refuses its options, Slurm ignores it and runs every job with the shared /tmp; use required`,
      });
    // What the node needs for these options (disk=: mke2fs), as the core
    // names it in its CHECK plan; the plugin says the same at load.
    let needs: PlanStep[] = [];
    try {
      needs = new Core().plan("CHECK", l.args, { jobid: 0, restart: 0, uid: 0, gid: 0 });
    } catch {
      needs = []; // a refused line is an error of its own, reported above
    }
    for (const s of needs.filter((n) => n.op === "need_program"))
      if (!isRootExecutable(s.str))
        out.push({
          file: l.file,
          line: l.line,
          code: "PROGRAM_NOT_FOUND",
          message: `disk=${s.path} needs ${s.str} (Debian package e2fsprogs) on every node: not a root-owned executable here`,
        });
    const path = pluginPath(l.plugin, pluginDirs);
    if (path === undefined) {
      out.push({
        file: l.file,
        line: l.line,
        code: "PLUGIN_NOT_FOUND",
        message: `${l.plugin}: not found in PluginDir ${pluginDirs.join(":")}`,
      });
      continue;
    }
    const why = soProblem(path);
    if (why !== undefined)
      out.push({
        file: l.file,
        line: l.line,
        code: why === "no such file" ? "PLUGIN_NOT_FOUND" : "PLUGIN_NOT_LOADABLE",
        message: `${path}: slurmd cannot load it: ${why}`,
      });
  }
  return out;
}

function printFindings(fs: Finding[], prefix = ""): void {
  for (const f of fs)
    err(`${prefix}${where(f)}: ${f.message}${f.slurmLine !== undefined ? ` (Slurm's line ${f.slurmLine})` : ""}\n`);
}

/** --config, refusing an empty name (it resolved to the current directory). */
function configOf(v: Values): string {
  const c = v["config"];
  if (c === "") throw new UsageError("--config needs a file name");
  return typeof c === "string" ? c : DEFAULT_CONFIG;
}

function cmdCheck(argv: string[]): number {
  const v = parse(argv, {
    config: { type: "string" },
    "plugin-dir": { type: "string" },
    json: { type: "boolean" },
    verbose: { type: "boolean" },
  });
  if (v["help"]) return help("check");
  const config = configOf(v);
  const pluginDirs = ((v["plugin-dir"] as string | undefined) ?? DEFAULT_PLUGIN_DIR).split(":").filter((d) => d !== "");
  if (pluginDirs.length === 0) throw new UsageError("--plugin-dir names no directory");
  const ps = readPlugstack(config);
  const { lines, refused } = forCore(ps);
  const { errors, warnings } = audit(config, ps, lines, refused);
  warnings.push(...deployWarnings(lines, pluginDirs));
  if (v["json"]) {
    const body = {
      schema: PLAN_SCHEMA,
      version: packageVersion(),
      coreSha256: coreSha256(),
      config,
      ok: errors.length === 0,
      files: ps.files.map(shown),
      lines: ourLines(ps).map((l) => ({
        file: shown(l.file),
        line: l.line,
        slurmLine: l.slurmLine,
        kind: l.kind,
        plugin: shown(l.plugin),
        args: l.args.map(shown),
        cut: l.cut,
      })),
      errors,
      warnings,
    };
    out(JSON.stringify(body, null, 2) + "\n");
  } else {
    printFindings(errors);
    printFindings(warnings, "warning: ");
    if (errors.length === 0 && v["verbose"])
      out(
        `${config}: ok: ${lines.length} line${lines.length === 1 ? "" : "s"} load ${PLUGIN_FILE} (${ps.files.length} file${ps.files.length === 1 ? "" : "s"} read)\n`,
      );
  }
  return errors.length === 0 ? EXIT_OK : EXIT_FAIL;
}

/** The lines plan and cleanup act on: --args, or plugstack.conf read as
 * Slurm reads it. What makes Slurm fail (or the file unreadable), no line
 * or a line the core refuses is fatal; lines Slurm ignores or cuts only
 * warn: the plan is then what Slurm would run. */
function loadForJob(v: Values): PluginLine[] | undefined {
  const words = v["args"];
  if (typeof words === "string") {
    if (v["config"] !== undefined) throw new UsageError("--args and --config exclude each other");
    const l = argsLine(words);
    if (l.args.length === 0) throw new UsageError("--args names no option");
    try {
      const line = coreLine(l);
      new Core().check(line.args);
      return [line];
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      printFindings([{ file: "--args", line: 0, code: e.code, message: clean(e.message) }]);
      return undefined;
    }
  }
  const config = configOf(v);
  const ps = readPlugstack(config);
  const { lines, refused } = forCore(ps);
  const { errors, warnings } = audit(config, ps, lines, refused);
  const soft = (e: Finding): boolean => e.severity === "ignored" || e.severity === "cut";
  const fatal = errors.filter((e) => !soft(e));
  printFindings(fatal);
  printFindings([...errors.filter(soft), ...warnings], "warning: ");
  return fatal.length === 0 ? lines : undefined;
}

/** The size in MiB of the filesystem a path is on (or would be: its nearest
 * existing ancestor); undefined when none can be measured. */
function measureFs(path: string): number | undefined {
  for (let p = path; ; p = posix.dirname(p)) {
    try {
      const s = statfsSync(p);
      return Math.min(Math.floor((s.blocks * s.bsize) / 1048576), 0xffffffff);
    } catch {
      if (p === "/" || !p.startsWith("/")) return undefined;
    }
  }
}

// The options that name a configuration and a job, shared by plan and cleanup.
const JOB_OPTIONS = {
  config: { type: "string" },
  args: { type: "string" },
  job: { type: "string" },
  restart: { type: "string" },
  uid: { type: "string" },
  gid: { type: "string" },
} as const;

function cmdPlan(argv: string[]): number {
  const v = parse(argv, {
    ...JOB_OPTIONS,
    mem: { type: "string" },
    "node-mem": { type: "string" },
    cores: { type: "string" },
    "node-cores": { type: "string" },
    "disk-mb": { type: "string" },
    request: { type: "string" },
    "keep-tmpdir": { type: "string" },
    "private-tmpdir": { type: "string" },
    json: { type: "boolean" },
  });
  if (v["help"]) return help("plan");
  const own = new Core();
  let userOpts = 0;
  try {
    const keep = v["keep-tmpdir"];
    const priv = v["private-tmpdir"];
    if (typeof keep === "string") userOpts |= own.userOption("keep", keep);
    if (typeof priv === "string") userOpts |= own.userOption("private", priv);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  // One without the other planned owner 1001:0 without a word.
  if ((v["uid"] === undefined) !== (v["gid"] === undefined)) throw new UsageError("--uid and --gid go together");
  const job: Job = {
    jobid: u32(v, "job"),
    restart: u32(v, "restart", 0),
    uid: u32(v, "uid", 0),
    gid: u32(v, "gid", 0),
    // Always in the plan's job: a size= in % depends on them.
    memMb: u32(v, "mem", 0),
    nodeMemMb: u32(v, "node-mem", thisNodeMemMb()),
    // And a disk= share: of these.
    cores: u32(v, "cores", 0),
    nodeCores: u32(v, "node-cores", thisNodeCores()),
    requestMb: u32(v, "request", 0),
    ...(userOpts ? { userOpts } : {}),
  };
  // A disk= share is of the images' filesystem: this node's, measured (its
  // nearest existing directory, as the plugin makes the rest), or --disk-mb.
  const diskMb = v["disk-mb"] === undefined ? undefined : u32(v, "disk-mb");
  const measure = (path: string): number | undefined => diskMb ?? measureFs(path);
  const config = typeof v["args"] === "string" ? "--args" : configOf(v);
  const lines = loadForJob(v);
  if (!lines) return EXIT_FAIL;
  const core = new Core();
  const plan: PlanJson = {
    schema: PLAN_SCHEMA,
    version: packageVersion(),
    coreSha256: coreSha256(),
    config,
    job,
    lines: [],
  };
  for (const l of lines) {
    try {
      plan.lines.push(planLine(core, l, job, measure));
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      err(`${where(l)}: ${clean(e.message)}\n`);
      return EXIT_FAIL;
    }
  }
  out(v["json"] ? JSON.stringify(plan, null, 2) + "\n" : planText(plan));
  return EXIT_OK;
}

async function cmdCleanup(argv: string[]): Promise<number> {
  const v = parse(argv, { ...JOB_OPTIONS, verbose: { type: "boolean" }, progress: { type: "boolean" } });
  if (v["help"]) return help("cleanup");
  const job: Job = { jobid: u32(v, "job"), restart: u32(v, "restart", 0), uid: u32(v, "uid"), gid: u32(v, "gid", 0) };
  const lines = loadForJob(v);
  if (!lines) return EXIT_FAIL;
  // Loaded only here: plan and check must work where the addon is not built.
  const { cleanupLine, summaryLine } = await import("./cleanup.js");
  const tty = process.stderr.isTTY === true;
  const showProgress = v["progress"] === true || tty;
  let failed = false;
  for (const l of lines) {
    const r = cleanupLine(l, job, (path) => {
      if (showProgress) err(`${tty ? "\r\x1b[K" : ""}private-tmpdir: removing ${path} ...${tty ? "" : "\n"}`);
    });
    if (tty && showProgress) err("\r\x1b[K");
    if (r.error !== undefined) {
      failed = true;
      err(`${where(l)}: job ${job.jobid}: ${clean(r.error)}\n`);
    }
    if (v["verbose"]) out(summaryLine(job, r) + "\n");
  }
  return failed ? EXIT_FAIL : EXIT_OK;
}

function help(topic: string): number {
  out(HELP[topic] ?? HELP["main"] ?? "");
  return EXIT_OK;
}

function cmdStatus(argv: string[]): number {
  const v = parse(argv, { config: { type: "string" }, args: { type: "string" }, json: { type: "boolean" } });
  if (v["help"]) return help("status");
  const lines = loadForJob(v);
  if (!lines) return EXIT_FAIL;
  const s = nodeStatus(lines);
  out(v["json"] ? JSON.stringify(s, null, 2) + "\n" : statusText(s));
  return EXIT_OK;
}

function cmdKept(argv: string[]): number {
  const v = parse(argv, {
    config: { type: "string" },
    args: { type: "string" },
    json: { type: "boolean" },
    all: { type: "boolean" },
  });
  if (v["help"]) return help("kept");
  const lines = loadForJob(v);
  if (!lines) return EXIT_FAIL;
  const uid = process.getuid?.() ?? 0;
  const k = keptTrees(lines, uid === 0 ? undefined : uid);
  out(v["json"] ? JSON.stringify(k, null, 2) + "\n" : keptText(k));
  return EXIT_OK;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "plan":
      return cmdPlan(rest);
    case "check":
      return cmdCheck(rest);
    case "cleanup":
      return cmdCleanup(rest);
    case "status":
      return cmdStatus(rest);
    case "kept":
      return cmdKept(rest);
    case "help":
      if (rest[0] !== undefined && !(rest[0] in HELP)) throw new UsageError(`no command "${rest[0]}"`);
      return help(rest[0] ?? "main");
    case "--help":
    case "-h":
      return help("main");
    case "--version":
    case "-V":
      out(`private-tmpdir ${packageVersion()} core sha256 ${coreSha256()}\n`);
      return EXIT_OK;
    case undefined:
      throw new UsageError("no command given");
    default:
      throw new UsageError(cmd.startsWith("-") ? `unknown option "${cmd}"` : `unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof OutputClosed) {
      process.exitCode = EXIT_PIPE;
    } else if (e instanceof OutputFailed) {
      err(`private-tmpdir: ${e.message}\n`);
      process.exitCode = EXIT_FAIL;
    } else if (e instanceof UsageError) {
      err(`private-tmpdir: ${e.message}\nTry 'private-tmpdir --help'.\n`);
      process.exitCode = EXIT_USAGE;
    } else {
      err(`private-tmpdir: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT_FAIL;
    }
  },
);
