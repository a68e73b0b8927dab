// native/util/threadids.c against the real kernel, as slurmstepd's extern step
// end uses it (#22): another thread has switched the process's effective
// ids to the job's user (glibc applies set*id to every thread); the calling
// thread alone becomes root for its work, then gives them back. Another
// thread's set*id meanwhile (24.11's X11 shutdown) waits until it has, then
// applies to it too: it never lands in the middle of the work.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { requireRoot } from "../helpers/root.js";
import { REPO_ROOT } from "../helpers/repo.js";

const SCRATCH = `/var/tmp/ptd-threadids-test.${process.pid}`;
const DRIVER = `${SCRATCH}/threadids-driver`;

function run(...args: string[]): Map<string, string> {
  const out = execFileSync(DRIVER, ["1001", "1001", ...args], { encoding: "utf8" });
  const m = new Map<string, string>();
  for (const l of out.trim().split("\n")) {
    const i = l.indexOf(" ");
    const [k, v] = l.includes("=") && i < 0 ? (l.split("=") as [string, string]) : [l.slice(0, i), l.slice(i + 1)];
    m.set(k, v);
  }
  return m;
}

describe("threadids: one thread of a multi-threaded process becomes root alone (C, real kernel)", function () {
  this.timeout(60_000);
  before(function () {
    requireRoot(this);
    fs.mkdirSync(SCRATCH, { recursive: true });
    execFileSync("cc", [
      "-std=gnu11",
      "-O2",
      "-Wall",
      "-Werror",
      "-pthread",
      `-I${REPO_ROOT}/native`,
      "-o",
      DRIVER,
      `${REPO_ROOT}/tests/native/threadids-driver.c`,
      `${REPO_ROOT}/native/util/threadids.c`,
    ]);
  });
  after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

  it("becomes root while the other thread stays the user, then has the user's ids back", () => {
    const m = run();
    assert.equal(
      m.get("main-before"),
      "euid=1001 egid=1001 groups=0",
      "glibc's seteuid in the other thread reached this one",
    );
    assert.equal(m.get("become_root"), "0");
    assert.equal(m.get("open-before"), "0", "as the user, a root-only directory does not open");
    assert.equal(m.get("open-root"), "1", "as root it does");
    assert.equal(m.get("main-root"), "euid=0 egid=0 groups=0");
    assert.equal(m.get("other-while-main-root"), "euid=1001 egid=1001 groups=0", "the other thread was not changed");
    assert.equal(m.get("main-after"), "euid=1001 egid=1001 groups=0", "this thread's ids given back");
    assert.equal(m.get("other-after"), "euid=1001 egid=1001 groups=0");
  });

  it("another thread's set*id while it is root waits until it has given its ids back, then applies to it too", () => {
    const m = run("switch-back");
    assert.equal(m.get("main-root"), "euid=0 egid=0 groups=0");
    assert.equal(m.get("switched-while-root"), "0", "the other thread's seteuid had not returned");
    assert.equal(m.get("open-root-later"), "1", "still root for its work");
    assert.equal(m.get("main-after"), "euid=0 egid=0 groups=0", "the process went back to root: so does this thread");
    assert.equal(m.get("other-after"), "euid=0 egid=0 groups=0");
  });

  it("another thread's switch to the user while it is root does not take root from it mid-work (24.11's extern step end)", () => {
    const m = run("drop");
    assert.equal(m.get("main-root"), "euid=0 egid=0 groups=0");
    assert.equal(m.get("switched-while-root"), "0", "the other thread's seteuid had not returned");
    assert.equal(m.get("main-root-later"), "euid=0 egid=0 groups=0");
    assert.equal(m.get("open-root-later"), "1", "still root for its work");
    assert.equal(m.get("main-after"), "euid=1001 egid=1001 groups=0", "then the user's, as the process");
    assert.equal(m.get("other-after"), "euid=1001 egid=1001 groups=0");
  });
});
