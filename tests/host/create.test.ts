// The plugin's C (through the addon) against hostile filesystem states: the
// extern step's phase (the step's directory records, without the namespace),
// for real, in a scratch parent that behaves like /tmp.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadAddon } from "../../host/addon.js";
import { Phase } from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = `/var/tmp/ptd-create-test.${process.pid}`; // per run: suites may run side by side
const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const VICTIM = 60001;
const ATTACKER = 60002;
const BASE = `${SCRATCH}/shared/slurm`;
const ARGS = [`base=${BASE}`, "mount=/var/tmp", "mount=/tmp"];

function externStep(jobid: number, args = ARGS) {
  return loadAddon().coreRun(Phase.EXTERN, args, jobid, 0, VICTIM, VICTIM, 0, 0, false);
}

function owner(p: string): [number, number, string] {
  const st = fs.lstatSync(p);
  return [st.uid, st.gid, (st.mode & 0o7777).toString(8)];
}

describe("the extern step through the C host: hostile filesystem states", function () {
  beforeEach(function () {
    requireRoot(this);
    fs.rmSync(SCRATCH, { recursive: true, force: true });
    fs.mkdirSync(`${SCRATCH}/shared`, { recursive: true });
    fs.chmodSync(`${SCRATCH}/shared`, 0o1777); // like /tmp
    fs.mkdirSync(`${SCRATCH}/precious`);
    fs.writeFileSync(`${SCRATCH}/precious/file`, "keep");
  });
  after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

  it("makes the job directory and one per mount, owned by the job's user, mode 0700", () => {
    const r = externStep(100);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual(owner(`${BASE}.100.0`), [VICTIM, VICTIM, "700"]);
    assert.deepStrictEqual(owner(`${BASE}.100.0/var_tmp`), [VICTIM, VICTIM, "700"]);
    assert.deepStrictEqual(owner(`${BASE}.100.0/tmp`), [VICTIM, VICTIM, "700"]);
  });

  it("moves another user's pre-created job directory aside instead of failing", () => {
    fs.mkdirSync(`${BASE}.101.0/tmp`, { recursive: true });
    fs.chownSync(`${BASE}.101.0`, ATTACKER, ATTACKER);
    const r = externStep(101);
    assert.equal(r.ok, true, r.message);
    assert.match(r.notice, /owner uid 60002.*moved aside/);
    assert.deepStrictEqual(owner(`${BASE}.101.0`), [VICTIM, VICTIM, "700"]);
    const aside = fs.readdirSync(`${SCRATCH}/shared`).filter((n) => n.startsWith("slurm.101.0.aside."));
    assert.equal(aside.length, 1);
    assert.equal(fs.lstatSync(`${SCRATCH}/shared/${aside[0]}`).uid, ATTACKER, "the squatter's entry is not chowned");
  });

  it("detaches a mount someone made on the job directory's name or on the namespace directory's, never failing the victim", () => {
    const names = [`${BASE}.104.0`, `${BASE}.ns`];
    for (const n of names) {
      fs.mkdirSync(n);
      fs.chownSync(n, ATTACKER, ATTACKER);
      // What a user's FUSE or bindfs mount is to root here: a mount point
      // (EBUSY to rename) of someone else's.
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=1m,uid=${ATTACKER},gid=${ATTACKER},mode=700`, "squatter", n]);
    }
    const mounted = () =>
      fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => names.some((n) => l.includes(` ${n} `)));
    try {
      assert.equal(mounted().length, 2);
      const r = externStep(104);
      assert.equal(r.ok, true, r.message);
      assert.match(r.notice, /detached a mount someone made on "slurm\.104\.0"/);
      assert.match(r.notice, /detached a mount someone made on "slurm\.ns"/);
      assert.deepStrictEqual(mounted(), [], "no mount left on the plugin's names");
      assert.deepStrictEqual(owner(`${BASE}.104.0`), [VICTIM, VICTIM, "700"]);
      assert.deepStrictEqual(owner(`${BASE}.ns`), [0, 0, "700"]);
    } finally {
      for (const l of mounted()) execFileSync("umount", ["-l", l.split(" ")[4]!]);
    }
  });

  it("never follows a symlink planted as the job directory", () => {
    fs.symlinkSync(`${SCRATCH}/precious`, `${BASE}.102.0`);
    const r = externStep(102);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual(owner(`${SCRATCH}/precious`), [0, 0, "755"], "symlink target untouched");
    assert.equal(fs.existsSync(`${SCRATCH}/precious/tmp`), false);
    assert.equal(fs.lstatSync(`${BASE}.102.0`).isDirectory(), true);
  });

  it("moves a planted file aside too", () => {
    fs.writeFileSync(`${BASE}.103.0`, "x");
    const planted = fs.lstatSync(`${BASE}.103.0`);
    const r = externStep(103);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual(owner(`${BASE}.103.0`), [VICTIM, VICTIM, "700"]);
    assert.deepStrictEqual(fs.readdirSync(`${BASE}.103.0`).sort(), ["tmp", "var_tmp"]);
    const aside = fs.readdirSync(`${SCRATCH}/shared`).filter((n) => n.startsWith("slurm.103.0."));
    assert.equal(aside.length, 1, `${aside}`);
    assert.match(aside[0] ?? "", /^slurm\.103\.0\.aside\./);
    const moved = `${SCRATCH}/shared/${aside[0]}`;
    assert.equal(fs.readFileSync(moved, "utf8"), "x", "the file is kept, not emptied");
    const st = fs.lstatSync(moved);
    assert.deepStrictEqual(
      [st.ino, st.uid, st.gid, st.mode],
      [planted.ino, planted.uid, planted.gid, planted.mode],
      "the very file, not chowned",
    );
    assert.match(r.notice, /moved aside/);
    assert.ok(r.notice.includes(`"${aside[0]}"`), `the notice names where it went: ${r.notice}`);
  });

  it("never empties a directory of the job another step already made and uses (RunInJob order)", () => {
    // Slurm 24.05+ PrologFlags=RunInJob: the extern step may start after the
    // batch step has made the directories and written to them.
    assert.equal(externStep(104).ok, true);
    fs.writeFileSync(`${BASE}.104.0/tmp/in-use`, "x");
    fs.mkdirSync(`${BASE}.104.0/var_tmp/d`);
    fs.chmodSync(`${BASE}.104.0`, 0o755);
    const r = externStep(104);
    assert.equal(r.ok, true, r.message);
    assert.equal(r.notice, "");
    assert.deepStrictEqual(fs.readdirSync(`${BASE}.104.0/tmp`), ["in-use"]);
    assert.deepStrictEqual(fs.readdirSync(`${BASE}.104.0/var_tmp`), ["d"]);
    assert.deepStrictEqual(owner(`${BASE}.104.0`), [VICTIM, VICTIM, "700"], "kept, but made private again");
  });

  it("empties a directory a previous run of the job marked ended (requeue), without following its symlinks", () => {
    assert.equal(externStep(109).ok, true);
    fs.writeFileSync(`${BASE}.109.0/tmp/old-run`, "x");
    fs.symlinkSync(`${SCRATCH}/precious`, `${BASE}.109.0/tmp/link`);
    // The previous run's end with cleanup=no, as the plugin does it.
    const ended = loadAddon().coreRun(Phase.EPILOG, [...ARGS, "cleanup=no"], 109, 0, VICTIM, VICTIM, 0, 0, false);
    assert.equal(ended.ok, true, ended.message);
    assert.equal(fs.existsSync(`${BASE}.109.0/tmp/old-run`), true);
    const r = externStep(109);
    assert.equal(r.ok, true, r.message);
    assert.match(r.notice, /removed a previous run's "slurm\.109\.0"/);
    assert.deepStrictEqual(fs.readdirSync(`${BASE}.109.0`).sort(), ["tmp", "var_tmp"], "no marker left");
    assert.deepStrictEqual(fs.readdirSync(`${BASE}.109.0/tmp`), []);
    assert.deepStrictEqual(owner(`${BASE}.109.0`), [VICTIM, VICTIM, "700"]);
    assert.equal(fs.readFileSync(`${SCRATCH}/precious/file`, "utf8"), "keep");
  });

  it("refuses a world-writable, non-sticky parent of base, naming it", () => {
    fs.chmodSync(`${SCRATCH}/shared`, 0o777);
    const r = externStep(105);
    assert.equal(r.ok, false);
    assert.equal(r.code, "HOST");
    assert.match(r.message, /open directory ".*shared": "shared" is writable by others and not sticky/);
    assert.equal(fs.existsSync(`${BASE}.105.0`), false);
  });

  it("refuses a symlink in the path of base", () => {
    fs.symlinkSync(`${SCRATCH}/shared`, `${SCRATCH}/link`);
    const r = externStep(106, [`base=${SCRATCH}/link/slurm`, "mount=/tmp"]);
    assert.equal(r.ok, false);
    assert.match(r.message, /"link" is a symlink/);
  });

  it("creates a missing root-owned parent 0711, and replaces a user's squatted one", () => {
    const args = [`base=${SCRATCH}/shared/.ptd/job`, "mount=/tmp"];
    fs.mkdirSync(`${SCRATCH}/shared/.ptd`);
    fs.chownSync(`${SCRATCH}/shared/.ptd`, ATTACKER, ATTACKER);
    const r = externStep(107, args);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual(owner(`${SCRATCH}/shared/.ptd`), [0, 0, "711"]);
    assert.deepStrictEqual(owner(`${SCRATCH}/shared/.ptd/job.107.0`), [VICTIM, VICTIM, "700"]);
  });

  it("under a group-writable sticky parent, moves a group member's squatted base parent aside, as under /tmp", () => {
    // One rule for "others may write" (walk.h): group-writable counts, for
    // trust (sticky required) and for what may have been planted.
    fs.mkdirSync(`${SCRATCH}/group`, { mode: 0o755 });
    fs.chownSync(`${SCRATCH}/group`, 0, ATTACKER);
    fs.chmodSync(`${SCRATCH}/group`, 0o1770);
    fs.mkdirSync(`${SCRATCH}/group/.ptd`);
    fs.chownSync(`${SCRATCH}/group/.ptd`, ATTACKER, ATTACKER);
    const r = externStep(111, [`base=${SCRATCH}/group/.ptd/job`, "mount=/tmp"]);
    assert.equal(r.ok, true, r.message);
    assert.deepStrictEqual(owner(`${SCRATCH}/group/.ptd`), [0, 0, "711"]);
    const aside = fs.readdirSync(`${SCRATCH}/group`).filter((n) => n.startsWith(".ptd.aside."));
    assert.equal(aside.length, 1, `${aside}`);
    assert.equal(fs.lstatSync(`${SCRATCH}/group/${aside[0]}`).uid, ATTACKER, "the squatter's entry is not chowned");
  });

  it("fails, naming the path, when a mount directory inside the job directory is a symlink", () => {
    // The job's own user may change its job directory between steps; the
    // step must then fail rather than follow the link (mkdir_at without aside).
    const r0 = externStep(108);
    assert.equal(r0.ok, true, r0.message);
    fs.rmdirSync(`${BASE}.108.0/tmp`);
    fs.symlinkSync(`${SCRATCH}/precious`, `${BASE}.108.0/tmp`);
    const a = loadAddon();
    a.opsReset();
    assert.equal(a.open_trusted(0, `${SCRATCH}/shared`, 0o711, 1), 0);
    assert.equal(a.mkdir_at(0, 1, "slurm.108.0", `${BASE}.108.0`, 0o700, VICTIM, VICTIM, 2), 0);
    const rc = a.mkdir_at(1, 2, "tmp", `${BASE}.108.0/tmp`, 0o700, VICTIM, VICTIM, 0);
    assert.equal(rc, -40, "ELOOP");
    assert.match(a.opsDetail().text, /"tmp" is a symlink/);
    assert.deepStrictEqual(owner(`${SCRATCH}/precious`), [0, 0, "755"]);
    a.opsReset();
  });

  it("never chowns a directory swapped in for the one root just made (root-owned-check before fchown)", function () {
    // The job's user owns the job directory, so it can rename another
    // directory to the temporary name of a mount directory root is making,
    // between mkdirat and fchown. The driver does exactly that, every time.
    assert.equal(externStep(110).ok, true);
    const job = `${BASE}.110.0`;
    fs.rmdirSync(`${job}/tmp`);
    fs.mkdirSync(`${SCRATCH}/foreign`);
    fs.writeFileSync(`${SCRATCH}/foreign/secret`, "x");
    fs.chownSync(`${SCRATCH}/foreign`, ATTACKER, ATTACKER);
    const driver = `${SCRATCH}/swap-driver`;
    execFileSync("cc", [
      "-std=gnu11",
      "-O2",
      "-Wall",
      "-Werror",
      "-include",
      `${REPO}dist/gen/w2c_config.h`,
      `-I${REPO}native`,
      "-o",
      driver,
      `${REPO}tests/native/swap-driver.c`,
      ...[
        "fs/walk.c",
        "fs/dirs.c",
        "removal/made.c",
        "fs/detail.c",
        "removal/remove.c",
        "removal/levels.c",
        "removal/entry.c",
        "removal/leftset.c",
        "removal/fixmode.c",
        "util/escape.c",
      ].map((c) => `${REPO}native/${c}`),
    ]);
    const out = execFileSync(driver, [job, "tmp", `${VICTIM}`, `${SCRATCH}/foreign`], { encoding: "utf8" });
    const swapped = fs.readdirSync(job).find((n) => n.startsWith(".tmp.new."));
    assert.ok(swapped, `the driver swapped the directory in: ${out}`);
    assert.deepStrictEqual(
      owner(`${job}/${swapped}`),
      [ATTACKER, ATTACKER, "755"],
      "the swapped-in directory is not chowned",
    );
    assert.match(out, /^rc=-1\ndetail=".tmp.new.[0-9a-f]+" was replaced while it was being made\n$/);
    assert.equal(fs.existsSync(`${job}/tmp`), false, "nothing put in place");
  });

  it("lets concurrent steps of one job make the same directories without moving each other's aside", async () => {
    // As init_post_opt does in every step: mkdir_at with aside + wipe-ended.
    // Children wait at a barrier so their mkdir_at calls really collide.
    const addon = fileURLToPath(new URL("../../host/addon.js", import.meta.url));
    const go = `${SCRATCH}/go`;
    const jobs = Array.from({ length: 20 }, (_, i) => 200 + i);
    const script = `import { loadAddon } from ${JSON.stringify(addon)};
      import { existsSync } from "node:fs";
      const a = loadAddon();
      console.log("ready");
      while (!existsSync(${JSON.stringify(go)})) {}
      const out = [];
      for (const j of ${JSON.stringify(jobs)}) {
        a.opsReset();
        const rc = [a.open_trusted(0, ${JSON.stringify(`${SCRATCH}/shared`)}, 0o711, 1),
          a.mkdir_at(0, 1, "slurm." + j + ".0", ${JSON.stringify(BASE)} + "." + j + ".0", 0o700, ${VICTIM}, ${VICTIM}, 10),
          a.mkdir_at(1, 2, "tmp", ${JSON.stringify(BASE)} + "." + j + ".0/tmp", 0o700, ${VICTIM}, ${VICTIM}, 0)];
        out.push({ rc, notice: a.opsDetail().notice });
      }
      console.log(JSON.stringify(out));`;
    let ready = 0;
    const runs = Array.from(
      { length: 6 },
      () =>
        new Promise<string>((resolve, reject) => {
          const c = spawn(process.execPath, ["--input-type=module", "-e", script], {
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          c.stdout.on("data", (d: Buffer) => {
            out += d.toString();
            if (out.startsWith("ready\n") && !out.includes("ready\n", 1) && ++ready === 6) fs.writeFileSync(go, "");
          });
          c.on("error", reject);
          c.on("close", () => resolve(out.slice("ready\n".length)));
        }),
    );
    const expected = jobs.map(() => ({ rc: [0, 0, 0], notice: "" }));
    for (const out of await Promise.all(runs)) assert.deepStrictEqual(JSON.parse(out), expected);
    for (const j of jobs) {
      assert.deepStrictEqual(
        fs.readdirSync(`${SCRATCH}/shared`).filter((n) => n.startsWith(`slurm.${j}.`)),
        [`slurm.${j}.0`],
      );
      assert.deepStrictEqual(owner(`${BASE}.${j}.0/tmp`), [VICTIM, VICTIM, "700"]);
    }
  });
});
