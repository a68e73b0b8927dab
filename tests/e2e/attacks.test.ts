// An attacker user and a victim user on a real slurmd: planted directories,
// files and symlinks where the victim's next job will make its directories,
// a job's own user changing its directory between steps, bad mount points.
// Nothing outside the job's directory may be chowned, created or mounted.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, nodeState, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { mountPoints } from "../helpers/procfs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const PRECIOUS = "/var/spool/ptd-precious";

function lastJobId(user: string): number {
  const r = runAs(user, ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID"]);
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

function ownerMode(p: string): string {
  const st = fs.lstatSync(p);
  return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

function as(user: string, script: string): void {
  const r = runAs(user, ["bash", "-c", script]);
  assert.equal(r.status, 0, `${user}: ${script}: ${r.stderr}`);
}

// Run against a private "/" (this machine) and a shared one (systemd hosts).
for (const sharedRoot of [false, true]) {
  describe(`e2e attacks: planted entries where the victim's next job goes (${sharedRoot ? "shared" : "private"} /)`, function () {
    let info: ClusterInfo;
    before(function () {
      requireRootAndSlurm(this);
      info = startCluster({ plugstackLines: [pluginLine([...SEED, "cleanup=no"])], sharedRoot });
      fs.rmSync(PRECIOUS, { recursive: true, force: true });
      fs.mkdirSync(PRECIOUS, { mode: 0o755 });
      fs.writeFileSync(`${PRECIOUS}/file`, "keep");
    });
    after(() => {
      fs.rmSync(PRECIOUS, { recursive: true, force: true });
      removeJobDirs();
    });

    const plants: [string, (dir: string) => string][] = [
      [
        "a directory of the attacker's with tmp -> /etc inside",
        (d) => `mkdir ${d} && ln -s /etc ${d}/tmp && ln -s ${PRECIOUS} ${d}/var_tmp && chmod 777 ${d}`,
      ],
      ["a symlink to a root-owned directory", (d) => `ln -s ${PRECIOUS} ${d}`],
      ["a symlink to /etc", (d) => `ln -s /etc ${d}`],
      ["a file", (d) => `echo x > ${d}`],
      ["a FIFO", (d) => `mkfifo ${d}`],
    ];
    for (const [what, plant] of plants) {
      it(`the victim's job still gets a correct private /tmp when the attacker planted ${what}`, () => {
        const next = lastJobId(MALLORY) + 1;
        const dir = `/tmp/slurm.${next}.0`;
        as(MALLORY, plant(dir));
        const etc = ownerMode("/etc");
        const mark = logMark();
        const r = runAs(ALICE, [
          "srun",
          "-N1",
          "bash",
          "-c",
          "echo $SLURM_JOB_ID; stat -c '%U %a' /tmp /var/tmp; ls -A /tmp /var/tmp; touch /tmp/mine",
        ]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `${next}\nptd-alice 700\nptd-alice 700\n/tmp:\n\n/var/tmp:\n`);
        assert.equal(ownerMode("/etc"), etc, "/etc untouched");
        assert.equal(ownerMode(PRECIOUS), "0:0 755", "symlink target untouched");
        assert.deepStrictEqual(fs.readdirSync(PRECIOUS), ["file"]);
        assert.ok(fs.existsSync(`${dir}/tmp/mine`), "the job's file is in its real private directory");
        assert.equal(fs.lstatSync(dir).isDirectory(), true);
        assert.match(
          logSince(mark),
          new RegExp(
            `private-tmpdir: job ${next}: "slurm\\.${next}\\.0" \\(owner uid \\d+, mode \\d+\\) was not ours: moved aside`,
          ),
        );
      });
    }

    it("a job's own user swapping a mount directory for a symlink between steps fails the next step, naming the path", async () => {
      const go = `${OUT_DIR}/go-${Date.now()}`;
      const ready = `${go}.ready`;
      const id = submitBatch(
        ALICE,
        `srun true && touch ${ready}\nwhile [ ! -e ${go} ]; do sleep 0.1; done\nsrun bash -c 'echo SECOND STEP RAN'\necho rc=$?\n`,
      );
      await waitFor(() => fs.existsSync(ready), 30_000, { what: "the first step" });
      const dir = `/tmp/slurm.${id}.0`;
      as(ALICE, `rmdir ${dir}/var_tmp && ln -s /etc ${dir}/var_tmp`);
      const etc = ownerMode("/etc");
      const mark = logMark();
      fs.writeFileSync(go, "");
      const r = await waitBatch(id);
      assert.doesNotMatch(r.output, /SECOND STEP RAN/);
      // Slurm's srun may exit 0 after a failed launch; its message is the proof.
      assert.match(r.output, LAUNCH_FAILED);
      assert.equal(ownerMode("/etc"), etc);
      assert.match(
        logSince(mark),
        new RegExp(`private-tmpdir: job ${id}: make directory "${dir}/var_tmp": "var_tmp" is a symlink`),
      );
      assert.deepStrictEqual(
        mountPoints(info.slurmdPid).filter((m) => m.startsWith("/tmp/slurm")),
        [],
      );
    });
  });
}

describe("e2e attacks: a root-owned per-site parent stops squatting altogether", function () {
  before(function () {
    requireRootAndSlurm(this);
    fs.rmSync("/tmp/.ptd-site", { recursive: true, force: true });
    startCluster({
      plugstackLines: [pluginLine(["base=/tmp/.ptd-site/job", "mount=/var/tmp", "mount=/tmp", "cleanup=no"])],
    });
  });
  // The last job's epilog may still be marking its directory ended.
  after(() => fs.rmSync("/tmp/.ptd-site", { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }));

  it("replaces a parent the attacker made first, and the attacker cannot plant inside it", () => {
    as(MALLORY, "mkdir -m 777 /tmp/.ptd-site");
    const next = lastJobId(ALICE) + 1;
    const st = fs.lstatSync("/tmp/.ptd-site");
    assert.equal(st.uid, 0, "the plugin replaced the attacker's parent with its own");
    assert.equal(st.mode & 0o7777, 0o711);
    const r = runAs(MALLORY, ["mkdir", `/tmp/.ptd-site/job.${next}.0`]);
    assert.notEqual(r.status, 0, "the attacker cannot create entries in the root-owned parent");
  });
});

describe("e2e: mount points that do not exist, are files, or are symlinks", function () {
  before(function () {
    requireRootAndSlurm(this);
    fs.rmSync("/var/spool/ptd-mp", { recursive: true, force: true });
    fs.mkdirSync("/var/spool/ptd-mp");
    fs.writeFileSync("/var/spool/ptd-mp/file", "");
    fs.symlinkSync("/etc", "/var/spool/ptd-mp/link");
  });
  after(() => {
    fs.rmSync("/var/spool/ptd-mp", { recursive: true, force: true });
    stopCluster();
  });

  const cases: [string, string, RegExp][] = [
    ["missing", "/var/spool/ptd-mp/none", /open mount point "\/var\/spool\/ptd-mp\/none": No such file or directory/],
    ["a file", "/var/spool/ptd-mp/file", /open mount point "\/var\/spool\/ptd-mp\/file": "file" is not a directory/],
    ["a symlink", "/var/spool/ptd-mp/link", /open mount point "\/var\/spool\/ptd-mp\/link": "link" is a symlink/],
  ];
  for (const [what, mp, re] of cases) {
    it(`fails the step when the last mount point is ${what}, with nothing mounted anywhere`, () => {
      const info = startCluster({
        plugstackLines: [pluginLine(["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp", `mount=${mp}`])],
      });
      const before = mountPoints(info.slurmdPid);
      const mark = logMark();
      const tag = `ptd-mp-${Date.now()}`;
      const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", `touch /tmp/${tag}`], { timeoutMs: 30_000 });
      // srun may exit 0 after a failed launch; stderr and the missing file tell.
      assert.ok(r.status !== 0 || LAUNCH_FAILED.test(r.stderr), r.stderr);
      assert.equal(fs.existsSync(`/tmp/${tag}`), false, "the task ran");
      assert.match(logSince(mark), re);
      assert.deepStrictEqual(mountPoints(info.slurmdPid), before);
      assert.deepStrictEqual(
        mountPoints().filter((m) => m.startsWith("/var/spool/ptd-mp")),
        [],
      );
    });
  }
});

describe("e2e attacks: a base below a directory a user controls is refused, for every job", function () {
  // The admin's base lies two levels below a directory the attacker owns:
  // she could rename the base's parent away and put a tree of her own
  // there. Only the parent was checked before; now every ancestor is.
  const TOP = "/var/spool/ptd-anc";
  before(function () {
    requireRootAndSlurm(this);
    fs.rmSync(TOP, { recursive: true, force: true });
    fs.mkdirSync(`${TOP}/u/r`, { recursive: true, mode: 0o755 });
    fs.chownSync(`${TOP}/u`, uidOf(MALLORY), 0);
  });
  after(() => {
    fs.rmSync(TOP, { recursive: true, force: true });
    stopCluster();
  });

  it("fails the victim's job naming the directory, never with the shared /tmp; nothing made; the node stays in service", () => {
    const info = startCluster({
      plugstackLines: [pluginLine([`base=${TOP}/u/r/slurm`, "mount=/var/tmp", "mount=/tmp"])],
    });
    const before = mountPoints(info.slurmdPid);
    const mark = logMark();
    const tag = `ptd-anc-${Date.now()}`;
    const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", `touch /tmp/${tag}; echo RAN`], { timeoutMs: 30_000 });
    assert.ok(r.status !== 0 || LAUNCH_FAILED.test(r.stderr), r.stderr);
    assert.doesNotMatch(r.stdout, /RAN/);
    assert.equal(fs.existsSync(`/tmp/${tag}`), false, "the task ran with the shared /tmp");
    assert.match(
      logSince(mark),
      new RegExp(
        `private-tmpdir: job \\d+: open directory "${TOP}/u/r": "u" is owned by uid ${uidOf(MALLORY)}, not root \\(Operation not permitted\\)`,
      ),
    );
    assert.deepStrictEqual(fs.readdirSync(`${TOP}/u/r`), []);
    assert.deepStrictEqual(mountPoints(info.slurmdPid), before);
    assert.match(nodeState(), /^(idle|completing)$/);
  });
});
