// The CLI's plugstack.conf reader (host/plugstack.ts) against Slurm's own
// reading, on the release at hand (this suite also runs inside the 24.11
// and 26.05 roots, scripts/test-release.sh). A probe plugin
// (tests/native/plugstack-probe.c) records the argv of every
// slurm_spank_init; `sbatch --version` builds the plugin stack in allocator
// context from a slurm.conf whose PlugStackConfig is the case's file, no
// daemon needed. For every case of the table, what Slurm does (the argv of
// each line, the lines it logs "Invalid line. Ignoring." for, whether the
// stack fails) is written down, and both the reader and the probe must say
// exactly that.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { readPlugstack } from "../../host/plugstack.js";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
// Per process: engineers and CI may run this suite side by side.
const DIR = `/var/tmp/ptd-plugstack-reading.${process.pid}`;
const PROBE = `${DIR}/probe.so`;
const CONF = `${DIR}/case/plugstack.conf`;

/** What Slurm does with a case. */
interface Reading {
  /** argv of each line that loads the probe, in load order (byte strings). */
  args: string[][];
  /** "file:line" (file relative to the case directory, line as Slurm numbers it). */
  ignored: string[];
  /** The plugin stack fails (sbatch refuses to run). */
  fatal: boolean;
}

/** What the reader must also say: the lines ("file:line", the file's own
 * numbering) that Slurm parses in pieces. Slurm logs nothing for a cut; its
 * argv in the table shows it. */
type Case = { name: string; files: Files; slurm: Reading; cut?: string[] };

type Files = Record<string, string | Buffer | { symlink: string } | { dir: true }>;

const P = `required ${PROBE}`;
const lineOf = (n: number, filler: string): string => filler.repeat(Math.ceil(n / filler.length)).slice(0, n);
// A line of 20 words of 211 bytes: 4266 bytes, cut at 4095 inside the 20th.
const LONG = `${P} ${Array.from({ length: 20 }, (_, i) => `w${String(i).padStart(2, "0")}${"x".repeat(208)}`).join(" ")}`;
const longFirst = LONG.slice(0, 4095).split(" ").slice(2);
// The cut falls just before a second "required": Slurm loads it as a line.
const pad = 4095 - `${P} `.length;
const SPLIT = `${P} ${"p".repeat(pad)}${P} second`;
const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

