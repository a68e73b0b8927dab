// What the plugin leaves of jobs on a node once they ended, as the tests
// look for it: their directories in the base's directory and in its holding
// place, their mounts in slurmd's mount table, their namespace holders; and
// the shell line with which a job reports which /tmp it sees.
import * as fs from "node:fs";
import { holdersOf, hostMountinfo } from "./procfs.js";

/** For a job's shell: prints "<tag> <root>", the root (in its filesystem)
 * of the topmost mount on /tmp, "-" when /tmp is no mount of its own. The
 * job's bind has the root .../slurm.<job>.0/tmp. */
export function tmpRootLine(tag: string): string {
  return `awk -v t=${tag} '$5 == "/tmp" { r = $4 } END { print t, (r == "" ? "-" : r) }' /proc/self/mountinfo`;
}

/** The root a tmpRootLine(tag) printed, or undefined. */
export function tmpRootOf(output: string, tag: string): string | undefined {
  return new RegExp(`^${tag} (\\S+)$`, "m").exec(output)?.[1];
}

/** Whether a /tmp root is job `id`'s bind (for `id` undefined: any job's). */
export function isJobTmp(root: string | undefined, id?: number): boolean {
  return root !== undefined && new RegExp(`/slurm\\.${id ?? "\\d+"}\\.0/tmp$`).test(root);
}

export interface NodeView {
  /** The node's /tmp as its slurmd sees it: "/tmp", or /proc/<pid>/root/tmp. */
  tmp: string;
  slurmdPid: number;
}

/** Everything left of these jobs on the node, one line each; [] when none. */
export function jobTraces(ids: readonly number[], node: NodeView): string[] {
  const named = (n: string): boolean => ids.some((id) => n.startsWith(`slurm.${id}.`));
  const list = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  return [
    ...list(node.tmp)
      .filter(named)
      .map((n) => `directory ${node.tmp}/${n}`),
    ...list(`${node.tmp}/slurm.hold`)
      .filter(named)
      .map((n) => `held ${node.tmp}/slurm.hold/${n}`),
    ...hostMountinfo(node.slurmdPid)
      .filter((l) => ids.some((id) => l.includes(`/slurm.${id}.`)))
      .map((l) => `mount of slurmd ${node.slurmdPid}: ${l}`),
    ...holdersOf(ids).map((p) => `holder pid ${p}`),
  ];
}
