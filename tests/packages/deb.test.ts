// The .deb as an admin uses it (#14), inside a fresh copy of a Debian
// release's root (scripts/test-packages.sh builds the package there twice,
// revisions 1 and 2, and runs this file in the copy): install, enable the
// plugstack.conf.d snippet, a job sees its private /tmp, an upgrade while a
// job runs, purge. Slurm is that release's, started by the test harness.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";

const DEB_1 = process.env["PTD_DEB_1"] ?? "";
const DEB_2 = process.env["PTD_DEB_2"] ?? "";
const SNIPPET = "/etc/slurm/plugstack.conf.d/private-tmpdir.conf";
const SEED_LINE = "required private-tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp";

function sh(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const installed = (): string =>
  spawnSync("dpkg-query", ["-W", "-f=${Status} ${Version}", "private-tmpdir"], { encoding: "utf8" }).stdout.trim();

/** Name and content of every file under a directory, sorted. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return ["(missing)"];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => `${e.parentPath}/${e.name}`)
    .sort()
    .map((p) => (fs.lstatSync(p).isFile() ? `${p} ${fs.readFileSync(p, "utf8").length}` : p));
}

describe("packages: the .deb installed, enabled, upgraded under a running job and purged", function () {
  let files: string[] = [];
  let confBefore: string[] = [];
  let plugstackBefore = "";
  before(function () {
    requireRootAndSlurm(this);
    if (!DEB_1 || !DEB_2) {
      const msg = "PTD_DEB_1 and PTD_DEB_2 unset: run by scripts/test-packages.sh";
      if (process.env["CI"]) throw new Error(msg);
      console.warn(`    SKIPPED: ${msg}`);
      this.skip();
    }
    assert.equal(
      installed().startsWith("install ok installed"),
      false,
      "the root's copy is fresh: no private-tmpdir installed",
    );
    confBefore = tree("/etc/slurm/plugstack.conf.d");
    plugstackBefore = fs.readFileSync("/etc/slurm/plugstack.conf", "utf8");
  });
  after(() => stopCluster());

  it("installs with apt-get: the plugin in this Slurm's plugin directory, the PAM module, the man page, a conffile that enables nothing", () => {
    sh("apt-get", ["install", "-y", DEB_1]);
    const version = /\+slurm(\d+\.\d+)_/.exec(DEB_1)?.[1];
    assert.ok(version, `the package version names the Slurm release: ${DEB_1}`);
    assert.match(
      installed(),
      new RegExp(`^install ok installed 0\\.\\d+\\.\\d+-1\\+slurm${version.replace(".", "\\.")}$`),
    );
    const slurmd = sh("dpkg-query", ["-W", "-f=${Version}", "slurmd"]);
    assert.ok(slurmd.startsWith(`${version}.`), `built for this slurmd (${slurmd}), not another release`);
    const deps = sh("dpkg-query", ["-W", "-f=${Depends}", "private-tmpdir"]);
    const [maj, min] = version.split(".").map(Number) as [number, number];
    assert.ok(
      deps.includes(`slurmd (>= ${version})`) &&
        deps.includes(`slurmd (<< ${maj}.${String(min + 1).padStart(2, "0")}~)`),
      deps,
    );
    // The remover asks slurmctld with squeue which jobs have ended (README).
    assert.match(deps, /(^|, )slurm-client(,|$)/, deps);
    files = sh("dpkg", ["-L", "private-tmpdir"])
      .split("\n")
      .filter((f) => f && fs.lstatSync(f).isFile());
    const arch = sh("dpkg-architecture", ["-qDEB_HOST_MULTIARCH"]).trim();
    for (const f of [
      `/usr/lib/${arch}/slurm-wlm/private-tmpdir.so`,
      `/usr/lib/${arch}/slurm-wlm/private-tmpdir-contain.so`,
      `/usr/lib/${arch}/security/pam_private_tmpdir.so`,
      "/usr/share/man/man8/private-tmpdir.8.gz",
      SNIPPET,
      "/usr/share/doc/private-tmpdir/copyright",
    ]) {
      assert.ok(files.includes(f), `${f} in the package: ${files.join(" ")}`);
    }
    assert.match(
      sh("dpkg-query", ["-W", "-f=${Conffiles}", "private-tmpdir"]),
      new RegExp(` ${SNIPPET} [0-9a-f]{32}`),
      "the snippet is a conffile",
    );
    const snippet = fs.readFileSync(SNIPPET, "utf8");
    assert.ok(
      snippet.split("\n").every((l) => l === "" || l.startsWith("#")),
      "every line of the snippet is a comment",
    );
    assert.ok(snippet.includes(`#${SEED_LINE}\n`), "the seed's line, commented");
    assert.match(
      sh("zcat", ["/usr/share/man/man8/private-tmpdir.8.gz"]),
      /^\.TH PRIVATE\\?-TMPDIR 8 /m,
      "the man page",
    );
  });

  it("enabled by uncommenting the snippet (Debian's plugstack.conf includes plugstack.conf.d): a job has its private /tmp", async () => {
    fs.writeFileSync(SNIPPET, fs.readFileSync(SNIPPET, "utf8").replace(`#${SEED_LINE}\n`, `${SEED_LINE}\n`));
    assert.match(plugstackBefore, /^include \/etc\/slurm\/plugstack\.conf\.d\/\*\.conf$/m, "Debian's plugstack.conf");
    startCluster({ plugstackLines: ["include /etc/slurm/plugstack.conf"] });
    const mark = logMark();
    const r = sbatchWait(
      ALICE,
      'echo mine > /tmp/f; awk \'$5=="/tmp" {print "root", $4}\' /proc/self/mountinfo; echo id $SLURM_JOB_ID',
    );
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(
      r.output,
      new RegExp(`^root /slurm\\.${r.jobId}\\.0/tmp$`, "m"),
      `/tmp is the job's directory:\n${r.output}`,
    );
    await waitFor(() => /private-tmpdir: loaded /.test(logSince(mark)) || undefined, 10_000, {
      what: "the plugin's load line",
    });
    await waitFor(() => !fs.existsSync(`/tmp/slurm.${r.jobId}.0`) || undefined, 10_000, {
      what: "the job's directory to go with the job",
    });
  });

  it("upgraded to the rebuilt package while a job runs: the job keeps its /tmp and its namespace; the admin's snippet is kept", async () => {
    const ready = `${OUT_DIR}/deb-upgrade-${process.pid}-${Date.now()}`;
    const id = submitBatch(
      ALICE,
      [
        "echo kept > /tmp/before-upgrade",
        "echo ns1 $(readlink /proc/self/ns/mnt)",
        `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`,
        "srun -n1 bash -c 'cat /tmp/before-upgrade; echo ns2 $(readlink /proc/self/ns/mnt)'",
      ].join("\n"),
    );
    await waitFor(() => fs.existsSync(ready) || undefined, 30_000, { what: `job ${id} to run` });
    const snippet = fs.readFileSync(SNIPPET, "utf8");
    try {
      sh("apt-get", ["install", "-y", "-o", "Dpkg::Options::=--force-confold", DEB_2]);
    } finally {
      fs.writeFileSync(`${ready}.go`, "");
    }
    assert.match(installed(), /^install ok installed 0\.\d+\.\d+-2\+slurm/);
    assert.equal(fs.readFileSync(SNIPPET, "utf8"), snippet, "the enabled snippet survives the upgrade");
    const r = await waitBatch(id);
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /^kept$/m, `the job's /tmp after the upgrade:\n${r.output}`);
    const ns1 = /^ns1 (\S+)$/m.exec(r.output)?.[1],
      ns2 = /^ns2 (\S+)$/m.exec(r.output)?.[1];
    assert.ok(ns1 && ns1 === ns2, `a step after the upgrade joins the job's namespace: ${ns1} ${ns2}`);
    // A new job after the upgrade runs with the new package's plugin.
    const n = sbatchWait(ALICE, 'awk \'$5=="/tmp" {print "root", $4}\' /proc/self/mountinfo');
    assert.match(n.output, new RegExp(`^root /slurm\\.${n.jobId}\\.0/tmp$`, "m"), n.output);
  });

  it("purged: no file of the package is left, plugstack.conf.d is as before the install", () => {
    stopCluster();
    sh("apt-get", ["purge", "-y", "private-tmpdir"]);
    assert.doesNotMatch(installed(), /installed/);
    const left = files.filter((f) => fs.existsSync(f));
    assert.deepStrictEqual(left, [], "files of the package still there");
    assert.deepStrictEqual(tree("/etc/slurm/plugstack.conf.d"), confBefore);
    assert.equal(fs.readFileSync("/etc/slurm/plugstack.conf", "utf8"), plugstackBefore);
  });
});