const CASES: Case[] = [
  {
    name: "plain line",
    files: { "plugstack.conf": `${P} a b\n` },
    slurm: { args: [["a", "b"]], ignored: [], fatal: false },
  },
  {
    name: "CR LF: the CR stays in the last word",
    files: { "plugstack.conf": `# dos\r\n${P} a b\r\n\r\n` },
    slurm: { args: [["a", "b\r"]], ignored: ["plugstack.conf:3"], fatal: false },
  },
  {
    name: "tabs, runs of blanks, comments anywhere; \\v and \\f are not blanks",
    files: { "plugstack.conf": `\t${P}\t a  \tb # c d\n#${P} x\n${P} c\vd\f\n` },
    slurm: { args: [["a", "b"], ["c\vd\f"]], ignored: [], fatal: false },
  },
  {
    name: "invalid lines are ignored, the rest is read",
    files: {
      "plugstack.conf": `bogus ${PROBE} x\nrequired\noptional # nothing\ninclude\nRequired ${PROBE} y\n${P} ok\n`,
    },
    slurm: {
      args: [["ok"]],
      ignored: ["plugstack.conf:1", "plugstack.conf:2", "plugstack.conf:3", "plugstack.conf:4", "plugstack.conf:5"],
      fatal: false,
    },
  },
  {
    name: "a line over 4095 bytes is cut, its rest is a line of its own, later lines renumbered",
    files: { "plugstack.conf": `${LONG}\nbogus\n${P} after\n` },
    slurm: { args: [longFirst, ["after"]], ignored: ["plugstack.conf:2", "plugstack.conf:3"], fatal: false },
    cut: ["plugstack.conf:1"],
  },
  {
    name: "a line of exactly 4095 bytes: its newline is read as a line",
    files: { "plugstack.conf": `${P} ${lineOf(4095 - P.length - 1, "y")}\nbogus\n` },
    slurm: { args: [[lineOf(4095 - P.length - 1, "y")]], ignored: ["plugstack.conf:3"], fatal: false },
  },
  {
    name: "the rest of a cut line can load a plugin",
    files: { "plugstack.conf": `${SPLIT}\n` },
    slurm: { args: [["p".repeat(pad)], ["second"]], ignored: [], fatal: false },
    cut: ["plugstack.conf:1"],
  },
  {
    name: "a NUL byte ends the line for the parser",
    files: { "plugstack.conf": `${P} a\0 b\n${P} c\n` },
    slurm: { args: [["a"], ["c"]], ignored: [], fatal: false },
  },
  {
    name: "bytes that are not UTF-8 arrive as they are, distinct",
    files: { "plugstack.conf": latin1(`${P} mount=/d\xe9 mount=/d\xe8 \xff\n`) },
    slurm: { args: [["mount=/d\xe9", "mount=/d\xe8", "\xff"]], ignored: [], fatal: false },
  },
  {
    name: "include: relative to the including file, sorted by bytes, hidden files left out",
    files: {
      "plugstack.conf": "include inc/*.conf\n",
      "inc/b.conf": `${P} b\ninclude ../more/*.conf\n`,
      "inc/a.conf": `${P} a\n`,
      "inc/B.conf": `${P} B\n`,
      "inc/_.conf": `${P} _\n`,
      "inc/.h.conf": `${P} hidden\n`,
      "more/m.conf": `${P} m\nbogus\n`,
    },
    slurm: { args: [["B"], ["_"], ["a"], ["b"], ["m"]], ignored: ["inc/../more/m.conf:2"], fatal: false },
  },
  {
    name: "include [[:digit:]]* matches digits",
    files: { "plugstack.conf": "include inc/[[:digit:]]*\n", "inc/1.conf": `${P} one\n`, "inc/a.conf": `${P} a\n` },
    slurm: { args: [["one"]], ignored: [], fatal: false },
  },
  {
    name: "include [z-a]* matches nothing and is no error",
    files: { "plugstack.conf": `include inc/[z-a]*\n${P} after\n`, "inc/m.conf": `${P} m\n` },
    slurm: { args: [["after"]], ignored: [], fatal: false },
  },
  {
    name: "include brackets: negation, a first ], an escaped *, an unknown class",
    files: {
      "plugstack.conf":
        "include inc/[!a]*.conf\ninclude inc/[]x]\ninclude inc/\\*\ninclude inc/[[:nope:]]*\ninclude inc/[a\ninclude inc/[[:upper:]]?[--0]*\n",
      "inc/a.conf": `${P} a\n`,
      "inc/b.conf": `${P} b\n`,
      "inc/]": `${P} bracket\n`,
      "inc/*": `${P} star\n`,
      "inc/[a": `${P} open\n`,
      "inc/Q.conf": `${P} upper\n`,
      "inc/Qx-": `${P} range\n`,
    },
    slurm: { args: [["upper"], ["b"], ["bracket"], ["star"], ["open"], ["range"]], ignored: [], fatal: false },
  },
  {
    name: "include in the C locale: a byte over 0x7f is no letter, but is in a byte range; a trailing - is literal",
    files: {
      "plugstack.conf": latin1("include inc/[[:alpha:]]*\ninclude inc/[\x80-\xff]*\ninclude inc/[a-]*\n"),
      "inc/\xe9.conf": `${P} e-acute\n`,
      "inc/-.conf": `${P} dash\n`,
      "inc/b.conf": `${P} b\n`,
    },
    slurm: { args: [["b"], ["e-acute"], ["dash"]], ignored: [], fatal: false },
  },
  {
    name: "CR LF include: the pattern ends in a CR and matches nothing",
    files: { "plugstack.conf": `include inc/*.conf\r\n${P} after\n`, "inc/a.conf": `${P} a\n` },
    slurm: { args: [["after"]], ignored: [], fatal: false },
  },
  {
    name: "include of nothing, of a directory, of a dangling symlink: empty",
    files: {
      "plugstack.conf": `include none/*.conf\ninclude inc\ninclude inc/*\n${P} after\n`,
      inc: { dir: true },
      "inc/gone.conf": { symlink: "nowhere.conf" },
    },
    slurm: { args: [["after"]], ignored: [], fatal: false },
  },
  {
    name: "include that cannot be opened (ELOOP) fails the stack",
    files: {
      "plugstack.conf": `${P} before\ninclude inc/*.conf\n${P} after\n`,
      "inc/a.conf": { symlink: "b.conf" },
      "inc/b.conf": { symlink: "a.conf" },
    },
    slurm: { args: [], ignored: [], fatal: true },
  },
  {
    name: "a file that includes itself fails the stack",
    files: { "plugstack.conf": `${P} a\ninclude plugstack.conf\n` },
    slurm: { args: [], ignored: [], fatal: true },
  },
];

function haveCommand(c: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;
}

