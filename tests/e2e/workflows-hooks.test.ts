// A site's own hooks around the plugin (#24): which /tmp each one sees.
// slurm.conf's TaskProlog and TaskEpilog (slurmstepd, in the task's
// context), Prolog and Epilog (slurmd, as root; under RunInJob the extern
// step), and another SPANK plugin's callbacks listed before and after ours;
// under each PrologFlags a site may run (none, Contain, and Contain,RunInJob
// from 24.05). What an Epilog can rely on: Slurm runs the SPANK job epilog
// (our removal) before the Epilog script (prep/script's slurmd_script), and
// the extern step's end (Contain) before either, so the job's directory is
// gone by then.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { coreSha256 } from "../../host/core.js";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE } from "../helpers/lab.js";
import { run } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { skipOrFail } from "../helpers/root.js";
import { slurmAtLeast, slurmRelease } from "../helpers/slurm-release.js";
import { waitFor } from "../helpers/wait.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";
import { isJobTmp, jobTraces, tmpRootOf } from "../helpers/job-traces.js";
import { installHooks, probeLine, type ProbeName, removeHooks, report, SCRIPT_CONF } from "../helpers/site-hooks.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
/** Our plugin between the two builds of the probe. */
function plugstack(options: readonly string[] = SEED): string[] {
  return [probeLine("ptd_probe_before"), pluginLine(options), probeLine("ptd_probe_after")];
}

/** Slurm's step numbers (slurm.h): the batch script's and the extern step's. */
const STEP_NAMES: Record<string, string> = { "4294967291": "batch", "4294967292": "extern", "4294967295": "none" };

interface Flavor {
  name: string;
  prologFlags: string;
  /** Slurm releases that have it */
  since: [number, number];
  /** Who runs Prolog and Epilog. */
  scriptsBy: string;
  /** Whether the Prolog finds the job's directory (made, empty). */
  prologSeesDir: boolean;
  /** The last SPANK callback of the job on the node. */
  last: string;
}
const FLAVORS: Flavor[] = [
  {
    name: "no PrologFlags",
    prologFlags: "",
    since: [0, 0],
    scriptsBy: "slurmd",
    prologSeesDir: false,
    last: "its job epilog sees the job's directory only when listed before ours",
  },
  {
    name: "PrologFlags=Contain",
    prologFlags: "Contain",
    since: [0, 0],
    scriptsBy: "slurmd",
    prologSeesDir: false,
    last: "only its extern step's exit, when listed before ours, sees the job's directory at the end",
  },
  {
    // 24.05+: Prolog and Epilog in the extern step, after its
    // init_post_opt (our directories made) and after its exit (removed).
    name: "PrologFlags=Contain,RunInJob",
    prologFlags: "Contain,RunInJob",
    since: [24, 5],
    scriptsBy: "the extern step",
    prologSeesDir: true,
    last: "Slurm runs no SPANK job prolog or epilog; only the extern step's exit, when listed before ours, sees the job's directory at the end",
  },
];
const runInJob = (f: Flavor): boolean => f.prologFlags.includes("RunInJob");

/** The probe's lines of job `id`: "<probe> <step> <callback>" -> "<job|host> uid <euid> dir <yes|no>". */
function probeSeen(log: string, id: number): Map<string, string> {
  const out = new Map<string, string>();
  const re = new RegExp(
    `ptd-probe (\\S+) (\\S+) job ${id} step (\\d+) euid (\\d+) tmp (\\S+) dir (yes|no)( \\(not written\\))?$`,
    "gm",
  );
  for (const m of log.matchAll(re)) {
    const [, probe, cb, step, euid, root, dir, unwritten] = m;
    assert.equal(unwritten, undefined, `the probe could not write its file: ${m[0]}`);
    const key = `${probe} ${STEP_NAMES[step!] ?? step} ${cb}`;
    out.set(key, `${isJobTmp(root, id) ? "job" : "host"} uid ${euid} dir ${dir}`);
  }
  return out;
}

