// A user's FUSE mount on a name the plugin needs (#21, 2), on a real
// slurmd: made by an unprivileged user from the host's namespace (bindfs
// through Debian's setuid fusermount3, /dev/fuse 0666 as Debian installs
// it), on the victim's next job directories and on the plugin's own state
// names. Root gets EACCES inside such a mount and EBUSY renaming it; the
// plugin detaches it (in the host's namespace, without following anything)
// and moves the squatter's directory aside: every victim job runs with its
// own /tmp, nothing is left mounted, the node stays in service.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { nodeState, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { removeJobDirs } from "../helpers/lab-tmp.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const MALLORYS = "/var/spool/ptd-fuse-src";

function fuseMounts(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => / - fuse/.test(l) && / \/tmp\//.test(l));
}

describe("e2e: a user's FUSE mount on the plugin's names (#21)", function () {
  this.timeout(600_000);
  let fuseMode = -1;
  before(function () {
    requireRootAndSlurm(this);
    if (!fs.existsSync("/usr/bin/bindfs") || !fs.existsSync("/dev/fuse")) {
      if (process.env["CI"])
        assert.fail(
          "bindfs (Debian's bindfs) and /dev/fuse are needed: scripts/deps.sh and release-root.sh install them",
        );
      this.skip();
    }
    fuseMode = fs.statSync("/dev/fuse").mode & 0o777;
    fs.chmodSync("/dev/fuse", 0o666); // as Debian installs it; this machine has 0600
    fs.mkdirSync(MALLORYS, { recursive: true });
    fs.chmodSync(MALLORYS, 0o777);
  });
  after(() => {
    for (const l of fuseMounts()) runAs("root", ["umount", "-l", l.split(" ")[4]!]);
    if (fuseMode >= 0) fs.chmodSync("/dev/fuse", fuseMode);
    fs.rmSync(MALLORYS, { recursive: true, force: true });
    stopCluster();
    for (const n of fs.readdirSync("/tmp"))
      if (/^slurm\.(\d+\.\d+|ns|hold)\.aside\./.test(n)) fs.rmSync(`/tmp/${n}`, { recursive: true, force: true });
    removeJobDirs();
  });

  it("mounted on the victim's next job directories and on slurm.ns and slurm.hold: every victim job runs with its own /tmp", async () => {
    startCluster({ plugstackLines: [pluginLine(SEED)] });
    const r0 = runAs(ALICE, ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID"]);
    assert.equal(r0.status, 0, r0.stderr);
    const next = Number(r0.stdout.trim()) + 1;
    // The state names do not exist yet, as on a tmpfs /tmp after boot.
    await new Promise((res) => setTimeout(res, 1000));
    for (const n of ["slurm.ns", "slurm.hold"]) fs.rmSync(`/tmp/${n}`, { recursive: true, force: true });
    const names = ["slurm.ns", "slurm.hold", `slurm.${next}.0`, `slurm.${next + 1}.0`];
    const plant = names.map((n) => `mkdir /tmp/${n} && bindfs --no-allow-other ${MALLORYS} /tmp/${n}`).join(" && ");
    const p = runAs(MALLORY, ["bash", "-c", plant]);
    assert.equal(p.status, 0, `mallory's mounts: ${p.stderr}`);
    assert.equal(fuseMounts().length, names.length, "mallory's FUSE mounts, in the host's namespace");
    const mark = logMark();
    for (const want of [next, next + 1]) {
      const r = runAs(ALICE, ["srun", "-N1", "bash", "-c", "echo $SLURM_JOB_ID; stat -c %U /tmp; touch /tmp/mine"]);
      assert.equal(r.status, 0, `${r.stderr}\n${logSince(mark)}`);
      assert.deepStrictEqual(r.stdout.trim().split("\n"), [String(want), ALICE], "the victim's own /tmp");
    }
    assert.match(logSince(mark), /detached a mount someone made on "slurm\.\d+\.0"/);
    assert.deepStrictEqual(fuseMounts(), [], "no FUSE mount left on the plugin's names");
    assert.match(nodeState(), /^(idle|mixed|allocated|completing)/, "the node stays in service");
  });
});
