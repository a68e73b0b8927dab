// glob(3) as Slurm's `include` calls it: glob(pattern, 0, NULL, &gl) in
// glibc, in the C locale (Slurm never calls setlocale), on byte strings
// (host/bytes.ts). With flags 0 that means:
//  - `*`, `?` and bracket expressions, matched by fnmatch(FNM_PERIOD): a
//    leading "." of a name only by a literal "."; "\" quotes the next byte;
//  - brackets: "!" or "^" negates, a first "]" is literal, ranges compare
//    byte values (a reversed range such as [z-a] matches nothing), classes
//    [:alpha:] etc. are ASCII-only, [=c=] and [.c.] stand for c; an unknown
//    class makes the whole pattern match nothing; a "[" with no "]" is a
//    literal "[";
//  - a component without magic must exist (lstat), one with magic is
//    matched against readdir (which lists "." and ".." too); a directory
//    that cannot be read yields nothing (no GLOB_ERR, no error callback);
//  - no match is an empty list (GLOB_NOMATCH), the result is sorted by
//    strcmp (strcoll in the C locale).
// Nothing here throws on a pattern: glibc has no pattern syntax errors.
import { lstatSync, readdirSync, statSync } from "node:fs";
import { fromBytes, toBytes } from "./bytes.js";

/** Whether glob would treat the component as a pattern (glibc's
 * __glob_pattern_type: an unquoted "*", "?", or "[" closed by a "]"). */
export function hasMagic(part: string): boolean {
  let open = false;
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?") return true;
    else if (c === "[") open = true;
    else if (c === "]" && open) return true;
  }
  return false;
}

const unquote = (part: string): string => part.replace(/\\(.)/gs, "$1");

/** glob(pattern, 0): every existing path matching an absolute byte-string
 * pattern, sorted by bytes. */
export function glob(pattern: string): string[] {
  const parts = pattern.split("/");
  const dirOnly = parts.length > 1 && parts[parts.length - 1] === "";
  const comps = parts.filter((p) => p !== "");
  let found: string[] = [pattern.startsWith("/") ? "/" : "."];
  comps.forEach((part, k) => {
    const last = k === comps.length - 1;
    const next: string[] = [];
    for (const dir of found) {
      const prefix = dir === "/" ? "/" : `${dir}/`;
      if (!hasMagic(part)) {
        const p = prefix + unquote(part);
        if (exists(p)) next.push(p);
        continue;
      }
      for (const n of listDir(dir)) if (fnmatch(part, n)) next.push(prefix + n);
    }
    // Only directories can hold the next component (glibc: opendir fails).
    found = last && !dirOnly ? next : next.filter(isDir);
  });
  if (comps.length === 0) return [];
  const out = dirOnly ? found.map((p) => `${p}/`) : found;
  return out.sort((a, b) => Buffer.compare(toBytes(a), toBytes(b)));
}

function listDir(dir: string): string[] {
  try {
    return [".", "..", ...readdirSync(toBytes(dir), { encoding: "buffer" }).map(fromBytes)];
  } catch {
    return [];
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(toBytes(p));
    return true;
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    // stat, not lstat: opendir follows a symlink to a directory.
    return statSync(toBytes(p)).isDirectory();
  } catch {
    return false;
  }
}

const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => isAlpha(c) || isDigit(c),
  alpha: (c) => isAlpha(c),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: (c) => isDigit(c),
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: (c) => c >= 0x61 && c <= 0x7a,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => c >= 0x41 && c <= 0x5a,
  xdigit: (c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A bracket expression at pattern[i] ("["): how it ends and what it
 * matches; "literal" when it has no closing "]" (then "[" is an ordinary
 * byte), "invalid" when glibc's fnmatch would fail the whole match. */
type Bracket = { kind: "literal" } | { kind: "invalid" } | { kind: "set"; end: number; test: (c: number) => boolean };

function bracket(p: string, i: number): Bracket {
  let j = i + 1;
  let negate = false;
  if (p[j] === "!" || p[j] === "^") {
    negate = true;
    j++;
  }
  const tests: ((c: number) => boolean)[] = [];
  let first = true;
  for (;;) {
    if (j >= p.length) return { kind: "literal" };
    let c = p[j] ?? "";
    if (c === "]" && !first) break;
    first = false;
    let lo: number;
    if (c === "[" && (p[j + 1] === ":" || p[j + 1] === "=" || p[j + 1] === ".")) {
      const delim = p[j + 1] ?? "";
      const close = p.indexOf(`${delim}]`, j + 2);
      if (close < 0) return { kind: "literal" };
      const name = p.slice(j + 2, close);
      j = close + 2;
      if (delim === ":") {
        const cls = CLASSES[name];
        if (!cls) return { kind: "invalid" };
        tests.push(cls);
        continue;
      }
      // In the C locale a collating element or an equivalence class is one byte.
      if (name.length !== 1) return { kind: "invalid" };
      lo = name.charCodeAt(0);
    } else {
      if (c === "\\") {
        j++;
        if (j >= p.length) return { kind: "literal" };
        c = p[j] ?? "";
      }
      lo = c.charCodeAt(0);
      j++;
    }
    if (p[j] === "-" && j + 1 < p.length && p[j + 1] !== "]") {
      j++;
      let e = p[j] ?? "";
      let hi: number;
      if (e === "[" && p[j + 1] === ".") {
        const close = p.indexOf(".]", j + 2);
        if (close < 0) return { kind: "literal" };
        const name = p.slice(j + 2, close);
        if (name.length !== 1) return { kind: "invalid" };
        hi = name.charCodeAt(0);
        j = close + 2;
      } else {
        if (e === "\\") {
          j++;
          e = p[j] ?? "";
        }
        hi = e.charCodeAt(0);
        j++;
      }
      const from = lo;
      tests.push((x) => x >= from && x <= hi);
      continue;
    }
    const one = lo;
    tests.push((x) => x === one);
  }
  return { kind: "set", end: j, test: (x) => tests.some((t) => t(x)) !== negate };
}

/** fnmatch(pattern, name, FNM_PERIOD) on byte strings. Backtracks only to
 * the last "*", so it is linear in practice (no exponential blow-up). */
export function fnmatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = -1;
  while (n < name.length || p < pattern.length) {
    if (p < pattern.length) {
      const c = pattern[p];
      const atPeriod = n === 0 && name[0] === ".";
      if (c === "*") {
        if (atPeriod) return false;
        starP = ++p;
        starN = n;
        continue;
      }
      if (n < name.length) {
        if (c === "?") {
          if (!atPeriod) {
            p++;
            n++;
            continue;
          }
        } else if (c === "[") {
          const b = bracket(pattern, p);
          if (b.kind === "invalid") return false;
          if (b.kind === "set") {
            if (!atPeriod && b.test(name.charCodeAt(n))) {
              p = b.end + 1;
              n++;
              continue;
            }
          } else if (name[n] === "[") {
            p++;
            n++;
            continue;
          }
        } else if (c === "\\") {
          // A trailing "\" matches nothing (glibc: "Trailing \ loses").
          if (p + 1 < pattern.length && pattern[p + 1] === name[n]) {
            p += 2;
            n++;
            continue;
          }
        } else if (c === name[n]) {
          p++;
          n++;
          continue;
        }
      }
    }
    if (starP < 0 || starN >= name.length) return false;
    p = starP;
    n = ++starN;
  }
  return true;
}
