// Exports only: numbers in, numbers out. See abi.ts for the layout.
import { ABI_VERSION, INPUT_CAP } from "./abi";
import { INPUT, OUTPUT, MSG, NAME } from "./memory";
import { clearMessage, messageLength, writeName } from "./errors";
import { Config } from "./config";
import { parse, parseUserOption } from "./options";
import { build, diskSizeMb } from "./plan";
import { execute, failedOp, failedHostErrno } from "./run";

// The one configuration: each call's parse() refills it, so a call
// allocates nothing and memory never grows.
const config = new Config();

export function abi_version(): i32 { return ABI_VERSION; }
export function input_ptr(): usize { return INPUT; }
export function input_cap(): i32 { return INPUT_CAP; }
export function output_ptr(): usize { return OUTPUT; }
export function message_ptr(): usize { return MSG; }
export function message_len(): i32 { return messageLength(); }
export function failed_op(): i32 { return failedOp(); }
export function failed_errno(): i32 { return failedHostErrno(); }

// Writes the name of an error code (as returned negated) at name_ptr().
export function error_name(code: i32): i32 { return writeName(code); }
export function name_ptr(): usize { return NAME; }

// Validates the options in INPUT[0, argLen) (NUL-terminated strings) and
// writes the plan for a phase; returns the record count or a negative Err.
// jobMemMb: the job's memory on this node in MiB as Slurm allocated it (0:
// none); nodeMemMb: the node's. A tmpfs's size= percentage is of these.
// jobCores: the job's cores on this node; nodeCores: the node's (0:
// unknown). A disk='s percentage is of their share of the local disk.
// requestMb: the job's own --tmp in MiB (0: none, or not known), for a
// disk= with request. userOpts: the job's own options (abi.ts U_*, from
// user_option), refused unless plugstack.conf offers them.
export function plan(phase: i32, argLen: i32, jobid: u32, restart: u32, uid: u32, gid: u32,
                     jobMemMb: u32, nodeMemMb: u32, jobCores: u32, nodeCores: u32, requestMb: u32,
                     userOpts: i32): i32 {
  clearMessage();
  const r = parse(argLen, config);
  if (r < 0) return r;
  return build(config, phase, jobid, restart, uid, gid, jobMemMb, nodeMemMb, jobCores, nodeCores, requestMb, userOpts);
}

// A job's option value in INPUT[0, len) (len -1: given without one), for
// which (abi.ts OPT_*): its U_* bits (>= 0), or a negative Err with the
// message naming the option.
export function user_option(which: i32, len: i32): i32 {
  clearMessage();
  return parseUserOption(which, len);
}

// plan(), then carries it out through the host imports; 0 or a negative Err.
export function run(phase: i32, argLen: i32, jobid: u32, restart: u32, uid: u32, gid: u32,
                    jobMemMb: u32, nodeMemMb: u32, jobCores: u32, nodeCores: u32, requestMb: u32,
                    userOpts: i32): i32 {
  const n = plan(phase, argLen, jobid, restart, uid, gid, jobMemMb, nodeMemMb, jobCores, nodeCores, requestMb, userOpts);
  if (n < 0) return n;
  return execute(phase, n);
}

// What a MOUNT_DISK record of the last plan() comes to on a filesystem of
// fsMb MiB (its MEASURE_DISK's answer): how the CLI shows the size a job
// would get, from the same arithmetic the run uses.
export function disk_size_mb(flags: i32, sizeMb: u32, maxMb: u32, fsMb: u32): u32 {
  return diskSizeMb(flags, sizeMb, maxMb, <u64>fsMb);
}

// No input reaches an abort: there is no throw or assert on input. Should one
// be reached anyway, trapping is the fail-closed answer the hosts expect.
function onAbort(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
