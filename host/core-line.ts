// Between the reader's byte strings and the core. The core takes only
// UTF-8 paths (it refuses others: "not UTF-8 at byte N", and then so does
// the plugin, failing every job, naming the option), and the Node host feeds
// it text, so a word that is not UTF-8 is refused here with the same
// meaning, before it could become U+FFFD: that made two distinct paths
// "given twice" and sent cleanup to a directory that is not there.
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
      throw new CoreError(
        "NOT_UTF8",
        `${shown(a)}: not UTF-8: the plugin refuses this line too (every job fails), so there is nothing to plan or clean up`,
      );
    args.push(text);
  }
  return { ...l, file: shown(l.file), plugin: shown(l.plugin), args };
}

/** The line `--args WORDS` stands for, split on blanks as Slurm splits a
 * plugstack line (for cleanup after the line has left plugstack.conf). */
export function argsLine(words: string): PluginLine {
  const args = words
    .split(/[ \t\n]+/)
    .filter((w) => w !== "")
    .map(byteString);
  return { file: "--args", line: 0, slurmLine: 0, kind: "required", plugin: "private-tmpdir.so", args, cut: false };
}
