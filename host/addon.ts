// Loads the node-addon-api addon: the plugin's own C (core, ops, fs,
// remove) callable from Node. One error lists every path tried.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { ABI_VERSION } from "./abi.js";
import type { JobWords } from "./core.js";
import type { NodeImports } from "./imports.gen.js";

export interface RemoveStats {
  bytes: number;
  files: number;
  dirs: number;
  skipped: number;
  /** directories marked ended instead (cleanup=no) */
  marked: number;
  /** directories moved into a holding place, removed later by the remover */
  deferred: number;
}

export interface CoreRunResult {
  ok: boolean;
  code: string;
  message: string;
  notice: string;
  removed: RemoveStats;
  trace: string;
}

/** The addon: the imports marked node in assembly/imports.tbl, and its own. */
export interface Addon extends NodeImports {
  abiVersion: number;
  /** memMb, nodeMemMb: the job's memory on the node and the node's, in MiB
   * (the core's plan() arguments; a tmpfs= size= percentage is of them).
   * trapAt: true or 1 makes the first import call trap, N the Nth (the
   * calls before it are carried out); false or 0 never. */
  coreRun(
    phase: number,
    args: string[],
    ...rest: [
      ...job: JobWords,
      dryRun: boolean,
      trapAt?: boolean | number,
      failBind?: number,
      before?: ((op: string) => void) | undefined,
      cores?: number,
      nodeCores?: number,
      requestMb?: number,
    ]
  ): CoreRunResult;
  opsReset(): void;
  /** A failed host operation worded as the plugin logs it (native/util/messages.c). */
  failure(what: string, reason: string, errno: number): string;
  /** The plugin's removal summary line (native/util/messages.c), without "(where)". */
  summary(jobid: number, uid: number, stats: RemoveStats, seconds: number): string;
  opsDetail(): { text: string; notice: string; removed: RemoveStats };
  /** The holding place's knobs (native/removal/hold.h): defer, as the plugin's epilog
   * does; running, the jobs the sweep must leave alone (null: all); budgetMs,
   * a pass's time budget (-1: the plan's); continueProbe, a step's
   * continuation reported as "continue <hold> <budget> ino <n>" instead of a
   * remover started. Returns and clears the lines the remover reported. */
  holdTest(o?: {
    defer?: boolean;
    running?: number[] | null;
    minAge?: number;
    budgetMs?: number;
    lingerMs?: number;
    continueProbe?: boolean;
  }): string[];
  ctlJobs(squeue: string, timeoutMs: number): { jobs: number[] } | { errno: number; why: string };
  removeTree(
    parent: string,
    name: string,
    uid: number,
    hook?: (name: string) => void,
  ): RemoveStats & { errno: number; detail: string };
}

const CANDIDATES = ["../../../build/Release/ptd_addon.node", "../../../build/Debug/ptd_addon.node"];

let loaded: Addon | undefined;

export function loadAddon(): Addon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    tried.push(path);
    if (!existsSync(path)) continue;
    const a = require(path) as Addon;
    if (a.abiVersion !== ABI_VERSION)
      throw new Error(`addon ${path}: ABI ${a.abiVersion}, host expects ${ABI_VERSION}`);
    loaded = a;
    return a;
  }
  throw new Error(`private-tmpdir addon not found (run npm run build); tried:\n  ${tried.join("\n  ")}`);
}