describe("e2e: a site's hooks around the plugin (#24): which /tmp each sees", function () {
  let running: string | undefined;
  let info: ClusterInfo;
  let alice = -1;
  function cluster(f: Flavor, options: readonly string[] = SEED): void {
    const key = `${f.name} ${options.join(" ")}`;
    if (running === key) return;
    running = undefined;
    info = startCluster({
      plugstackLines: plugstack(options),
      extraConf: [SCRIPT_CONF, ...(f.prologFlags ? [`PrologFlags=${f.prologFlags}`] : [])].join("\n"),
    });
    running = key;
  }
  function needs(ctx: Mocha.Context, f: Flavor): void {
    if (slurmAtLeast(...f.since)) return;
    console.warn(
      `    PENDING: Slurm ${slurmRelease()} has no ${f.prologFlags} (${f.since[0]}.${String(f.since[1]).padStart(2, "0")} added it)`,
    );
    ctx.skip();
  }

  before(function () {
    requireRootAndSlurm(this);
    if (!fs.existsSync("/usr/include/slurm/spank.h") || run("sh", ["-c", "command -v gcc"]).status !== 0)
      skipOrFail(this, "needs gcc and <slurm/spank.h> (libslurm-dev) to build the probe plugin");
    installHooks();
    alice = Number(run("id", ["-u", ALICE]).stdout.trim());
    running = undefined;
  });
  after(function () {
    stopCluster();
    removeHooks();
    removeJobDirs();
    for (const n of fs.readdirSync("/tmp"))
      if (/^ptd-(probe|prolog|epilog|task-prolog|task-epilog)\./.test(n)) fs.rmSync(`/tmp/${n}`, { force: true });
  });

  it("TaskProlog and TaskEpilog run in the job's namespace: the task sees what TaskProlog wrote into /tmp (and its exports), TaskEpilog sees the task's files, none of it on the host", async function () {
    cluster(FLAVORS[0]!);
    const mark = logMark();
    const r = sbatchWait(
      ALICE,
      [
        'echo "batch reads $(cat /tmp/ptd-task-prolog.$SLURM_JOB_ID.batch)"',
        'echo "batch env $PTD_TASK_PROLOG"',
        `srun -n1 bash -c 'echo "step reads $(cat /tmp/ptd-task-prolog.$SLURM_JOB_ID.0)"; echo "step env $PTD_TASK_PROLOG"; echo s > /tmp/from-step'`,
        // TaskEpilog of step 0 runs after its task: wait for its file (bounded).
        "i=0; until [ -e /tmp/ptd-task-epilog.$SLURM_JOB_ID.0 ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done",
        'echo "batch reads $(cat /tmp/ptd-task-epilog.$SLURM_JOB_ID.0)"',
      ].join("\n") + "\n",
    );
    const id = r.jobId;
    assert.equal(r.state, "COMPLETED", r.output);
    assert.equal(
      r.output,
      [
        `batch reads task-prolog of ${id}.batch`,
        "batch env ran",
        `step reads task-prolog of ${id}.0`,
        "step env ran",
        `batch reads task-epilog of ${id}.0`,
      ].join("\n") + "\n",
    );
    for (const step of ["batch", "0"]) {
      assert.ok(isJobTmp(tmpRootOf(report(`task-prolog.${id}.${step}`) ?? "", "root"), id), `TaskProlog of ${step}`);
      const epilog = await waitFor(() => report(`task-epilog.${id}.${step}`), 20_000, {
        what: `TaskEpilog of ${step}`,
      });
      assert.ok(isJobTmp(tmpRootOf(epilog, "root"), id), `TaskEpilog of ${step}: ${epilog}`);
    }
    // TaskEpilog of step 0 saw the files of the step's task and prologs.
    assert.match(report(`task-epilog.${id}.0`) ?? "", /^names .*\bfrom-step\b/m);
    assert.match(report(`task-epilog.${id}.0`) ?? "", new RegExp(`^names .*\\bptd-task-prolog\\.${id}\\.0\\b`, "m"));
    for (const n of fs.readdirSync("/tmp")) assert.doesNotMatch(n, new RegExp(`^ptd-task-(pro|epi)log\\.${id}\\.`));
    assert.match(
      logSince(mark),
      new RegExp(`\\[${id}\\.0\\] .*private-tmpdir: loaded \\S+ core sha256 ${coreSha256()}; `),
    );
  });

  for (const f of FLAVORS) {
    it(`${f.name}: Prolog and Epilog (run by ${f.scriptsBy}) see the host's /tmp, as root in the host's namespace; the job's directory is ${f.prologSeesDir ? "made and empty" : "not there yet"} for the Prolog, and already gone for the Epilog`, async function () {
      needs(this, f);
      cluster(f);
      const mark = logMark();
      const r = sbatchWait(
        ALICE,
        "if [ -e /tmp/ptd-prolog.$SLURM_JOB_ID ]; then echo prolog-file-seen; else echo prolog-file-hidden; fi\necho j > /tmp/job-file\n",
      );
      const id = r.jobId;
      assert.equal(r.state, "COMPLETED", r.output);
      assert.equal(r.output, "prolog-file-hidden\n");
      const slurmdNs = fs.readlinkSync(`/proc/${info.slurmdPid}/ns/mnt`);
      for (const what of ["prolog", "epilog"]) {
        const rep = await waitFor(() => report(`${what}.${id}`), 30_000, { what: `the ${what} script's report` });
        assert.match(rep, new RegExp(`^ns ${slurmdNs.replace(/[[\]]/g, "\\$&")}$`, "m"), `${what}: ${rep}`);
        assert.ok(!isJobTmp(tmpRootOf(rep, "root")), `${what} saw a job's /tmp: ${rep}`);
        const dir = what === "prolog" && f.prologSeesDir;
        assert.match(rep, dir ? /^dir yes\nnames$/m : /^dir no$/m, `${what}: ${rep}`);
        assert.ok(fs.existsSync(`/tmp/ptd-${what}.${id}`), `${what}'s file in the host's /tmp`);
      }
      assert.match(logSince(mark), new RegExp(`private-tmpdir: job ${id}: private directories mounted`));
      const node = { tmp: "/tmp", slurmdPid: info.slurmdPid };
      await waitFor(() => jobTraces([id], node).length === 0, 30_000, {
        what: `nothing left of job ${id}`,
      });
    });

    it(`${f.name}: another SPANK plugin's callbacks see the host's /tmp up to our init_post_opt (and in the extern step, slurmd's job prolog and epilog), the job's from there on; ${f.last}`, async function () {
      needs(this, f);
      cluster(f);
      const mark = logMark();
      const r = sbatchWait(
        ALICE,
        [
          "srun -n1 true",
          // Step 0's last callbacks run after its task: wait (bounded) for the last.
          "i=0; until [ -e /tmp/ptd-probe.$SLURM_JOB_ID.0.ptd_probe_after.exit ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done",
          "echo files $(ls -A /tmp | grep '^ptd-probe\\.[0-9]*\\.0\\.')",
        ].join("\n") + "\n",
      );
      const id = r.jobId;
      assert.equal(r.state, "COMPLETED", r.output);
      const lastCallback = runInJob(f) ? "exit" : "job_epilog";
      const log = await waitFor(
        () => {
          const l = logSince(mark);
          return new RegExp(`ptd-probe ptd_probe_after ${lastCallback} job ${id} `).test(l) && l;
        },
        30_000,
        { what: `the probe's ${lastCallback} line` },
      );
      const seen = probeSeen(log, id);
      // Where each callback runs, by the order in slurmstepd (docs/workflows.md):
      // slurm_spank_init of every plugin, then init_post_opt of each in
      // plugstack order (ours unshares there), then the task's callbacks.
      const expected = new Map<string, string>();
      const probes: ProbeName[] = ["ptd_probe_before", "ptd_probe_after"];
      const task = ["user_init", "task_init_privileged", "task_post_fork", "task_init", "task_exit", "exit"];
      for (const p of probes) {
        for (const step of ["batch", "0"]) {
          expected.set(`${p} ${step} init`, "host uid 0 dir yes");
          expected.set(
            `${p} ${step} init_post_opt`,
            p === "ptd_probe_before" ? "host uid 0 dir yes" : "job uid 0 dir no",
          );
          for (const cb of task)
            expected.set(
              `${p} ${step} ${cb}`,
              `job uid ${cb === "user_init" || cb === "task_init" ? alice : 0} dir no`,
            );
        }
        if (runInJob(f)) continue;
        expected.set(`${p} none job_prolog`, "host uid 0 dir no");
        // Ours removes the directory in its own job epilog, or under
        // Contain at the extern step's end, before any job epilog.
        const dirAtEpilog = !f.prologFlags && p === "ptd_probe_before" ? "yes" : "no";
        expected.set(`${p} none job_epilog`, `host uid 0 dir ${dirAtEpilog}`);
      }
      // The batch step's init and init_post_opt (of the plugin before ours)
      // run before any step has made the directory, without Contain.
      if (!f.prologFlags) for (const p of probes) expected.set(`${p} batch init`, "host uid 0 dir no");
      if (!f.prologFlags) expected.set("ptd_probe_before batch init_post_opt", "host uid 0 dir no");
      if (f.prologFlags) {
        // The extern step: ours makes the directories in the host's
        // namespace (no task of the job runs there) and removes them at its end.
        expected.set("ptd_probe_before extern init", "host uid 0 dir no");
        expected.set("ptd_probe_after extern init", "host uid 0 dir no");
        expected.set("ptd_probe_before extern init_post_opt", "host uid 0 dir no");
        expected.set("ptd_probe_after extern init_post_opt", "host uid 0 dir yes");
        expected.set("ptd_probe_before extern exit", "host uid 0 dir yes");
        expected.set("ptd_probe_after extern exit", "host uid 0 dir no");
        // What else of the extern step's callbacks a release runs (22.05:
        // task_post_fork of its sleep process) is in the host's namespace.
        for (const [k, v] of seen)
          if (k.includes(" extern ") && !expected.has(k)) expected.set(k, v.startsWith("host ") ? v : `host ${v}`);
      }
      // The extern step's exit runs while other slurmstepd threads switch
      // the process's effective ids to the job's user and back (24.11: seen
      // in either state; native/util/threadids.h), so its uid is the
      // moment's: compared without it. When such a switch lands during our
      // removal there, it is done again in a child not waited for (plugin.c):
      // what runs after ours (the next plugin's exit, the job epilog) may
      // still see the directory, and the next plugin's exit was seen not to
      // run at all (24.11) when the step ended meanwhile. Everything else
      // exactly.
      const racy = (k: string) =>
        k.endsWith(" extern exit") || (f.prologFlags !== "" && k.endsWith(" none job_epilog"));
      const settled = (k: string, v: string) =>
        k.startsWith("ptd_probe_before extern") ? v : v.replace(/ dir (yes|no)$/, " dir (gone or going)");
      const euidFree = (m: Map<string, string>) =>
        new Map(
          [...m].map(([k, v]) => [k, racy(k) ? settled(k, v.replace(/ uid \d+ /, " uid (0 or the user's) ")) : v]),
        );
      if (!seen.has("ptd_probe_after extern exit")) expected.delete("ptd_probe_after extern exit");
      assert.deepStrictEqual(new Map([...euidFree(seen)].sort()), new Map([...euidFree(expected)].sort()));
      // The files are where the lines say: the host's in the host's /tmp,
      // step 0's job-side ones seen by the batch step after it.
      for (const [k, v] of seen) {
        const [p, step, cb] = k.split(" ");
        const num = Object.entries(STEP_NAMES).find(([, n]) => n === step)?.[0] ?? step;
        const file = `/tmp/ptd-probe.${id}.${num}.${p}.${cb}`;
        assert.equal(fs.existsSync(file), v.startsWith("host "), `${file}: ${k} -> ${v}`);
      }
      const stepFiles = [...seen]
        .filter(([k, v]) => k.split(" ")[1] === "0" && v.startsWith("job "))
        .map(([k]) => `ptd-probe.${id}.0.${k.split(" ")[0]}.${k.split(" ")[2]}`)
        .sort();
      assert.equal(r.output, `files ${stepFiles.join(" ")}\n`);
      assert.match(log, new RegExp(`\\[${id}\\.0\\] .*private-tmpdir: loaded \\S+ core sha256 ${coreSha256()}; `));
    });
  }

  it("cleanup=no (for sites with their own epilog script): the Epilog finds the job's directory, with the job's files, at its place", async function () {
    cluster(FLAVORS[0]!, [...SEED, "cleanup=no"]);
    const mark = logMark();
    const r = sbatchWait(ALICE, "echo j > /tmp/job-file\n");
    const id = r.jobId;
    assert.equal(r.state, "COMPLETED", r.output);
    const rep = await waitFor(() => report(`epilog.${id}`), 30_000, { what: "the epilog script's report" });
    assert.ok(!isJobTmp(tmpRootOf(rep, "root")), `the Epilog saw a job's /tmp: ${rep}`);
    assert.match(rep, /^dir yes$/m, rep);
    assert.match(rep, /^names .*\bjob-file\b/m, rep);
    assert.equal(fs.readFileSync(`/tmp/slurm.${id}.0/tmp/job-file`, "utf8"), "j\n", "left for the site's epilog");
    assert.match(logSince(mark), new RegExp(`private-tmpdir: job ${id}: private directories mounted`));
  });
});
