// What a plan cut short must leave behind: a trap at the Nth import call
// means the first N-1 calls are all that was done. The expected state is
// read off the core's own plan records (never re-derived): each open_trusted
// with "create" whose directory was missing, and each mkdir_at, adds one
// directory with the record's owner and mode; nothing else changes.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import type { PlanStep } from "../../host/core.js";

const CREATE = 1; // assembly/abi.ts F_CREATE

export interface Entry {
  type: "dir" | "file" | "symlink" | "other";
  uid: number;
  gid: number;
  mode: string;
}

/** Every entry at and under top (symlinks not followed), sorted by path. */
export function snapshot(top: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (p: string): void => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
    out.set(p, { type, uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) });
    if (type === "dir") for (const n of fs.readdirSync(p)) visit(`${p}/${n}`);
  };
  visit(top);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The state under top once the first `done` steps of plan have run on a
 * tree that was `before`. */
export function expectedAfter(
  top: string,
  before: Map<string, Entry>,
  plan: readonly PlanStep[],
  done: number,
): Map<string, Entry> {
  const out = new Map(before);
  for (const s of plan.slice(0, done)) {
    const makes = s.op === "mkdir_at" || (s.op === "open_trusted" && (s.flags & CREATE) !== 0);
    if (!makes) continue;
    assert.ok(s.path === top || s.path.startsWith(`${top}/`), `the test's plan makes ${s.path}, outside ${top}`);
    if (s.op === "open_trusted" && out.has(s.path)) continue;
    out.set(s.path, { type: "dir", uid: s.uid, gid: s.gid, mode: s.mode.toString(8) });
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The bind targets of the first `done` steps, in order. */
export function bindsAfter(plan: readonly PlanStep[], done: number): string[] {
  return plan
    .slice(0, done)
    .filter((s) => s.op === "bind")
    .map((s) => s.str);
}

export function entries(m: Map<string, Entry>): [string, Entry][] {
  return [...m];
}
