// The admin CLI as a management node gets it (#14): `npm pack` makes the
// tarball, `npm install -g` of it (into a throwaway prefix) gives a working
// `private-tmpdir` command: the same core (sha256) as this tree's, plans
// the seed's layout, refuses a bad option naming it.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = (p: string): string => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

function run(
  cmd: string,
  args: readonly string[],
  cwd = repo("."),
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: 180_000,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

describe("the CLI's npm tarball, installed with npm install -g", function () {
  this.timeout(300_000);
  let dir = "";
  let bin = "";
  before(() => {
    // Never under /tmp: the product privatises it.
    dir = mkdtempSync("/var/tmp/ptd-npm.");
    const pack = run("npm", ["pack", "--pack-destination", dir, "--silent"]);
    assert.equal(pack.status, 0, pack.stderr);
    const tgz = `${dir}/${pack.stdout.trim().split("\n").pop() ?? ""}`;
    const inst = run("npm", [
      "install",
      "-g",
      "--prefix",
      `${dir}/prefix`,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      tgz,
    ]);
    assert.equal(inst.status, 0, `npm install -g ${tgz}: ${inst.stderr}`);
    bin = `${dir}/prefix/bin/private-tmpdir`;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("says the Node it needs, and --version names the same core as this tree's CLI", () => {
    const pkg = JSON.parse(readFileSync(`${dir}/prefix/lib/node_modules/private-tmpdir/package.json`, "utf8")) as {
      engines?: { node?: string };
    };
    assert.equal(pkg.engines?.node, ">=20");
    const mine = run("node", [repo("dist/ts/host/cli.js"), "--version"]);
    const theirs = run(bin, ["--version"], dir);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.match(theirs.stdout, /sha256 [0-9a-f]{64}/);
    assert.equal(theirs.stdout, mine.stdout);
  });

  it("plans the seed's layout for job 100, and refuses a bad option naming it", () => {
    const p = run(bin, ["plan", "--job", "100", "--args", "base=/tmp/slurm mount=/var/tmp mount=/tmp"], dir);
    assert.equal(p.status, 0, p.stderr);
    for (const d of ["/tmp/slurm.100.0", "/tmp/slurm.100.0/var_tmp", "/tmp/slurm.100.0/tmp"])
      assert.ok(p.stdout.includes(d), `${d} in:\n${p.stdout}`);
    const bad = run(bin, ["plan", "--job", "100", "--args", "mount=var/tmp"], dir);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout + bad.stderr, /mount=var\/tmp: not an absolute path/);
  });
});
