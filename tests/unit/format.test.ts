// One formatter for the TypeScript and JavaScript of host/, tests/ and bench/:
// prettier, with .prettierrc.json. A file it would change fails CI here.
// assembly/ is AssemblyScript, whose decorated functions (@inline,
// @external) prettier cannot parse: asc checks it, not prettier.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const PRETTIER = `${REPO}node_modules/.bin/prettier`;
// The globs of package.json's "format" script, so the check and the fix agree.
const GLOBS = (
  JSON.parse(fs.readFileSync(`${REPO}package.json`, "utf8")) as { scripts: Record<string, string> }
).scripts["format:check"]!.split(" ")
  .filter((w) => w.startsWith('"'))
  .map((w) => w.slice(1, -1));

describe("formatting: one formatter (prettier) for the TypeScript", function () {
  this.timeout(60_000);

  it("every file npm run format would touch is already as prettier writes it", () => {
    assert.deepStrictEqual(GLOBS, ["host/**/*.ts", "tests/**/*.ts", "tests/**/*.cjs", "bench/**/*.mjs"]);
    const r = spawnSync(PRETTIER, ["--list-different", ...GLOBS], { cwd: REPO, encoding: "utf8" });
    assert.equal(r.stdout, "", `not formatted (npm run format):\n${r.stdout}${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
  });

  it("the check sees a file prettier would change", () => {
    const dir = fs.mkdtempSync("/var/tmp/ptd-format-");
    try {
      fs.writeFileSync(`${dir}/bad.ts`, "const  a =  1\n");
      const r = spawnSync(PRETTIER, ["--config", `${REPO}.prettierrc.json`, "--list-different", "bad.ts"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, "bad.ts\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
