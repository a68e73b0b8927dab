// X11 in jobs with a private /tmp (#24): share=/tmp/.X11-unix keeps the
// host's socket directory visible in every job, so X servers of different
// jobs (Xvfb here; vncserver picks its display by the same files) see each
// other's sockets and take different displays, as without the plugin. Only a
// directory root owns (sticky when others may write) is shared: a name a user
// planted leaves the job without the share, never without its private /tmp.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, MALLORY, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { sbatchWait, submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { hostMountinfo } from "../helpers/procfs.js";

const X11 = "/tmp/.X11-unix";
const ICE = "/tmp/.ICE-unix";
const LINE = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp", `share=${X11}`, `share=${ICE}`];

/** What a job's task reports about its X server and the files X uses to pick a display. */
function xScript(tag: string, who: string, wait: string[], size: string): string {
  const out = (what: string) => `${OUT_DIR}/x11-${tag}-${who}.${what}`;
  return [
    `for f in ${wait.join(" ")}; do i=0; until [ -e "$f" ]; do sleep 0.1; i=$((i+1)); [ $i -lt 600 ] || exit 3; done; done`,
    // -displayfd: the server takes the first display it can, as a desktop or VNC session does.
    `Xvfb -displayfd 3 -screen 0 ${size}x24 -nolisten tcp 3>${out("disp")} 2>${out("err")} &`,
    "i=0; until [ -s " + out("disp") + " ]; do sleep 0.1; i=$((i+1)); [ $i -lt 300 ] || exit 4; done",
    `d=$(cat ${out("disp")}); echo display $d`,
    "echo dims $(xdpyinfo -display :$d | awk '/dimensions:/ {print $2}')",
    `echo sockets $(ls ${X11} | sort | tr '\\n' ' ')`,
    `echo xdir $(stat -c '%d:%i %a %U' ${X11})`,
    // vncserver's rule for its display: the first n with neither a lock nor a socket.
    `n=0; while [ -e /tmp/.X$n-lock ] || [ -e ${X11}/X$n ]; do n=$((n+1)); done; echo vnc-next $n`,
    `awk '$5=="${X11}" {print "mnt", $0} $5=="/tmp" {print "tmpmnt", $0}' /proc/self/mountinfo`,
    `touch ${out("ready")}`,
    `i=0; until [ -e ${out("go")} ]; do sleep 0.1; i=$((i+1)); [ $i -lt 600 ] || break; done`,
    "kill %1; wait",
  ].join("\n");
}

/** The last "key ..." line's rest: for a mount point, the mount on top. */
function field(output: string, key: string): string {
  const l = output
    .split("\n")
    .filter((x) => x.startsWith(`${key} `))
    .pop();
  assert.ok(l !== undefined, `no "${key}" line in:\n${output}`);
  return l.slice(key.length + 1).trim();
}

function statOf(p: string): string {
  const st = fs.lstatSync(p);
  return `${st.dev}:${st.ino}`;
}

