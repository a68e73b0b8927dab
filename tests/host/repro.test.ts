// Reproducible builds: scripts/repro-check.sh builds this tree twice, in two
// directories under /var/tmp and as two users, and once more from the source
// tarball with no Node.js on PATH; every artifact must be byte-identical.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requireRoot } from "../helpers/root.js";

const SCRIPT = fileURLToPath(new URL("../../../../scripts/repro-check.sh", import.meta.url));
const ARTIFACTS = [
  "core.wasm",
  "core_wasm.c",
  "core_wasm.h",
  "core_sha256.h",
  "private-tmpdir.so",
  "w2c_config.h",
  "private-tmpdir-VERSION-src.tar.gz",
  "tarball:private-tmpdir.so",
];

describe("reproducible builds", function () {
  // Two wasm + C builds and a tarball build: well under a minute here, but
  // a cold CI machine copies node_modules twice.
  this.timeout(600_000);

  it("gives byte-identical core.wasm, generated C, private-tmpdir.so and source tarball, also built without Node.js", function () {
    requireRoot(this); // the second build runs as another user
    const r = spawnSync("bash", [SCRIPT], { encoding: "utf8", timeout: 590_000, maxBuffer: 16 << 20 });
    const rows = new Map<string, [string, string, string]>();
    for (const line of r.stdout.split("\n")) {
      const m = /^(\S+) ([0-9a-f]{64}|missing) ([0-9a-f]{64}|missing) (same|DIFFERENT)$/.exec(line);
      if (m?.[1] && m[2] && m[3] && m[4])
        rows.set(m[1].replace(/-\d+\.\d+\.\d+(\S*)-src/, "-VERSION-src"), [m[2], m[3], m[4]]);
    }
    const why = `exit ${r.status}\n${r.stdout}\n${r.stderr}`;
    assert.deepStrictEqual([...rows.keys()].sort(), [...ARTIFACTS].sort(), why);
    for (const [name, [a, b, verdict]] of rows) {
      assert.equal(verdict, "same", `${name}: ${a} != ${b}\n${why}`);
      assert.equal(a, b);
    }
    assert.equal(r.status, 0, why);
    assert.match(r.stderr, /as ptd-builder/, "the second build ran as another user");
  });
});
