// A job's tmpfs and its holder are bounded (#21, 5) on a real slurmd: the
// tmpfs holds at most nr_inodes files and directories (default one per
// 4 KiB of its size), so the kernel memory a job can pin there and the
// holder's emptying at its end stay small; the holder and the remover run
// at oom_score_adj 0, not slurmstepd's -1000.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

// Nested directories with 255-byte names until the filesystem refuses one.
const NEST = `python3 - <<'PY'
import os, errno
os.chdir("/dev/shm")
n = 0
try:
    while True:
        d = "d" * 255
        os.mkdir(d)
        os.chdir(d)
        n += 1
except OSError as e:
    print(n, errno.errorcode[e.errno])
PY`;

describe("e2e: a job's tmpfs and its holder are bounded (#21)", function () {
  this.timeout(600_000);
  before(function () {
    requireRootAndSlurm(this);
  });
  after(() => {
    stopCluster();
    removeJobDirs();
  });

  it("a 16 MiB tmpfs holds at most 4,096 inodes by default, nr_inodes= sets another count; the holder is at oom_score_adj 0", async () => {
    startCluster({
      plugstackLines: [
        pluginLine([...SEED, "tmpfs=/dev/shm", "size=16M", "tmpfs=/var/spool/ptd-nr", "size=16M", "nr_inodes=300"]),
      ],
    });
    fs.mkdirSync("/var/spool/ptd-nr", { recursive: true });
    const tag = `${OUT_DIR}/ptd-bounds-${process.pid}`;
    const job = spawnAs(
      ALICE,
      [
        "srun",
        "-N1",
        "bash",
        "-c",
        `echo $SLURM_JOB_ID > ${tag}.id; df --output=itotal /dev/shm /var/spool/ptd-nr | tail -n 2 | tr -s ' \\n' ' '; echo; ${NEST}
for i in $(seq 600); do [ -e ${tag}.go ] && break; sleep 0.1; done`,
      ],
      300_000,
    );
    try {
      const id = await waitFor(
        () => {
          const t = fs.existsSync(`${tag}.id`) ? fs.readFileSync(`${tag}.id`, "utf8").trim() : "";
          return /^\d+$/.test(t) ? Number(t) : undefined;
        },
        60_000,
        { what: "the job" },
      );
      const holders = await waitFor(
        () => {
          const h = holdersOf([id]);
          return h.length ? h : undefined;
        },
        30_000,
        { what: "the job's holder" },
      );
      for (const h of holders)
        assert.equal(fs.readFileSync(`/proc/${h}/oom_score_adj`, "utf8").trim(), "0", `holder ${h}`);
      // (What it would inherit otherwise, slurmstepd's -1000, is shown by
      // tests/host/detach.test.ts: here slurmstepd's own setting does not
      // hold on every machine.)
    } finally {
      fs.writeFileSync(`${tag}.go`, "");
    }
    const r = await job;
    assert.equal(r.status, 0, r.stderr);
    const [counts, nest] = r.stdout.trim().split("\n");
    assert.deepStrictEqual(counts!.trim().split(" ").map(Number), [4096, 300]);
    const m = /^(\d+) ENOSPC$/.exec(nest!.trim());
    assert.ok(m, `nesting stopped by ENOSPC: ${nest}`);
    assert.ok(Number(m[1]) <= 4096 && Number(m[1]) > 4000, `${m[1]} directories`);
    for (const s of [".id", ".go"]) fs.rmSync(`${tag}${s}`, { force: true });
  });

  it("a job that fills its tmpfs with nested directories ends promptly: its holder empties it and exits, nothing left mounted", async () => {
    startCluster({ plugstackLines: [pluginLine([...SEED, "tmpfs=/dev/shm", "size=16M"])] });
    const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", `echo $SLURM_JOB_ID; ${NEST}`], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const id = Number(r.stdout.trim().split("\n")[0]);
    await waitFor(() => holdersOf([id]).length === 0, 30_000, { what: "the holder to exit" });
    const mounts = fs
      .readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => / private-tmpdir /.test(l) && l.includes(" tmpfs "));
    assert.deepStrictEqual(mounts, [], "no job tmpfs left in the host's mount table");
  });
});
