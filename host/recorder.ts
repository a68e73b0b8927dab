// Imports that record each call instead of acting: the Node side of the
// "same plan in C and in Node" check. The line format matches native/core/ops.c.
import type { HostImports } from "./core.js";
import { F_SESSION } from "./abi.js";

const oct = (n: number): string => n.toString(8);

export class Recorder implements HostImports {
  readonly lines: string[] = [];
  private add(...f: (string | number)[]): number {
    this.lines.push(f.join("\t"));
    return 0;
  }
  open_trusted(slot: number, path: string, mode: number, flags: number): number {
    return this.add("open_trusted", slot, path, oct(mode), flags);
  }
  mkdir_at(parent: number, slot: number, name: string, path: string, mode: number, uid: number, gid: number, flags: number): number {
    return this.add("mkdir_at", parent, slot, name, path, oct(mode), uid, gid, flags);
  }
  unshare_mount_ns(): number { return this.add("unshare_mount_ns"); }
  make_slave(): number { return this.add("make_slave"); }
  open_private(slot: number, expect: number, path: string, uid: number): number { return this.add("open_private", slot, expect, path, uid); }
  open_target(slot: number, path: string): number { return this.add("open_target", slot, path); }
  bind(source: number, target: number, targetPath: string, sourcePath: string): number {
    return this.add("bind", source, target, targetPath, sourcePath);
  }
  remove_at(parent: number, hold: number, name: string, path: string, uid: number, flags: number): number {
    return this.add("remove_at", parent, hold, name, path, uid, flags);
  }
  drain_at(hold: number, parent: number, prefix: string, path: string, budget: number, flags: number): number {
    return this.add("drain_at", hold, parent, prefix, path, budget, flags);
  }
  continue_at(parent: number, name: string, path: string, budget: number): number {
    return this.add("continue_at", parent, name, path, budget);
  }
  mark_ended(parent: number, name: string, path: string, uid: number): number {
    return this.add("mark_ended", parent, name, path, uid);
  }
  // A recording step is always the job's first (0: go on into the
  // namespace records) and a recorded session joins (1), as native/core/ops.c's
  // record mode has it.
  ns_enter(dir: number, name: string, path: string, flags: number): number {
    const r = this.add("ns_enter", dir, name, path, flags);
    return r < 0 ? r : flags & F_SESSION ? 1 : 0;
  }
  ns_ready(): number { return this.add("ns_ready"); }
  ns_release(dir: number, name: string, path: string, flags: number): number {
    return this.add("ns_release", dir, name, path, flags);
  }
  mount_tmpfs(slot: number, path: string, sizeMb: number, inodes: number, mode: number, uid: number, gid: number, flags: number): number {
    return this.add("mount_tmpfs", slot, path, sizeMb, inodes, oct(mode), uid, gid, flags);
  }
  set_env(name: string, value: string): number {
    return this.add("set_env", name, value);
  }
  /** As native/core/ops.c writes it: one line per call, each ending in "\n". */
  text(): string {
    return this.lines.map((l) => l + "\n").join("");
  }
}
