// One mount namespace per job and node (#12), on a real slurmd: the job's
// first step starts a holder that keeps the namespace, every later step
// joins it, the job's end releases it. Namespace ids are read from the
// tasks' own /proc/self/ns/mnt (slurmstepd's other threads stay where they
// were, so slurmstepd's would say nothing).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR, PLUGSTACK_CONF } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, restartSlurmd, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { HOLDER_COMM as HOLDER, holdersOf as holders, hostMountinfo } from "../helpers/procfs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const NS_DIR = "/tmp/slurm.ns";

/** ns ids ("mnt:[4026532...]") a job printed, one per line "<tag> <id>". */
function nsIds(output: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of output.split("\n")) {
    const r = /^(\S+) (mnt:\[\d+\])$/.exec(l.trim());
    if (r?.[1] && r[2]) m.set(r[1], r[2]);
  }
  return m;
}

const nsOf = (pid: number): string => fs.readlinkSync(`/proc/${pid}/ns/mnt`);

/** The job's entries in the namespace directory (socket, lock). */
const nsEntries = (id: number): string[] =>
  fs.existsSync(NS_DIR) ? fs.readdirSync(NS_DIR).filter((n) => n === `job.${id}` || n.startsWith(`job.${id}.`)) : [];

const PRINT = (tag: string): string => `echo ${tag} $(readlink /proc/self/ns/mnt)`;

