// man/private-tmpdir.8: groff formats it without a single warning, man(1)
// renders it at 80 columns with every section, every option the core
// accepts (read from assembly/options.ts, so a new option nobody documented
// fails here) and the PAM module's own, and its .TH carries package.json's
// version. groff comes with Debian's groff-base, man with man-db: under CI a
// missing one fails the test, elsewhere it is skipped with the reason.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = (p: string): string => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const PAGE = repo("man/private-tmpdir.8");
const SECTIONS = [
  "NAME",
  "SYNOPSIS",
  "DESCRIPTION",
  "OPTIONS",
  "DIRECTORY LAYOUT",
  "CALLBACKS",
  "A RUNNING JOB",
  "SECURITY",
  "LOG MESSAGES",
  "THE CLI",
  "FILES",
  "EXIT STATUS",
  "SEE ALSO",
  "AUTHORS",
  "LICENSE",
];
const WIDTH = 80;

/** Fails under CI, else skips, when a tool the test runs is not installed. */
function requireTool(ctx: Mocha.Context, tool: string, pkg: string): void {
  const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
  if (!(r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT")) return;
  const what = ctx.test?.fullTitle() ?? "this test";
  const msg = `${what}: needs ${tool} (Debian package ${pkg}), which is not installed`;
  if (process.env["CI"]) throw new Error(`${msg} (CI is set: failing instead of skipping)`);
  console.warn(`    SKIPPED: ${msg}`);
  ctx.skip();
}

/** Every option the core accepts, as its unknown-option message lists them. */
function coreOptions(): string[] {
  const src = readFileSync(repo("assembly/options.ts"), "utf8");
  const m = /unknown option \(expected ([^)]+)\)/.exec(src);
  assert.ok(m?.[1], "assembly/options.ts: the unknown-option message lists the options");
  const names = m[1].split(/,\s*|\s+or\s+/).map((s) => s.trim());
  for (const n of names) assert.match(n, /^[a-z_]+=?$/, `an option name as the message lists it: "${n}"`);
  assert.ok(names.length >= 8, `options read: ${names.join(" ")}`);
  return names;
}

/** The PAM module's own options (native/entry/pam.c compares them whole). */
function pamOptions(): string[] {
  const src = readFileSync(repo("native/entry/pam.c"), "utf8");
  const names = [...new Set([...src.matchAll(/strcmp\(argv\[i\], "([a-z_]+)=[^"]*"\)/g)].map((m) => `${m[1]}=`))];
  assert.deepStrictEqual(names, ["ignore_root="]);
  return names;
}

/** The text of one section of the rendered page (heading excluded). */
function section(text: string, name: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(name);
  assert.ok(start >= 0, `section ${name}`);
  const end = lines.findIndex((l, i) => i > start && /^[A-Z]/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("man page (man/private-tmpdir.8)", () => {
  it("formats with groff -ww -mandoc without a warning", function () {
    requireTool(this, "groff", "groff-base");
    const r = spawnSync("groff", ["-ww", "-mandoc", "-z", PAGE], { encoding: "utf8" });
    assert.equal(r.stderr, "", "groff printed warnings");
    assert.equal(r.stdout, "");
    assert.equal(r.status, 0);
  });

  it(`renders with man -l at ${WIDTH} columns: every section, every option of the core and the PAM module`, function () {
    requireTool(this, "groff", "groff-base");
    requireTool(this, "man", "man-db");
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C.UTF-8", MANWIDTH: String(WIDTH) };
    delete env["MANOPT"];
    delete env["MANPAGER"];
    delete env["PAGER"];
    delete env["MAN_KEEP_FORMATTING"];
    const r = spawnSync("man", ["-l", PAGE], { encoding: "utf8", env });
    assert.equal(r.stderr, "", "man printed warnings");
    assert.equal(r.status, 0);
    const text = r.stdout;
    for (const s of SECTIONS) assert.match(text, new RegExp(`^${escape(s)}$`, "m"), `section ${s}`);
    const headings = text.split("\n").filter((l) => /^[A-Z][A-Z ]*$/.test(l));
    assert.deepStrictEqual(headings, SECTIONS, "the sections, in this order");
    // Each option is an entry of OPTIONS (a tag at the section's indent),
    // not merely mentioned somewhere.
    const options = section(text, "OPTIONS");
    for (const o of [...coreOptions(), ...pamOptions()])
      assert.match(options, new RegExp(`^ {7}${escape(o)}`, "m"), `OPTIONS has an entry for ${o}`);
    for (const line of text.split("\n"))
      assert.ok([...line].length <= WIDTH, `a line wider than ${WIDTH} columns: "${line}"`);
  });

  it("carries package.json's version in .TH", () => {
    const pkg = JSON.parse(readFileSync(repo("package.json"), "utf8")) as { version: string };
    const th = /^\.TH\s+(\S+)\s+(\S+)\s+"([^"]*)"\s+"([^"]*)"/m.exec(readFileSync(PAGE, "utf8"));
    assert.ok(th, "a .TH line with a quoted date and source");
    assert.equal(th[1], "PRIVATE\\-TMPDIR");
    assert.equal(th[2], "8");
    assert.equal(th[4]?.replace(/\\-/g, "-"), `private-tmpdir ${pkg.version}`);
  });
});
