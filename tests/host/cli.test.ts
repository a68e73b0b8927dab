// The admin CLI against real plugstack.conf files: includes with globs,
// broken lines, the plugin on two lines, an optional line. Its plans must be
// the wasm core's, its errors the plugin's own messages, and its cleanup the
// plugin's epilog (through the addon).
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { Phase } from "../../host/abi.js";
import { loadAddon } from "../../host/addon.js";
import { Core, coreSha256, thisNodeCores, WASM_PATH } from "../../host/core.js";
import { CoreError } from "../../host/errors.js";
import { stepJson, type PlanJson } from "../../host/plan-view.js";
import { requireRoot } from "../helpers/root.js";
import { CLI, cli, type Ran } from "../helpers/cli.js";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const DIR = `/var/tmp/ptd-cli-test.${process.pid}`; // per run: suites may run side by side
const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];
// The .so this tree built: a plugin slurmd could load.
const SO_DIR = `${REPO}dist/native`;
const SO = `${SO_DIR}/private-tmpdir.so`;
// plan's default --node-mem: this machine's memory in MiB.
const NODE_MEM_MB = Math.floor(totalmem() / 1048576);
const NODE_CORES = thisNodeCores();

function write(path: string, lines: string[]): string {
  fs.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  fs.writeFileSync(path, lines.map((l) => l + "\n").join(""));
  return path;
}

/** The message the plugin logs for these options (its C core, via the addon). */
function pluginMessage(args: string[]): string {
  const r = loadAddon().coreRun(Phase.CHECK, args, 0, 0, 0, 0, 0, 0, true);
  assert.equal(r.ok, false, "the plugin accepts these options");
  return r.message;
}

