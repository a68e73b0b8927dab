// Names the plugin's C puts in a log line (native/util/escape.c): a job names its
// files, and a name holding a newline must not forge a line of slurmd.log.
// Every way a name reaches a message is tried through the addon (the same C
// the .so links) and through the CLI's cleanup. Root only (mounts, chowns).
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Phase } from "../../host/abi.js";
import { loadAddon } from "../../host/addon.js";
import { requireRoot } from "../helpers/root.js";

const T = `/var/tmp/ptd-escape-test.${process.pid}`; // per run: suites may run side by side
const CLI = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const OWNER = 60001;
const F_ASIDE = 2;
// A name that, written out raw, ends the line and starts a forged one.
const FORGED = "[2026-01-01T00:00:00.000] error: private-tmpdir: FORGED";
const EVIL = `x\n${FORGED}\r\t\x1b[31m\x7f`;
const EVIL_ESCAPED = `x\\x0a${FORGED}\\x0d\\x09\\x1b[31m\\x7f`;

/** Text a log line can hold: no control byte, every backslash escape whole. */
function assertLogSafe(text: string): void {
  assert.doesNotMatch(text, /[\x00-\x1f\x7f]/, JSON.stringify(text));
  assert.ok(!text.includes(`\n${FORGED}`), "a forged line");
}

function umountAll(): void {
  const mounts = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(T))
    .sort((a, b) => b.length - a.length);
  // mountinfo writes a newline in a mount point as \012; umount wants it raw.
  for (const m of mounts)
    execFileSync("umount", [m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))]);
}

describe("log text from the C escapes control bytes in names (native/util/escape.c)", function () {
  this.timeout(60_000);
  beforeEach(function () {
    requireRoot(this);
    umountAll();
    fs.rmSync(T, { recursive: true, force: true });
    fs.mkdirSync(T, { mode: 0o755 });
  });
  afterEach(() => {
    umountAll();
    fs.rmSync(T, { recursive: true, force: true });
  });

  it("removal: an entry left in place is named escaped (remove.c)", () => {
    fs.mkdirSync(`${T}/job/${EVIL}`, { recursive: true });
    fs.chownSync(`${T}/job`, OWNER, OWNER);
    execFileSync("mount", ["-t", "tmpfs", "ptd-escape-test", `${T}/job/${EVIL}`]);
    const r = loadAddon().removeTree(T, "job", OWNER);
    assert.equal(r.errno, 16, "EBUSY: the mount point was left in place");
    assert.equal(r.detail, `job/${EVIL_ESCAPED}: another filesystem left in place`);
    assertLogSafe(r.detail);
  });

  it("removal: a detail cut at its size never ends inside an escape", () => {
    const name = "\n".repeat(200);
    fs.mkdirSync(`${T}/job/${name}`, { recursive: true });
    fs.chownSync(`${T}/job`, OWNER, OWNER);
    execFileSync("mount", ["-t", "tmpfs", "ptd-escape-test", `${T}/job/${name}`]);
    const r = loadAddon().removeTree(T, "job", OWNER);
    assert.equal(r.errno, 16);
    assert.match(r.detail, /^job\/(\\x0a)+(: [a-z ]*)?$/, "whole escapes only, then what fits of the reason");
    assert.equal(r.detail.length, 255, "cut at the addon's 256-byte buffer");
  });

  it("a detail (detail.c ptd_say): a symlinked component is named escaped", () => {
    fs.mkdirSync(`${T}/real`);
    fs.symlinkSync(`${T}/real`, `${T}/${EVIL}`);
    const a = loadAddon();
    a.opsReset();
    try {
      assert.equal(a.open_target(0, `${T}/${EVIL}`), -40, "ELOOP");
      const d = a.opsDetail();
      assert.equal(d.text, `"${EVIL_ESCAPED}" is a symlink`);
      assertLogSafe(d.text);
    } finally {
      a.opsReset();
    }
  });

  it("a notice (detail.c ptd_note): a squatter moved aside is named escaped", () => {
    fs.chmodSync(T, 0o1777);
    fs.mkdirSync(`${T}/${EVIL}`, { mode: 0o755 });
    fs.chownSync(`${T}/${EVIL}`, OWNER + 1, OWNER + 1);
    const a = loadAddon();
    a.opsReset();
    try {
      assert.equal(a.open_trusted(0, T, 0o1777, 0), 0, a.opsDetail().text);
      assert.equal(a.mkdir_at(0, 1, EVIL, `${T}/${EVIL}`, 0o700, OWNER, OWNER, F_ASIDE), 0, a.opsDetail().text);
      const n = a.opsDetail().notice;
      assert.match(
        n,
        new RegExp(
          `^"${EVIL_ESCAPED.replace(/[\\[\]]/g, "\\$&")}" \\(owner uid ${OWNER + 1}, mode 0755\\) was not ours: moved aside to "x\\\\x0a`,
        ),
      );
      assertLogSafe(n);
    } finally {
      a.opsReset();
    }
  });

  it("the CLI's cleanup prints the plugin's message with the name escaped, on one line", () => {
    const base = `${T}/jobs/slurm`;
    const args = [`base=${base}`, "mount=/var/tmp", "mount=/tmp"];
    fs.mkdirSync(`${T}/jobs`);
    const made = loadAddon().coreRun(Phase.EXTERN, args, 20, 0, OWNER, OWNER, 0, 0, false);
    assert.equal(made.ok, true, made.message);
    fs.mkdirSync(`${base}.20.0/tmp/${EVIL}`);
    fs.writeFileSync(`${base}.20.0/tmp/${EVIL}.file`, "x");
    execFileSync("mount", ["-t", "tmpfs", "ptd-escape-test", `${base}.20.0/tmp/${EVIL}`]);
    const conf = `${T}/plugstack.conf`;
    fs.writeFileSync(conf, `required private-tmpdir.so ${args.join(" ")}\n`);
    const r = spawnSync(process.execPath, [CLI, "cleanup", "--config", conf, "--job", "20", "--uid", String(OWNER)], {
      encoding: "utf8",
    });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.split("\n");
    assert.deepStrictEqual(lines.slice(1), [""], "one line");
    assert.ok(lines[0]?.includes(`slurm.20.0/tmp/${EVIL_ESCAPED}: another filesystem left in place`), lines[0]);
    assertLogSafe(lines[0] ?? "");
    assert.equal(fs.existsSync(`${base}.20.0/tmp/${EVIL}.file`), false, "the rest was removed");
  });
});
