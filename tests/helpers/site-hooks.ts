// A site's own hooks around private-tmpdir, as the lab installs them for
// tests/e2e/workflows-hooks.test.ts: slurm.conf's TaskProlog, TaskEpilog,
// Prolog and Epilog scripts, and a second SPANK plugin
// (tests/native/spank-hook-probe.c) listed before and after ours. Each hook
// writes a file into the /tmp it sees and reports that /tmp's mount
// (tmpRootLine) into a directory the test reads.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { LAB, OUT_DIR } from "./lab.js";
import { REPO_ROOT } from "./repo.js";
import { tmpRootLine } from "./job-traces.js";

/** Never under /tmp: slurmd, slurmstepd and the job all run them. */
const DIR = join(LAB, "etc", "hooks");
/** Where the hooks report; the job's user writes there too. */
export const REPORTS = join(OUT_DIR, `hooks-${process.pid}`);

/** The probe plugin's two builds, by where plugstack.conf lists them. */
export type ProbeName = "ptd_probe_before" | "ptd_probe_after";

/** The step, as the scripts name it: a number, or "batch". The batch
 * step's SLURM_STEP_ID in a TaskProlog's environment is unset (22.05,
 * 24.11) or -5 (26.05: 0xfffffffb, signed). */
const STEP = 'case "${SLURM_STEP_ID:-}" in "" | -5 | 4294967291 | batch) step=batch ;; *) step=$SLURM_STEP_ID ;; esac';

/** Its scripts, each as the job's user (Task*) or root (Prolog, Epilog).
 * The Task* ones name their files by job and step, the others by job. */
function scripts(): Record<string, string> {
  const where = (what: string): string => `${REPORTS}/${what}`;
  return {
    // Run by slurmstepd before each task, as the job's user; what it
    // prints as "export N=V" lands in the task's environment.
    "task-prolog.sh": [
      STEP,
      'echo "task-prolog of $SLURM_JOB_ID.$step" > /tmp/ptd-task-prolog.$SLURM_JOB_ID.$step',
      `${tmpRootLine("root")} > ${where("task-prolog.$SLURM_JOB_ID.$step")}`,
      'echo "export PTD_TASK_PROLOG=ran"',
    ].join("\n"),
    // Run by slurmstepd after each task, as the job's user.
    "task-epilog.sh": [
      STEP,
      `{ echo names $(ls -A /tmp); ${tmpRootLine("root")}; } > ${where("task-epilog.$SLURM_JOB_ID.$step")}`,
      'echo "task-epilog of $SLURM_JOB_ID.$step" > /tmp/ptd-task-epilog.$SLURM_JOB_ID.$step',
    ].join("\n"),
    // Run by slurmd (or, under RunInJob, the extern step), as root.
    "prolog.sh": slurmdScript("prolog", where),
    "epilog.sh": slurmdScript("epilog", where),
  };
}

function slurmdScript(what: string, where: (w: string) => string): string {
  return [
    `{ echo ns $(readlink /proc/self/ns/mnt); ${tmpRootLine("root")};`,
    "  if [ -e /tmp/slurm.$SLURM_JOB_ID.0 ]; then echo dir yes; else echo dir no; fi",
    "  echo names $(ls -A /tmp/slurm.$SLURM_JOB_ID.0/tmp 2>/dev/null); } > " + where(`${what}.$SLURM_JOB_ID.part`),
    `echo ${what} > /tmp/ptd-${what}.$SLURM_JOB_ID`,
    `mv ${where(`${what}.$SLURM_JOB_ID.part`)} ${where(`${what}.$SLURM_JOB_ID`)}`,
  ].join("\n");
}

/** The slurm.conf lines that install the scripts. */
export const SCRIPT_CONF = [
  `TaskProlog=${join(DIR, "task-prolog.sh")}`,
  `TaskEpilog=${join(DIR, "task-epilog.sh")}`,
  `Prolog=${join(DIR, "prolog.sh")}`,
  `Epilog=${join(DIR, "epilog.sh")}`,
].join("\n");

/** The plugstack.conf line of one probe build; base= as ours, so it can
 * tell whether it sees the job's directory. */
export function probeLine(name: ProbeName): string {
  return `required ${join(DIR, `${name}.so`)} base=/tmp/slurm`;
}

/** Writes the scripts and builds both probes (with this release's gcc and
 * <slurm/spank.h>); a fresh, empty REPORTS. */
export function installHooks(): void {
  fs.mkdirSync(DIR, { recursive: true, mode: 0o755 });
  for (const [name, body] of Object.entries(scripts()))
    fs.writeFileSync(join(DIR, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  for (const name of ["ptd_probe_before", "ptd_probe_after"]) {
    const cc = spawnSync(
      "gcc",
      [
        "-shared",
        "-fPIC",
        "-O1",
        "-Wall",
        "-Werror",
        `-DPROBE_NAME=${name}`,
        "-o",
        join(DIR, `${name}.so`),
        join(REPO_ROOT, "tests", "native", "spank-hook-probe.c"),
      ],
      { encoding: "utf8" },
    );
    assert.equal(cc.status, 0, `gcc ${name}: ${cc.stderr}`);
  }
  fs.rmSync(REPORTS, { recursive: true, force: true });
  fs.mkdirSync(REPORTS, { mode: 0o1777 });
  fs.chmodSync(REPORTS, 0o1777);
}

export function removeHooks(): void {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.rmSync(REPORTS, { recursive: true, force: true });
}

/** A report of a hook (e.g. "epilog.123", "task-prolog.123.0"), once it is there. */
export function report(name: string): string | undefined {
  const p = join(REPORTS, name);
  return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
}
