// Loads the same core.wasm the plugin embeds and drives it through its
// integer ABI: arguments in as NUL-terminated UTF-8, plan records out.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import {
  ABI_VERSION,
  OP_NAMES,
  Phase,
  type PhaseName,
  REC_WORDS,
  W_OP,
  W_FLAGS,
  W_SLOT,
  W_ARG,
  W_MODE,
  W_UID,
  W_GID,
  W_STR,
  W_LEN,
  W_PATH,
  W_PATHLEN,
  W_SIZE_MB,
  W_INODES,
  W_MAX_MB,
  OPT_KEEP,
  OPT_PRIVATE,
} from "./abi.js";
import { CoreError } from "./errors.js";
import { type HostImports, wasmEnv } from "./imports.gen.js";

export interface Job {
  jobid: number;
  restart: number;
  uid: number;
  gid: number;
  /** The job's memory on the node in MiB, as Slurm allocated it; 0 (the
   * default): none allocated, a tmpfs= size= percentage is then of nodeMemMb. */
  memMb?: number;
  /** The node's memory in MiB; default this machine's. */
  nodeMemMb?: number;
  /** The job's cores on the node; 0 (the default): unknown, a disk= size=
   * percentage is then refused. */
  cores?: number;
  /** The node's cores; default this machine's. */
  nodeCores?: number;
  /** The job's own --tmp in MiB (0, the default: none), for a disk= with request. */
  requestMb?: number;
  /** The job's own options as the core's bits (abi.ts U_*; Core.userOption
   * parses them); 0, the default: none. */
  userOpts?: number;
}

/** This machine's cores, the core's default node cores: online CPUs over
 * the threads of cpu0's core, as the plugin counts them (native/core/core.c). */
