// Cleanup at job end on a real slurmd: everything a job leaves in its
// private directories is gone after the epilog, nothing else is touched, and
// slurmd's log says how much was removed.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import {
  ALICE, logMark, logSince, pluginLine, runAs, sbatchWait, startCluster, stopCluster,
  requireRootAndSlurm, waitFor,
} from "../helpers/slurm.js";

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
    const before = fs.readdirSync("/tmp").filter((n) => !/^slurm\.\d+\.\d+$/.test(n)).sort();
    const mark = logMark();
    const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", [
      "echo $SLURM_JOB_ID",
      "cd /tmp && printf 12345 > plain && printf ab > $'new\\nline' && touch ' spaced ' $(printf 'n%.0s' $(seq 255))",
      "mkfifo /tmp/fifo && python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"/tmp/sock\")'",
      "mkdir -p /tmp/ro/in && touch /tmp/ro/in/f && chmod 500 /tmp/ro/in && chmod 0 /tmp/ro",
      "(cd /var/tmp && for i in $(seq 200); do mkdir d && cd d; done; touch leaf)",
      `ln -s ${PRECIOUS} /tmp/link`,
    ].join("\n")]);
    assert.equal(r.status, 0, r.stderr);
    const id = Number(r.stdout.trim());
    const line = await waitFor(() => new RegExp(`private-tmpdir: job ${id} uid \\d+: removed (\\d+) bytes, (\\d+) files, (\\d+) directories in [0-9.]+ s`).exec(logSince(mark)), 20_000, { what: "the epilog's line" });
    assert.deepStrictEqual(line.slice(1, 4).map(Number), [7 + PRECIOUS.length, 9, 3 + 2 + 200], line[0]);
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false);
    assert.deepStrictEqual(fs.readdirSync("/tmp").filter((n) => !/^slurm\.\d+\.\d+$/.test(n)).sort(), before, "the host's /tmp is otherwise untouched");
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
    await waitFor(() => new RegExp(`private-tmpdir: job ${id} uid \\d+: removed`).test(logSince(mark)), 20_000, { what: "the epilog" });
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false);
    startCluster({ plugstackLines: [pluginLine(SEED)] });
  });

  it("cleans up batch jobs with several steps", async () => {
    const mark = logMark();
    const r = sbatchWait(ALICE, "seq 1000 > /tmp/a\nsrun bash -c 'seq 10 > /var/tmp/b'\n");
    assert.equal(r.status, 0, r.output);
    assert.equal(fs.existsSync(`/tmp/slurm.${r.jobId}.0`), false);
    assert.match(logSince(mark), new RegExp(`private-tmpdir: job ${r.jobId} uid \\d+: removed 3914 bytes, 2 files, 3 directories`));
  });
});