describe("cli: version and help", () => {
  it("--version prints the package version and the sha256 of the core the plugin embeds", () => {
    const r = cli("--version");
    assert.equal(r.status, 0);
    assert.equal(r.stderr, "");
    const pkg = JSON.parse(fs.readFileSync(`${REPO}/package.json`, "utf8")) as { version: string };
    const sha = createHash("sha256").update(fs.readFileSync(WASM_PATH)).digest("hex");
    assert.equal(r.stdout, `private-tmpdir ${pkg.version} core sha256 ${sha}\n`);
    assert.equal(coreSha256(), sha);
    // The value the plugin logs at load is compiled in from the same file.
    assert.match(fs.readFileSync(`${REPO}/dist/gen/core_sha256.h`, "utf8"), new RegExp(`"${sha}"`));
    assert.ok(fs.readFileSync(`${REPO}/dist/native/private-tmpdir.so`).includes(sha), "the .so carries the sha256");
  });

  for (const cmd of ["plan", "check", "cleanup"]) {
    it(`${cmd} --help prints its usage on stdout and exits 0`, () => {
      for (const args of [
        [cmd, "--help"],
        ["help", cmd],
      ]) {
        const r = cli(...args);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^Usage: private-tmpdir ${cmd} `));
        assert.equal(r.stderr, "");
      }
    });
  }

  it("--help lists the commands", () => {
    const r = cli("--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /plan[\s\S]*check[\s\S]*cleanup/);
  });

  const usage: [string, string[]][] = [
    ["no command", []],
    ["an unknown command", ["frobnicate"]],
    ["an unknown option", ["plan", "--job", "1", "--bogus"]],
    ["plan without --job", ["plan"]],
    ["a job id that is not a number", ["plan", "--job", "12x"]],
    ["a job id over 2^32-1", ["plan", "--job", "4294967296"]],
    ["a stray argument", ["check", "extra"]],
    ["cleanup without --uid", ["cleanup", "--job", "1"]],
    ["an empty --config (it read the current directory)", ["plan", "--job", "1", "--config", ""]],
    ["--uid without --gid (it planned owner 1001:0)", ["plan", "--job", "1", "--uid", "1001"]],
    ["--gid without --uid", ["plan", "--job", "1", "--gid", "1001"]],
    ["--args with --config", ["cleanup", "--job", "1", "--uid", "0", "--args", "mount=/tmp", "--config", "/x"]],
    ["--args naming no option", ["plan", "--job", "1", "--args", " "]],
    ["a --mem with a unit", ["plan", "--job", "1", "--args", "tmpfs=/dev/shm", "--mem", "4G"]],
    ["a negative --node-mem", ["plan", "--job", "1", "--args", "tmpfs=/dev/shm", "--node-mem=-1"]],
    ["a --mem over 2^32-1", ["plan", "--job", "1", "--mem", "4294967296"]],
    ["--mem for cleanup, which sizes no tmpfs", ["cleanup", "--job", "1", "--uid", "0", "--mem", "1"]],
  ];
  for (const [name, args] of usage) {
    it(`exits 2 on ${name}, on stderr only`, () => {
      const r = cli(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^private-tmpdir: .+\nTry 'private-tmpdir --help'\.\n$/);
    });
  }

  it("calls an unknown first option an option, not a command", () => {
    assert.match(cli("--nope").stderr, /^private-tmpdir: unknown option "--nope"\n/);
    assert.match(cli("nope").stderr, /^private-tmpdir: unknown command "nope"\n/);
  });

  for (const cmd of ["plan", "check", "cleanup"]) {
    it(`${cmd} -h is ${cmd} --help`, () => {
      assert.deepStrictEqual(cli(cmd, "-h"), cli(cmd, "--help"));
    });
  }

  it("plan --help documents --mem and --node-mem", () => {
    const r = cli("plan", "--help");
    assert.match(r.stdout, /^Usage: private-tmpdir plan .*\[--mem MB\] \[--node-mem MB\]/);
    assert.match(r.stdout, /^ {2}--mem MB +the job's memory on the node in MiB/m);
    assert.match(r.stdout, /^ {2}--node-mem MB +the node's memory in MiB/m);
  });

  it("plan --help speaks of the phases the plugin runs, not of a prolog", () => {
    const r = cli("plan", "--help");
    assert.doesNotMatch(r.stdout, /\bprolog\b/i);
    assert.match(r.stdout, /extern step/);
  });
});

describe("cli: output that cannot be written", () => {
  const out = `${DIR}-out.${process.pid}`;
  const conf = `${out}/plugstack.conf`;
  before(() => write(conf, [`required private-tmpdir.so ${SEED.join(" ")}`]));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  // stdout is a pipe whose reader is already gone: every write is EPIPE.
  function toClosedPipe(...args: string[]): Ran {
    const py = "import os,subprocess,sys\nr,w=os.pipe()\nos.close(r)\nsys.exit(subprocess.call(sys.argv[1:],stdout=w))";
    const r = spawnSync("python3", ["-c", py, process.execPath, CLI, ...args], { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  for (const args of [
    ["plan", "--config", conf, "--job", "1", "--json"],
    ["plan", "--config", conf, "--job", "1"],
    ["check", "--config", conf, "--json"],
    ["--help"],
  ]) {
    it(`${args.join(" ")} into a closed pipe exits 141 quietly`, () => {
      assert.deepStrictEqual(toClosedPipe(...args), { status: 141, stdout: "", stderr: "" });
    });
  }

  it("plan into a full disk is one line on stderr and exit 1", () => {
    const fd = fs.openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [CLI, "plan", "--config", conf, "--job", "1", "--json"], {
        encoding: "utf8",
        stdio: ["ignore", fd, "pipe"],
      });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "private-tmpdir: cannot write the output: ENOSPC: no space left on device\n");
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe("cli: plugstack.conf as Slurm reads it", () => {
  before(() => {
    fs.rmSync(DIR, { recursive: true, force: true });
    fs.mkdirSync(DIR, { recursive: true });
  });
  after(() => fs.rmSync(DIR, { recursive: true, force: true }));

  it("follows relative and absolute include globs and finds the plugin by name or path", () => {
    const d = `${DIR}/includes`;
    const main = write(`${d}/plugstack.conf`, [
      "# site plugstack",
      "",
      "optional /usr/lib/slurm/other.so a=1   # not ours",
      "include plugstack.conf.d/*.conf",
      `include ${d}/extra/site-?.conf`,
      "include nowhere/*.conf",
    ]);
    write(`${d}/plugstack.conf.d/10-ptd.conf`, ["   required\tprivate-tmpdir.so " + SEED.join("  ") + " # the seed"]);
    write(`${d}/plugstack.conf.d/20-other.conf`, ["required other.so"]);
    write(`${d}/plugstack.conf.d/README`, ["required private-tmpdir.so mount=/never"]);
    write(`${d}/plugstack.conf.d/.hidden.conf`, ["required private-tmpdir.so mount=/never"]);
    write(`${d}/extra/site-1.conf`, ["", "optional /opt/ptd/lib/private-tmpdir.so mount=/scratch cleanup=no"]);
    const r = cli("plan", "--config", main, "--job", "77", "--restart", "2", "--uid", "4242", "--gid", "77", "--json");
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as PlanJson;
    assert.deepStrictEqual(Object.keys(p), ["schema", "version", "coreSha256", "config", "job", "lines"]);
    assert.equal(p.schema, 2);
    assert.equal(p.coreSha256, coreSha256());
    assert.deepStrictEqual(p.job, {
      jobid: 77,
      restart: 2,
      uid: 4242,
      gid: 77,
      memMb: 0,
      nodeMemMb: NODE_MEM_MB,
      cores: 0,
      nodeCores: NODE_CORES,
      requestMb: 0,
    });
    assert.deepStrictEqual(
      p.lines.map((l) => [l.file, l.line, l.kind, l.plugin, l.args]),
      [
        [`${d}/plugstack.conf.d/10-ptd.conf`, 1, "required", "private-tmpdir.so", SEED],
        [`${d}/extra/site-1.conf`, 2, "optional", "/opt/ptd/lib/private-tmpdir.so", ["mount=/scratch", "cleanup=no"]],
      ],
    );
    const first = p.lines[0];
    assert.ok(first);
    assert.deepStrictEqual(Object.keys(first), [
      "file",
      "line",
      "kind",
      "plugin",
      "args",
      "phases",
      "directories",
      "mounts",
      "tmpfs",
      "disks",
      "shares",
      "runtime",
      "env",
      "scriptEnv",
    ]);
    assert.deepStrictEqual([first.tmpfs, first.shares], [[], []], "the seed's line has neither tmpfs nor share");
    // No TMPDIR; in the script each private directory's host path (sbcast's way in).
    assert.deepStrictEqual(first.env, []);
    assert.deepStrictEqual(first.scriptEnv, [
      { name: "PRIVATE_TMPDIR_HOST_VAR_TMP", value: "/tmp/slurm.77.2/var_tmp", ifUnset: false },
      { name: "PRIVATE_TMPDIR_HOST_TMP", value: "/tmp/slurm.77.2/tmp", ifUnset: false },
    ]);
    assert.equal(first.runtime, null, "no runtime= on the seed's line");
    // Every step is the core's own record, in the core's order.
    const job = { jobid: 77, restart: 2, uid: 4242, gid: 77 };
    const core = new Core();
    assert.deepStrictEqual(first.phases, {
      extern: core.plan("EXTERN", SEED, job).map(stepJson),
      step: core.plan("STEP", SEED, job).map(stepJson),
      script: core.plan("SCRIPT", SEED, job).map(stepJson),
      epilog: core.plan("EPILOG", SEED, job).map(stepJson),
    });
    assert.deepStrictEqual(first.directories, [
      { path: "/tmp/slurm.77.2", uid: 4242, gid: 77, mode: "0700" },
      { path: "/tmp/slurm.77.2/var_tmp", uid: 4242, gid: 77, mode: "0700" },
      { path: "/tmp/slurm.77.2/tmp", uid: 4242, gid: 77, mode: "0700" },
    ]);
    assert.deepStrictEqual(first.mounts, [
      { target: "/var/tmp", source: "/tmp/slurm.77.2/var_tmp" },
      { target: "/tmp", source: "/tmp/slurm.77.2/tmp" },
    ]);
    assert.ok(!p.lines[1]?.phases.epilog.some((s) => s.op === "remove_at"), "cleanup=no plans no removal");
    assert.match(r.stderr, /10-ptd\.conf:1\); slurmd runs both lines/);
  });

  it("prints the directories with owner and mode, and the mounts, in the plugin's order", () => {
    const conf = write(`${DIR}/human/plugstack.conf`, [`required /usr/lib/private-tmpdir.so ${SEED.join(" ")}`]);
    const r = cli("plan", "--config", conf, "--job", "5", "--uid", "1001", "--gid", "1002");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const lines = r.stdout.split("\n");
    const idx = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const dir = idx(/^ {4}mkdir +\/tmp\/slurm\.5\.0 +owner 1001:1002 mode 0700/);
    const varTmp = idx(/^ {4}mkdir +\/tmp\/slurm\.5\.0\/var_tmp +owner 1001:1002 mode 0700/);
    const bindVar = idx(/^ {4}bind +\/tmp\/slurm\.5\.0\/var_tmp on \/var\/tmp$/);
    const bindTmp = idx(/^ {4}bind +\/tmp\/slurm\.5\.0\/tmp on \/tmp$/);
    const remove = idx(/^ {4}remove +\/tmp\/slurm\.5\.0 +\(only if owned by uid 1001\)/);
    assert.ok(dir > 0 && dir < varTmp && varTmp < bindVar && bindVar < bindTmp && bindTmp < remove, r.stdout);
    // The phases the plugin runs, in order: the extern step plans what
    // every other step does, but starts the job's namespace without joining.
    const ext = idx(/^ {2}extern step \(PrologFlags=Contain[;)]/);
    const step = idx(/^ {2}step \(slurmstepd/);
    const epilog = idx(/^ {2}epilog \(/);
    assert.ok(ext > 0 && ext < step && step < epilog, r.stdout);
    assert.equal(lines.filter((l) => /\bprolog\b/i.test(l)).length, 0, "the plugin runs no prolog");
    const extLines = lines.slice(ext + 1, step);
    // A step keeps what its output needs (one line a mount=, before its
    // namespace); the extern step runs no task.
    const stepAll = lines.slice(step + 1, epilog);
    const keeps = stepAll.filter((l) => /^ {4}keep +\/(var\/)?tmp's output: /.test(l));
    assert.equal(keeps.length, 2, r.stdout);
    assert.ok(stepAll.indexOf(keeps[1] ?? "") < stepAll.findIndex((l) => /^ {4}join /.test(l)), r.stdout);
    const stepLines = stepAll.filter((l) => !keeps.includes(l)).slice(0, extLines.length);
    const enter = extLines.findIndex((l) =>
      /^ {4}start +the job's namespace holder at \/tmp\/slurm\.ns\/job\.5 +\(if none runs; this step stays in the host's namespace\)$/.test(
        l,
      ),
    );
    assert.ok(enter > 0, r.stdout);
    assert.match(
      stepLines[enter] ?? "",
      /^ {4}join +the job's namespace held at \/tmp\/slurm\.ns\/job\.5, skipping to after "serve"/,
    );
    assert.deepStrictEqual(
      extLines.filter((_, i) => i !== enter),
      stepLines.filter((_, i) => i !== enter),
    );
    assert.deepStrictEqual(
      extLines.map((l) => l.trim().split(/ +/)[0]),
      [
        "open",
        "mkdir",
        "mkdir",
        "mkdir",
        "usage",
        "usage",
        "continue",
        "mkdir",
        "start",
        "unshare",
        "make",
        "open",
        "open",
        "open",
        "open",
        "bind",
        "bind",
        "serve",
      ],
    );
    assert.match(
      extLines[4] ?? "",
      /^ {4}usage +\/var\/tmp +\(the removal's usage line names the private directory var_tmp so\)$/,
    );
    assert.match(
      extLines[7] ?? "",
      /^ {4}mkdir +\/tmp\/slurm\.ns +owner 0:0 mode 0700 +\(anything else in the way is moved aside\)$/,
    );
    assert.match(
      extLines[6] ?? "",
      /^ {4}continue \/tmp\/slurm\.hold +\(if a remover's pass left work there: a new remover, not waited for\)$/,
    );
    assert.match(
      extLines[1] ?? "",
      /\(emptied first if a previous run of the job marked it ended; anything else in the way is moved aside\)$/,
    );
    assert.match(lines[0] ?? "", new RegExp(`^${conf}:1: required /usr/lib/private-tmpdir.so base=/tmp/slurm`));
  });

  it("defaults uid and gid to 0 for plan", () => {
    const conf = write(`${DIR}/defaults/plugstack.conf`, [`required private-tmpdir.so ${SEED.join(" ")}`]);
    const p = JSON.parse(cli("plan", "--config", conf, "--job", "9", "--json").stdout) as PlanJson;
    assert.deepStrictEqual(p.job, {
      jobid: 9,
      restart: 0,
      uid: 0,
      gid: 0,
      memMb: 0,
      nodeMemMb: NODE_MEM_MB,
      cores: 0,
      nodeCores: NODE_CORES,
      requestMb: 0,
    });
    assert.equal(p.lines[0]?.directories[0]?.uid, 0);
  });

  it("plan --cores sizes a disk= share of the measured (or --disk-mb) filesystem, capped by max=, at least 64 MiB, and lists what each disk reserves", () => {
    const plan = (args: string, ...more: string[]): PlanJson => {
      const r = cli("plan", "--job", "5", "--args", args, ...more, "--json");
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as PlanJson;
    };
    const disks = (p: PlanJson) => p.lines[0]?.disks.map((d) => [d.target, d.sizeMb, d.percent, d.maxMb]);
    // 1 core of 4 of a 1000 MiB filesystem: a quarter, then 50% of it.
    const one = "mount=/tmp disk=/scratch size=50% disk=/data size=2G";
    assert.deepStrictEqual(disks(plan(one, "--cores", "1", "--node-cores", "4", "--disk-mb", "1000")), [
      ["/scratch", 125, 50, 0],
      ["/data", 2048, null, 0],
    ]);
    // max= caps it; a tiny share is 64 MiB.
    const capped = "mount=/tmp disk=/scratch max=100M";
    assert.deepStrictEqual(disks(plan(capped, "--cores", "4", "--node-cores", "4", "--disk-mb", "1000000")), [
      ["/scratch", 100, 90, 100],
    ]);
    assert.deepStrictEqual(disks(plan(capped, "--cores", "1", "--node-cores", "64", "--disk-mb", "1000")), [
      ["/scratch", 64, 90, 100],
    ]);
    // Measured here when not given: a share of this machine's filesystem.
    const here = plan("mount=/tmp disk=/scratch", "--cores", "1", "--node-cores", "1");
    const d = here.lines[0]?.disks[0];
    assert.ok(d && d.filesystemMb !== null && d.sizeMb === Math.floor((d.filesystemMb * 90) / 100), JSON.stringify(d));
    // The listing says what it reserves; without cores a share is refused.
    const text = cli("plan", "--job", "5", "--args", one, "--cores", "1", "--node-cores", "4", "--disk-mb", "1000");
    assert.match(
      text.stdout,
      /^  disk \/scratch: reserves 125 MiB on this node \(50% of the job's cores' share of \/tmp\/slurm\.disk's filesystem; filesystem 1000 MiB, cores 1 of 4\)$/m,
    );
    assert.match(text.stdout, /^  disk \/data: reserves 2 GiB on the node$/m);
    const none = cli("plan", "--job", "5", "--args", one);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /size=50%: the job's and the node's cores are unknown \(disk=\/scratch\)/);
  });

  it("status with nothing held says so, and --json has the schema's fields", () => {
    const r = cli("status", "--args", "base=/tmp/ptd-cli-status mount=/tmp disk=/var/tmp");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "no job's namespace is held on this node\n");
    const j = cli("status", "--args", "base=/tmp/ptd-cli-status mount=/tmp disk=/var/tmp", "--json");
    assert.equal(j.status, 0, j.stderr);
    assert.deepStrictEqual(JSON.parse(j.stdout), {
      schema: 1,
      jobs: [],
      pending: [{ path: "/tmp/ptd-cli-status.hold", entries: 0 }],
      loops: [],
    });
  });

  it("plan --mem sizes a tmpfs= given in % of the job's memory, and shows it in MiB and for people", () => {
    const r = cli(
      "plan",
      "--args",
      "tmpfs=/dev/shm size=25%",
      "--job",
      "8",
      "--uid",
      "1001",
      "--gid",
      "1002",
      "--mem",
      "4096",
      "--json",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const p = JSON.parse(r.stdout) as PlanJson;
    assert.deepStrictEqual(p.job, {
      jobid: 8,
      restart: 0,
      uid: 1001,
      gid: 1002,
      memMb: 4096,
      nodeMemMb: NODE_MEM_MB,
      cores: 0,
      nodeCores: NODE_CORES,
      requestMb: 0,
    });
    const l = p.lines[0];
    assert.ok(l);
    assert.deepStrictEqual(l.tmpfs, [
      { target: "/dev/shm", sizeMb: 1024, size: "1 GiB", inodes: 262144, mode: "01777", noexec: false },
    ]);
    assert.deepStrictEqual(l.mounts, [], "no bind");
    assert.deepStrictEqual(l.env, []);
    // The records themselves, the extern step's (its holder mounts) and the step's.
    const mount = {
      op: "mount_tmpfs",
      path: "/dev/shm",
      sizeMb: 1024,
      size: "1 GiB",
      inodes: 262144,
      mode: "01777",
      uid: 1001,
      gid: 1002,
      flags: [],
    };
    for (const phase of [l.phases.extern, l.phases.step])
      assert.deepStrictEqual(
        phase.filter((s) => s.op === "mount_tmpfs"),
        [mount],
      );
    assert.ok(!l.phases.epilog.some((s) => s.op === "mount_tmpfs"));
    // --node-mem when Slurm allocated the job no memory (--mem 0, the default)
    const node = JSON.parse(
      cli("plan", "--args", "tmpfs=/dev/shm size=25%", "--job", "8", "--node-mem", "10000", "--json").stdout,
    ) as PlanJson;
    assert.deepStrictEqual(
      node.lines[0]?.tmpfs.map((t) => [t.sizeMb, t.size]),
      [[2500, "2.4 GiB"]],
    );
  });

  it("plan shows each tmpfs's size, mode and noexec, the host path's variable and TMPDIR, in the plugin's order", () => {
    const args = "mount=/tmp tmpfs=/dev/shm size=512M mode=0700 noexec tmpfs=/scratch/mem size=2G tmpdir=/scratch/mem";
    const r = cli("plan", "--args", args, "--job", "5", "--uid", "1001", "--gid", "1002", "--mem", "8192");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(lines[1] ?? "", /^ {2}job 5 restart 0 uid 1001 gid 1002, memory 8192 MiB \(node \d+ MiB\)$/);
    const step = lines.findIndex((l) => /^ {2}step \(slurmstepd/.test(l));
    const script = lines.findIndex((l) => /^ {2}the batch step and salloc's interactive step/.test(l));
    const epilog = lines.findIndex((l) => /^ {2}epilog \(/.test(l));
    const stepLines = lines.slice(step + 1, script);
    // The script's listing is only what it adds to every step's.
    assert.deepStrictEqual(lines.slice(script + 1, epilog), [
      "    setenv  PRIVATE_TMPDIR_HOST_TMP=/tmp/slurm.5.0/tmp  (for the script: the private directory's host path, for sbcast)",
    ]);
    assert.deepStrictEqual(stepLines.slice(-5), [
      "    bind    /tmp/slurm.5.0/tmp on /tmp",
      "    tmpfs   /dev/shm  size 512 MiB, 131072 inodes, mode 0700, owner 1001:1002, nosuid,nodev,noexec  (a fresh one for the job; gone with its namespace)",
      "    tmpfs   /scratch/mem  size 2048 MiB (2 GiB), 524288 inodes, mode 01777, owner 1001:1002, nosuid,nodev  (a fresh one for the job; gone with its namespace)",
      "    serve   the job's namespace at /tmp/slurm.ns/job.5  (the holder only, until the job ends)",
      "    setenv  TMPDIR=/scratch/mem  (for the step's tasks, replacing any value they had)",
    ]);
    const p = JSON.parse(cli("plan", "--args", args, "--job", "5", "--mem", "8192", "--json").stdout) as PlanJson;
    assert.deepStrictEqual(p.lines[0]?.tmpfs, [
      { target: "/dev/shm", sizeMb: 512, size: "512 MiB", inodes: 131072, mode: "0700", noexec: true },
      { target: "/scratch/mem", sizeMb: 2048, size: "2 GiB", inodes: 524288, mode: "01777", noexec: false },
    ]);
    // None for a tmpfs=: it exists only in the job's namespace.
    assert.deepStrictEqual(p.lines[0]?.env, [{ name: "TMPDIR", value: "/scratch/mem", ifUnset: false }]);
    assert.deepStrictEqual(p.lines[0]?.scriptEnv, [
      { name: "PRIVATE_TMPDIR_HOST_TMP", value: "/tmp/slurm.5.0/tmp", ifUnset: false },
      { name: "TMPDIR", value: "/scratch/mem", ifUnset: false },
    ]);
    assert.deepStrictEqual(p.lines[0]?.phases.step.at(-1), { op: "set_env", name: "TMPDIR", value: "/scratch/mem" });
    assert.ok(!p.lines[0]?.phases.extern.some((s) => s.op === "set_env"), "the extern step runs no task");
  });

  it("plan refuses a tmpfs= size in % when neither memory is known, and a bad size=, naming the option; no plan", () => {
    const unknown = cli("plan", "--args", "tmpfs=/dev/shm", "--job", "1", "--mem", "0", "--node-mem", "0", "--json");
    assert.deepStrictEqual(unknown, {
      status: 1,
      stdout: "",
      stderr: "--args: size=50%: the job's and the node's memory are unknown (the default size of tmpfs=/dev/shm)\n",
    });
    // An absolute size needs no memory.
    assert.equal(
      cli("plan", "--args", "tmpfs=/dev/shm size=1G", "--job", "1", "--mem", "0", "--node-mem", "0").status,
      0,
    );
    const bad = cli("plan", "--args", "tmpfs=/dev/shm size=200%", "--job", "1", "--mem", "4096");
    assert.deepStrictEqual(bad, {
      status: 1,
      stdout: "",
      stderr: "--args: size=200%: a percentage must be from 1 to 100\n",
    });
    const before = cli("plan", "--args", "mount=/tmp size=8G", "--job", "1");
    assert.deepStrictEqual(before, {
      status: 1,
      stdout: "",
      stderr: "--args: size=8G: must follow a tmpfs= or disk= option\n",
    });
  });

  it("check validates tmpfs= lines with the core: a valid one is ok, a bad one named with its option", () => {
    const d = `${DIR}/tmpfs-check`;
    const conf = write(`${d}/plugstack.conf`, [
      "required private-tmpdir.so mount=/tmp tmpfs=/dev/shm size=25% noexec tmpdir=/tmp",
      "include more.conf",
    ]);
    const good = JSON.parse(cli("check", "--config", conf, "--json").stdout) as { ok: boolean; errors: unknown[] };
    assert.deepStrictEqual([good.ok, good.errors], [true, []]);
    write(`${d}/more.conf`, ["required /lib/private-tmpdir.so tmpfs=/dev/shm size=8G size=1G"]);
    const r = cli("check", "--config", conf, "--json");
    assert.equal(r.status, 1);
    const bad = JSON.parse(r.stdout) as {
      ok: boolean;
      errors: { file: string; line: number; code: string; message: string }[];
    };
    assert.deepStrictEqual(bad.errors, [
      { file: `${d}/more.conf`, line: 1, code: "DUPLICATE", message: "size=1G: given twice for tmpfs=/dev/shm" },
    ]);
  });

  it("plan shows tmpdir_var= names (only if unset) and runtime='s tmpfs, directory and XDG_RUNTIME_DIR; check names a bad one", () => {
    const args = "mount=/tmp tmpdir=/tmp tmpdir_var=SLURM_TMPDIR tmpdir_var=TMP runtime=/run/user runtime_size=16M";
    const p = JSON.parse(
      cli("plan", "--args", args, "--job", "5", "--uid", "1001", "--gid", "1002", "--json").stdout,
    ) as PlanJson;
    const l = p.lines[0];
    assert.deepStrictEqual(l?.env, [
      { name: "TMPDIR", value: "/tmp", ifUnset: false },
      { name: "SLURM_TMPDIR", value: "/tmp", ifUnset: true },
      { name: "TMP", value: "/tmp", ifUnset: true },
      { name: "XDG_RUNTIME_DIR", value: "/run/user/1001", ifUnset: false },
    ]);
    assert.deepStrictEqual(l?.runtime, {
      target: "/run/user",
      sizeMb: 16,
      size: "16 MiB",
      inodes: 4096,
      directory: "/run/user/1001",
      mode: "0700",
    });
    // Not a tmpfs= nor a job directory of the line's.
    assert.deepStrictEqual(l?.tmpfs, []);
    assert.deepStrictEqual(
      l?.directories.map((d) => d.path),
      ["/tmp/slurm.5.0", "/tmp/slurm.5.0/tmp"],
    );
    assert.deepStrictEqual(
      l?.phases.step.find((s) => s.name === "TMP"),
      {
        op: "set_env",
        name: "TMP",
        value: "/tmp",
        flags: ["if-unset"],
      },
    );
    const text = cli("plan", "--args", args, "--job", "5", "--uid", "1001", "--gid", "1002").stdout.split("\n");
    assert.ok(
      text.includes(
        "  runtime /run/user: a tmpfs of 16 MiB per job (every other user's directory there hidden), /run/user/1001 mode 0700 the job's user's: XDG_RUNTIME_DIR",
      ),
      text.join("\n"),
    );
    assert.ok(
      text.includes(
        "    setenv  SLURM_TMPDIR=/tmp  (for the step's tasks, unless their environment has SLURM_TMPDIR: a value the user set stays)",
      ),
    );
    assert.ok(text.includes("    mkdir   /run/user/1001  owner 1001:1002 mode 0700"));
    const d = `${DIR}/env-check`;
    const conf = write(`${d}/plugstack.conf`, [
      `required private-tmpdir.so ${args}`,
      "required private-tmpdir.so mount=/tmp tmpdir=/tmp tmpdir_var=MY-TMP",
      "required private-tmpdir.so mount=/tmp runtime=/tmp/run",
    ]);
    const r = cli("check", "--config", conf, "--json");
    assert.equal(r.status, 1);
    const bad = JSON.parse(r.stdout) as { errors: { line: number; code: string; message: string }[] };
    assert.deepStrictEqual(
      bad.errors.map((e) => [e.line, e.code, e.message]),
      [
        [2, "BAD_CHAR", 'tmpdir_var=MY-TMP: not a variable name (letters, digits and "_", not a digit first)'],
        [
          3,
          "NESTED",
          "mount=/tmp and runtime=/tmp/run: the same path, or one under the other; nested mount points are not supported",
        ],
      ],
    );
  });

  it("check validates disk= lines (a share's plan included) and warns of nothing when this node has mke2fs; a bad max= is named", () => {
    const d = `${DIR}/disk-check`;
    const conf = write(`${d}/plugstack.conf`, [
      "required private-tmpdir.so mount=/tmp disk=/var/tmp size=50% max=20G disk=/data size=1G noexec",
    ]);
    const good = JSON.parse(cli("check", "--config", conf, "--json").stdout) as {
      ok: boolean;
      errors: unknown[];
      warnings: { code: string }[];
    };
    assert.deepStrictEqual([good.ok, good.errors], [true, []]);
    assert.ok(
      !good.warnings.some((w) => w.code === "PROGRAM_NOT_FOUND"),
      `mke2fs is here (e2fsprogs): ${JSON.stringify(good.warnings)}`,
    );
    write(`${d}/plugstack.conf`, ["required private-tmpdir.so mount=/tmp disk=/var/tmp size=50G max=20G"]);
    const r = cli("check", "--config", conf, "--json");
    assert.equal(r.status, 1);
    const bad = JSON.parse(r.stdout) as { errors: { code: string; message: string }[] };
    assert.deepStrictEqual(
      bad.errors.map((e) => [e.code, e.message]),
      [["BAD_VALUE", "size=50G: more than max=20G for disk=/var/tmp"]],
    );
  });

  it("plans two lines for the plugin in load order and warns that slurmd runs both", () => {
    const d = `${DIR}/twice`;
    const main = write(`${d}/plugstack.conf`, [`required private-tmpdir.so ${SEED.join(" ")}`, "include conf.d/*"]);
    write(`${d}/conf.d/b.conf`, ["required /lib/private-tmpdir.so base=/var/tmp/b mount=/scratch"]);
    write(`${d}/conf.d/a.conf`, ["optional /lib/private-tmpdir.so base=/var/tmp/a mount=/data"]);
    const r = cli("plan", "--config", main, "--job", "3", "--json");
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as PlanJson;
    assert.deepStrictEqual(
      p.lines.map((l) => [l.file, l.kind, l.mounts.map((m) => m.target)]),
      [
        [main, "required", ["/var/tmp", "/tmp"]],
        [`${d}/conf.d/a.conf`, "optional", ["/data"]],
        [`${d}/conf.d/b.conf`, "required", ["/scratch"]],
      ],
    );
    assert.equal((r.stderr.match(/^warning: .* is loaded again/gm) ?? []).length, 2, r.stderr);
    const c = cli("check", "--config", main);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, "");
    assert.match(
      c.stderr,
      new RegExp(`^warning: ${d}/conf.d/a.conf:1: private-tmpdir.so is loaded again \\(first at ${main}:1\\)`, "m"),
    );
  });

  it("check prints nothing and exits 0 for a valid configuration; --verbose says ok", () => {
    const conf = write(`${DIR}/valid/plugstack.conf`, ["# ok", `required private-tmpdir.so ${SEED.join(" ")}`]);
    const r = cli("check", "--config", conf, "--plugin-dir", `/nonexistent:${SO_DIR}`);
    assert.deepStrictEqual(r, { status: 0, stdout: "", stderr: "" });
    const byPath = write(`${DIR}/valid/by-path.conf`, [`required ${SO} ${SEED.join(" ")}`]);
    assert.deepStrictEqual(cli("check", "--config", byPath), { status: 0, stdout: "", stderr: "" });
    const v = cli("check", "--config", conf, "--plugin-dir", SO_DIR, "--verbose");
    assert.equal(v.status, 0);
    assert.match(v.stdout, /: ok: 1 line load private-tmpdir\.so/);
  });

  it("check names file, line and option with the plugin's own message, for every broken line", () => {
    const d = `${DIR}/broken`;
    const main = write(`${d}/plugstack.conf`, [
      "# broken on purpose",
      `required private-tmpdir.so base=/tmp/slurm mnt=/tmp`,
      "requird private-tmpdir.so mount=/tmp",
      "include inc/*.conf",
      "optional",
    ]);
    write(`${d}/inc/1.conf`, ["", "", `optional /x/private-tmpdir.so mount=/var/tmp mount=/var_tmp`]);
    const r = cli("check", "--config", main, "--plugin-dir", SO_DIR);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    const errors = r.stderr.trimEnd().split("\n");
    assert.deepStrictEqual(errors, [
      `${main}:3: invalid line, Slurm ignores it: "requird" is not required, optional or include`,
      `${main}:5: invalid line, Slurm ignores it: "optional" names no plugin`,
      `${main}:2: ${pluginMessage(["base=/tmp/slurm", "mnt=/tmp"])}`,
      `${d}/inc/1.conf:3: ${pluginMessage(["mount=/var/tmp", "mount=/var_tmp"])}`,
      `warning: ${d}/inc/1.conf:3: private-tmpdir.so is loaded again (first at ${main}:2); slurmd runs both lines`,
      `warning: ${d}/inc/1.conf:3: optional line: if private-tmpdir.so fails to load or refuses its options, Slurm ignores it and runs every job with the shared /tmp; use required`,
      `warning: ${d}/inc/1.conf:3: /x/private-tmpdir.so: slurmd cannot load it: no such file`,
    ]);
    assert.match(errors[2] ?? "", /:2: mnt=\/tmp: unknown option/);

    const j = cli("check", "--config", main, "--plugin-dir", SO_DIR, "--json");
    assert.equal(j.status, 1);
    const body = JSON.parse(j.stdout) as {
      ok: boolean;
      errors: { file: string; line: number; code: string; message: string }[];
    };
    assert.equal(body.ok, false);
    assert.deepStrictEqual(
      body.errors.map((e) => [e.line, e.code]),
      [
        [3, "INVALID_LINE"],
        [5, "INVALID_LINE"],
        [2, "UNKNOWN_OPTION"],
        [3, "COLLISION"],
      ],
    );
  });

  it("check warns about an optional line and about a .so slurmd cannot load, and still exits 0", () => {
    const d = `${DIR}/deploy`;
    fs.mkdirSync(`${d}/lib/private-tmpdir.so`, { recursive: true }); // a directory
    fs.mkdirSync(`${d}/text`, { recursive: true });
    fs.writeFileSync(`${d}/text/private-tmpdir.so`, "#!/bin/sh\n");
    fs.mkdirSync(`${d}/exec`, { recursive: true });
    const exec = Buffer.from(fs.readFileSync(SO).subarray(0, 64));
    exec.writeUInt16LE(2, 16); // e_type ET_EXEC: an ELF file dlopen() refuses
    fs.writeFileSync(`${d}/exec/private-tmpdir.so`, exec);
    const conf = write(`${d}/plugstack.conf`, [
      `optional ${SO} ${SEED.join(" ")}`,
      `required /nonexistent/private-tmpdir.so base=/tmp/b mount=/b`,
      `required ${d}/lib/private-tmpdir.so base=/tmp/c mount=/c`,
      `required ${d}/text/private-tmpdir.so base=/tmp/d mount=/d`,
      `required ${d}/exec/private-tmpdir.so base=/tmp/e mount=/e`,
      `required private-tmpdir.so base=/tmp/f mount=/f`,
    ]);
    const r = cli("check", "--config", conf, "--plugin-dir", `${d}/none:${d}/other`, "--json");
    assert.equal(r.status, 0, r.stderr);
    const body = JSON.parse(r.stdout) as {
      ok: boolean;
      errors: unknown[];
      warnings: { line: number; code: string; message: string }[];
    };
    assert.deepStrictEqual(body.errors, []);
    assert.deepStrictEqual(
      body.warnings.filter((w) => w.code !== "LOADED_AGAIN").map((w) => [w.line, w.code, w.message]),
      [
        [
          1,
          "OPTIONAL_LINE",
          "optional line: if private-tmpdir.so fails to load or refuses its options, Slurm ignores it and runs every job with the shared /tmp; use required",
        ],
        [2, "PLUGIN_NOT_FOUND", "/nonexistent/private-tmpdir.so: slurmd cannot load it: no such file"],
        [3, "PLUGIN_NOT_LOADABLE", `${d}/lib/private-tmpdir.so: slurmd cannot load it: not a regular file`],
        [4, "PLUGIN_NOT_LOADABLE", `${d}/text/private-tmpdir.so: slurmd cannot load it: not an ELF file`],
        [5, "PLUGIN_NOT_LOADABLE", `${d}/exec/private-tmpdir.so: slurmd cannot load it: not an ELF shared object`],
        [6, "PLUGIN_NOT_FOUND", `private-tmpdir.so: not found in PluginDir ${d}/none:${d}/other`],
      ],
    );
    // A bare name is looked for in each PluginDir in turn, as slurmd does.
    const found = cli(
      "check",
      "--config",
      write(`${d}/bare.conf`, [`required private-tmpdir.so ${SEED.join(" ")}`]),
      "--plugin-dir",
      `${d}/none:${d}/text:${SO_DIR}`,
    );
    assert.deepStrictEqual(found, {
      status: 0,
      stdout: "",
      stderr: `warning: ${d}/bare.conf:1: ${d}/text/private-tmpdir.so: slurmd cannot load it: not an ELF file\n`,
    });
    const text = cli("check", "--config", conf, "--plugin-dir", SO_DIR);
    assert.match(text.stderr, new RegExp(`^warning: ${conf}:1: optional line: `, "m"));
  });

  it("plan refuses a line the plugin would refuse, with the same message, and prints no plan", () => {
    const conf = write(`${DIR}/badplan/plugstack.conf`, ["required private-tmpdir.so mount=var/tmp"]);
    const r = cli("plan", "--config", conf, "--job", "1", "--json");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    let msg = "";
    try {
      new Core().check(["mount=var/tmp"]);
    } catch (e) {
      assert.ok(e instanceof CoreError);
      msg = e.message;
    }
    assert.equal(r.stderr, `${conf}:1: ${msg}\n`);
    assert.equal(msg, pluginMessage(["mount=var/tmp"]));
  });

  it("plan warns about lines Slurm ignores but still plans", () => {
    const conf = write(`${DIR}/warnplan/plugstack.conf`, ["bogus", `required private-tmpdir.so ${SEED.join(" ")}`]);
    const r = cli("plan", "--config", conf, "--job", "1");
    assert.equal(r.status, 0);
    assert.match(r.stderr, /^warning: .*plugstack\.conf:1: invalid line/);
    assert.match(r.stdout, /bind/);
  });

  it("exits 1 for a missing config, a config without the plugin, and an include loop", () => {
    const missing = cli("check", "--config", `${DIR}/nope.conf`);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.conf: cannot read: ENOENT/);
    const none = write(`${DIR}/none/plugstack.conf`, ["required other.so"]);
    const n = cli("plan", "--config", none, "--job", "1");
    assert.equal(n.status, 1);
    assert.equal(n.stderr, `${none}: no line loads private-tmpdir.so\n`);
    const loop = write(`${DIR}/loop/plugstack.conf`, [
      "include plugstack.conf",
      `required private-tmpdir.so ${SEED.join(" ")}`,
    ]);
    const l = cli("check", "--config", loop);
    assert.equal(l.status, 1);
    assert.match(l.stderr, /: include loop /);
  });
});

describe("cli: cleanup runs the plugin's epilog", function () {
  const ROOT = `${DIR}/cleanup`;
  const BASE = `${ROOT}/jobs/slurm`;
  const ARGS = [`base=${BASE}`, "mount=/var/tmp", "mount=/tmp"];
  const UID = 4242;
  let conf = "";

  function makeDirs(jobid: number): void {
    const r = loadAddon().coreRun(Phase.EXTERN, ARGS, jobid, 0, UID, UID, 0, 0, false);
    assert.equal(r.ok, true, r.message);
    for (const sub of ["tmp", "var_tmp"]) {
      for (let i = 0; i < 5; i++) fs.writeFileSync(`${BASE}.${jobid}.0/${sub}/f${i}`, "x".repeat(100 * i));
      fs.mkdirSync(`${BASE}.${jobid}.0/${sub}/d`);
    }
  }

  beforeEach(function () {
    requireRoot(this);
    fs.rmSync(ROOT, { recursive: true, force: true });
    fs.mkdirSync(`${ROOT}/jobs`, { recursive: true });
    conf = write(`${ROOT}/plugstack.conf`, [`required private-tmpdir.so ${ARGS.join(" ")}`]);
  });
  after(() => fs.rmSync(DIR, { recursive: true, force: true }));

  it("removes the job's directories silently, and counts what the plugin's own epilog counts", () => {
    makeDirs(10);
    makeDirs(11);
    const r = cli("cleanup", "--config", conf, "--job", "10", "--uid", String(UID));
    assert.deepStrictEqual(r, { status: 0, stdout: "", stderr: "" });
    assert.equal(fs.existsSync(`${BASE}.10.0`), false);
    assert.equal(fs.existsSync(`${BASE}.11.0`), true, "another job's directory is left alone");

    makeDirs(10);
    const v = cli("cleanup", "--config", conf, "--job", "10", "--uid", String(UID), "--verbose", "--progress");
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr, `private-tmpdir: removing ${BASE}.10.0 ...\n`);
    const plugin = loadAddon().coreRun(Phase.EPILOG, ARGS, 11, 0, UID, UID, 0, 0, false);
    assert.equal(plugin.ok, true, plugin.message);
    const s = plugin.removed;
    assert.match(
      v.stdout,
      new RegExp(
        `^private-tmpdir: job 10 uid ${UID}: removed ${s.bytes} bytes, ${s.files} files, ${s.dirs} directories in \\d+\\.\\d{3} s\\n$`,
      ),
    );
    assert.equal(s.files, 10);
  });

  it("with cleanup=no, --verbose says the directories were kept and marked, as the plugin logs it", () => {
    makeDirs(14);
    const keep = write(`${ROOT}/keep.conf`, [`required private-tmpdir.so ${ARGS.join(" ")} cleanup=no`]);
    const v = cli("cleanup", "--config", keep, "--job", "14", "--uid", String(UID), "--verbose");
    assert.equal(v.status, 0, v.stderr);
    assert.match(
      v.stdout,
      new RegExp(
        `^private-tmpdir: job 14 uid ${UID}: kept its directories \\(cleanup=no\\), marked them ended in \\d+\\.\\d{3} s\n$`,
      ),
    );
    assert.ok(fs.existsSync(`${BASE}.14.0/.private-tmpdir-ended`) && fs.existsSync(`${BASE}.14.0/tmp/f4`));
  });

  it("is idempotent: nothing to remove is success", () => {
    const r = cli("cleanup", "--config", conf, "--job", "12", "--uid", String(UID));
    assert.deepStrictEqual(r, { status: 0, stdout: "", stderr: "" });
  });

  it("refuses a directory not owned by the given uid, exits 1 and leaves it in place", () => {
    makeDirs(13);
    const r = cli("cleanup", "--config", conf, "--job", "13", "--uid", String(UID + 1));
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    // The plugin's own wording (native/core/core.c): the reason, then strerror.
    assert.equal(
      r.stderr,
      `${conf}:1: job 13: remove "${BASE}.13.0": slurm.13.0: owned by uid ${UID} (Operation not permitted)\n`,
    );
    assert.equal(fs.existsSync(`${BASE}.13.0/tmp/f1`), true);
  });

  it("cleanup --args removes the directories of a line no longer in plugstack.conf", () => {
    makeDirs(14);
    write(conf, ["# the plugin line is gone"]);
    const gone = cli("cleanup", "--config", conf, "--job", "14", "--uid", String(UID));
    assert.equal(gone.status, 1);
    assert.equal(fs.existsSync(`${BASE}.14.0`), true);
    const r = cli("cleanup", "--args", ` ${ARGS.join("\t ")} `, "--job", "14", "--uid", String(UID), "--verbose");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^private-tmpdir: job 14 uid 4242: removed \d+ bytes, 10 files, /);
    assert.equal(fs.existsSync(`${BASE}.14.0`), false);
    const p = cli("plan", "--args", ARGS.join(" "), "--job", "14", "--json");
    assert.equal(p.status, 0, p.stderr);
    assert.deepStrictEqual(
      (JSON.parse(p.stdout) as PlanJson).lines.map((l) => [l.file, l.line, l.args]),
      [["--args", 0, ARGS]],
    );
    const bad = cli("cleanup", "--args", `base=${BASE} mount=relative`, "--job", "14", "--uid", "0");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^--args: mount=relative: not an absolute path/);
  });

  it("refuses a base that is not UTF-8 rather than look for another directory", () => {
    const base = Buffer.concat([Buffer.from(`${ROOT}/jobs/s`), Buffer.from([0xe9])]);
    const dir = Buffer.concat([base, Buffer.from(".15.0")]);
    fs.mkdirSync(dir);
    fs.chownSync(dir, UID, UID);
    fs.writeFileSync(
      conf,
      Buffer.concat([Buffer.from("required private-tmpdir.so base="), base, Buffer.from(" mount=/tmp\n")]),
    );
    const r = cli("cleanup", "--config", conf, "--job", "15", "--uid", String(UID));
    assert.equal(r.status, 1, "it reported success and left the directory");
    assert.match(r.stderr, /^.*plugstack\.conf:1: base=.*\/jobs\/s\\xe9: not UTF-8: the plugin refuses this line too/);
    assert.equal(fs.existsSync(dir), true);
  });

  it("exits 1 without touching anything when the line is invalid", () => {
    write(conf, [`required private-tmpdir.so base=${BASE} mount=relative`]);
    const r = cli("cleanup", "--config", conf, "--job", "1", "--uid", "0");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /mount=relative: not an absolute path/);
  });
});
