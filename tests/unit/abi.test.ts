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

function filesIn(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(`${REPO}${dir}`).filter((f) => ext.test(f)).map((f) => `${REPO}${dir}/${f}`);
}

describe("ABI: one definition (assembly/abi.ts), generated for C and TypeScript", () => {
  it("the built C header and TypeScript module are exactly what assembly/abi.ts gives now", () => {
    assert.equal(fs.readFileSync(`${REPO}dist/gen/ptd_abi.h`, "utf8"), gen("c"), "dist/gen/ptd_abi.h is stale: rebuild");
    assert.equal(fs.readFileSync(`${REPO}host/abi.gen.ts`, "utf8"), gen("ts"), "host/abi.gen.ts is stale: rebuild");
  });

  it("no host source defines an ABI value by hand", () => {
    const names = generatedNames();
    assert.ok(names.includes("ABI_VERSION") && names.includes("Op") && names.includes("F_WIPE_ENDED"), names.join(" "));
    const c = new RegExp(`#define\\s+PTD_(${names.join("|")})\\b|enum\\s+ptd_(${names.map((n) => n.toLowerCase()).join("|")})\\s*\\{`);
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
    const imports = WebAssembly.Module.imports(wasm).filter((i) => i.kind === "function").map((i) => i.name).sort();
    assert.deepStrictEqual(imports, Object.values(abi.OP_NAMES).sort());
  });

  it("the generator refuses what it cannot translate, naming file and line", () => {
    const dir = fs.mkdtempSync("/var/tmp/ptd-abi-");
    try {
      const bad = `${dir}/abi.ts`;
      fs.writeFileSync(bad, "export const ABI_VERSION: i32 = 3;\nexport const enum Phase {\n  CHECK = 0,\n}\nexport const X: i32 = f();\n");
      const r = spawnSync("sh", [`${REPO}native/tools/gen-abi.sh`, "c", bad], { encoding: "utf8" });
      assert.equal(r.status, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, new RegExp(`^gen-abi.sh: ${bad}:5: cannot evaluate "f\\(\\)"\\n$`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
