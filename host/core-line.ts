// Between the reader's byte strings and the core, which the Node host feeds
// with text (host/core.ts encodes every argument as UTF-8): a line whose
// words are UTF-8 reaches the core as exactly its bytes; a line with other
// bytes cannot yet (the plugin itself takes them as they are), so the CLI
// refuses it rather than plan or remove with U+FFFD in a path, which made
// two distinct paths "given twice" and sent cleanup to a directory that is
// not there.
import { byteString, shown, utf8Of } from "./bytes.js";
import { CoreError } from "./errors.js";
import type { PluginLine } from "./plugstack.js";

/** The line with text words for the core and text names for output; a
 * CoreError NOT_UTF8 names the first word the core cannot be given exactly. */
export function coreLine(l: PluginLine): PluginLine {
  const args: string[] = [];
  for (const a of l.args) {
    const text = utf8Of(a);
    if (text === undefined)
      throw new CoreError("NOT_UTF8", `${shown(a)}: bytes that are not UTF-8: the plugin takes them as they are, but this CLI cannot hand them to the core unchanged, so it neither checks, plans nor cleans up this line`);
    args.push(text);
  }
  return { ...l, file: shown(l.file), plugin: shown(l.plugin), args };
}

/** The line `--args WORDS` stands for, split on blanks as Slurm splits a
 * plugstack line (for cleanup after the line has left plugstack.conf). */
export function argsLine(words: string): PluginLine {
  const args = words.split(/[ \t\n]+/).filter((w) => w !== "").map(byteString);
  return { file: "--args", line: 0, slurmLine: 0, kind: "required", plugin: "private-tmpdir.so", args, cut: false };
}
