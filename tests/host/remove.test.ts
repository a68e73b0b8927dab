// native/removal/remove.c through the addon: the plugin's own removal code against
// hostile trees. Root only (it mounts, and chowns to other users).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { loadAddon } from "../../host/addon.js";
import { requireRoot } from "../helpers/root.js";

const T = `/var/tmp/ptd-remove-test.${process.pid}`; // per run: suites may run side by side
const OWNER = 60001;

function tree(): string {
  const top = `${T}/job`;
  fs.mkdirSync(top, { recursive: true });
  fs.chownSync(top, OWNER, OWNER);
  return top;
}

// Node's own recursive rm overflows its stack on the 10,000-deep chain.
function rmrf(): void {
  execFileSync("rm", ["-rf", "--one-file-system", T]);
}

function remove(name = "job", uid = OWNER, hook?: (n: string) => void) {
  return loadAddon().removeTree(T, name, uid, hook);
}

describe("removal (native/removal/remove.c) against hostile trees", function () {
  this.timeout(300_000);
  beforeEach(function () {
    requireRoot(this);
    rmrf();
    fs.mkdirSync(`${T}/precious/sub`, { recursive: true });
    fs.writeFileSync(`${T}/precious/sub/file`, "keep");
  });
  afterEach(() => {
    try {
      execFileSync("umount", ["-R", `${T}/job/mnt`], { stdio: "ignore" });
    } catch {
      /* not mounted */
    }
    rmrf();
  });

  it("removes files, FIFOs, sockets, odd names and read-only directories, and counts them", () => {
    const top = tree();
    fs.writeFileSync(`${top}/a`, "12345");
    fs.writeFileSync(`${top}/new\nline name`, "xy");
    fs.writeFileSync(`${top}/${"n".repeat(255)}`, "");
    execFileSync("mkfifo", [`${top}/fifo`]);
    execFileSync("python3", [
      "-c",
      `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(`${top}/sock`)})`,
    ]);
    fs.mkdirSync(`${top}/ro/inner`, { recursive: true });
    fs.writeFileSync(`${top}/ro/inner/f`, "z");
    fs.chmodSync(`${top}/ro/inner`, 0o500);
    fs.chmodSync(`${top}/ro`, 0o000);
    const r = remove();
    assert.equal(r.errno, 0, r.detail);
    assert.deepStrictEqual([r.files, r.dirs, r.bytes, r.skipped], [6, 3, 8, 0]);
    assert.equal(fs.existsSync(top), false);
  });

  it("unlinks a symlink to a root-owned directory, leaving its target and files alone", () => {
    const top = tree();
    fs.symlinkSync(`${T}/precious`, `${top}/link`);
    fs.symlinkSync(`${T}/precious/sub/file`, `${top}/flink`);
    const r = remove();
    assert.equal(r.errno, 0, r.detail);
    assert.equal(fs.readFileSync(`${T}/precious/sub/file`, "utf8"), "keep");
  });

  it("does not descend into a tmpfs mounted inside, reports it, and removes the rest", () => {
    const top = tree();
    fs.mkdirSync(`${top}/mnt`);
    fs.writeFileSync(`${top}/other`, "x");
    execFileSync("mount", ["-t", "tmpfs", "ptd-test", `${top}/mnt`]);
    fs.writeFileSync(`${top}/mnt/inside`, "on tmpfs");
    const r = remove();
    assert.equal(r.errno, 16, "EBUSY: a mount point was left in place");
    assert.match(r.detail, /mnt/);
    assert.ok(r.skipped >= 1);
    assert.equal(fs.readFileSync(`${top}/mnt/inside`, "utf8"), "on tmpfs");
    assert.equal(fs.existsSync(`${top}/other`), false);
  });

  it("does not descend into a bind mount of the same filesystem", () => {
    const top = tree();
    fs.mkdirSync(`${top}/mnt`);
    execFileSync("mount", ["--bind", `${T}/precious`, `${top}/mnt`]);
    const r = remove();
    assert.equal(r.errno, 16);
    assert.equal(fs.readFileSync(`${T}/precious/sub/file`, "utf8"), "keep");
  });

  it("is not fooled by a directory swapped for a symlink between its check and its open", () => {
    const top = tree();
    fs.mkdirSync(`${top}/d/e`, { recursive: true });
    fs.writeFileSync(`${top}/d/e/f`, "x");
    let swapped = false;
    const r = remove("job", OWNER, (name) => {
      if (name !== "d" || swapped) return;
      fs.renameSync(`${top}/d`, `${T}/d.moved`); // out of the tree: readdir order cannot matter
      fs.symlinkSync(`${T}/precious`, `${top}/d`);
      swapped = true;
    });
    assert.ok(swapped, "the hook ran at the race window");
    assert.equal(fs.readFileSync(`${T}/precious/sub/file`, "utf8"), "keep");
    assert.deepStrictEqual(fs.readdirSync(`${T}/precious`), ["sub"]);
    // The symlink found in d's place is unlinked (a file of symlink size),
    // the rest removed, and what was moved away never reached.
    const link = Buffer.byteLength(`${T}/precious`);
    assert.deepStrictEqual(r, {
      bytes: link,
      files: 1,
      dirs: 1,
      skipped: 0,
      marked: 0,
      deferred: 0,
      errno: 0,
      detail: "",
    });
    assert.equal(fs.existsSync(top), false);
    assert.equal(fs.readFileSync(`${T}/d.moved/e/f`, "utf8"), "x");
  });

  it("refuses a top directory owned by someone else, touching nothing", () => {
    const top = tree();
    fs.writeFileSync(`${top}/f`, "x");
    const st0 = fs.lstatSync(top);
    const r = remove("job", OWNER + 1);
    assert.deepStrictEqual([r.errno, r.files, r.dirs, r.detail], [1, 0, 0, `job: owned by uid ${OWNER}`], "EPERM");
    assert.deepStrictEqual([r.bytes, r.files, r.dirs, r.skipped], [0, 0, 0, 0]);
    assert.deepStrictEqual(fs.readdirSync(top), ["f"]);
    assert.equal(fs.readFileSync(`${top}/f`, "utf8"), "x");
    const st = fs.lstatSync(top);
    assert.deepStrictEqual([st.ino, st.uid, st.gid, st.mode], [st0.ino, OWNER, OWNER, st0.mode]);
  });

  it("refuses a root-owned top directory for a job's uid: only the job's own is removed", () => {
    // A crafted config can point the root-run CLI at any "*.N.M" directory.
    fs.mkdirSync(`${T}/job/sub`, { recursive: true });
    fs.writeFileSync(`${T}/job/sub/f`, "root's");
    const r = remove("job", OWNER);
    assert.deepStrictEqual([r.errno, r.files, r.dirs, r.detail], [1, 0, 0, "job: owned by uid 0"], "EPERM");
    assert.equal(fs.readFileSync(`${T}/job/sub/f`, "utf8"), "root's");
    // A root job's directory is root's, and that one goes.
    const own = remove("job", 0);
    assert.deepStrictEqual([own.errno, own.files, own.dirs], [0, 1, 2], own.detail);
  });

  it("refuses a top that is a symlink, and is idempotent on a missing one", () => {
    fs.symlinkSync(`${T}/precious`, `${T}/job`);
    assert.notEqual(remove().errno, 0);
    assert.ok(fs.existsSync(`${T}/precious/sub/file`));
    fs.unlinkSync(`${T}/job`);
    const r = remove();
    assert.deepStrictEqual([r.errno, r.files, r.dirs], [0, 0, 0]);
  });

  it("removes a 10,000-deep chain without exhausting the stack or descriptors", () => {
    const top = tree();
    // Built relative to a moving cwd: the full path is far beyond PATH_MAX.
    execFileSync("python3", [
      "-c",
      `import os\nos.chdir(${JSON.stringify(top)})\nfor i in range(10000):\n    os.mkdir("d"); os.chdir("d")\nopen("leaf", "w").close()`,
    ]);
    const r = remove();
    assert.equal(r.errno, 0, r.detail);
    assert.deepStrictEqual([r.dirs, r.files], [10001, 1]);
    assert.equal(fs.existsSync(top), false);
  });

  it("removes 100,000 files in one directory", () => {
    const top = tree();
    execFileSync("bash", ["-c", `cd ${top} && mkdir big && cd big && seq 100000 | xargs touch`]);
    const r = remove();
    assert.equal(r.errno, 0, r.detail);
    assert.deepStrictEqual([r.dirs, r.files], [2, 100000]);
  });

  // An immutable directory: root cannot unlink its entries (EPERM), so every
  // one is left in place and noted. A list scanned per entry made this
  // quadratic (100k leftovers: ~25x the time of 20k, not ~5x).
  it("notes entries left in place in linear time (20,000 vs 100,000 leftovers)", () => {
    const time = (n: number): number => {
      const top = tree();
      execFileSync("bash", ["-c", `cd ${top} && mkdir stuck && cd stuck && seq ${n} | xargs touch`]);
      execFileSync("chattr", ["+i", `${top}/stuck`]);
      try {
        const t0 = process.hrtime.bigint();
        const r = remove();
        const t = Number(process.hrtime.bigint() - t0) / 1e9;
        assert.equal(r.errno, 1, `EPERM: ${r.detail}`);
        assert.equal(r.files, 0);
        assert.equal(fs.readdirSync(`${top}/stuck`).length, n);
        return t;
      } finally {
        execFileSync("chattr", ["-i", `${top}/stuck`]);
        rmrf();
      }
    };
    time(2000); // warm the page cache and the allocator
    const small = time(20_000),
      large = time(100_000);
    console.log(`leftovers: 20k ${small.toFixed(3)} s, 100k ${large.toFixed(3)} s`);
    assert.ok(
      large / small < 10,
      `100k leftovers took ${(large / small).toFixed(1)}x the time of 20k (${small.toFixed(3)} s, ${large.toFixed(3)} s): not linear`,
    );
  });
});