function plant(files: Files): void {
  fs.rmSync(`${DIR}/case`, { recursive: true, force: true });
  for (const [rel, body] of Object.entries(files)) {
    // Names are byte strings too (a file may be called "\xe9.conf").
    const p = `${DIR}/case/${rel}`;
    fs.mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    const at = latin1(p);
    if (typeof body === "string" || Buffer.isBuffer(body)) fs.writeFileSync(at, body);
    else if ("symlink" in body) fs.symlinkSync(body.symlink, at);
    else fs.mkdirSync(at, { recursive: true });
  }
}

const rel = (file: string, line: number): string => `${file.slice(`${DIR}/case/`.length)}:${line}`;

/** What the CLI's reader says Slurm does, and the lines it says are cut. */
function cliReading(): { slurm: Reading; cut: string[] } {
  const ps = readPlugstack(CONF);
  const cut = ps.problems.filter((p) => p.code === "LINE_CUT").map((p) => rel(p.file, p.line));
  if (ps.fatal) return { slurm: { args: [], ignored: [], fatal: true }, cut };
  return {
    slurm: {
      args: ps.plugins.filter((l) => l.plugin === PROBE).map((l) => l.args),
      ignored: ps.problems.filter((p) => p.code === "INVALID_LINE").map((p) => rel(p.file, p.slurmLine)),
      fatal: false,
    },
    cut,
  };
}

/** What Slurm does: the probe's record and sbatch's messages. */
function slurmReading(): Reading & { log: string } {
  const out = `${DIR}/probe.out`;
  fs.rmSync(out, { force: true });
  const r = spawnSync("sbatch", ["--version"], {
    encoding: "latin1",
    env: { ...process.env, SLURM_CONF: `${DIR}/slurm.conf`, PTD_PROBE_OUT: out },
    timeout: 60_000,
  });
  const log = `sbatch --version: status ${r.status} signal ${r.signal}\n${r.stdout}${r.stderr}`;
  const fatal = r.status !== 0 || !/^slurm/m.test(r.stdout);
  const records = fs.existsSync(out)
    ? fs
        .readFileSync(out, "latin1")
        .split("\n")
        .filter((l) => l !== "")
    : [];
  const args = records.map((l) =>
    l
      .split(" ")
      .slice(1)
      .map((h) => Buffer.from(h, "hex").toString("latin1")),
  );
  const ignored = [...r.stderr.matchAll(/spank: (\S+):(\d+): Invalid line\. Ignoring\./g)].map((m) =>
    rel(m[1] ?? "", Number(m[2])),
  );
  return { args: fatal ? [] : args, ignored: fatal ? [] : ignored, fatal, log };
}

describe("plugstack.conf: the CLI reads it as this release's Slurm does", function () {
  let version = "";

  before(function () {
    const missing = ["gcc", "sbatch"].filter((c) => !haveCommand(c));
    if (!fs.existsSync("/usr/include/slurm/spank.h")) missing.push("/usr/include/slurm/spank.h (libslurm-dev)");
    if (missing.length > 0) {
      const msg = `needs ${missing.join(", ")} to build and load a probe plugin`;
      if (process.env["CI"]) throw new Error(`${msg} (CI is set: failing instead of skipping)`);
      console.warn(`    SKIPPED: ${msg}`);
      this.skip();
    }
    fs.rmSync(DIR, { recursive: true, force: true });
    fs.mkdirSync(DIR, { recursive: true });
    const cc = spawnSync(
      "gcc",
      ["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", PROBE, `${REPO}tests/native/plugstack-probe.c`],
      { encoding: "utf8" },
    );
    assert.equal(cc.status, 0, `gcc: ${cc.stderr}`);
    fs.writeFileSync(`${DIR}/slurm.conf`, `ClusterName=ptdprobe\nSlurmctldHost=localhost\nPlugStackConfig=${CONF}\n`);
    version = spawnSync("sbatch", ["--version"], {
      encoding: "utf8",
      env: { ...process.env, SLURM_CONF: `${DIR}/slurm.conf` },
    }).stdout.trim();
  });
  after(() => fs.rmSync(DIR, { recursive: true, force: true }));

  it("the probe sees what a plain line passes (or nothing here is worth comparing)", () => {
    plant(CASES[0]?.files ?? {});
    const s = slurmReading();
    assert.deepStrictEqual(s.args, [["a", "b"]], s.log);
  });

  for (const c of CASES) {
    it(`${c.name}`, () => {
      plant(c.files);
      const s = slurmReading();
      const { log, ...slurm } = s;
      assert.deepStrictEqual(slurm, c.slurm, `${version}: Slurm's reading is not the table's\n${log}`);
      assert.deepStrictEqual(cliReading(), { slurm: c.slurm, cut: c.cut ?? [] }, "the CLI's reading is not Slurm's");
    });
  }
});
