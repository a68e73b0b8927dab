// Reads plugstack.conf the way Slurm's SPANK loader does (src/common/
// plugstack.c in 22.05, spank.c in 24.11 and 26.05: the parser is the same
// in all three), so the CLI sees exactly the lines slurmd would load:
//  - a file is read with fgets() into a 4096-byte buffer: a line of 4095
//    bytes or more reaches the parser in pieces, each piece parsed as a line
//    of its own and counted as one (Slurm's line numbers then drift from the
//    file's);
//  - a NUL byte ends what the parser sees of a piece; "#" starts a comment
//    anywhere; words are split on space, tab and newline only (a CR of a
//    CR LF file stays in the last word);
//  - `required|optional <plugin> [args...]` loads a plugin; a first word
//    that is none of required, optional, include, or a line with no second
//    word, is logged as "Invalid line. Ignoring.";
//  - `include <glob>` loads every match (host/glob.ts) in sorted order, a
//    relative pattern taken relative to the including file's directory; no
//    match is not an error. A file that is missing (ENOENT) reads as empty,
//    a directory too (read fails, fgets stops); any other open error stops
//    the whole stack: slurmd and every client fail to initialise it.
// Bytes stay bytes (host/bytes.ts): every path and word is a byte string.
// Slurm stops at the first fatal error, so this reader stops there too; it
// goes on past lines Slurm ignores, collecting them for the caller.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { posix } from "node:path";
import { byteString, fromBytes, shown, toBytes } from "./bytes.js";
import { glob } from "./glob.js";

/** The plugin this CLI is about, matched by basename (path or bare name). */
export const PLUGIN_FILE = "private-tmpdir.so";

/** fgets(buf, 4096, fp) hands over at most this many bytes at a time. */
export const SLURM_LINE_BYTES = 4095;

// Includes that multiply without a loop (each file including the next ones
// twice) are read by Slurm in full, in time exponential in their depth; the
// CLI stops and says so instead of running for minutes.
export const MAX_FILE_READS = 1000;

export interface PluginLine {
  /** The file the line is in, as Slurm names it (absolute; a byte string). */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** The number Slurm gives it in its messages (it counts fgets() pieces). */
  slurmLine: number;
  kind: "required" | "optional";
  /** The plugin as written: a path or a name looked up in PluginDir. */
  plugin: string;
  /** The words Slurm hands the plugin, as byte strings. */
  args: string[];
  /** Part of a line longer than Slurm's buffer: not what the file says. */
  cut: boolean;
}

/** How Slurm takes the problem: "fatal" fails the whole plugin stack (slurmd
 * and every client), "ignored" drops (part of) a line, "cut" splits a line,
 * "warning" loads it but probably not as meant. */
export type Severity = "fatal" | "ignored" | "cut" | "warning";

export interface ConfigProblem {
  file: string;
  /** 0 when the problem is the file itself. */
  line: number;
  slurmLine: number;
  severity: Severity;
  code: string;
  message: string;
}

export interface Plugstack {
  /** Every plugin line, in load order (any plugin, not just ours). */
  plugins: PluginLine[];
  /** What Slurm would ignore, cut or fail on, in reading order. */
  problems: ConfigProblem[];
  /** Every file read, in order (a byte string each). */
  files: string[];
  /** Where Slurm stops with an error (also in problems); nothing after it is read. */
  fatal: ConfigProblem | undefined;
}

export function isThisPlugin(plugin: string): boolean {
  return posix.basename(plugin) === PLUGIN_FILE;
}

/** Lines that load this plugin, in load order. */
export function ourLines(p: Plugstack): PluginLine[] {
  return p.plugins.filter((l) => isThisPlugin(l.plugin));
}

interface Opened {
  data: Buffer;
  id: string;
}

interface Reading {
  out: Plugstack;
  /** The files being read, outermost first: dev:ino and where each was included. */
  stack: { id: string; file: string }[];
  reads: number;
}

