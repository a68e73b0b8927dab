// Inputs shared by the C-host and Node-host checks: each is run through both.
export const FIXTURES: { name: string; args: string[] }[] = [
  { name: "seed README", args: ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"] },
  { name: "tmp first", args: ["base=/tmp/slurm", "mount=/tmp", "mount=/var/tmp"] },
  { name: "default base", args: ["mount=/var/tmp"] },
  { name: "several bases", args: ["mount=/a", "base=/var/tmp/x", "mount=/b/c", "base=/scratch/y", "mount=/d"] },
  { name: "root-owned parent", args: ["base=/tmp/.private-tmpdir/job", "mount=/tmp", "mount=/dev/shm"] },
  { name: "no cleanup", args: ["base=/tmp/slurm", "mount=/tmp", "cleanup=no"] },
  { name: "utf-8 path", args: ["mount=/scratch/ünï"] },
  { name: "bad: relative", args: ["mount=tmp"] },
  { name: "bad: collision", args: ["mount=/var/tmp", "mount=/var_tmp"] },
  { name: "bad: unknown", args: ["bogus=1"] },
];
