// The usage record (#26): the remover's walk, through the plugin's own C
// (addon), gives one line per private path of a job, named by the plan's
// mount path, with what the job left there: summed over passes that ran out
// of their budget, for directories the sweep took in, never for a directory
// that is no mount='s.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { loadAddon } from "../../host/addon.js";
import { Phase } from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = `/var/tmp/ptd-usage-test.${process.pid}`;
const PARENT = `${SCRATCH}/shared`;
const BASE = `${PARENT}/slurm`;
const HOLD = `${BASE}.hold`;
const ARGS = [`base=${BASE}`, "mount=/var/tmp", "mount=/tmp", "mount=/a b/c"];
const USER = 60001;

/** A job directory with files of the given sizes under each private
 * directory (a name with "/" in it: a subdirectory made first). */
function jobDir(name: string, files: Record<string, Record<string, number>>): void {
  const d = `${PARENT}/${name}`;
  for (const [dir, list] of Object.entries(files)) {
    fs.mkdirSync(`${d}/${dir}`, { recursive: true });
    for (const [f, size] of Object.entries(list)) {
      fs.mkdirSync(`${d}/${dir}/${f}`.replace(/\/[^/]*$/, ""), { recursive: true });
      fs.writeFileSync(`${d}/${dir}/${f}`, Buffer.alloc(size, 0x61));
    }
  }
  execFileSync("chown", ["-R", `${USER}:${USER}`, d]);
}

const epilog = (jobid: number) => loadAddon().coreRun(Phase.EPILOG, ARGS, jobid, 0, USER, USER, 0, 0, false);
const drain = () => loadAddon().coreRun(Phase.DRAIN, ARGS, 0, 0, 0, 0, 0, 0, false);
const usage = (lines: string[]): string[] => lines.filter((l) => l.startsWith("private-tmpdir: usage ")).sort();

describe("usage record: one line per private path from the remover's walk (C host)", function () {
  this.timeout(120_000);
  beforeEach(function () {
    requireRoot(this);
    fs.rmSync(SCRATCH, { recursive: true, force: true });
    fs.mkdirSync(PARENT, { recursive: true });
    fs.chmodSync(PARENT, 0o1777);
    loadAddon().holdTest({ defer: true, running: null, minAge: 10 });
  });
  afterEach(() =>
    loadAddon().holdTest({ defer: false, running: null, minAge: 10, budgetMs: -1, lingerMs: 0, continueProbe: false }),
  );
  after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

  it("names each path as the job saw it, with exactly the bytes, files and directories left there", () => {
    jobDir("slurm.21.0", {
      tmp: { a: 1000, b: 2000, "sub/c": 345 },
      var_tmp: { d: 7 },
      "a b_c": {},
      // The user's own, beside the private directories: the job's total only.
      extra: { e: 11 },
    });
    assert.equal(epilog(21).ok, true);
    loadAddon().holdTest({ defer: false });
    const d = drain();
    assert.equal(d.ok, true, d.message);
    const lines = loadAddon().holdTest();
    assert.deepStrictEqual(
      usage(lines),
      [
        "private-tmpdir: usage job=21 uid=60001 path=/a\\x20b/c kind=bind bytes=0 files=0 dirs=0 used=- inodes=-",
        "private-tmpdir: usage job=21 uid=60001 path=/tmp kind=bind bytes=3345 files=3 dirs=1 used=- inodes=-",
        "private-tmpdir: usage job=21 uid=60001 path=/var/tmp kind=bind bytes=7 files=1 dirs=0 used=- inodes=-",
      ],
      lines.join("\n"),
    );
    // The job's line counts everything, the record's directories included.
    assert.ok(
      lines.some((l) =>
        /^private-tmpdir: job 21 uid 60001: removed 3363 bytes, 5 files, 6 directories in [0-9.]+ s \(test\)$/.test(l),
      ),
      lines.join("\n"),
    );
  });

  it("sums a path over passes that ran out of their budget: one line, when its directory is gone", () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) many[`f${i}`] = 3;
    jobDir("slurm.22.0", { tmp: many, var_tmp: { x: 5 } });
    assert.equal(epilog(22).ok, true);
    loadAddon().holdTest({ defer: false, budgetMs: 0 });
    assert.equal(drain().ok, true);
    const first = loadAddon().holdTest();
    assert.equal(fs.readdirSync(HOLD).length, 1, "still held");
    assert.ok(
      !usage(first).some((l) => /path=\/tmp /.test(l)),
      `no line for a path not yet gone:\n${first.join("\n")}`,
    );
    loadAddon().holdTest({ budgetMs: -1 });
    assert.equal(drain().ok, true);
    assert.deepStrictEqual(fs.readdirSync(HOLD), []);
    const all = usage([...first, ...loadAddon().holdTest()]);
    assert.deepStrictEqual(
      all,
      [
        "private-tmpdir: usage job=22 uid=60001 path=/tmp kind=bind bytes=9000 files=3000 dirs=0 used=- inodes=-",
        "private-tmpdir: usage job=22 uid=60001 path=/var/tmp kind=bind bytes=5 files=1 dirs=0 used=- inodes=-",
      ],
      all.join("\n"),
    );
  });

  it("records a job the sweep took in (its epilog never ran); none with cleanup=no, which removes nothing", () => {
    jobDir("slurm.23.0", { tmp: { a: 10 } });
    loadAddon().holdTest({ defer: false, running: [], minAge: 0 });
    assert.equal(drain().ok, true);
    assert.deepStrictEqual(usage(loadAddon().holdTest()), [
      "private-tmpdir: usage job=23 uid=60001 path=/tmp kind=bind bytes=10 files=1 dirs=0 used=- inodes=-",
    ]);
    jobDir("slurm.24.0", { tmp: { a: 10 } });
    const kept = loadAddon().coreRun(Phase.EPILOG, [...ARGS, "cleanup=no"], 24, 0, USER, USER, 0, 0, false);
    assert.equal(kept.ok, true);
    assert.equal(loadAddon().coreRun(Phase.DRAIN, [...ARGS, "cleanup=no"], 0, 0, 0, 0, 0, 0, false).ok, true);
    assert.deepStrictEqual(usage(loadAddon().holdTest()), []);
    assert.ok(fs.existsSync(`${PARENT}/slurm.24.0/tmp/a`));
  });
});
