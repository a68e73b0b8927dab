// Cleanup at job end on a real slurmd: everything a job leaves in its
// private directories is gone after the epilog, nothing else is touched, and
// slurmd's log says how much was removed.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import { clusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const PRECIOUS = "/var/spool/ptd-precious-cleanup";

describe("e2e: cleanup at job end", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    fs.rmSync(PRECIOUS, { recursive: true, force: true });
    fs.mkdirSync(`${PRECIOUS}/sub`, { recursive: true });
    fs.writeFileSync(`${PRECIOUS}/sub/file`, "keep");
  });
  after(() => {
    fs.rmSync(PRECIOUS, { recursive: true, force: true });
    stopCluster();
  });

  it("removes files, deep trees, FIFOs, sockets, read-only directories and odd names, and logs the totals", async () => {
    // The job runs as ALICE: whatever of it reached the host's /tmp would be
    // hers. (Other processes on the machine may come and go in /tmp.)
    const aliceUid = Number(execFileSync("id", ["-u", ALICE], { encoding: "utf8" }));
    const hers = (): string[] =>
      fs
        .readdirSync("/tmp")
        .filter(
          (n) => !/^slurm\.\d+\.\d+$/.test(n) && fs.lstatSync(`/tmp/${n}`, { throwIfNoEntry: false })?.uid === aliceUid,
        )
        .sort();
    const before = hers();
    const mark = logMark();
    const r = runAs(ALICE, [
      "srun",
      "-N1",
      "bash",
      "-c",
      [
        "echo $SLURM_JOB_ID",
        "cd /tmp && printf 12345 > plain && printf ab > $'new\\nline' && touch ' spaced ' $(printf 'n%.0s' $(seq 255))",
        "mkfifo /tmp/fifo && python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"/tmp/sock\")'",
        "mkdir -p /tmp/ro/in && touch /tmp/ro/in/f && chmod 500 /tmp/ro/in && chmod 0 /tmp/ro",
        "(cd /var/tmp && for i in $(seq 200); do mkdir d && cd d; done; touch leaf)",
        `ln -s ${PRECIOUS} /tmp/link`,
      ].join("\n"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const id = Number(r.stdout.trim());
    const line = await waitFor(
      () =>
        new RegExp(
          `private-tmpdir: job ${id} uid \\d+: removed (\\d+) bytes, (\\d+) files, (\\d+) directories in [0-9.]+ s`,
        ).exec(logSince(mark)),
      20_000,
      { what: "the epilog's line" },
    );
    assert.deepStrictEqual(line.slice(1, 4).map(Number), [7 + PRECIOUS.length, 9, 3 + 2 + 200], line[0]);
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false);
    assert.deepStrictEqual(hers(), before, "nothing of the job's user appeared in the host's /tmp");
    assert.equal(fs.readFileSync(`${PRECIOUS}/sub/file`, "utf8"), "keep");
  });

  it("cleans up after a job whose step failed half-way", async () => {
    // A mount point that does not exist fails the step after the directories are made.
    startCluster({ plugstackLines: [pluginLine([...SEED, "mount=/var/spool/ptd-no-such-dir"])] });
    const mark = logMark();
    const r = runAs(ALICE, ["srun", "-N1", "true"], { timeoutMs: 30_000 });
    assert.ok(r.status !== 0 || /launch failed/.test(r.stderr), r.stderr);
    const id = Number(/job (\d+): open mount point/.exec(logSince(mark))?.[1]);
    assert.ok(id > 0, logSince(mark));
    await waitFor(() => new RegExp(`private-tmpdir: job ${id} uid \\d+: removed`).test(logSince(mark)), 20_000, {
      what: "the epilog",
    });
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false);
    startCluster({ plugstackLines: [pluginLine(SEED)] });
  });

  it("a job's file names cannot forge a slurmd.log line: an entry left in place is logged escaped", async () => {
    // Text that, written out raw after a newline, reads as a line of its own.
    const FORGED = "[2026-01-01T00:00:00.000] error: private-tmpdir: FORGED";
    const dir = `d\n${FORGED}\r\t\x1b[31m`;
    const tag = `ptd-inject-${process.pid}-${Date.now()}`;
    const ready = `${OUT_DIR}/${tag}.ready`,
      go = `${OUT_DIR}/${tag}.go`;
    const mark = logMark();
    // The job names a directory and a file so, then holds until the mount
    // below is in place (a barrier, not a delay).
    const job = spawnAs(
      ALICE,
      [
        "srun",
        "-N1",
        "bash",
        "-c",
        [
          `cd /tmp && mkdir "$(printf 'd\\n%s\\r\\t\\033[31m' '${FORGED}')" && printf x > "$(printf 'f\\n%s' '${FORGED}')"`,
          `echo $SLURM_JOB_ID > ${ready}`,
          `for i in $(seq 300); do [ -e ${go} ] && break; sleep 0.1; done`,
        ].join("\n"),
      ],
      90_000,
    );
    const id = await waitFor(
      () => {
        const t = fs.existsSync(ready) ? fs.readFileSync(ready, "utf8").trim() : "";
        return /^\d+$/.test(t) ? Number(t) : undefined;
      },
      60_000,
      { what: "the job to start" },
    );
    const mnt = `/tmp/slurm.${id}.0/tmp/${dir}`;
    // A mount in slurmd's namespace keeps that entry from being removed, so
    // the epilog names it: the one way the name reaches the log.
    const ns = ["nsenter", "-t", String(clusterInfo().slurmdPid), "-m", "--"];
    try {
      execFileSync(ns[0] as string, [...ns.slice(1), "mount", "-t", "tmpfs", "ptd-inject", mnt]);
      fs.writeFileSync(go, "");
      const r = await job;
      assert.equal(r.status, 0, r.stderr);
      // The tree was taken into the holding place; the remover cannot remove
      // the mount point and says so, naming it.
      const held = new RegExp(`slurm\\.${id}\\.0\\.\\d+\\.[0-9a-f]{16}/tmp/d\\\\x0a`);
      await waitFor(
        () =>
          new RegExp(`private-tmpdir: /tmp/slurm\\.hold: \\d+ entries pending after this pass .*${held.source}`).test(
            logSince(mark),
          ),
        20_000,
        { what: "the remover's pending line" },
      );
      const log = logSince(mark);
      assert.ok(log.includes(`/tmp/d\\x0a${FORGED}\\x0d\\x09\\x1b[31m: another filesystem left in place`), log);
      const forged = log.split("\n").filter((l) => l.includes("FORGED"));
      assert.ok(
        forged.length > 0 && forged.every((l) => l.includes("private-tmpdir: /tmp/slurm.hold: ")),
        forged.join("\n"),
      );
      assert.doesNotMatch(log, /[\r\x1b]/, "no raw control byte from a name");
    } finally {
      fs.rmSync(go, { force: true });
      fs.rmSync(ready, { force: true });
      try {
        execFileSync(ns[0] as string, [...ns.slice(1), "umount", mnt], { stdio: "ignore" });
      } catch {
        /* not mounted */
      }
      // Where the epilog put it: the holding place.
      for (const h of fs.existsSync("/tmp/slurm.hold") ? fs.readdirSync("/tmp/slurm.hold") : []) {
        if (!h.startsWith(`slurm.${id}.0.`)) continue;
        try {
          execFileSync(ns[0] as string, [...ns.slice(1), "umount", `/tmp/slurm.hold/${h}/tmp/${dir}`], {
            stdio: "ignore",
          });
        } catch {
          /* not mounted */
        }
        fs.rmSync(`/tmp/slurm.hold/${h}`, { recursive: true, force: true });
      }
      fs.rmSync(`/tmp/slurm.${id}.0`, { recursive: true, force: true });
    }
  });

  it("cleans up batch jobs with several steps", async () => {
    const mark = logMark();
    const r = sbatchWait(ALICE, "seq 1000 > /tmp/a\nsrun bash -c 'seq 10 > /var/tmp/b'\n");
    assert.equal(r.status, 0, r.output);
    assert.equal(fs.existsSync(`/tmp/slurm.${r.jobId}.0`), false);
    await logWhen(
      mark,
      new RegExp(`private-tmpdir: job ${r.jobId} uid \\d+: removed 3914 bytes, 2 files, 3 directories`),
      "the job's removal line",
    );
  });

  it('with cleanup=no, says the directories were kept and marked, not "removed 0 bytes"', async () => {
    startCluster({ plugstackLines: [pluginLine([...SEED, "cleanup=no"])] });
    try {
      const mark = logMark();
      const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID; echo kept > /tmp/f"]);
      assert.equal(r.status, 0, r.stderr);
      const id = Number(r.stdout.trim());
      await waitFor(
        () =>
          new RegExp(
            `private-tmpdir: job ${id} uid \\d+: kept its directories \\(cleanup=no\\), marked them ended in [0-9.]+ s \\((epilog|extern step)\\)`,
          ).test(logSince(mark)),
        20_000,
        { what: "the epilog's line" },
      );
      assert.doesNotMatch(logSince(mark), new RegExp(`job ${id} uid \\d+: removed`));
      assert.equal(fs.readFileSync(`/tmp/slurm.${id}.0/tmp/f`, "utf8"), "kept\n");
      assert.ok(fs.existsSync(`/tmp/slurm.${id}.0/.private-tmpdir-ended`));
    } finally {
      removeJobDirs();
    }
  });
});
