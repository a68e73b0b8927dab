// The plugin's C (through the addon) against a squatter racing it: another
// user re-creates the victim's next job directory in a tight loop (mkdir, or
// link() of one of its own files) while the victim's extern step makes it.
// The victim's step must succeed every time, on ext4 and on tmpfs, and never
// hand the squatter's entry to the victim.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { loadAddon } from "../../host/addon.js";
import { Phase } from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";

const SCRATCH = `/var/tmp/ptd-race-test.${process.pid}`; // per run: suites may run side by side
const VICTIM = 60001;
const ATTACKER = 60002;
const TRIES = Number(process.env.PTD_RACE_TRIES ?? 2000);

// "job": the job directory base.N.0; "parent": a missing parent of base,
// which the step creates (root's, 0711).
type What = "job" | "parent";
const PREFIX = { job: "slurm.", parent: "p" };
const SUFFIX = { job: ".0", parent: "" };

// The attacker: spins on the job the victim is about to start (the victim
// publishes it in `cur`, as job ids are predictable on a real node),
// alternating mkdir and link() so both kinds of squatter are raced.
function attackerScript(shared: string, cur: string, what: What): string {
  return `const fs = require("node:fs");
    const own = ${JSON.stringify(`${shared}/mallory-file`)};
    fs.writeFileSync(own, "x");
    const fd = fs.openSync(${JSON.stringify(cur)}, "r");
    const buf = Buffer.alloc(16);
    let j = 0, n = 0;
    console.log("ready");
    for (;;) {
      if ((n & 63) === 0) {
        const len = fs.readSync(fd, buf, 0, 16, 0);
        j = Number(buf.toString("utf8", 0, len).trim());
        if (j < 0) break;
      }
      const name = ${JSON.stringify(`${shared}/`)} + ${JSON.stringify(PREFIX[what])} + j + ${JSON.stringify(SUFFIX[what])};
      try { if (n++ & 1) fs.mkdirSync(name); else fs.linkSync(own, name); } catch {}
    }`;
}

// Waits (busy, bounded) until the attacker holds name, so that every try is
// contended rather than a lucky one the attacker never saw.
function waitForSquatter(name: string): boolean {
  const end = Date.now() + 200;
  while (Date.now() < end) {
    try {
      if (fs.lstatSync(name).uid === ATTACKER) return true;
    } catch {
      /* not yet */
    }
  }
  return false;
}

async function race(
  shared: string,
  what: What,
  tries: number,
): Promise<{ failures: string[]; contended: number; leaked: string[] }> {
  const first = 1000;
  const last = first + tries - 1;
  const cur = `${shared}/../cur`; // not in the shared directory: only root writes it
  const publish = (j: number) => fs.writeFileSync(cur, `${j}`.padEnd(15) + "\n");
  publish(first);
  const attacker = spawn(process.execPath, ["-e", attackerScript(shared, cur, what)], {
    uid: ATTACKER,
    gid: ATTACKER,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    attacker.on("error", reject);
    attacker.stdout.once("data", () => resolve());
  });
  const exited = new Promise<void>((resolve) => attacker.on("close", () => resolve()));
  const failures: string[] = [];
  const leaked: string[] = [];
  let contended = 0;
  try {
    for (let j = first; j <= last; j++) {
      const top = `${shared}/${PREFIX[what]}${j}${SUFFIX[what]}`;
      const base = what === "job" ? `${shared}/slurm` : `${top}/job`;
      const name = what === "job" ? top : `${base}.${j}.0`;
      const args = [`base=${base}`, "mount=/var/tmp", "mount=/tmp"];
      publish(j);
      if (waitForSquatter(top)) contended++;
      const r = loadAddon().coreRun(Phase.EXTERN, args, j, 0, VICTIM, VICTIM, 0, 0, false);
      if (!r.ok) failures.push(`job ${j}: ${r.message}`);
      else {
        // What the victim got is its own, never the squatter's entry chowned.
        const st = fs.lstatSync(name);
        const parent = fs.lstatSync(top);
        if (what === "parent" && (parent.uid !== 0 || (parent.mode & 0o7777) !== 0o711))
          failures.push(`job ${j}: ${top} is not root's 0711`);
        if (!st.isDirectory() || st.uid !== VICTIM) failures.push(`job ${j}: ${name} is not the victim's directory`);
        if (fs.lstatSync(`${name}/tmp`).uid !== VICTIM) failures.push(`job ${j}: tmp is not the victim's`);
      }
    }
  } finally {
    publish(-1);
    await exited;
  }
  for (const n of fs.readdirSync(shared)) {
    const st = fs.lstatSync(`${shared}/${n}`);
    // Nothing of the attacker's is ever handed to the victim, and nothing
    // root prepared is left behind under a temporary name.
    if (n.includes(".aside.") && st.uid === VICTIM) leaked.push(`${n} (the victim's, moved aside)`);
    if (n.startsWith(".") && n.includes(".new.")) leaked.push(`${n} (a temporary name left behind)`);
  }
  return { failures, contended, leaked };
}

for (const fstype of ["ext4", "tmpfs"] as const) {
  describe(`a squatter racing the victim's next job directory (${fstype})`, function () {
    const dir = `${SCRATCH}/${fstype}`;
    const shared = `${dir}/shared`;

    before(function () {
      requireRoot(this);
      fs.rmSync(SCRATCH, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      if (fstype === "tmpfs") execFileSync("mount", ["-t", "tmpfs", "-o", "mode=0755,size=64m", "ptd-race", dir]);
      else if (execFileSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).trim() !== "ext2/ext3") {
        // The ext4 case needs /var/tmp on ext4, as on the CI host.
        if (process.env.CI) throw new Error(`${dir} is not on ext4, and CI must run the ext4 case`);
        this.skip();
      }
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o1777); // like /tmp
    });
    after(() => {
      if (fstype === "tmpfs") {
        try {
          execFileSync("umount", [dir]);
        } catch {
          /* not mounted */
        }
      }
      fs.rmSync(SCRATCH, { recursive: true, force: true });
    });

    it(`makes the victim's directory every time in ${TRIES} contended tries, never handing it the squatter's entry`, async function () {
      this.timeout(600000);
      const { failures, contended, leaked } = await race(shared, "job", TRIES);
      console.log(`      ${fstype}, job directory: ${failures.length}/${TRIES} failed, ${contended} contended`);
      assert.ok(contended > TRIES / 2, `the attacker held the name in only ${contended} of ${TRIES} tries`);
      assert.deepStrictEqual(failures.slice(0, 5), [], `${failures.length}/${TRIES} failed`);
      assert.deepStrictEqual(leaked.slice(0, 5), []);
    });

    it(`makes a missing parent of base every time in ${TRIES / 4} contended tries`, async function () {
      this.timeout(600000);
      const tries = TRIES / 4;
      const { failures, contended, leaked } = await race(shared, "parent", tries);
      console.log(`      ${fstype}, parent of base: ${failures.length}/${tries} failed, ${contended} contended`);
      assert.ok(contended > tries / 2, `the attacker held the name in only ${contended} of ${tries} tries`);
      assert.deepStrictEqual(failures.slice(0, 5), [], `${failures.length}/${tries} failed`);
      assert.deepStrictEqual(leaked.slice(0, 5), []);
    });
  });
}
