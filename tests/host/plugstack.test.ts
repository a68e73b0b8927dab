// The CLI reads plugstack.conf as Slurm's SPANK loader does (issue #10):
// bytes, fgets() pieces of at most 4095 bytes, words split on space, tab and
// newline only, includes that fail the stack, include loops, glob(3) in the C
// locale. Each case here is a file Slurm was seen to read otherwise than the
// CLI; tests/e2e/plugstack-reading.test.ts holds them against a real Slurm.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import type { PlanJson } from "../../host/plan-view.js";
import { requireRoot } from "../helpers/root.js";
import { CLI, cli } from "../helpers/cli.js";

// Per process: engineers and CI may run this suite side by side.
const DIR = `/var/tmp/ptd-plugstack-test.${process.pid}`;

interface CheckJson {
  ok: boolean;
  files: string[];
  lines: { file: string; line: number; slurmLine: number; args: string[] }[];
  errors: { file: string; line: number; code: string; message: string }[];
  warnings: { file: string; line: number; code: string; message: string }[];
}

function check(conf: string): CheckJson & { status: number | null } {
  const r = cli("check", "--config", conf, "--json");
  assert.ok(r.stdout.startsWith("{"), `check --json printed no JSON (status ${r.status}): ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as CheckJson), status: r.status };
}

function put(path: string, body: string | Buffer): string {
  fs.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  fs.writeFileSync(path, body);
  return path;
}

const codes = (fs: { line: number; code: string }[]): [number, string][] => fs.map((f) => [f.line, f.code]);

describe("plugstack.conf read as Slurm reads it", () => {
  beforeEach(() => {
    fs.rmSync(DIR, { recursive: true, force: true });
    fs.mkdirSync(DIR, { recursive: true });
  });
  after(() => fs.rmSync(DIR, { recursive: true, force: true }));

  it("crlf_line_ending_is_an_error: the CR stays in the last word, as Slurm hands it over", () => {
    const conf = put(`${DIR}/crlf.conf`, "# dos\r\nrequired private-tmpdir.so base=/tmp/slurm mount=/tmp\r\n");
    const c = check(conf);
    assert.equal(c.status, 1);
    assert.deepStrictEqual(
      c.lines.map((l) => l.args),
      [["base=/tmp/slurm", "mount=/tmp\\r"]],
    );
    assert.deepStrictEqual(codes(c.errors), [[2, "BAD_CHAR"]]);
    assert.ok(
      c.warnings.some((w) => w.code === "CR_LF" && w.line === 2),
      JSON.stringify(c.warnings),
    );
    const p = cli("plan", "--config", conf, "--job", "1");
    assert.equal(p.status, 1);
    assert.equal(p.stdout, "");
    assert.doesNotMatch(p.stderr, /\r/, "a raw CR rewrites the terminal line");
  });

  it("long_line_is_cut_at_4095_bytes: plan shows what Slurm passes, check fails", () => {
    const mounts = Array.from({ length: 20 }, (_, i) => `mount=/m${String(i).padStart(2, "0")}${"x".repeat(200)}`);
    const head = "required private-tmpdir.so";
    const line = `${head} ${mounts.join(" ")}`;
    const conf = put(`${DIR}/long.conf`, `${line}\nbogus\n`);
    // What fgets(buf, 4096) hands the parser first: 4095 bytes.
    const first = line.slice(0, 4095).split(" ").slice(2);
    assert.equal(first.length, 20);
    assert.notEqual(first[19], mounts[19]);
    const c = check(conf);
    assert.equal(c.status, 1);
    assert.deepStrictEqual(codes(c.errors), [
      [1, "LINE_CUT"],
      [1, "INVALID_LINE"],
      [2, "INVALID_LINE"],
    ]);
    assert.match(c.errors[2]?.message ?? "", /"bogus"/);
    const p = cli("plan", "--config", conf, "--job", "1", "--json");
    assert.equal(p.status, 0, p.stderr);
    const plan = JSON.parse(p.stdout) as PlanJson;
    assert.deepStrictEqual(
      plan.lines.map((l) => l.args),
      [first],
    );
    assert.match(p.stderr, new RegExp(`^warning: .*long\\.conf:1: line of ${line.length} bytes is cut`, "m"));
    assert.match(p.stderr, /^warning: .*long\.conf:2: invalid line, Slurm ignores it: "bogus" .*\(Slurm's line 3\)$/m);
  });

  it("line_of_exactly_4095_bytes is whole, only renumbered: a warning", () => {
    const head = "required other.so x=";
    const line = head + "v".repeat(4095 - head.length);
    const c = check(put(`${DIR}/4095.conf`, `${line}\nbogus\nrequired private-tmpdir.so mount=/tmp\n`));
    assert.deepStrictEqual(
      c.lines.map((l) => [l.line, l.slurmLine, l.args]),
      [[3, 4, ["mount=/tmp"]]],
    );
    assert.deepStrictEqual(codes(c.errors), [[2, "INVALID_LINE"]]);
    assert.match(c.errors[0]?.message ?? "", /"bogus"/);
    assert.ok(
      c.warnings.some((w) => w.code === "LINE_RENUMBERED" && w.line === 1),
      JSON.stringify(c.warnings),
    );
  });

  it("unreadable_include_is_fatal: plan exits 1, check names it as the stack's failure", () => {
    fs.mkdirSync(`${DIR}/inc`);
    fs.symlinkSync("loop-b.conf", `${DIR}/inc/loop-a.conf`);
    fs.symlinkSync("loop-a.conf", `${DIR}/inc/loop-b.conf`);
    const conf = put(`${DIR}/plugstack.conf`, "include inc/*.conf\nrequired private-tmpdir.so mount=/tmp\n");
    const c = check(conf);
    assert.equal(c.status, 1);
    assert.deepStrictEqual(codes(c.errors), [[1, "INCLUDE_UNREADABLE"]]);
    assert.match(
      c.errors[0]?.message ?? "",
      /cannot open .*loop-a\.conf: ELOOP: .*Slurm fails to initialise the plugin stack/,
    );
    assert.deepStrictEqual(c.lines, [], "Slurm reads nothing after the failure");
    const p = cli("plan", "--config", conf, "--job", "1");
    assert.equal(p.status, 1);
    assert.equal(p.stdout, "");
  });

  it("unreadable_include_is_fatal for a file root cannot read either (EACCES as a user)", function () {
    requireRoot(this);
    put(`${DIR}/secret/x.conf`, "required private-tmpdir.so mount=/tmp\n");
    fs.chmodSync(`${DIR}/secret/x.conf`, 0o600);
    fs.chmodSync(DIR, 0o755);
    const conf = put(`${DIR}/user.conf`, "include secret/x.conf\n");
    fs.chmodSync(conf, 0o644);
    const r = spawnSync(
      "runuser",
      ["-u", "nobody", "--", process.execPath, CLI, "plan", "--config", conf, "--job", "1"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^\/.*user\.conf:1: include secret\/x\.conf: cannot open .*x\.conf: EACCES/);
  });

  it("include_loop_is_one_fatal_error, found fast", () => {
    const self = put(`${DIR}/self.conf`, "include self.conf\nrequired private-tmpdir.so mount=/tmp\n");
    const p = cli("plan", "--config", self, "--job", "1");
    assert.equal(p.status, 1);
    assert.equal(p.stdout, "", "no plan, let alone 17");
    assert.match(p.stderr, /^.*self\.conf:1: include self\.conf: include loop .*self\.conf -> .*self\.conf: /);
    for (const f of ["a", "b", "c"])
      put(`${DIR}/tri/${f}.conf`, "include *.conf\nrequired private-tmpdir.so mount=/tmp\n");
    const t0 = Date.now();
    const c = check(`${DIR}/tri/a.conf`);
    assert.ok(Date.now() - t0 < 10_000, `check took ${Date.now() - t0} ms`);
    assert.deepStrictEqual(codes(c.errors), [[1, "INCLUDE_LOOP"]]);
  });

  it("includes_that_multiply_stop_at_a_limit instead of running for minutes", () => {
    // f0 includes f1 twice, f1 includes f2 twice, ...: 2^14 reads, no loop.
    for (let i = 0; i < 14; i++) put(`${DIR}/m/f${i}.conf`, `include f${i + 1}.conf\ninclude f${i + 1}.conf\n`);
    put(`${DIR}/m/f14.conf`, "required private-tmpdir.so mount=/tmp\n");
    const t0 = Date.now();
    const c = check(`${DIR}/m/f0.conf`);
    assert.ok(Date.now() - t0 < 10_000, `check took ${Date.now() - t0} ms`);
    assert.deepStrictEqual(
      c.errors.map((e) => e.code),
      ["TOO_MANY_READS"],
    );
  });

  it("endless_file_is_refused: include /dev/zero ends in one error, not a hang", () => {
    const conf = put(`${DIR}/zero.conf`, "include /dev/zero\n");
    const c = check(conf);
    assert.deepStrictEqual(codes(c.errors), [[1, "INCLUDE_UNREADABLE"]]);
    assert.match(c.errors[0]?.message ?? "", /EFBIG/);
    assert.equal(cli("check", "--config", "/dev/zero").status, 1);
  });

  it("nul_byte_ends_what_slurm_parses", () => {
    const conf = put(`${DIR}/nul.conf`, Buffer.from("required private-tmpdir.so mount=/tmp\0 mount=/var/tmp\n"));
    const c = check(conf);
    assert.deepStrictEqual(
      c.lines.map((l) => l.args),
      [["mount=/tmp"]],
    );
    assert.deepStrictEqual(codes(c.errors), [[1, "NUL_BYTE"]]);
  });

  it("non_utf8_bytes_stay_distinct: no false 'given twice', and the CLI says it cannot pass them", () => {
    const conf = put(
      `${DIR}/bytes.conf`,
      Buffer.concat([
        Buffer.from("required private-tmpdir.so mount=/d"),
        Buffer.from([0xe9]),
        Buffer.from(" mount=/d"),
        Buffer.from([0xe8]),
        Buffer.from("\n"),
      ]),
    );
    const c = check(conf);
    assert.equal(c.status, 1);
    assert.deepStrictEqual(
      c.lines.map((l) => l.args),
      [["mount=/d\\xe9", "mount=/d\\xe8"]],
    );
    assert.deepStrictEqual(codes(c.errors), [[1, "NOT_UTF8"]]);
    // Valid UTF-8 goes through unchanged.
    const utf8 = put(`${DIR}/utf8.conf`, "required private-tmpdir.so mount=/données\n");
    const p = cli("plan", "--config", utf8, "--job", "1", "--json");
    assert.equal(p.status, 0, p.stderr);
    assert.deepStrictEqual(
      (JSON.parse(p.stdout) as PlanJson).lines[0]?.mounts.map((m) => m.target),
      ["/données"],
    );
  });

  it("non_utf8_file_names are read by their bytes", () => {
    const name = Buffer.concat([Buffer.from(`${DIR}/inc-`), Buffer.from([0xff]), Buffer.from(".conf")]);
    fs.writeFileSync(name, "required private-tmpdir.so mount=/tmp\n");
    const conf = put(`${DIR}/p.conf`, "include inc-*.conf\n");
    const c = check(conf);
    assert.deepStrictEqual(c.files, [conf, `${DIR}/inc-\\xff.conf`]);
    assert.deepStrictEqual(
      c.lines.map((l) => l.args),
      [["mount=/tmp"]],
    );
  });

  describe("include globs as glob(3) in the C locale", () => {
    const cases: [string, string[]][] = [
      ["[[:digit:]]*.conf", ["1.conf", "2x.conf"]],
      ["[z-a]*", []],
      ["[!0-9]*.conf", ["*.conf", "a.conf", "b].conf"]],
      ["[^0-9a]*.conf", ["*.conf", "b].conf"]],
      ["[]b]*.conf", ["b].conf"]],
      ["b[]]*", ["b].conf"]],
      ["[[:nope:]]*", []],
      ["\\*.conf", ["*.conf"]],
      ["*", ["*.conf", "1.conf", "2x.conf", "a.conf", "b].conf", "d"]],
      [".*.conf", [".h.conf"]],
      ["[.]h.conf", []],
      ["?.conf", ["*.conf", "1.conf", "a.conf"]],
      ["[a", []],
      ["d/*", ["d/in.conf"]],
      ["*/in.conf", ["d/in.conf"]],
    ];
    for (const [pattern, names] of cases) {
      it(`include ${pattern} reads ${names.length ? names.join(" ") : "nothing"}`, () => {
        const d = `${DIR}/g`;
        for (const n of ["1.conf", "2x.conf", "a.conf", "b].conf", "*.conf", ".h.conf", "d/in.conf"])
          put(`${d}/${n}`, "\n");
        const conf = put(`${DIR}/glob.conf`, `include g/${pattern}\nrequired private-tmpdir.so mount=/tmp\n`);
        const c = check(conf);
        assert.deepStrictEqual(c.files, [conf, ...names.map((n) => `${d}/${n}`)]);
        assert.deepStrictEqual(c.errors, []);
      });
    }
  });
});