const errText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, "").replace(/, open '.*'$/s, "")}` : String(e);
};

/** Reads a plugstack.conf given as a text path (as on the command line). */
export function readPlugstack(path: string): Plugstack {
  return readPlugstackBytes(byteString(posix.resolve(path)));
}

/** Reads a plugstack.conf given as a byte-string path. */
export function readPlugstackBytes(top: string): Plugstack {
  const r: Reading = { out: { plugins: [], problems: [], files: [], fatal: undefined }, stack: [], reads: 0 };
  let f: Opened | undefined;
  try {
    f = open(top);
  } catch (e) {
    // Slurm reads a missing plugstack.conf as empty (no plugin at all); an
    // admin who names a file wants to hear that it is not there.
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    fatal(
      r,
      { file: top, line: 0, slurmLine: 0 },
      "UNREADABLE",
      `cannot read: ${errText(e)} (${missing ? "Slurm reads a missing plugstack.conf as empty: no plugin is loaded" : slurmOn(e)})`,
    );
    return r.out;
  }
  load(r, top, f);
  return r.out;
}

// Slurm would read /dev/zero for ever; the CLI gives up past this size.
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** open(2) and read to the end as fgets() would: a read error (EISDIR for a
 * directory) ends the file there. */
function open(path: string): Opened {
  const fd = openSync(toBytes(path), "r");
  try {
    const st = fstatSync(fd);
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (total > MAX_FILE_BYTES)
        throw Object.assign(new Error(`larger than ${MAX_FILE_BYTES} bytes, not a plugstack.conf`), { code: "EFBIG" });
      const b = Buffer.alloc(65536);
      let n: number;
      try {
        n = readSync(fd, b, 0, b.length, null);
      } catch {
        break;
      }
      if (n === 0) break;
      parts.push(b.subarray(0, n));
      total += n;
    }
    return { data: Buffer.concat(parts), id: `${st.dev}:${st.ino}` };
  } finally {
    closeSync(fd);
  }
}

/** What Slurm makes of a file the CLI could not read. */
const slurmOn = (e: unknown): string =>
  (e as NodeJS.ErrnoException).code === "EFBIG"
    ? "Slurm would go on reading it"
    : "Slurm fails to initialise the plugin stack: every job fails";

type At = { file: string; line: number; slurmLine: number };

function problem(r: Reading, at: At, severity: Severity, code: string, message: string): void {
  r.out.problems.push({ ...at, severity, code, message });
}

function fatal(r: Reading, at: At, code: string, message: string): void {
  problem(r, at, "fatal", code, message);
  r.out.fatal ??= r.out.problems[r.out.problems.length - 1];
}

const NL = 0x0a;

function load(r: Reading, file: string, f: Opened): void {
  r.out.files.push(file);
  r.stack.push({ id: f.id, file });
  const d = f.data;
  let pos = 0;
  let line = 1; // the file's line at pos
  let slurmLine = 1; // Slurm's count of fgets() pieces
  let continued = false; // pos is inside a line Slurm cut
  const crLines: number[] = [];
  while (pos < d.length && !r.out.fatal) {
    const nl = d.indexOf(NL, pos);
    const lineEnd = nl < 0 ? d.length : nl; // the newline excluded
    const end = Math.min(nl < 0 ? d.length : nl + 1, pos + SLURM_LINE_BYTES);
    const at = { file, line, slurmLine };
    if (!continued && lineEnd - pos >= SLURM_LINE_BYTES && (nl >= 0 || lineEnd - pos > SLURM_LINE_BYTES)) {
      const bytes = lineEnd - pos;
      const pieces = Math.ceil((bytes + (nl >= 0 ? 1 : 0)) / SLURM_LINE_BYTES);
      if (bytes > SLURM_LINE_BYTES)
        problem(
          r,
          at,
          "cut",
          "LINE_CUT",
          `line of ${bytes} bytes is cut: Slurm reads at most ${SLURM_LINE_BYTES} bytes of a line at a time and parses each piece as a line of its own (its lines ${slurmLine}-${slurmLine + pieces - 1}); the lines after it are numbered ${pieces - 1} higher in Slurm's messages`,
        );
      else
        // Nothing is lost, but Slurm's messages no longer name the file's lines.
        problem(
          r,
          at,
          "warning",
          "LINE_RENUMBERED",
          `line of ${bytes} bytes fills Slurm's ${SLURM_LINE_BYTES}-byte read: Slurm reads its newline as a line of its own, so the lines after it are numbered 1 higher in Slurm's messages`,
        );
    }
    const piece = d.subarray(pos, end);
    // More of this line follows (not only its newline): Slurm parses it apart.
    const cutHere = end < lineEnd;
    if (parsePiece(r, at, piece, continued || cutHere)) crLines.push(line);
    continued = cutHere;
    if (piece[piece.length - 1] === NL) line++;
    pos = end;
    slurmLine++;
  }
  if (crLines.length > 0 && !r.out.fatal) {
    const first = crLines[0] ?? 0;
    problem(
      r,
      { file, line: first, slurmLine: first },
      "warning",
      "CR_LF",
      `carriage return in a word${crLines.length > 1 ? ` (and on ${crLines.length - 1} more line${crLines.length > 2 ? "s" : ""})` : ""}, a CR LF line ending?: Slurm splits words only on space, tab and newline, so the CR is part of the word it ends`,
    );
  }
  r.stack.pop();
}