for (const contain of [false, true]) {
  describe(`e2e: one namespace per job${contain ? " (PrologFlags=Contain: the extern step starts it)" : " (the first step starts it)"}`, function () {
    let info: ClusterInfo;
    before(function () {
      requireRootAndSlurm(this);
      info = startCluster({
        plugstackLines: [pluginLine(SEED)],
        ...(contain ? { extraConf: "PrologFlags=Contain" } : {}),
      });
    });
    after(() => stopCluster());

    it("every step of a job is in the one namespace its holder keeps; another job has its own; nothing is left after", async () => {
      const host = nsOf(info.slurmdPid);
      const mountsBefore = hostMountinfo(info.slurmdPid);
      const mark = logMark();
      const script = (who: string) =>
        [
          PRINT("batch"),
          // Three steps one after the other, then three at once.
          ...[1, 2, 3].map(
            (i) => `srun -n1 --overlap bash -c '${PRINT(`s${i}`)}; echo ${who}$SLURM_STEP_ID >> /tmp/steps'`,
          ),
          ...[4, 5, 6].map((i) => `srun -n1 --overlap bash -c '${PRINT(`s${i}`)}' &`),
          "wait",
          "echo steps $(tr '\\n' ' ' < /tmp/steps)",
        ].join("\n");
      const a = submitBatch(ALICE, script("a"));
      const b = submitBatch(MALLORY, script("b"));
      const [ra, rb] = await Promise.all([waitBatch(a), waitBatch(b)]);
      for (const r of [ra, rb]) assert.equal(r.state, "COMPLETED", `job ${r.jobId}: ${r.output}`);
      const ia = nsIds(ra.output),
        ib = nsIds(rb.output);
      for (const [id, ids] of [
        [a, ia],
        [b, ib],
      ] as const) {
        assert.equal(ids.size, 7, `job ${id} printed ${ids.size} namespaces:\n${[...ids].join("\n")}`);
        const one = new Set(ids.values());
        assert.equal(one.size, 1, `job ${id}'s steps in ${one.size} namespaces: ${[...ids].join(", ")}`);
        assert.notEqual([...one][0], host, `job ${id} ran in slurmd's namespace`);
      }
      assert.notEqual(ia.get("batch"), ib.get("batch"), "two jobs share a namespace");
      // The private /tmp as before: the steps' writes in the job's directory.
      assert.match(ra.output, /^steps a0 a1 a2$/m);
      // The plugin was loaded and said how each step got its namespace.
      const log = await waitFor(
        () => {
          const l = logSince(mark);
          return /private-tmpdir: job \d+ uid \d+: removed/.test(l) && (l.match(/removed/g) ?? []).length >= 2
            ? l
            : undefined;
        },
        30_000,
        { what: "both jobs' removal lines" },
      );
      for (const id of [a, b]) {
        const joined = (
          log.match(new RegExp(`job ${id}: private directories mounted, in the job's namespace$`, "gm")) ?? []
        ).length;
        const started = (
          log.match(
            new RegExp(
              `job ${id}: (private directories mounted, in the job's namespace, started by this step|private directories made \\(extern step\\), the job's namespace started)$`,
              "gm",
            ),
          ) ?? []
        ).length;
        assert.equal(started, 1, `job ${id}: one step starts the namespace:\n${log}`);
        assert.equal(joined, contain ? 7 : 6, `job ${id}: the other steps join it`);
        assert.doesNotMatch(log, new RegExp(`job ${id}: .*namespace of its own`), "no fallback");
      }
      // Released with the job: no holder, no socket, no lock, no mount.
      await waitFor(() => holders([a, b]).length === 0, 10_000, { what: "the holders to exit" });
      for (const id of [a, b]) assert.deepStrictEqual(nsEntries(id), [], `job ${id}'s entries in ${NS_DIR}`);
      const st = fs.statSync(NS_DIR);
      assert.deepStrictEqual([st.uid, st.mode & 0o7777], [0, 0o700], `${NS_DIR} is root's 0700`);
      assert.deepStrictEqual(hostMountinfo(info.slurmdPid), mountsBefore, "slurmd's mount table changed");
    });

    it("plugstack.conf changed while a job runs: a later step does not join the namespace made from the old line; it makes its own from the new one", async () => {
      const mark = logMark();
      const ready = `${OUT_DIR}/ns-conf-${process.pid}-${Date.now()}`;
      const id = submitBatch(
        ALICE,
        [
          PRINT("s0"),
          "echo private > /tmp/mine",
          `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`,
          `srun -n1 --overlap bash -c '${PRINT("s1")}; cat /tmp/mine; awk '"'"'$5=="/dev/shm" {print "shm", $(NF-1), $NF}'"'"' /proc/self/mountinfo | tail -1'`,
        ].join("\n"),
      );
      await waitFor(() => fs.existsSync(ready), 30_000, { what: "the job's first step" });
      const old = fs.readFileSync(PLUGSTACK_CONF, "utf8");
      // A tmpfs the old namespace does not have: joining it would leave
      // the new step with the host's /dev/shm.
      fs.writeFileSync(PLUGSTACK_CONF, `${pluginLine([...SEED, "tmpfs=/dev/shm", "size=8M"])}\n`);
      try {
        fs.writeFileSync(`${ready}.go`, "");
        const r = await waitBatch(id);
        assert.equal(r.state, "COMPLETED", r.output);
        const ids = nsIds(r.output);
        assert.notEqual(ids.get("s1"), ids.get("s0"), `joined the old line's namespace:\n${r.output}`);
        assert.match(r.output, /^private$/m, "the job's own /tmp in the new namespace");
        assert.match(r.output, /^shm private-tmpdir rw,size=8192k/m, `the new line's tmpfs:\n${r.output}`);
        const log = await logWhen(
          mark,
          new RegExp(`job ${id}: the job's namespace .* was made from other plugstack\\.conf options`),
          "the step's reason",
        );
        assert.ok(log.length > 0);
      } finally {
        fs.writeFileSync(PLUGSTACK_CONF, old);
      }
      await waitFor(() => holders([id]).length === 0, 10_000, { what: "the holder to go with the job" });
    });

    it("a holder killed mid-job: the next step makes the job a new one, never the shared /tmp", async () => {
      const mark = logMark();
      const ready = `${OUT_DIR}/ns-kill-${process.pid}-${Date.now()}`;
      const id = submitBatch(
        ALICE,
        [
          PRINT("s0"),
          `srun -n1 --overlap bash -c '${PRINT("s1")}; echo private > /tmp/mine'`,
          `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`,
          `srun -n1 --overlap bash -c '${PRINT("s2")}; cat /tmp/mine; test ! -e /tmp/${HOLDER}-shared'`,
        ].join("\n"),
      );
      await waitFor(() => fs.existsSync(ready), 30_000, { what: "the job's first steps" });
      const pids = holders([id]);
      assert.equal(pids.length, 1, `one holder while the job runs: ${pids.join(" ")}`);
      fs.writeFileSync(`/tmp/${HOLDER}-shared`, "the host's /tmp");
      try {
        for (const p of pids) process.kill(p, "SIGKILL");
        fs.writeFileSync(`${ready}.go`, "");
        const r = await waitBatch(id);
        assert.equal(r.state, "COMPLETED", r.output);
        const ids = nsIds(r.output);
        assert.equal(ids.get("s0"), ids.get("s1"));
        assert.notEqual(ids.get("s2"), ids.get("s1"), "joined a namespace whose holder was killed");
        assert.match(r.output, /^private$/m, "the job's own /tmp in the new namespace");
        assert.ok(logSince(mark).includes(`job ${id}: private directories mounted`), "the plugin's line");
      } finally {
        fs.rmSync(`/tmp/${HOLDER}-shared`, { force: true });
      }
      await waitFor(() => holders([id]).length === 0 && nsEntries(id).length === 0, 15_000, {
        what: "the job's end to release its namespace",
      });
    });

    it("slurmd killed (SIGKILL) and restarted mid-job: its start leaves the running job's holder, later steps join it, the job's end releases it", async () => {
      const ready = `${OUT_DIR}/ns-restart-${process.pid}-${Date.now()}`;
      const id = submitBatch(
        ALICE,
        [
          `srun -n1 --overlap bash -c '${PRINT("s1")}; echo kept > /tmp/mine'`,
          `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done`,
          `srun -n1 --overlap bash -c '${PRINT("s2")}; cat /tmp/mine'`,
        ].join("\n"),
      );
      try {
        await waitFor(() => fs.existsSync(ready), 30_000, { what: "the job's first step" });
        const before = holders([id]);
        assert.equal(before.length, 1, `one holder while the job runs: ${before.join(" ")}`);
        const mark = logMark();
        info = restartSlurmd();
        // slurmd's start, and the end of another job after it, release the
        // holders of jobs no longer on the node: this one's job still runs.
        const other = runAs(MALLORY, ["srun", "-N1", "printenv", "SLURM_JOB_ID"]);
        assert.equal(other.status, 0, other.stderr);
        await logWhen(
          mark,
          new RegExp(`private-tmpdir: job ${other.stdout.trim()} uid \\d+: removed`),
          "the other job's epilog",
        );
        assert.deepStrictEqual(holders([id]), before, "a sweep released a running job's holder");
        fs.writeFileSync(`${ready}.go`, "");
        const r = await waitBatch(id);
        assert.equal(r.state, "COMPLETED", r.output);
        const ids = nsIds(r.output);
        assert.ok(ids.get("s1"), r.output);
        assert.equal(ids.get("s2"), ids.get("s1"), "the step after the restart is in the job's namespace");
        assert.match(r.output, /^kept$/m, "the job's own /tmp after the restart");
        assert.match(
          logSince(mark),
          new RegExp(`job ${id}: private directories mounted, in the job's namespace$`, "m"),
        );
      } finally {
        fs.writeFileSync(`${ready}.go`, "");
      }
      await waitFor(() => holders([id]).length === 0 && nsEntries(id).length === 0, 30_000, {
        what: "the job's end to release its namespace",
      });
      for (const s of ["", ".go"]) fs.rmSync(`${ready}${s}`, { force: true });
    });

    it("a user cannot reach the holder's socket or plant one", () => {
      const r = runAs(ALICE, ["bash", "-c", `ls ${NS_DIR} 2>&1; touch ${NS_DIR}/job.999999.sock 2>&1; echo rc=$?`]);
      assert.match(r.stdout, /Permission denied/);
      assert.match(r.stdout, /rc=1/);
      const job = sbatchWait(ALICE, PRINT("only"));
      assert.equal(job.state, "COMPLETED", job.output);
    });
  });
}
