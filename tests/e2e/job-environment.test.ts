// The job's environment (#26) on a real slurmd: tmpdir_var= sets more names
// for tmpdir='s path (SLURM_TMPDIR, TMP, TEMP) in every step and ssh session,
// never over a value the user set; runtime= gives each job its own
// XDG_RUNTIME_DIR, a 0700 directory of the user's in a tmpfs of the job's
// own on /run/user, which no other job (of the same user either) and not
// the host sees, gone with the job. PrologFlags=Contain: the extern step's
// holder makes the namespace, every step joins it.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { LAUNCH_FAILED, pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs } from "../helpers/clients.js";
import { type ClusterInfo, requireRootAndSlurm, startCluster, stopCluster } from "../helpers/cluster.js";
import { submitBatch, waitBatch } from "../helpers/jobs.js";
import { logMark, logSince, logWhen } from "../helpers/daemon-logs.js";
import { waitFor } from "../helpers/wait.js";
import { holdersOf as holders, hostMountinfo, taskMountOf as mountOf } from "../helpers/procfs.js";
import { sshAs, sshMissing, startSshd, stopSshd } from "../helpers/sshd.js";

const LINE = [
  "base=/tmp/slurm",
  "mount=/var/tmp",
  "mount=/tmp",
  "tmpdir=/tmp",
  "tmpdir_var=SLURM_TMPDIR",
  "tmpdir_var=TMP",
  "tmpdir_var=TEMP",
  "runtime=/run/user",
  "runtime_size=8M",
];
const SOURCE = "private-tmpdir";
const SHOW = "TMPDIR=$TMPDIR SLURM_TMPDIR=$SLURM_TMPDIR TMP=$TMP TEMP=$TEMP XDG=$XDG_RUNTIME_DIR";

const uidOf = (user: string): number => Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());

/** The node's /run/user as the host sees it: each entry's name, mode and owner. */
function listing(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((n) => {
      const st = fs.lstatSync(`${dir}/${n}`);
      return `${n} ${st.mode.toString(8)} ${st.uid}`;
    });
}

/** Every process on the machine that still sees a tmpfs of ours on /run/user. */
function processesSeeingRuntime(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const mi = fs.readFileSync(`/proc/${d}/mountinfo`, "utf8");
      if (mi.split("\n").some((l) => l.split(" ")[4] === "/run/user" && l.includes(` - tmpfs ${SOURCE} `)))
        out.push(Number(d));
    } catch {
      continue;
    }
  }
  return out;
}