/** Parses one fgets() piece as _plugin_stack_parse_line does; true when a word holds a CR. */
function parsePiece(r: Reading, at: At, piece: Buffer, cut: boolean): boolean {
  const nul = piece.indexOf(0);
  if (nul >= 0 && piece.subarray(nul + 1).some((c) => c !== 0 && c !== NL && c !== 0x20 && c !== 0x09))
    problem(r, at, "ignored", "NUL_BYTE", "NUL byte: Slurm ignores the rest of the line");
  let text = fromBytes(nul >= 0 ? piece.subarray(0, nul) : piece);
  const hash = text.indexOf("#");
  if (hash >= 0) text = text.slice(0, hash);
  const words = text.split(/[ \t\n]+/).filter((w) => w !== "");
  const [word, target, ...args] = words;
  if (word === undefined) return false;
  const cr = words.some((w) => w.includes("\r"));
  const piecePart = cut ? " (a piece of a cut line)" : "";
  if (word !== "required" && word !== "optional" && word !== "include") {
    problem(
      r,
      at,
      "ignored",
      "INVALID_LINE",
      `invalid line, Slurm ignores it: "${brief(word)}" is not required, optional or include${piecePart}`,
    );
    return cr;
  }
  if (target === undefined) {
    problem(
      r,
      at,
      "ignored",
      "INVALID_LINE",
      `invalid line, Slurm ignores it: "${word}" names no ${word === "include" ? "file" : "plugin"}${piecePart}`,
    );
    return cr;
  }
  if (word === "include") include(r, at, target);
  else r.out.plugins.push({ ...at, kind: word, plugin: target, args, cut });
  return cr;
}

/** A word for a message: a piece of a cut line can be 4000 bytes long. */
const brief = (w: string): string => (w.length > 60 ? `${shown(w.slice(0, 57))}...` : shown(w));

function include(r: Reading, at: At, target: string): void {
  const pattern = target.startsWith("/") ? target : `${posix.dirname(at.file)}/${target}`;
  for (const f of glob(pattern)) {
    if (r.out.fatal) return;
    if (++r.reads > MAX_FILE_READS) {
      fatal(
        r,
        at,
        "TOO_MANY_READS",
        `include ${shown(target)}: more than ${MAX_FILE_READS} files read in all (includes that multiply): the CLI stops here; Slurm would read every one, taking time exponential in their depth`,
      );
      return;
    }
    let opened: Opened;
    try {
      opened = open(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // Slurm: empty
      fatal(
        r,
        at,
        "INCLUDE_UNREADABLE",
        `include ${shown(target)}: cannot open ${shown(f)}: ${errText(e)} (${slurmOn(e)})`,
      );
      return;
    }
    const seen = r.stack.findIndex((s) => s.id === opened.id);
    if (seen >= 0) {
      const chain = [...r.stack.slice(seen).map((s) => s.file), f].map(shown).join(" -> ");
      fatal(
        r,
        at,
        "INCLUDE_LOOP",
        `include ${shown(target)}: include loop ${chain}: Slurm includes the file again and again until it crashes (22.05, 24.11 and 26.05 segfault): the plugin stack fails`,
      );
      return;
    }
    load(r, f, opened);
  }
}