export function thisNodeCores(): number {
  let threads = 1;
  try {
    const list = readFileSync("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "utf8").trim();
    threads =
      list.split(",").reduce((n, part) => {
        const [a, b] = part.split("-").map(Number);
        return n + (b === undefined ? 1 : (b as number) - (a as number) + 1);
      }, 0) || 1;
  } catch {
    threads = 1;
  }
  return Math.max(1, Math.floor(availableParallelism() / threads));
}

/** This machine's memory in MiB, the core's default node memory. */
export function thisNodeMemMb(): number {
  return Math.min(Math.floor(totalmem() / 1048576), 0xffffffff);
}

export interface PlanStep {
  op: string;
  flags: number;
  slot: number;
  arg: number;
  mode: number;
  uid: number;
  gid: number;
  str: string;
  path: string;
  /** mount_tmpfs: the tmpfs size in MiB; 0 otherwise. */
  sizeMb: number;
  /** mount_tmpfs: its nr_inodes; mount_disk: nr_inodes= as given (0: from its size); 0 otherwise. */
  inodes: number;
  /** mount_disk with the share flag: its cap in MiB (0: none); 0 otherwise. */
  maxMb: number;
}

export interface RunFailure {
  code: string;
  message: string;
  errno: number;
  failedOp: number;
}

interface Exports {
  memory: WebAssembly.Memory;
  abi_version(): number;
  input_ptr(): number;
  input_cap(): number;
  output_ptr(): number;
  message_ptr(): number;
  message_len(): number;
  failed_op(): number;
  failed_errno(): number;
  error_name(code: number): number;
  name_ptr(): number;
  plan(...a: CoreCall): number;
  disk_size_mb(flags: number, sizeMb: number, maxMb: number, fsMb: number): number;
  user_option(which: number, len: number): number;
  run(...a: CoreCall): number;
}

/** A job as the core's plan() and run() exports take it (assembly/index.ts),
 * after the phase and the arguments' length. */
export type JobWords = [jobid: number, restart: number, uid: number, gid: number, memMb: number, nodeMemMb: number];
type CoreCall = [
  phase: number,
  argLen: number,
  ...job: JobWords,
  cores: number,
  nodeCores: number,
  requestMb: number,
  userOpts: number,
];

export const WASM_PATH = fileURLToPath(new URL("../../core.wasm", import.meta.url));

let cachedModule: WebAssembly.Module | undefined;
let cachedBytes: Buffer | undefined;

function wasmBytes(): Buffer {
  cachedBytes ??= readFileSync(WASM_PATH);
  return cachedBytes;
}

/** sha256 of the core, as the plugin logs it at load. */
export function coreSha256(): string {
  return createHash("sha256").update(wasmBytes()).digest("hex");
}

/** The core's memory arguments for a job: its own, and the node's. */
function memoryOf(job: Job): [number, number] {
  return [job.memMb ?? 0, job.nodeMemMb ?? thisNodeMemMb()];
}

/** The core's cores arguments for a job: its own, and the node's. */
function coresOf(job: Job): [number, number] {
  return [job.cores ?? 0, job.nodeCores ?? thisNodeCores()];
}

/** plan()'s and run()'s arguments (assembly/index.ts). */
function callOf(phase: PhaseName, argLen: number, job: Job): CoreCall {
  return [
    Phase[phase],
    argLen,
    job.jobid,
    job.restart,
    job.uid,
    job.gid,
    ...memoryOf(job),
    ...coresOf(job),
    job.requestMb ?? 0,
    job.userOpts ?? 0,
  ];
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const utf8Encoder = new TextEncoder();

export class Core {
  private readonly x: Exports;
  private imports: HostImports | undefined;

  constructor() {
    cachedModule ??= new WebAssembly.Module(new Uint8Array(wasmBytes()));
    const str = (ptr: number, len: number): string => this.read(ptr, len);
    const use = (): HostImports => {
      if (!this.imports) throw new Error("core called an import outside run()");
      return this.imports;
    };
    const env = wasmEnv(use, str);
    const instance = new WebAssembly.Instance(cachedModule, { env });
    this.x = instance.exports as unknown as Exports;
    const v = this.x.abi_version();
    if (v !== ABI_VERSION) throw new CoreError("ABI_MISMATCH", `core ABI version ${v}, host expects ${ABI_VERSION}`);
  }

  private read(ptr: number, len: number): string {
    const mem = new Uint8Array(this.x.memory.buffer);
    if (ptr < 0 || len < 0 || ptr + len > mem.length) throw new Error("core string out of bounds");
    return utf8.decode(mem.subarray(ptr, ptr + len));
  }

  // Encodes straight into the core's input buffer (no intermediate array:
  // spreading a long value's bytes into push() overflowed the call stack).
  private putArgs(args: readonly string[]): number {
    const cap = this.x.input_cap();
    const input = new Uint8Array(this.x.memory.buffer, this.x.input_ptr(), cap);
    let at = 0;
    for (const a of args) {
      const { read, written } = utf8Encoder.encodeInto(a, input.subarray(at));
      if (read !== a.length || at + written + 1 > cap) {
        throw new CoreError("BAD_INPUT", "options too long for the core's input buffer");
      }
      input[at + written] = 0;
      at += written + 1;
    }
    return at;
  }

  /** A mount_disk step of the last plan() on a filesystem of fsMb MiB: the
   * MiB the plugin would reserve (the core's own arithmetic). */
  diskSizeMb(s: PlanStep, fsMb: number): number {
    return this.x.disk_size_mb(s.flags, s.sizeMb, s.maxMb, Math.min(fsMb, 0xffffffff)) >>> 0;
  }

  /** Size of the core's linear memory: constant, as the core never allocates. */
  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** The core's own ABI version (checked against ABI_VERSION at load). */
  abiVersion(): number {
    return this.x.abi_version();
  }

  /** The core's name for an error code (the CoreError's code). */
  errorName(code: number): string {
    return this.read(this.x.name_ptr(), this.x.error_name(code));
  }

  private errorOf(rc: number): CoreError {
    const code = this.errorName(-rc);
    return new CoreError(code, this.read(this.x.message_ptr(), this.x.message_len()));
  }

  /** The plan for a phase, or a CoreError naming the option at fault. */
  plan(phase: PhaseName, args: readonly string[], job: Job): PlanStep[] {
    const len = this.putArgs(args);
    const n = this.x.plan(...callOf(phase, len, job));
    if (n < 0) throw this.errorOf(n);
    const words = new Int32Array(this.x.memory.buffer, this.x.output_ptr(), n * REC_WORDS);
    const steps: PlanStep[] = [];
    for (let i = 0; i < n; i++) {
      const w = (k: number): number => words[i * REC_WORDS + k] ?? 0;
      steps.push({
        op: OP_NAMES[w(W_OP)] ?? `op${w(W_OP)}`,
        flags: w(W_FLAGS),
        slot: w(W_SLOT),
        arg: w(W_ARG),
        mode: w(W_MODE),
        uid: w(W_UID) >>> 0,
        gid: w(W_GID) >>> 0,
        str: this.read(w(W_STR), w(W_LEN)),
        path: this.read(w(W_PATH), w(W_PATHLEN)),
        sizeMb: w(W_SIZE_MB) >>> 0,
        inodes: w(W_INODES) >>> 0,
        maxMb: w(W_MAX_MB) >>> 0,
      });
    }
    return steps;
  }

  /** A job's own option (--keep-tmpdir, --private-tmpdir) as the core reads
   * it: its U_* bits, or a CoreError naming the option. value null: given
   * without a value. */
  userOption(which: "keep" | "private", value: string | null): number {
    let len = -1;
    if (value !== null) {
      const cap = this.x.input_cap();
      const input = new Uint8Array(this.x.memory.buffer, this.x.input_ptr(), cap);
      const { read, written } = utf8Encoder.encodeInto(value, input);
      if (read !== value.length) throw new CoreError("BAD_INPUT", "option value too long");
      len = written;
    }
    const rc = this.x.user_option(which === "keep" ? OPT_KEEP : OPT_PRIVATE, len);
    if (rc < 0) throw this.errorOf(rc);
    return rc;
  }

  /** Validates options only. */
  check(args: readonly string[]): void {
    this.plan("CHECK", args, { jobid: 0, restart: 0, uid: 0, gid: 0 });
  }

  /** Plans and carries out a phase through imports; undefined on success. */
  run(phase: PhaseName, args: readonly string[], job: Job, imports: HostImports): RunFailure | undefined {
    const len = this.putArgs(args);
    this.imports = imports;
    try {
      const rc = this.x.run(...callOf(phase, len, job));
      if (rc >= 0) return undefined;
      const e = this.errorOf(rc);
      return { code: e.code, message: e.message, errno: this.x.failed_errno(), failedOp: this.x.failed_op() };
    } finally {
      this.imports = undefined;
    }
  }
}
