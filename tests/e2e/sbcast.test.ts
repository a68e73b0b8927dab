// sbcast into the job's private /tmp (#24) on two nodes (cluster.sh NODES=2,
// the second with a /tmp of its own). slurmd writes an sbcast file in the
// host's namespace (no SPANK hook runs there), so a job sends it to
// $PRIVATE_TMPDIR_HOST_TMP, the host path of its /tmp's private directory;
// a plain `sbcast app /tmp/app` lands in each node's own /tmp instead.
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { CONTAIN_SO, pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
// An executable of over 10 MiB: an ELF runs with bytes after its segments.
const PAD_BYTES = 10 * 1024 * 1024;
// 2001-01-01: what sbcast --preserve keeps.
const PRESERVED_MTIME = 978307200;

const sha256 = (p: string): string => createHash("sha256").update(fs.readFileSync(p)).digest("hex");

/** The script's part that makes `$app` in the submit directory (OUT_DIR):
 * printenv, padded; the test removes it. */
const MAKE_APP = `app=${OUT_DIR}/ptd-sbcast-app.$SLURM_JOB_ID
cp /usr/bin/printenv "$app"
head -c ${PAD_BYTES} /dev/zero >>"$app"`;

/** The script's end: says it is ready, waits (up to 60 s) for the test to
 * look at both nodes and make `go`; fails unless it did. A barrier, not a
 * delay. */
const WAIT_GO = `touch ${OUT_DIR}/ptd-sbcast.$SLURM_JOB_ID.ready
go=${OUT_DIR}/ptd-sbcast.$SLURM_JOB_ID.go
i=0; while [ ! -e $go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e $go`;

/** Lines "<task>: <text>" of `srun -l` that follow a line `tag`, sorted:
 * task order is the nodes', output order is not. */
function section(output: string, tag: string, lines: number): string[] {
  const all = output.split("\n");
  const at = all.indexOf(tag);
  assert.ok(at >= 0, `no ${tag} in the job's output:\n${output}`);
  return all.slice(at + 1, at + 1 + lines).sort();
}

/** What a held job of this suite leaves in the lab's out directory: its app, and its ready and go files. */
function jobScratch(id: number): string[] {
  return [`${OUT_DIR}/ptd-sbcast-app.${id}`, `${OUT_DIR}/ptd-sbcast.${id}.ready`, `${OUT_DIR}/ptd-sbcast.${id}.go`];
}

describe("e2e: sbcast into the job's private /tmp on two nodes ($PRIVATE_TMPDIR_HOST_TMP)", function () {
  let info: ClusterInfo;
  let alice: number;
  // Files a job may leave outside its directories: removed whatever happens.
  const leftovers: string[] = [];
  before(function () {
    requireRootAndSlurm(this);
    alice = Number(runAs("root", ["id", "-u", ALICE]).stdout.trim());
  });
  afterEach(() => {
    for (const p of leftovers.splice(0)) fs.rmSync(p, { force: true });
  });
  after(() => stopCluster());

  /** Both nodes' view of a running job: its private /tmp directory as each
   * host sees it, and each host's own /tmp. */
  function nodes(id: number): { node: string; hostTmp: string; priv: string }[] {
    assert.ok(info.node2 && info.slurmd2Pid, "second node started");
    // The second node's /tmp as its slurmd (and the job's steps there) see it.
    const node2Tmp = `/proc/${info.slurmd2Pid}/root/tmp`;
    return [
      { node: info.node, hostTmp: "/tmp", priv: `/tmp/slurm.${id}.0/tmp` },
      { node: info.node2, hostTmp: node2Tmp, priv: `${node2Tmp}/slurm.${id}.0/tmp` },
    ];
  }

  /** The job's app, broadcast into its private /tmp: on each node in the
   * host path's directory, the user's, the very bytes; in no host's /tmp. */
  function checkBroadcast(id: number): void {
    const src = `${OUT_DIR}/ptd-sbcast-app.${id}`;
    const want = sha256(src);
    assert.ok(fs.statSync(src).size > PAD_BYTES);
    for (const n of nodes(id)) {
      const st = fs.statSync(`${n.priv}/app`);
      assert.deepStrictEqual([st.uid, (st.mode & 0o100) !== 0], [alice, true], `${n.node}: ${n.priv}/app`);
      assert.equal(sha256(`${n.priv}/app`), want, `${n.node}: the bytes sent`);
      assert.equal(fs.existsSync(`${n.hostTmp}/app`), false, `${n.node}: /tmp/app in the host's /tmp`);
    }
  }

  /** After the job: its directories gone on both nodes, each node's removal
   * logged (`re`, twice). */
  async function checkRemoved(id: number, mark: number, re: RegExp): Promise<void> {
    await waitFor(() => (logSince(mark).match(re) ?? []).length === 2, 30_000, {
      what: `both nodes' removal lines for job ${id}`,
    });
    for (const n of nodes(id)) assert.equal(fs.existsSync(n.priv.replace(/\/tmp$/, "")), false, n.node);
  }

  describe("without PrologFlags=Contain", () => {
    before(() => {
      info = startCluster({ plugstackLines: [pluginLine(SEED)], nodes: 2 });
    });

    it("a first step on every node: the batch script's sbcast reaches the job's /tmp there; a plain sbcast to /tmp does not", async () => {
      const mark = logMark();
      const id = submitBatch(
        ALICE,
        `${MAKE_APP}
echo "batch: $PRIVATE_TMPDIR_HOST_TMP $PRIVATE_TMPDIR_HOST_VAR_TMP"
# Before any step on the second node its directory does not exist there.
sbcast "$app" "$PRIVATE_TMPDIR_HOST_TMP/early" 2>/dev/null; echo "early sbcast: $?"
# As docs/workflows.md says: a step on every node of the job.
srun --ntasks-per-node=1 true
sbcast "$app" "$PRIVATE_TMPDIR_HOST_TMP/app" || exit 1
# The limit: a plain destination is each node's own /tmp, not the job's.
sbcast "$app" /tmp/ptd-sbcast-plain.$SLURM_JOB_ID || exit 1
echo steps:
srun -N2 -l bash -c 'echo "$SLURMD_NODENAME \${PRIVATE_TMPDIR_HOST_TMP-unset} $(stat -c %s /tmp/app)"'
echo app:
srun -N2 -l /tmp/app SLURMD_NODENAME
echo plain:
srun -N2 -l bash -c 'ls /tmp/ptd-sbcast-plain.$SLURM_JOB_ID 2>/dev/null || echo "not in the job'"'"'s /tmp"'
${WAIT_GO}
`,
        ["-N2"],
      );
      leftovers.push(...jobScratch(id), ...nodes(id).map((n) => `${n.hostTmp}/ptd-sbcast-plain.${id}`));
      await waitFor(() => fs.existsSync(`${OUT_DIR}/ptd-sbcast.${id}.ready`), 60_000, { what: `job ${id} ready` });
      checkBroadcast(id);
      const [first, second] = nodes(id);
      assert.ok(first && second);
      // The early one: made on the first node (its batch step made the
      // directory), refused on the second.
      assert.equal(fs.existsSync(`${first.priv}/early`), true);
      assert.equal(fs.existsSync(`${second.priv}/early`), false);
      for (const n of nodes(id)) {
        const plain = fs.statSync(`${n.hostTmp}/ptd-sbcast-plain.${id}`);
        assert.equal(plain.uid, alice, `${n.node}: the plain sbcast's file is the user's`);
      }
      fs.writeFileSync(`${OUT_DIR}/ptd-sbcast.${id}.go`, "");
      const r = await waitBatch(id);
      assert.equal(r.status, 0, r.output);
      const host = `/tmp/slurm.${id}.0`;
      assert.match(r.output, new RegExp(`^batch: ${host}/tmp ${host}/var_tmp$`, "m"));
      assert.match(r.output, /^early sbcast: [1-9]\d*$/m);
      const size = fs.statSync(`${OUT_DIR}/ptd-sbcast-app.${id}`).size;
      // The plugin sets the host paths in the script only (spank_setenv's
      // first call costs a step about 0.5 ms here); its steps have them as
      // srun passes on the script's environment (--export=ALL).
      assert.deepStrictEqual(section(r.output, "steps:", 2), [
        `0: ${info.node} ${host}/tmp ${size}`,
        `1: ${info.node2} ${host}/tmp ${size}`,
      ]);
      assert.deepStrictEqual(section(r.output, "app:", 2), [`0: ${info.node}`, `1: ${info.node2}`]);
      assert.deepStrictEqual(section(r.output, "plain:", 2), ["0: not in the job's /tmp", "1: not in the job's /tmp"]);
      // The epilog of each node removes its own: the app and the early file
      // on the first, the app on the second.
      await checkRemoved(
        id,
        mark,
        new RegExp(`private-tmpdir: job ${id} uid \\d+: removed \\d+ bytes, [12] files, 3 directories`, "g"),
      );
    });

    it("srun --bcast cannot run from the job's /tmp: to /tmp it lands in each host's, to the host path it arrives but srun cannot exec it there", () => {
      // Small: what is looked at is where srun's own copy goes.
      const r = sbatchWait(
        ALICE,
        `app=${OUT_DIR}/ptd-sbcast-app.$SLURM_JOB_ID
cp /usr/bin/printenv "$app"
srun -N2 true
srun -N2 --bcast=/tmp/ptd-bcast.$SLURM_JOB_ID "$app" SLURMD_NODENAME 2>/dev/null; echo "to /tmp: $?"
srun -N2 --bcast="$PRIVATE_TMPDIR_HOST_TMP/bcast" "$app" SLURMD_NODENAME 2>/dev/null; echo "to the host path: $?"
echo copied:
srun -N2 -l /tmp/bcast SLURMD_NODENAME
`,
        { args: ["-N2"] },
      );
      leftovers.push(
        `${OUT_DIR}/ptd-sbcast-app.${r.jobId}`,
        ...nodes(r.jobId).map((n) => `${n.hostTmp}/ptd-bcast.${r.jobId}`),
      );
      assert.equal(r.status, 0, r.output);
      // The task runs the destination path in the job's namespace: /tmp is
      // the job's there, and the host path lies under the host's /tmp.
      assert.match(r.output, /^to \/tmp: [1-9]\d*$/m);
      assert.match(r.output, /^to the host path: [1-9]\d*$/m);
      assert.deepStrictEqual(section(r.output, "copied:", 2), [`0: ${info.node}`, `1: ${info.node2}`]);
      for (const n of nodes(r.jobId)) {
        const st = fs.statSync(`${n.hostTmp}/ptd-bcast.${r.jobId}`);
        assert.equal(st.uid, alice, `${n.node}: srun --bcast's file in the host's /tmp is the user's`);
      }
    });

    it("in an salloc allocation neither salloc's shell nor a step has the variable: the recipe's path (restart count 0) after a step on every node", () => {
      // The recipe docs/workflows.md gives, as written there.
      const r = runAs(ALICE, [
        "salloc",
        "-N2",
        "bash",
        "-c",
        `echo "shell: \${PRIVATE_TMPDIR_HOST_TMP-unset}"
app=${OUT_DIR}/ptd-sbcast-app.$SLURM_JOB_ID
cp /usr/bin/printenv "$app"
echo "step: $(srun -N "$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 bash -c 'echo \${PRIVATE_TMPDIR_HOST_TMP-unset}' | sort -u)"
dest=/tmp/slurm.$SLURM_JOB_ID.0/tmp
sbcast "$app" "$dest/app" || exit 1
rm -f "$app"
echo app:
srun -l /tmp/app SLURMD_NODENAME`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const id = /Granted job allocation (\d+)/.exec(r.stderr)?.[1];
      assert.ok(id, r.stderr);
      leftovers.push(`${OUT_DIR}/ptd-sbcast-app.${id}`);
      assert.match(r.stdout, /^shell: unset\nstep: unset\napp:\n/);
      assert.deepStrictEqual(section(r.stdout, "app:", 2), [`0: ${info.node}`, `1: ${info.node2}`]);
    });
  });

  describe("with PrologFlags=Contain (the build without an epilog)", () => {
    before(() => {
      info = startCluster({
        plugstackLines: [pluginLine(SEED, "required", CONTAIN_SO)],
        nodes: 2,
        extraConf: "PrologFlags=Contain",
      });
    });

    it("the extern step made the directories, so sbcast works first thing in the batch script (--preserve too)", async () => {
      const mark = logMark();
      const id = submitBatch(
        ALICE,
        `${MAKE_APP}
touch -d @${PRESERVED_MTIME} "$app"
sbcast --preserve "$app" "$PRIVATE_TMPDIR_HOST_TMP/app" || exit 1
echo "batch: $PRIVATE_TMPDIR_HOST_TMP"
echo app:
srun -N2 -l /tmp/app SLURMD_NODENAME
${WAIT_GO}
`,
        ["-N2"],
      );
      leftovers.push(...jobScratch(id));
      await waitFor(() => fs.existsSync(`${OUT_DIR}/ptd-sbcast.${id}.ready`), 60_000, { what: `job ${id} ready` });
      checkBroadcast(id);
      // Slurm 22.05 sets the times by path, in slurmd's namespace: the host
      // path names the same file there.
      for (const n of nodes(id)) assert.equal(fs.statSync(`${n.priv}/app`).mtimeMs, PRESERVED_MTIME * 1000, n.node);
      fs.writeFileSync(`${OUT_DIR}/ptd-sbcast.${id}.go`, "");
      const r = await waitBatch(id);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, new RegExp(`^batch: /tmp/slurm\\.${id}\\.0/tmp$`, "m"));
      assert.deepStrictEqual(section(r.output, "app:", 2), [`0: ${info.node}`, `1: ${info.node2}`]);
      // Each node's extern step removes its own at the job's end.
      await checkRemoved(
        id,
        mark,
        new RegExp(
          `\\[${id}\\.extern\\] private-tmpdir: job ${id} uid \\d+: removed \\d+ bytes, 1 files, 3 directories`,
          "g",
        ),
      );
    });
  });
});
