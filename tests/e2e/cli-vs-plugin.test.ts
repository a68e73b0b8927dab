// `private-tmpdir plan --json` against the plugin on a real slurmd: for the
// same plugstack.conf and the same job, the directories the CLI announces
// are the ones the plugin made (owner, group, mode), the mounts are the ones
// the job sees (target, source, order), and what the epilog removes is gone.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import type { PlanJson } from "../../host/plan-view.js";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR, PLUGSTACK_CONF } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";

const CLI = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** [root within its filesystem, mount point] of each /proc/<pid>/mountinfo line. */
function parseMountinfo(text: string): [string, string][] {
  return text
    .split("\n")
    .filter((l) => /^\d+ \d+ /.test(l))
    .map((l) => {
      const f = l.split(" ");
      return [unescape(f[3] ?? ""), unescape(f[4] ?? "")];
    });
}

/** Where host path p appears as a bind source in mountinfo: its path within
 * the filesystem holding it (equal to p when that filesystem is "/"). */
function fsRootOf(p: string): string {
  const r = spawnSync("findmnt", ["-n", "-r", "-o", "TARGET,FSROOT", "-T", p], { encoding: "utf8" });
  const [target, root] = r.stdout.trim().split(" ").map(unescape);
  assert.ok(target && root, `findmnt ${p}: ${r.stdout}${r.stderr}`);
  return posix.join(root, posix.relative(target, p));
}

function idOf(flag: "-u" | "-g", user: string): number {
  return Number(runAs("root", ["id", flag, user]).stdout.trim());
}

describe("e2e: private-tmpdir plan --json is what the plugin does", function () {
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: ["# the CLI must skip comments", pluginLine(SEED)] });
  });
  after(function () {
    stopCluster();
  });

  it("same directories (owner, mode), same mounts in the same order, same removals, same core", async () => {
    const tag = `ptd-cli-${process.pid}-${Date.now()}`;
    const ready = `${OUT_DIR}/${tag}.ready`;
    const go = `${OUT_DIR}/${tag}.go`;
    const mark = logMark();
    // The job reports its id, then holds its directories until the host has
    // looked at them, then prints the mount table it runs in.
    const job = spawnAs(
      ALICE,
      [
        "srun",
        "-N1",
        "bash",
        "-c",
        `echo $SLURM_JOB_ID > ${ready}; for i in $(seq 300); do [ -e ${go} ] && break; sleep 0.1; done; cat /proc/self/mountinfo`,
      ],
      90_000,
    );
    const jobId = await waitFor(
      () => {
        const s = fs.existsSync(ready) ? fs.readFileSync(ready, "utf8").trim() : "";
        return /^\d+$/.test(s) ? Number(s) : undefined;
      },
      60_000,
      { what: "the job to start" },
    );

    const uid = idOf("-u", ALICE),
      gid = idOf("-g", ALICE);
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        "plan",
        "--config",
        PLUGSTACK_CONF,
        "--job",
        String(jobId),
        "--uid",
        String(uid),
        "--gid",
        String(gid),
        "--json",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const plan = JSON.parse(r.stdout) as PlanJson;
    assert.equal(plan.lines.length, 1);
    const line = plan.lines[0];
    assert.ok(line);
    assert.deepStrictEqual(line.args, SEED);
    assert.ok(line.directories.length > 0 && line.mounts.length > 0);

    // Directories: exactly what the plugin made on the host.
    for (const d of line.directories) {
      const st = fs.statSync(d.path);
      assert.deepStrictEqual([st.uid, st.gid, "0" + (st.mode & 0o7777).toString(8)], [d.uid, d.gid, d.mode], d.path);
    }
    // Looked up while the directories exist: the epilog removes them.
    const expectedRoots = line.mounts.map((m) => fsRootOf(m.source));
    const jobDir = line.directories[0]?.path ?? "";
    const jobRoot = fsRootOf(jobDir);

    fs.writeFileSync(go, "");
    const res = await job;
    assert.equal(res.status, 0, res.stderr);

    // Mounts: each target is covered by the planned source, in plan order,
    // and the job has no other mount of its directories.
    const table = parseMountinfo(res.stdout);
    const at: number[] = [];
    line.mounts.forEach((m, i) => {
      const idx = table.map(([, mp]) => mp).lastIndexOf(m.target);
      assert.ok(idx >= 0, `no mount on ${m.target} in the job:\n${res.stdout}`);
      assert.equal(table[idx]?.[0], expectedRoots[i], `${m.target} is not bound from ${m.source}`);
      at.push(idx);
    });
    assert.deepStrictEqual(
      [...at].sort((a, b) => a - b),
      at,
      "mounts made in the plan's order",
    );
    const ofJob = table.filter(([root]) => root === jobRoot || root.startsWith(jobRoot + "/"));
    assert.equal(ofJob.length, line.mounts.length, `unexpected mounts of the job's directories:\n${res.stdout}`);

    // Epilog: what the plan removes is gone once slurmd's epilog has run.
    const removed = line.phases.epilog.filter((s) => s.op === "remove_at").map((s) => s.path ?? "");
    assert.deepStrictEqual(removed, [jobDir]);
    await waitFor(() => removed.every((p) => !fs.existsSync(p)), 30_000, {
      what: "the epilog to remove the job's directory",
    });

    // The core: the sha256 the plugin logged at load is the CLI's.
    await waitFor(() => logSince(mark).includes("private-tmpdir: loaded"), 10_000, { what: "the plugin's load line" });
    const logged = [...logSince(mark).matchAll(/private-tmpdir: loaded \S+ core sha256 ([0-9a-f]{64})/g)].map(
      (m) => m[1],
    );
    assert.ok(logged.length > 0);
    for (const sha of logged) assert.equal(sha, plan.coreSha256);
    const version = spawnSync(process.execPath, [CLI, "--version"], { encoding: "utf8" }).stdout;
    assert.equal(version, `private-tmpdir ${plan.version} core sha256 ${plan.coreSha256}\n`);

    fs.rmSync(ready, { force: true });
    fs.rmSync(go, { force: true });
  });
});
