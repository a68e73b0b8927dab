// What the plugin .so itself logs, and at which level, with no Slurm: a stub
// host (tests/native/spank-stub.c) supplies the Slurm symbols the .so imports
// and prints every log call with its level. The load line is verbose (it is
// written for every step of every job) and carries every option however long;
// a failing job item is named, with Slurm's reason.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { coreSha256 } from "../../host/core.js";
import { REPO_ROOT } from "../helpers/repo.js";
import { PLUGIN_SO } from "../helpers/plugin.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
const VERSION = (JSON.parse(fs.readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

interface Out {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe("plugin .so log lines (a stub Slurm host around the real .so)", function () {
  let dir: string, stub: string;

  before(function () {
    dir = fs.mkdtempSync(join(tmpdir(), "ptd-spank-stub-"));
    stub = join(dir, "spank-stub");
    const cc = spawnSync(
      "cc",
      [
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-rdynamic",
        "-o",
        stub,
        join(REPO_ROOT, "tests", "native", "spank-stub.c"),
        "-ldl",
      ],
      { encoding: "utf8" },
    );
    assert.equal(cc.status, 0, `cc: ${cc.stderr}`);
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function run(...args: string[]): Out {
    const r = spawnSync(stub, [PLUGIN_SO, ...args], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, `spank-stub ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /\nrc=-?\d+\n$/, r.stdout);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("logs the load line at verbose level, not info, in the form the e2e tests grep", () => {
    const out = run("init", ...SEED).stdout;
    assert.equal(
      out,
      `verbose: private-tmpdir: loaded ${VERSION} core sha256 ${coreSha256()}; options: ${SEED.join(" ")}\nrc=0\n`,
    );
  });

  it("refuses a path that is not UTF-8, naming the option with the byte escaped (the line stays valid UTF-8)", () => {
    // Node cannot put a lone 0xe9 in argv; printf in a shell can.
    const r = spawnSync(
      "sh",
      ["-c", `exec "$0" "$1" init "$(printf 'mount=/scratch/caf\\351')" mount=/tmp/ünï`, stub, PLUGIN_SO],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      "error: private-tmpdir: bad plugstack.conf option: mount=/scratch/caf\\xe9: not UTF-8 at byte 12\nrc=-1\n",
    );
  });

  it("puts every option in the load line, however long (no cut at 511 bytes)", () => {
    const mounts = Array.from(
      { length: 24 },
      (_, i) => `mount=/var/tmp/ptd-a-rather-long-mount-point-name-${String(i).padStart(2, "0")}`,
    );
    const args = ["base=/tmp/slurm", ...mounts, "cleanup=no"];
    assert.ok(args.join(" ").length > 1024, "options long enough to pass the old 512-byte buffer twice");
    const out = run("init", ...args).stdout;
    assert.match(out, /\nrc=0\n$/, out);
    const opts = /^\w+: private-tmpdir: loaded \S+ core sha256 [0-9a-f]{64}; options: (.*)\n/.exec(out)?.[1];
    assert.equal(opts, args.join(" "));
  });

  for (const [item, what] of [
    ["S_JOB_ID", "job id"],
    ["S_JOB_UID", "job's uid"],
    ["S_JOB_GID", "job's gid"],
  ] as const) {
    it(`says which job item it could not get, and Slurm's reason: ${item}`, () => {
      const out = run("epilog", item).stdout;
      // spank-stub's spank_strerror: "stub spank error <n>" (ESPANK_NOT_AVAIL).
      const job = item === "S_JOB_ID" ? "" : "job 4242: ";
      assert.match(
        out,
        new RegExp(
          `^error: private-tmpdir: ${job}cannot get the ${what} \\(${item}\\): stub spank error \\d+\\nrc=0\\n$`,
        ),
      );
    });
  }
});
