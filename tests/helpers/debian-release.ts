// Which Debian release the tests run on, and what only some releases
// package: a suite that needs such a tool skips where the release has none,
// and fails where tests/slurm/release-root.sh (suite_pkgs) installs it.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";

const BY_MAJOR: Readonly<Record<string, string>> = { "11": "bullseye", "12": "bookworm", "13": "trixie" };

/** The Debian suite: PTD_SUITE inside a release root (scripts/test-release.sh
 * sets it: the root's packages are that suite's), else /etc/debian_version
 * ("12.11" is bookworm; testing and unstable both say "<codename>/sid"). */
export function debianSuite(): string {
  const suite = process.env["PTD_SUITE"];
  if (suite) return suite;
  const v = existsSync("/etc/debian_version") ? readFileSync("/etc/debian_version", "utf8").trim() : "";
  if (v.endsWith("/sid")) return "sid";
  return BY_MAJOR[/^(\d+)\./.exec(v)?.[1] ?? ""] ?? (v || "not Debian");
}

/** A tool at `path` the tests have in `suites` only (what Debian packages
 * there, tests/slurm/release-root.sh installs): present, the test goes on;
 * missing on one of them, it fails; missing elsewhere, it skips, saying `why`. */
export function requirePackaged(
  ctx: Mocha.Context,
  path: string,
  pkg: string,
  suites: readonly string[],
  why = `tests/slurm/release-root.sh installs ${pkg} in ${suites.join(" and ")} only`,
): void {
  if (existsSync(path)) return;
  const suite = debianSuite();
  assert.ok(!suites.includes(suite), `${path} missing on ${suite}, where tests/slurm/release-root.sh installs ${pkg}`);
  console.warn(`    SKIPPED: no ${path} on ${suite}: ${why}`);
  ctx.skip();
}
