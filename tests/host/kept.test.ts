// Kept trees (#26) through the plugin's own C (addon): the job's end keeps
// a job directory the job asked to keep (its request left in the namespace
// directory), renamed whole and made 0700, its record beside it; the
// remover's sweep removes a kept tree whose time is up, one with another
// user's file inside (never kept), and records without a tree.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { loadAddon } from "../../host/addon.js";
import { Phase } from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = `/var/tmp/ptd-kept-test.${process.pid}`;
const PARENT = `${SCRATCH}/shared`;
const BASE = `${PARENT}/slurm`;
const KEPT = `${BASE}.kept`;
const ARGS = [`base=${BASE}`, "mount=/var/tmp", "mount=/tmp", "keep=1h"];
const USER = 60001;
const OTHER = 60002;

function jobDir(jobid: number): string {
  const d = `${PARENT}/slurm.${jobid}.0`;
  fs.mkdirSync(`${d}/tmp/sub`, { recursive: true });
  fs.mkdirSync(`${d}/var_tmp`, { recursive: true });
  fs.writeFileSync(`${d}/tmp/sub/a`, Buffer.alloc(5000, 0x61));
  fs.writeFileSync(`${d}/var_tmp/b`, "b");
  execFileSync("chown", ["-R", `${USER}:${USER}`, d]);
  fs.chmodSync(`${d}/tmp`, 0o777);
  return d;
}

/** The job's request, as its steps leave it (KEEP_ASK): "a" always, "f" failed. */
function ask(jobid: number, how: "a" | "f"): void {
  fs.mkdirSync(`${BASE}.ns`, { recursive: true, mode: 0o700 });
  fs.chmodSync(`${BASE}.ns`, 0o700);
  fs.writeFileSync(`${BASE}.ns/keep.${jobid}`, how, { mode: 0o600 });
}

const epilog = (jobid: number) => loadAddon().coreRun(Phase.EPILOG, ARGS, jobid, 0, USER, USER, 0, 0, false);
const drain = () => loadAddon().coreRun(Phase.DRAIN, ARGS, 0, 0, 0, 0, 0, 0, false);

describe("kept trees: kept whole at the job's end, swept by time and by the rules of removal (C host)", function () {
  this.timeout(60_000);
  beforeEach(function () {
    requireRoot(this);
    fs.rmSync(SCRATCH, { recursive: true, force: true });
    fs.mkdirSync(PARENT, { recursive: true });
    fs.chmodSync(PARENT, 0o1777);
    loadAddon().holdTest({ defer: false, running: null, minAge: 10 });
  });
  afterEach(() =>
    loadAddon().holdTest({ defer: false, running: null, minAge: 10, budgetMs: -1, lingerMs: 0, continueProbe: false }),
  );
  after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

  it("a job that asked is kept whole under its own name, 0700, its record root's with its expiry; its request is consumed", () => {
    jobDir(41);
    ask(41, "a");
    const r = epilog(41);
    assert.equal(r.ok, true, r.message);
    assert.equal(fs.existsSync(`${PARENT}/slurm.41.0`), false);
    const st = fs.statSync(`${KEPT}/slurm.41.0`);
    assert.deepEqual([st.uid, st.mode & 0o7777], [USER, 0o700]);
    assert.equal(fs.readFileSync(`${KEPT}/slurm.41.0/tmp/sub/a`).length, 5000);
    const rec = fs.statSync(`${KEPT}/.slurm.41.0`);
    assert.deepEqual([rec.uid, rec.mode & 0o777], [0, 0o644]);
    const expires = Number(fs.readFileSync(`${KEPT}/.slurm.41.0`, "utf8").trim());
    assert.ok(Math.abs(expires - (Date.now() / 1000 + 3600)) < 60, `expires ${expires}`);
    assert.equal(fs.existsSync(`${BASE}.ns/keep.41`), false, "the request is read once");
    assert.equal(fs.statSync(KEPT).mode & 0o777, 0o755);
    // A job that did not ask is removed as ever.
    jobDir(42);
    assert.equal(epilog(42).ok, true);
    assert.equal(fs.existsSync(`${KEPT}/slurm.42.0`), false);
    assert.equal(fs.existsSync(`${PARENT}/slurm.42.0`), false);
  });

  it("the sweep measures a kept tree once, removes one with another user's file inside, one past its time, and records without a tree", () => {
    jobDir(43);
    ask(43, "a");
    assert.equal(epilog(43).ok, true);
    jobDir(44);
    fs.writeFileSync(`${PARENT}/slurm.44.0/tmp/planted`, "x");
    fs.chownSync(`${PARENT}/slurm.44.0/tmp/planted`, OTHER, OTHER);
    ask(44, "a");
    assert.equal(epilog(44).ok, true);
    jobDir(45);
    ask(45, "a");
    assert.equal(epilog(45).ok, true);
    // 45's time is up: its record says so (root's, as the keep wrote it).
    const past = Math.floor(Date.now() / 1000) - 5;
    fs.writeFileSync(`${KEPT}/.slurm.45.0`, `${past}\n`);
    // A record without its tree, older than a keep in flight.
    fs.writeFileSync(`${KEPT}/.slurm.46.0`, `${past + 3600}\n`);
    fs.utimesSync(`${KEPT}/.slurm.46.0`, past - 120, past - 120);
    const d = drain();
    assert.equal(d.ok, true, d.message);
    const lines = loadAddon().holdTest();
    assert.ok(fs.existsSync(`${KEPT}/slurm.43.0`), "a tree within its time and the rules stays");
    assert.match(fs.readFileSync(`${KEPT}/.slurm.43.0`, "utf8"), new RegExp(`^\\d+ ${USER} \\d+ 2\\n$`));
    assert.equal(fs.existsSync(`${KEPT}/slurm.44.0`), false, "never kept: another user's file inside");
    assert.ok(
      lines.some((l) => /kept .*slurm\.44\.0 removed: it holds a file of uid 60002/.test(l)),
      lines.join("\n"),
    );
    assert.equal(fs.existsSync(`${KEPT}/slurm.45.0`), false);
    assert.ok(
      lines.some((l) => /kept .*slurm\.45\.0 removed: its time is up/.test(l)),
      lines.join("\n"),
    );
    assert.equal(fs.existsSync(`${KEPT}/.slurm.45.0`), false);
    assert.equal(fs.existsSync(`${KEPT}/.slurm.46.0`), false, "an orphan record goes");
    // Through the holding place, removed by the same pass.
    assert.deepEqual(fs.readdirSync(`${BASE}.hold`), []);
  });
});
