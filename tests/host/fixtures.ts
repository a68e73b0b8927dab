// Inputs shared by the C-host and Node-host checks: each is run through both.
export const FIXTURES: { name: string; args: string[] }[] = [
  { name: "seed README", args: ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"] },
  { name: "tmp first", args: ["base=/tmp/slurm", "mount=/tmp", "mount=/var/tmp"] },
  { name: "default base", args: ["mount=/var/tmp"] },
  { name: "several bases", args: ["mount=/a", "base=/var/tmp/x", "mount=/b/c", "base=/scratch/y", "mount=/d"] },
  { name: "root-owned parent", args: ["base=/tmp/.private-tmpdir/job", "mount=/tmp", "mount=/dev/shm"] },
  { name: "no cleanup", args: ["base=/tmp/slurm", "mount=/tmp", "cleanup=no"] },
  { name: "utf-8 path", args: ["mount=/scratch/ünï"] },
  {
    name: "tmpfs beside binds",
    args: [
      "mount=/var/tmp",
      "mount=/tmp",
      "tmpfs=/dev/shm",
      "size=25%",
      "mode=0700",
      "noexec",
      "tmpfs=/scratch/mem",
      "size=1536K",
      "tmpdir=/tmp",
    ],
  },
  { name: "tmpfs only", args: ["tmpfs=/tmp", "tmpdir=/tmp"] },
  { name: "bad: size before tmpfs", args: ["mount=/tmp", "size=8G"] },
  { name: "bad: relative", args: ["mount=tmp"] },
  { name: "bad: collision", args: ["mount=/var/tmp", "mount=/var_tmp"] },
  { name: "bad: unknown", args: ["bogus=1"] },
];
