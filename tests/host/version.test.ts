// The plugin's load line and the CLI print the same version: the one in
// package.json (plugin.c keeps it as a constant so nodes need no Node.js).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = (p: string): string => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

describe("version", () => {
  it("native/entry/plugin.c's PTD_VERSION equals package.json's version", () => {
    const pkg = JSON.parse(readFileSync(repo("package.json"), "utf8")) as { version: string };
    const m = /#define PTD_VERSION "([^"]+)"/.exec(readFileSync(repo("native/entry/plugin.c"), "utf8"));
    assert.equal(m?.[1], pkg.version);
  });
});