describe("e2e: the job's environment (tmpdir_var=, runtime=; PrologFlags=Contain)", function () {
  let info: ClusterInfo;
  let runUser = "";
  let madeRunUser = false;
  let sshd = false;
  let alice = 0;
  before(function () {
    requireRootAndSlurm(this);
    info = startCluster({ plugstackLines: [pluginLine(LINE)], extraConf: "PrologFlags=Contain" });
    alice = uidOf(ALICE);
    // A node whose /run has no user/ (the release roots' fresh tmpfs /run)
    // gets one as systemd-logind's: root's, 0755.
    runUser = `${info.nodes[0]?.root ?? "/"}/run/user`;
    if (!fs.existsSync(runUser)) {
      fs.mkdirSync(runUser, { mode: 0o755 });
      madeRunUser = true;
    }
  });
  after(() => {
    if (sshd) stopSshd();
    stopCluster();
    if (madeRunUser) fs.rmSync(runUser, { recursive: true, force: true });
  });

  it("two jobs of one user at once: each its own 0700 XDG_RUNTIME_DIR on a tmpfs of its own, every name set in batch and srun steps, a user's value kept; nothing left after", async () => {
    const mark = logMark();
    const hostMounts = hostMountinfo(info.slurmdPid);
    const hostRunUser = listing(runUser);
    const tag = `${process.pid}-${Date.now()}`;
    const ready = (who: string) => `${OUT_DIR}/env-${tag}-${who}`;
    const script = (who: string, other: string) =>
      [
        `echo "batch ${SHOW}"`,
        `echo "rt $(stat -c '%a %u %F' "$XDG_RUNTIME_DIR")"`,
        "echo \"rtls $(ls -A /run/user | tr '\\n' ' ')\"",
        "echo \"df $(df -k --output=size /run/user | tail -1 | tr -d ' ')\"",
        'awk \'$5=="/run/user" {print "rtmount", $0}\' /proc/self/mountinfo',
        'echo "$SLURM_JOB_ID" > "$XDG_RUNTIME_DIR/mine-$SLURM_JOB_ID"',
        `srun -n1 --overlap bash -c 'echo "step ${SHOW}"; sed s/^/step-sees:/ "$XDG_RUNTIME_DIR/mine-$SLURM_JOB_ID"'`,
        // The user's own value, exported in the script before srun, stays.
        "export TMP=/var/tmp/exported",
        `srun -n1 --overlap bash -c 'echo "step2 ${SHOW}"'`,
        // Both jobs hold their runtime directory at once before looking.
        `touch ${ready(who)}; i=0; while [ ! -e ${ready(other)} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`,
        "echo \"after $(ls -A \"$XDG_RUNTIME_DIR\" | tr '\\n' ' ')\"",
      ].join("\n");
    // A login's values: TMPDIR and XDG_RUNTIME_DIR are replaced; the
    // user's SLURM_TMPDIR (sbatch's environment) and TEMP (--export) stay.
    const env = { TMPDIR: OUT_DIR, XDG_RUNTIME_DIR: "/run/user/4242", SLURM_TMPDIR: "/var/tmp/user-set" };
    const args = ["-n1", "--export=ALL,TEMP=/var/tmp/by-export"];
    const a = submitBatch(ALICE, script("a", "b"), args, env);
    const b = submitBatch(ALICE, script("b", "a"), args, env);
    const [ra, rb] = await Promise.all([waitBatch(a), waitBatch(b)]);
    const xdg = `/run/user/${alice}`;
    for (const r of [ra, rb]) {
      const out = r.output;
      assert.equal(r.state, "COMPLETED", `job ${r.jobId}: ${out}`);
      const kept = `SLURM_TMPDIR=/var/tmp/user-set`;
      assert.ok(out.split("\n").includes(`batch TMPDIR=/tmp ${kept} TMP=/tmp TEMP=/var/tmp/by-export XDG=${xdg}`), out);
      assert.ok(out.split("\n").includes(`step TMPDIR=/tmp ${kept} TMP=/tmp TEMP=/var/tmp/by-export XDG=${xdg}`), out);
      assert.ok(
        out.split("\n").includes(`step2 TMPDIR=/tmp ${kept} TMP=/var/tmp/exported TEMP=/var/tmp/by-export XDG=${xdg}`),
        out,
      );
      assert.match(out, new RegExp(`^rt 700 ${alice} directory$`, "m"), out);
      // Every other user's runtime directory is hidden: only the job's own.
      assert.match(out, new RegExp(`^rtls ${alice} $`, "m"), out);
      assert.match(out, /^df 8192$/m, "runtime_size=8M, in KiB");
      const m = mountOf(out, "rtmount");
      assert.ok(m, out);
      assert.deepStrictEqual([m.type, m.source], ["tmpfs", SOURCE], JSON.stringify(m));
      for (const o of ["nosuid", "nodev"]) assert.ok(m.opts.split(",").includes(o), `${o} in ${m.opts}`);
      assert.match(out, new RegExp(`^step-sees:${r.jobId}$`, "m"), "a later step sees the batch step's file");
      // The other job of the same user, running at the same time, is not there.
      assert.match(out, new RegExp(`^after mine-${r.jobId} $`, "m"), out);
    }
    const log = logSince(mark);
    for (const id of [a, b])
      assert.match(log, new RegExp(`private-tmpdir: job ${id}: private directories mounted`), "the plugin ran");
    // The host's /run/user is as it was: no directory of the jobs', no file.
    assert.deepStrictEqual(listing(runUser), hostRunUser, "the host's /run/user changed");
    await waitFor(() => holders([a, b]).length === 0, 10_000, { what: "the holders to exit" });
    await waitFor(() => processesSeeingRuntime().length === 0 || undefined, 10_000, {
      what: `no process seeing a ${SOURCE} tmpfs on /run/user (still: ${processesSeeingRuntime().join(" ")})`,
    });
    assert.deepStrictEqual(hostMountinfo(info.slurmdPid), hostMounts, "slurmd's mount table changed");
    assert.ok(
      !hostMountinfo().some((l) => l.includes(` - tmpfs ${SOURCE} `) && l.split(" ")[4]?.endsWith("/run/user")),
      "a runtime tmpfs in the host's mount table",
    );
  });

  it("an srun from the login: TMPDIR and XDG_RUNTIME_DIR replaced, the login's TMP kept, the others set", () => {
    const r = runAs(
      ALICE,
      ["srun", "-n1", "bash", "-c", `echo "direct ${SHOW}"; stat -c 'rt %a %u' "$XDG_RUNTIME_DIR"`],
      {
        env: { TMPDIR: OUT_DIR, XDG_RUNTIME_DIR: "/run/user/4242", TMP: "/var/tmp/login-tmp" },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      r.stdout
        .split("\n")
        .includes(`direct TMPDIR=/tmp SLURM_TMPDIR=/tmp TMP=/var/tmp/login-tmp TEMP=/tmp XDG=/run/user/${alice}`),
      r.stdout,
    );
    assert.match(r.stdout, new RegExp(`^rt 700 ${alice}$`, "m"), r.stdout);
  });

  it("an ssh session adopted into the job has the names and the job's own XDG_RUNTIME_DIR", async function () {
    const missing = sshMissing();
    if (missing.length > 0) throw new Error(`cannot run the ssh test: missing ${missing.join(", ")}`);
    startSshd(LINE);
    sshd = true;
    const ready = `${OUT_DIR}/env-ssh-${process.pid}-${Date.now()}`;
    const id = submitBatch(
      ALICE,
      [
        'echo job > "$XDG_RUNTIME_DIR/from-job"',
        `touch ${ready}; i=0; while [ ! -e ${ready}.go ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done`,
        'echo "job-sees $(cat "$XDG_RUNTIME_DIR/from-ssh")"',
      ].join("\n"),
    );
    await waitFor(() => fs.existsSync(ready), 30_000, { what: `job ${id} to run` });
    let s;
    try {
      s = sshAs(ALICE, `echo "ssh ${SHOW}"; cat "$XDG_RUNTIME_DIR/from-job"; echo ssh > "$XDG_RUNTIME_DIR/from-ssh"`);
    } finally {
      fs.writeFileSync(`${ready}.go`, "");
    }
    const r = await waitBatch(id);
    assert.equal(s.status, 0, `${s.stdout}\n${s.stderr}`);
    assert.ok(
      s.stdout.split("\n").includes(`ssh TMPDIR=/tmp SLURM_TMPDIR=/tmp TMP=/tmp TEMP=/tmp XDG=/run/user/${alice}`),
      s.stdout,
    );
    assert.match(s.stdout, /^job$/m, "the session reads the job's runtime directory");
    assert.equal(r.state, "COMPLETED", r.output);
    assert.match(r.output, /^job-sees ssh$/m, r.output);
    for (const s of ["", ".go"]) fs.rmSync(`${ready}${s}`, { force: true });
  });
});

describe("e2e: runtime= on a node without its directory", function () {
  before(function () {
    requireRootAndSlurm(this);
  });
  after(() => stopCluster());

  it("fails the step with the path named in slurmd's log; nothing is made on the host", async () => {
    const missing = `/run/ptd-missing-${process.pid}`;
    const info = startCluster({ plugstackLines: [pluginLine(["mount=/tmp", `runtime=${missing}`])] });
    const node = `${info.nodes[0]?.root ?? "/"}${missing}`;
    const mark = logMark();
    const r = runAs(ALICE, ["srun", "-n1", "bash", "-c", "echo ran"], { timeoutMs: 60_000 });
    assert.doesNotMatch(r.stdout, /^ran$/m, "the step ran");
    assert.match(r.stderr, LAUNCH_FAILED, r.stderr);
    await logWhen(mark, new RegExp(`private-tmpdir: .*mount point \"${missing}\"`), `the refusal naming ${missing}`);
    assert.ok(!fs.existsSync(node), `${node} was made`);
  });
});