describe("e2e: X11 with a private /tmp (share=/tmp/.X11-unix)", function () {
  let info: ClusterInfo;
  let hadX11 = false;
  before(function () {
    requireRootAndSlurm(this);
    for (const tool of ["/usr/bin/Xvfb", "/usr/bin/xdpyinfo"])
      assert.ok(fs.existsSync(tool), `${tool} missing (scripts/deps.sh installs xvfb and x11-utils)`);
    info = startCluster({ plugstackLines: [pluginLine(LINE)] });
    hadX11 = fs.existsSync(X11);
  });
  // The host's X11 directory as systemd-tmpfiles (x11.conf) makes it at boot.
  beforeEach(() => {
    fs.rmSync(X11, { recursive: true, force: true });
    fs.rmSync(ICE, { recursive: true, force: true });
    fs.mkdirSync(X11, { mode: 0o1777 });
    fs.chmodSync(X11, 0o1777);
  });
  after(() => {
    stopCluster();
    if (!hadX11) fs.rmSync(X11, { recursive: true, force: true });
  });

  it("two users' X servers take different displays, each client reaches its own, and the share never reaches the host's mount table", async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const f = (who: string, what: string) => `${OUT_DIR}/x11-${tag}-${who}.${what}`;
    const hostBefore = hostMountinfo(info.slurmdPid).length;
    // Alice's server first; Mallory's starts once Alice's runs; both end together.
    const a = submitBatch(ALICE, xScript(tag, "a", [], "800x600"), ["-n1", "-O"]);
    const b = submitBatch(MALLORY, xScript(tag, "b", [f("a", "ready")], "1024x768"), ["-n1", "-O"]);
    const go = setInterval(() => {
      if (fs.existsSync(f("b", "ready"))) {
        for (const who of ["a", "b"]) fs.writeFileSync(f(who, "go"), "");
        clearInterval(go);
      }
    }, 100);
    let ra, rb;
    try {
      [ra, rb] = await Promise.all([waitBatch(a, 120_000), waitBatch(b, 120_000)]);
    } finally {
      clearInterval(go);
    }
    for (const r of [ra, rb]) assert.equal(r.state, "COMPLETED", `job ${r.jobId}: ${r.output}`);
    const [da, db] = [field(ra.output, "display"), field(rb.output, "display")];
    assert.notEqual(da, db, `both servers on :${da}`);
    assert.equal(field(ra.output, "dims"), "800x600", "Alice's client reached Alice's server");
    assert.equal(field(rb.output, "dims"), "1024x768", "Mallory's client reached Mallory's server");
    // Mallory's job sees Alice's socket: a vncserver would not pick Alice's display.
    assert.ok(field(rb.output, "sockets").split(" ").includes(`X${da}`), rb.output);
    assert.notEqual(field(rb.output, "vnc-next"), da, rb.output);
    // The very directory of the host, root's and sticky, on top of each job's private /tmp.
    for (const r of [ra, rb]) {
      const [id, mode, owner] = field(r.output, "xdir").split(" ");
      assert.deepStrictEqual([mode, owner], ["1777", "root"], r.output);
      assert.equal(id, statOf(X11), "the host's /tmp/.X11-unix");
      const mnt = field(r.output, "mnt").split(" ");
      assert.ok(mnt[5]?.split(",").includes("nosuid") && mnt[5]?.split(",").includes("nodev"), mnt.join(" "));
      assert.match(
        field(r.output, "tmpmnt"),
        new RegExp(`/slurm\\.${r.jobId}\\.0/tmp /tmp `),
        "the job's /tmp is its own",
      );
    }
    // The sockets live in the host's directory; nothing of the jobs is mounted there.
    assert.equal(hostMountinfo(info.slurmdPid).length, hostBefore);
    assert.ok(!hostMountinfo(info.slurmdPid).some((l) => l.includes(".X11-unix")));
    // What is not on the node is not shared, and says so; the job ran all the same.
    const log = logSince(0);
    assert.match(log, /private-tmpdir: .*share=\/tmp\/\.ICE-unix: not shared \(.*No such file or directory\)/);
  });

  for (const [what, plant] of [
    ["made by a user", () => fs.chownSync(X11, Number(runAs("root", ["id", "-u", MALLORY]).stdout.trim()), 0)],
    [
      "a symlink a user planted",
      () => {
        fs.rmSync(X11, { recursive: true });
        fs.symlinkSync("/etc", X11);
      },
    ],
    ["writable by all but not sticky", () => fs.chmodSync(X11, 0o777)],
  ] as const) {
    it(`a host /tmp/.X11-unix ${what} is not shared: the job runs with its private /tmp, the reason in slurmd's log`, () => {
      plant();
      const mark = logMark();
      const r = sbatchWait(
        ALICE,
        [
          `echo xdir $(stat -c '%F %U' ${X11} 2>&1 | tr ' ' _)`,
          `awk '$5=="${X11}" {print "mnt", $0} $5=="/tmp" {print "tmpmnt", $0}' /proc/self/mountinfo`,
          "echo ran",
        ].join("\n"),
      );
      assert.equal(r.state, "COMPLETED", r.output);
      assert.match(r.output, /^ran$/m);
      assert.match(field(r.output, "tmpmnt"), new RegExp(`/slurm\\.${r.jobId}\\.0/tmp /tmp `), r.output);
      assert.ok(!r.output.split("\n").some((l) => l.startsWith("mnt ")), `shared anyway:\n${r.output}`);
      assert.match(field(r.output, "xdir"), /No_such_file/, "the job's /tmp holds no .X11-unix");
      assert.match(logSince(mark), /private-tmpdir: .*share=\/tmp\/\.X11-unix: not shared \(/);
    });
  }
});

// With PrologFlags=Contain the extern step's holder makes the job's
// namespace, shares included, before any other step: its notices are its own.
describe("e2e: share= made by the extern step's namespace holder (PrologFlags=Contain)", function () {
  let hadX11 = false;
  before(function () {
    requireRootAndSlurm(this);
    startCluster({ plugstackLines: [pluginLine(LINE)], extraConf: "PrologFlags=Contain" });
    hadX11 = fs.existsSync(X11);
    fs.rmSync(X11, { recursive: true, force: true });
    fs.rmSync(ICE, { recursive: true, force: true });
    fs.mkdirSync(X11, { mode: 0o1777 });
    fs.chmodSync(X11, 0o1777);
  });
  after(() => {
    stopCluster();
    if (!hadX11) fs.rmSync(X11, { recursive: true, force: true });
  });

  it("every step sees the host's /tmp/.X11-unix on its private /tmp; the holder logs what it left out", () => {
    const mark = logMark();
    const probe = `echo xdir $(stat -c '%d:%i %a %U' ${X11}); awk '$5=="/tmp" {print "tmpmnt", $0}' /proc/self/mountinfo`;
    const r = sbatchWait(
      ALICE,
      `${probe}\nsrun -n1 bash -c "${probe.replace(/"/g, '\\"').replace(/\$/g, "\\$")}" | sed s/^/step-/\n`,
    );
    assert.equal(r.state, "COMPLETED", r.output);
    for (const prefix of ["", "step-"]) {
      assert.equal(field(r.output, `${prefix}xdir`), `${statOf(X11)} 1777 root`, r.output);
      assert.match(field(r.output, `${prefix}tmpmnt`), new RegExp(`/slurm\\.${r.jobId}\\.0/tmp /tmp `), r.output);
    }
    assert.match(
      logSince(mark),
      new RegExp(`private-tmpdir: the holder of "job\\.${r.jobId}": share=/tmp/\\.ICE-unix: not shared \\(`),
    );
  });
});
