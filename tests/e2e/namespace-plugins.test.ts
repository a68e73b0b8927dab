// Slurm's own namespace plugins beside this one: before 25.11
// JobContainerType=job_container/tmpfs; since, NamespaceType=namespace/tmpfs (the
// renamed job_container/tmpfs, and namespace/linux).
// Both give the job a mount namespace of their own, which defeats ours (seen
// on 26.05.5 before the plugin refused them):
//   - namespace/tmpfs: each task setns()es into the namespace the extern step
//     keeps bound at BasePath/<job>/.ns; our unshare() in slurmstepd does not
//     copy that bind, so every step failed ("setns failed ... Invalid argument").
//   - namespace/linux: slurmd starts each step's slurmstepd inside the job's
//     namespace, where /tmp is already the job's user-owned directory, so every
//     step failed on our parent policy, and a failed batch step drained the node.
// So the plugin refuses at load, naming the setting: the job fails before
// anything is made, the node stays in service. Each plugin is first shown to
// work here on its own, so that the failure is ours, not a broken lab.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { coreSha256 } from "../../host/core.js";
import { LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { ALICE, LAB } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import {
  type ClusterInfo,
  settledNode,
  requireRootAndSlurm,
  resumeNode,
  startCluster,
  stopCluster,
} from "../helpers/cluster.js";
import { slurmAtLeast } from "../helpers/slurm-release.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { hostMountinfo } from "../helpers/procfs.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const ETC = join(LAB, "etc");
/** The namespace plugins' BasePath: never under /tmp (it would be one of their Dirs). */
const BASE = join(LAB, "ns");

interface NsPlugin {
  type: string;
  /** Its configuration file, read from the directory of slurm.conf. */
  file: string;
  text: string;
}

// Which setting names Slurm's own plugin on the release under test: 25.11
// renamed JobContainerType=job_container/tmpfs to NamespaceType=namespace/tmpfs
// and added namespace/linux. Read at load (the cases depend on it); without a
// slurmd here the suite's before() fails or skips, as every e2e suite does.
const NEW_NAMES = ((): boolean => {
  try {
    return slurmAtLeast(25, 11);
  } catch {
    return true;
  }
})();
const KEY = NEW_NAMES ? "NamespaceType" : "JobContainerType";

// Minimal configurations: BasePath only (Dirs default to /tmp,/dev/shm). The
// directory is made here, so neither file needs AutoBasePath.
const PLUGINS: NsPlugin[] = NEW_NAMES
  ? [
      { type: "namespace/tmpfs", file: "job_container.conf", text: `BasePath=${BASE}\n` },
      { type: "namespace/linux", file: "namespace.yaml", text: `---\ndefaults:\n  base_path: "${BASE}"\n` },
    ]
  : [{ type: "job_container/tmpfs", file: "job_container.conf", text: `BasePath=${BASE}\n` }];

/** Every daemon pinned to one CPU (see firstCpu() in tests/helpers/cluster.ts),
 * slurmd in a mount namespace of its own with a shared "/", so a leak would
 * show. */
function startPinned(plugstackLines: readonly string[], extraConf: string): ClusterInfo {
  return startCluster({ plugstackLines, extraConf, sharedRoot: true, pinCpu: true });
}

/** The namespace plugin's directory of a job, BasePath[/<node>]/<job>, while it exists. */
function underBase(jobId: number): string | undefined {
  const dirs = [BASE, ...fs.readdirSync(BASE).map((n) => join(BASE, n))];
  return dirs.map((d) => join(d, String(jobId))).find((d) => fs.existsSync(d));
}

async function goneFromBase(jobId: number): Promise<void> {
  await waitFor(() => underBase(jobId) === undefined, 20_000, { what: `${BASE}/.../${jobId} to be removed` });
}

/** Mount lines of slurmd that a job of ours could have added. */
function jobMounts(info: ClusterInfo, jobId: number): string[] {
  return hostMountinfo(info.slurmdPid).filter((l) => l.includes(`slurm.${jobId}.`) || l.includes(`/${jobId}/`));
}

/** The node, once the job left it (the epilog and the namespace teardown done). */

describe(`e2e: Slurm's own namespace plugins (${KEY}=${PLUGINS.map((p) => p.type).join(", ")}): the plugin refuses at load, naming the conflict`, function () {
  let started = false;
  before(function () {
    requireRootAndSlurm(this);
    // Debian's Slurm is built with MULTIPLE_SLURMD: the plugins use
    // BasePath/<node>, and make neither level themselves.
    fs.mkdirSync(join(BASE, hostname().split(".")[0] ?? hostname()), { recursive: true, mode: 0o755 });
    started = true;
  });
  after(function () {
    // Pending (or no root): nothing was started here, and another lab's
    // cluster may be running on this machine.
    if (!started) return;
    stopCluster();
    for (const p of PLUGINS) fs.rmSync(join(ETC, p.file), { force: true });
  });

  for (const p of PLUGINS) {
    const conf = `${KEY}=${p.type}\nPrologFlags=Contain`;

    describe(`${KEY}=${p.type} (${p.file} beside slurm.conf)`, function () {
      let info: ClusterInfo;
      before(function () {
        fs.mkdirSync(ETC, { recursive: true, mode: 0o755 });
        fs.writeFileSync(join(ETC, p.file), p.text, { mode: 0o644 });
      });
      after(function () {
        fs.rmSync(join(ETC, p.file), { force: true });
      });

      it("without private-tmpdir, works here on its own: the job's /tmp is its directory under BasePath, removed at the end", async () => {
        info = startPinned([], conf);
        const r = runAs(
          ALICE,
          ["srun", "-N1", "bash", "-c", "echo JOB=$SLURM_JOB_ID; findmnt -n -o SOURCE --target /tmp; touch /tmp/ctl"],
          { timeoutMs: 30_000 },
        );
        assert.equal(r.status, 0, r.stderr);
        const id = Number(/JOB=(\d+)/.exec(r.stdout)?.[1]);
        // SOURCE is device[path in that filesystem]: BasePath/<node>/<job>/.<job>
        // (22.05, 24.11), BasePath/<node>/<job>/.<job>/_tmp (26.05)
        assert.ok(r.stdout.includes(`${BASE}/`) && new RegExp(`/${id}/\\.${id}(/_tmp)?\\]`).test(r.stdout), r.stdout);
        assert.match(await settledNode(), /^idle$/);
        await goneFromBase(id);
        assert.deepStrictEqual(jobMounts(info, id), []);
      });

      it(`srun: the plugin loads, refuses naming ${KEY}, the job never runs; nothing is made, mounted or left; the node stays in service`, async () => {
        info = startPinned([pluginLine(SEED)], conf);
        const before = hostMountinfo(info.slurmdPid).length;
        const mark = logMark();
        const tag = `ptd-ns-${Date.now()}`;
        const r = runAs(
          ALICE,
          ["srun", "-N1", "bash", "-c", `touch /tmp/${tag} /var/tmp/${tag} /dev/shm/${tag}; echo RAN`],
          { timeoutMs: 30_000 },
        );
        assert.ok(r.status !== 0 || LAUNCH_FAILED.test(r.stderr), `srun must fail: ${r.stdout}${r.stderr}`);
        assert.doesNotMatch(r.stdout, /RAN/);
        assert.match(await settledNode(), /^idle$/, "a conflicting NamespaceType must fail jobs, never drain the node");

        const log = logSince(mark);
        const loaded = new RegExp(
          `\\[(\\d+)\\.extern\\] private-tmpdir: loaded \\S+ core sha256 ${coreSha256()}; options: ${SEED.join(" ")}`,
        ).exec(log);
        assert.ok(loaded, `no load line of this build in slurmd.log:\n${log}`);
        const id = Number(loaded[1]);
        assert.match(
          log,
          new RegExp(`\\[${id}\\.extern\\] error: private-tmpdir: refusing to run with ${KEY}=${p.type}: `),
        );
        assert.doesNotMatch(log, new RegExp(`job ${id}: private directories mounted`), "init_post_opt must never run");
        await logWhen(
          mark,
          new RegExp(`private-tmpdir: job ${id} uid \\d+: removed 0 bytes, 0 files, 0 directories`),
          "the epilog finds nothing (its line may follow the node going idle)",
        );

        // Nothing made or left, on the host or under BasePath; no mount of the job in slurmd.
        assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false);
        for (const f of [`/tmp/${tag}`, `/var/tmp/${tag}`, `/dev/shm/${tag}`]) assert.equal(fs.existsSync(f), false, f);
        await goneFromBase(id);
        assert.deepStrictEqual(jobMounts(info, id), []);
        assert.equal(hostMountinfo(info.slurmdPid).length, before);
      });

      it("sbatch: the batch job fails the same way; the node is not drained (Slurm 25.05+)", async () => {
        const mark = logMark();
        // --no-requeue: under namespace/linux slurmd itself fails the batch
        // launch (the extern step that refused made no namespace to join),
        // which Slurm otherwise answers with "launch failed requeued held".
        const r = sbatchWait(ALICE, "touch /tmp/ran; echo RAN\n", { timeoutMs: 60_000, args: ["--no-requeue"] });
        // Before 25.05 Slurm reports such a job COMPLETED (22.05) or
        // CANCELLED (24.11); what matters is that its script never ran.
        if (slurmAtLeast(25, 5)) assert.equal(r.state, "FAILED", r.output);
        assert.doesNotMatch(r.output, /RAN/);
        assert.match(
          logSince(mark),
          new RegExp(`\\[${r.jobId}\\.extern\\] error: private-tmpdir: refusing to run with ${KEY}=${p.type}: `),
        );
        if (slurmAtLeast(25, 5)) {
          assert.match(await settledNode(), /^idle$/);
        } else {
          // No slurm_spank_init_failure_mode before 25.05: a required plugin
          // failing a batch step drains the node (README), but here the
          // extern step refuses first and whether slurmd still launches the
          // batch step (and so drains) is a race inside Slurm (both seen on
          // 24.11). Either is accepted; anything else is not.
          const state = await settledNode();
          assert.match(state, /^(idle|drain)/);
          if (/^drain/.test(state)) resumeNode();
        }
        assert.equal(fs.existsSync(`/tmp/slurm.${r.jobId}.0`), false);
        await goneFromBase(r.jobId);
        assert.deepStrictEqual(jobMounts(info, r.jobId), []);
      });
    });
  }
});
