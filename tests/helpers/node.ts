// A lab node seen from the host: its namespaces, and commands run on it as
// its own processes run (nsenter into its mount, UTS, network and PID
// namespaces). With cluster.sh NETNS=1 each node is a host of its own.
import { readlinkSync } from "node:fs";
import { run, type RunResult } from "./clients.js";
import type { LabNode } from "./cluster.js";

export type NsKind = "mnt" | "net" | "pid" | "uts";

/** The namespace of process `pid` (or "self"), e.g. "net:[4026532281]". */
export function nsOf(pid: number | "self", kind: NsKind): string {
  return readlinkSync(`/proc/${pid}/ns/${kind}`);
}

/** Run argv as root on the node, in its namespaces, cwd "/". */
export function onNode(node: LabNode, argv: readonly string[], timeoutMs = 30_000): RunResult {
  return run("nsenter", ["-t", String(node.slurmdPid), "-m", "-u", "-n", "-p", "--wd=/", "--", ...argv], {
    timeoutMs,
  });
}
