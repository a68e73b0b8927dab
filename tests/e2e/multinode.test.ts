// "On every node of the job": two slurmd on this machine (cluster.sh
// NODES=2), the second in its own mount namespace with its own tmpfs /tmp
// and /var/tmp, as a separate machine would have.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

describe("e2e: a two-node job", function () {
  let info: ClusterInfo;
  before(function () {
    requireRootAndSlurm(this);
    info = startCluster({ plugstackLines: [pluginLine(SEED)], nodes: 2 });
  });
  after(() => stopCluster());

  it("gets its private directories on each node, and each node's epilog removes its own", async () => {
    assert.ok(info.node2 && info.slurmd2Pid, "second node started");
    const alice = Number(runAs("root", ["id", "-u", ALICE]).stdout.trim());
    // The second node's /tmp as its slurmd (and the job's steps there) see it.
    const node2Tmp = `/proc/${info.slurmd2Pid}/root/tmp`;
    const mark = logMark();
    const job = spawnAs(ALICE, [
      "srun",
      "-N2",
      "bash",
      "-c",
      "echo $SLURM_JOB_ID; touch /tmp/f-$SLURMD_NODENAME /var/tmp/v-$SLURMD_NODENAME; sleep 2",
    ]);
    const id = await waitFor(
      () =>
        fs
          .readdirSync("/tmp")
          .map((n) => /^slurm\.(\d+)\.0$/.exec(n)?.[1])
          .find((j) => j && fs.existsSync(`/tmp/slurm.${j}.0/tmp/f-${info.node}`)),
      20_000,
      { what: "the job on the first node" },
    );
    const here = `/tmp/slurm.${id}.0`;
    const there = `${node2Tmp}/slurm.${id}.0`;
    await waitFor(() => fs.existsSync(`${there}/tmp/f-${info.node2}`), 20_000, { what: "the job on the second node" });
    for (const [dir, node] of [
      [here, info.node],
      [there, info.node2],
    ] as const) {
      for (const p of [dir, `${dir}/tmp`, `${dir}/var_tmp`]) {
        const st = fs.statSync(p);
        assert.deepStrictEqual([st.uid, st.mode & 0o7777], [alice, 0o700], p);
      }
      assert.deepStrictEqual(fs.readdirSync(`${dir}/tmp`), [`f-${node}`], "each node holds only its own files");
      assert.deepStrictEqual(fs.readdirSync(`${dir}/var_tmp`), [`v-${node}`]);
    }
    const r = await job;
    assert.equal(r.status, 0, r.stderr);
    await waitFor(
      () =>
        (
          logSince(mark).match(
            new RegExp(`private-tmpdir: job ${id} uid \\d+: removed 0 bytes, 2 files, 3 directories`, "g"),
          ) ?? []
        ).length === 2,
      20_000,
      { what: "both nodes' epilog lines" },
    );
    assert.equal(fs.existsSync(here), false);
    assert.equal(fs.existsSync(there), false);
  });
});
