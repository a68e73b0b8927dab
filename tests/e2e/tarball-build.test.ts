// The source tarball on the release under test (the host's, or a release
// root's): an admin's build with only make, a C compiler, that release's
// Slurm headers and its own wabt gives, twice in two places, the same bytes
// as the .so the other suites load, embedding the one core.wasm every
// release shares. Nothing here needs Node.js on the build's PATH.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { coreSha256 } from "../../host/core.js";
import { requireRoot } from "../helpers/root.js";
import { REPO_ROOT } from "../helpers/repo.js";
import { CONTAIN_SO, PLUGIN_SO } from "../helpers/plugin.js";

// Neither /usr/local/bin (where a release root binds the host's node) nor
// anything else that holds Node.js: what a compute node has.
const NODE_FREE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
const WORK = "/var/spool/ptd-tarball-build";

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function tarball(): string {
  const dist = join(REPO_ROOT, "dist");
  const names = readdirSync(dist).filter((n) => /^private-tmpdir-.+-src\.tar\.gz$/.test(n));
  assert.equal(names.length, 1, `one source tarball in ${dist} (npm run dist): ${names.join(", ")}`);
  return join(dist, names[0] as string);
}

function buildIn(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const x = spawnSync("tar", ["-xzf", tarball(), "-C", dir], { encoding: "utf8" });
  assert.equal(x.status, 0, x.stderr);
  const [top] = readdirSync(dir);
  assert.ok(top, `nothing extracted in ${dir}`);
  const src = join(dir, top);
  const m = spawnSync("make", ["-s", "-C", join(src, "native")], {
    encoding: "utf8",
    env: { PATH: NODE_FREE_PATH, LANG: "C.UTF-8", HOME: dir },
    timeout: 300_000,
  });
  assert.equal(m.status, 0, `make in ${src}: ${m.stdout}${m.stderr}`);
  return src;
}

describe("tarball: the plugin builds from the source tarball on this release, reproducibly, with the shared core", function () {
  this.timeout(600_000);
  let a = "",
    b = "";
  before(function () {
    requireRoot(this); // same uid as the build the other suites load; /var/spool
    if (
      spawnSync("sh", ["-c", "command -v node"], { env: { PATH: NODE_FREE_PATH } }).status === 0 &&
      process.env["PTD_SUITE"]
    )
      throw new Error(
        `node is on ${NODE_FREE_PATH} inside the ${process.env["PTD_SUITE"]} root: the build would not show that it needs no Node.js`,
      );
    a = buildIn(join(WORK, "a"));
    b = buildIn(join(WORK, "elsewhere", "b"));
  });
  after(() => rmSync(WORK, { recursive: true, force: true }));

  it("two builds in two directories give the same .so, byte for byte, as the one under test", () => {
    const so = (d: string, name = "private-tmpdir.so"): string => join(d, "dist", "native", name);
    assert.ok(existsSync(so(a)) && existsSync(so(b)));
    assert.equal(sha256(so(a)), sha256(so(b)));
    assert.equal(sha256(so(a)), sha256(PLUGIN_SO), `${PLUGIN_SO} is not what the tarball builds here`);
    // The build without a job epilog (PrologFlags=Contain), the same way.
    const c = "private-tmpdir-contain.so";
    assert.ok(existsSync(so(a, c)) && existsSync(so(b, c)));
    assert.equal(sha256(so(a, c)), sha256(so(b, c)));
    assert.equal(sha256(so(a, c)), sha256(CONTAIN_SO), `${CONTAIN_SO} is not what the tarball builds here`);
    assert.notEqual(sha256(so(a, c)), sha256(so(a)));
  });

  it("embeds the core every release shares: the tarball's core.wasm, and its sha256 in the .so", () => {
    assert.equal(sha256(join(a, "dist", "core.wasm")), coreSha256());
    assert.match(readFileSync(join(a, "dist", "gen", "core_sha256.h"), "utf8"), new RegExp(`"${coreSha256()}"`));
    assert.ok(
      readFileSync(join(a, "dist", "native", "private-tmpdir.so")).includes(Buffer.from(coreSha256())),
      "the sha256 the plugin logs at load",
    );
  });

  it("configures wasm2c's runtime for what this release's wabt ships: bounds checks, no signal handler, no mmap", () => {
    const conf = readFileSync(join(a, "dist", "gen", "w2c_config.h"), "utf8");
    const rt = readFileSync("/usr/src/wasm2c/wasm-rt.h", "utf8");
    if (rt.includes("WASM_RT_USE_MMAP")) {
      assert.match(conf, /^#define WASM_RT_USE_MMAP 0$/m);
      assert.match(conf, /^#define WASM_RT_MEMCHECK_BOUNDS_CHECK 1$/m);
    } else {
      assert.match(conf, /^#define WASM_RT_MEMCHECK_SIGNAL_HANDLER 0$/m);
    }
  });
});
