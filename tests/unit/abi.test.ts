// The ABI is defined once, in assembly/abi.ts: the C header and the
// TypeScript module are generated from it (native/tools/gen-abi.sh), no host
// writes a value of it by hand, and the compiled core and the C agree.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import * as abi from "../../host/abi.js";
import { loadAddon } from "../../host/addon.js";
import { Core } from "../../host/core.js";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const gen = (lang: string, src = `${REPO}assembly/abi.ts`): string =>
  execFileSync("sh", [`${REPO}native/tools/gen-abi.sh`, lang, src], { encoding: "utf8" });

/** Every NAME the generator emits, for C (PTD_NAME) and TS (NAME). */
function generatedNames(): string[] {
  return [...gen("ts").matchAll(/^export const (\w+) =/gm)].map((m) => m[1] ?? "");
}

/** The files under dir (in every folder below it) whose name matches ext. */
function filesIn(dir: string, ext: RegExp): string[] {
  const files = fs
    .readdirSync(`${REPO}${dir}`, { recursive: true, encoding: "utf8" })
    .filter((f) => ext.test(f))
    .map((f) => `${REPO}${dir}/${f}`);
  assert.ok(files.length > 0, `no ${ext} under ${dir}`);
  return files;
}

describe("ABI: one definition (assembly/abi.ts), generated for C and TypeScript", () => {
  it("the built C header and TypeScript module are exactly what assembly/abi.ts gives now", () => {
    assert.equal(
      fs.readFileSync(`${REPO}dist/gen/ptd_abi.h`, "utf8"),
      gen("c"),
      "dist/gen/ptd_abi.h is stale: rebuild",
    );
    assert.equal(fs.readFileSync(`${REPO}host/abi.gen.ts`, "utf8"), gen("ts"), "host/abi.gen.ts is stale: rebuild");
  });

  it("no host source defines an ABI value by hand", () => {
    const names = generatedNames();
    assert.ok(names.includes("ABI_VERSION") && names.includes("Op") && names.includes("F_WIPE_ENDED"), names.join(" "));
    const c = new RegExp(
      `#define\\s+PTD_(${names.join("|")})\\b|enum\\s+ptd_(${names.map((n) => n.toLowerCase()).join("|")})\\s*\\{`,
    );
    for (const f of filesIn("native", /\.(c|h|cc)$/)) assert.doesNotMatch(fs.readFileSync(f, "utf8"), c, f);
    const ts = new RegExp(`export const (${names.join("|")})\\b`);
    for (const f of filesIn("host", /\.ts$/).filter((f) => !f.endsWith("abi.gen.ts")))
      assert.doesNotMatch(fs.readFileSync(f, "utf8"), ts, f);
  });

  it("the compiled core and the compiled C agree with the generated values", () => {
    const core = new Core();
    assert.equal(core.abiVersion(), abi.ABI_VERSION);
    assert.equal(loadAddon().abiVersion, abi.ABI_VERSION);
    for (const [name, code] of Object.entries(abi.Err)) assert.equal(core.errorName(code), name, `error ${code}`);
    // Each op's import is named after it, and the core calls exactly those.
    const wasm = new WebAssembly.Module(fs.readFileSync(`${REPO}dist/core.wasm`));
    const imports = WebAssembly.Module.imports(wasm)
      .filter((i) => i.kind === "function")
      .map((i) => i.name)
      .sort();
    assert.deepStrictEqual(imports, Object.values(abi.OP_NAMES).sort());
  });

  it("the generator refuses what it cannot translate, naming file and line", () => {
    const dir = fs.mkdtempSync("/var/tmp/ptd-abi-");
    try {
      const bad = `${dir}/abi.ts`;
      fs.writeFileSync(
        bad,
        "export const ABI_VERSION: i32 = 3;\nexport const enum Phase {\n  CHECK = 0,\n}\nexport const X: i32 = f();\n",
      );
      const r = spawnSync("sh", [`${REPO}native/tools/gen-abi.sh`, "c", bad], { encoding: "utf8" });
      assert.equal(r.status, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, new RegExp(`^gen-abi.sh: ${bad}:5: cannot evaluate "f\\(\\)"\\n$`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const genImports = (out: string, table = `${REPO}assembly/imports.tbl`, abiTs = `${REPO}assembly/abi.ts`) =>
  spawnSync("sh", [`${REPO}native/tools/gen-imports.sh`, out, table, abiTs], { encoding: "utf8" });

/** The import names assembly/imports.tbl declares, in its order. */
function tableImports(): string[] {
  return [...fs.readFileSync(`${REPO}assembly/imports.tbl`, "utf8").matchAll(/^([a-z_]+)\(/gm)].map((m) => m[1] ?? "");
}

describe("imports: one definition (assembly/imports.tbl), generated for the core, C, the addon and TypeScript", () => {
  it("every generated file is exactly what the table gives now", () => {
    const built: [string, string][] = [
      ["as", "assembly/host.gen.ts"],
      ["ts", "host/imports.gen.ts"],
      ["h", "dist/gen/ptd_imports.h"],
      ["trace", "dist/gen/ptd_ops_trace.inc"],
      ["calls", "dist/gen/ptd_ops_calls.inc"],
      ["wasm", "dist/gen/ptd_wasm_imports.inc"],
      ["addon", "dist/gen/ptd_addon_imports.inc"],
    ];
    for (const [out, file] of built) {
      const r = genImports(out);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(`${REPO}${file}`, "utf8"), r.stdout, `${file} is stale: rebuild`);
    }
  });

  it("the compiled core imports exactly the table's functions, and the addon has exactly those marked node", () => {
    const names = tableImports();
    assert.equal(names.length, Object.keys(abi.OP_NAMES).length, names.join(" "));
    const wasm = new WebAssembly.Module(fs.readFileSync(`${REPO}dist/core.wasm`));
    const imports = WebAssembly.Module.imports(wasm)
      .filter((i) => i.kind === "function")
      .map((i) => i.name);
    assert.deepStrictEqual([...imports].sort(), [...names].sort());
    const node = [...fs.readFileSync(`${REPO}assembly/imports.tbl`, "utf8").matchAll(/^([a-z_]+)\(.*\) node$/gm)].map(
      (m) => m[1],
    );
    const addon = loadAddon() as unknown as Record<string, unknown>;
    for (const name of names) assert.equal(typeof addon[name] === "function", node.includes(name), name);
  });

  it("no source writes an import's signature or glue by hand", () => {
    const names = tableImports();
    const c = new RegExp(`PTD_IMPORT\\((${names.join("|")})\\)|\\bint ptd_ops_(${names.join("|")})\\(struct ptd_ops`);
    for (const f of filesIn("native", /\.(c|h|cc)$/)) assert.doesNotMatch(fs.readFileSync(f, "utf8"), c, f);
    const ts = new RegExp(`^\\s+(${names.join("|")})\\(\\w+: (number|string)`, "m");
    for (const f of filesIn("host", /\.ts$/).filter((f) => !f.endsWith(".gen.ts")))
      assert.doesNotMatch(fs.readFileSync(f, "utf8"), ts, f);
    assert.doesNotMatch(fs.readFileSync(`${REPO}assembly/run.ts`, "utf8"), /@external/);
  });

  it("the generator refuses a table and an Op enum that disagree, and a line it cannot read", () => {
    const dir = fs.mkdtempSync("/var/tmp/ptd-imports-");
    try {
      const table = fs.readFileSync(`${REPO}assembly/imports.tbl`, "utf8");
      const write = (name: string, text: string): string => (
        fs.writeFileSync(`${dir}/${name}`, text),
        `${dir}/${name}`
      );
      const missing = write("missing.tbl", table.replace(/^set_env\(.*\n(\t.*\n)*/m, ""));
      let r = genImports("h", missing);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "gen-imports.sh: Op SET_ENV in abi.ts has no import in imports.tbl\n");
      const extra = write("extra.tbl", `${table}fsync_at(slot slot) node\n\tFlush.\n`);
      r = genImports("ts", extra);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "gen-imports.sh: import fsync_at has no Op in abi.ts\n");
      const badType = write("type.tbl", `${table}sync(fd float)\n`);
      r = genImports("wasm", badType);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^gen-imports.sh: ${badType}:\\d+: no type "float"\\n$`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
