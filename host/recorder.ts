// Imports that record each call instead of acting: the Node side of the
// "same plan in C and in Node" check. The line format is native/core/ops.c's
// dry run's: both are generated from assembly/imports.tbl.
import { F_SESSION } from "./abi.js";
import { TracingImports } from "./imports.gen.js";

export class Recorder extends TracingImports {
  readonly lines: string[] = [];

  protected trace(line: string): void {
    this.lines.push(line);
  }

  // A recording step is always the job's first (0: go on into the
  // namespace records) and a recorded session joins (1), as
  // native/core/ops.c's dry run has it.
  override ns_enter(dir: number, name: string, path: string, flags: number): number {
    super.ns_enter(dir, name, path, flags);
    return flags & F_SESSION ? 1 : 0;
  }

  /** As native/core/ops.c writes it: one line per call, each ending in "\n". */
  text(): string {
    return this.lines.map((l) => l + "\n").join("");
  }
}
