// The per-job usage record (#26) on a real slurmd: a job leaves known sizes
// in each of its private paths (two mount=, a tmpfs=, a disk=), and slurmd's
// log gets one "private-tmpdir: usage" line per path with exactly those
// figures: the bind paths' from the remover's walk (off the job's path), the
// tmpfs='s and disk='s from the namespace holder at the job's end (the
// emptying walk, and statfs before the filesystem goes).
import { strict as assert } from "node:assert";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logWhen } from "../helpers/daemon-logs.js";

const LINE = ["base=/tmp/slurm", "mount=/tmp", "mount=/var/tmp", "tmpfs=/dev/shm", "size=16M", "disk=/mnt", "size=64M"];

/** The usage lines of one job in a log, each as its key=value fields, by path. */
function usageOf(log: string, jobId: number): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const line of log.split("\n")) {
    const m = /private-tmpdir: usage (.*)$/.exec(line);
    if (!m?.[1]) continue;
    const f = Object.fromEntries(m[1].split(" ").map((kv) => kv.split("=", 2) as [string, string]));
    if (f["job"] === String(jobId) && f["path"] !== undefined) out.set(f["path"], f);
  }
  return out;
}

describe("e2e: the per-job usage record (one line per private path)", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine(LINE)] });
  });
  after(() => stopCluster());

  it("logs what a job left in each path, exactly, once per path, at info level in slurmd's log", async () => {
    const mark = logMark();
    const uid = runAs(ALICE, ["id", "-u"]).stdout.trim();
    const r = sbatchWait(
      ALICE,
      [
        "set -e",
        // mount=/tmp: 3 files, 6000 bytes, in one subdirectory.
        "mkdir /tmp/sub",
        "head -c 1000 /dev/zero > /tmp/a; head -c 2000 /dev/zero > /tmp/b; head -c 3000 /dev/zero > /tmp/sub/c",
        // mount=/var/tmp: 1 file of 7 bytes.
        "printf 1234567 > /var/tmp/d",
        // tmpfs=/dev/shm: 14,097 bytes in 3 files and a directory; 5 pages.
        "mkdir /dev/shm/dir",
        "head -c 4096 /dev/zero > /dev/shm/e; head -c 10000 /dev/zero > /dev/shm/f; printf x > /dev/shm/dir/g",
        // disk=/mnt: 12 KiB in 2 files (whole blocks, 1 or 4 KiB).
        "head -c 8192 /dev/zero > /mnt/h; head -c 4096 /dev/zero > /mnt/i",
        "echo wrote",
      ].join("\n"),
    );
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /^wrote$/m);
    const want = (path: string) => new RegExp(`private-tmpdir: usage job=${r.jobId} uid=\\d+ path=${path} `);
    let log = "";
    for (const p of ["/tmp", "/var/tmp", "/dev/shm", "/mnt"]) log = await logWhen(mark, want(p), `usage of ${p}`);
    const u = usageOf(log, r.jobId);
    const fields = (p: string) => {
      const f = u.get(p);
      assert.ok(f, `no usage line for ${p}:\n${log}`);
      return [f["uid"], f["kind"], f["bytes"], f["files"], f["dirs"], f["used"], f["inodes"]];
    };
    assert.deepStrictEqual(fields("/tmp"), [uid, "bind", "6000", "3", "1", "-", "-"], log);
    assert.deepStrictEqual(fields("/var/tmp"), [uid, "bind", "7", "1", "0", "-", "-"], log);
    // The walk's exact sizes, and the pages and inodes statfs had in use.
    assert.deepStrictEqual(fields("/dev/shm"), [uid, "tmpfs", "14097", "3", "1", String(5 * 4096), "4"], log);
    // No walk of a disk (it goes in O(1)): statfs, less the new ext4's own.
    assert.deepStrictEqual(fields("/mnt"), [uid, "disk", "-", "-", "-", "12288", "2"], log);
    // Once per path: the remover's and the holder's lines are not repeated.
    const count = log.split("\n").filter((l) => l.includes(`private-tmpdir: usage job=${r.jobId} `)).length;
    assert.equal(count, 4, log);
    console.log(
      log
        .split("\n")
        .filter((l) => l.includes(`private-tmpdir: usage job=${r.jobId} `))
        .join("\n"),
    );
    // At info level, where the plugin's other lines go.
    assert.match(log, new RegExp(`\\[\\S+\\] (slurmd: |slurmstepd: )?(info: )?private-tmpdir: usage job=${r.jobId}`));
  });
});
