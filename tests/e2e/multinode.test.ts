// "On every node of the job", on two hosts: the lab's two nodes are each in
// their own PID, mount, UTS and network namespaces (cluster.sh NETNS=1), with
// their own hostname, address on a bridge, /tmp, /run and spool, as two
// machines of a real cluster. Node 1 is no longer the machine the tests run
// on: its /tmp is its own, read through /proc/<its slurmd>/root.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { pluginLine } from "../helpers/plugin.js";
import { ALICE, OUT_DIR } from "../helpers/lab.js";
import { runAs, spawnAs } from "../helpers/clients.js";
import {
  type ClusterInfo,
  type LabNode,
  requireNetns,
  requireRootAndSlurm,
  startCluster,
  stopCluster,
} from "../helpers/cluster.js";
import { logMark, logSince } from "../helpers/daemon-logs.js";
import { type NsKind, nsOf, onNode } from "../helpers/node.js";
import { readStatus } from "../helpers/procfs.js";
import { waitFor } from "../helpers/wait.js";

const SEED = ["base=/tmp/slurm", "mount=/var/tmp", "mount=/tmp"];

/** srun -l's output by task number: "0: a\n1: b\n0: c" -> ["a\nc", "b"] */
function byTask(out: string): string[] {
  const tasks: string[][] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+): ?(.*)$/.exec(line);
    if (m) (tasks[Number(m[1])] ??= []).push(m[2] ?? "");
  }
  return tasks.map((t) => (t ?? []).join("\n"));
}

/** The pid of a process in the innermost PID namespace it is in. */
function innerPid(hostPid: number): number {
  const ns = (readStatus(hostPid).get("NSpid") ?? "").split(/\s+/);
  return Number(ns[ns.length - 1]);
}

describe("e2e: a two-node job, on two hosts", function () {
  let info: ClusterInfo;
  let nodes: readonly [LabNode, LabNode];
  before(function () {
    requireRootAndSlurm(this);
    requireNetns(this);
    info = startCluster({ plugstackLines: [pluginLine(SEED)], nodes: 2, netns: true });
    assert.equal(info.netns, true);
    assert.equal(info.nodes.length, 2, "two nodes started");
    nodes = info.nodes as [LabNode, LabNode];
  });
  after(() => stopCluster());

  it("each node has its own hostname (UTS), network, PID and mount namespaces, and its own address", () => {
    const kinds: NsKind[] = ["uts", "net", "pid", "mnt"];
    for (const kind of kinds) {
      const [a, b] = nodes.map((n) => nsOf(n.slurmdPid, kind));
      assert.notEqual(a, nsOf("self", kind), `node 1's ${kind} namespace is not the host's`);
      assert.notEqual(b, nsOf("self", kind), `node 2's ${kind} namespace is not the host's`);
      assert.notEqual(a, b, `the nodes' ${kind} namespaces differ`);
    }
    for (const n of nodes) {
      assert.deepStrictEqual([n.hostname, onNode(n, ["hostname"]).stdout.trim()], [n.name, n.name]);
      const addr = onNode(n, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
      assert.equal(addr.status, 0, addr.stderr);
      assert.match(addr.stdout, new RegExp(` inet ${(n.addr ?? "?").replace(/\./g, "\\.")}/24 `));
      // slurmd is not the node's init: a shell is, and reaps the orphans
      assert.notEqual(innerPid(n.slurmdPid), 1);
      // the lab's names resolve on every node as a cluster's DNS would
      for (const m of nodes) assert.match(onNode(n, ["getent", "hosts", m.name]).stdout, new RegExp(`^${m.addr} `));
    }
  });

  it("a job's steps run in their node's namespaces, under its hostname", () => {
    const r = runAs(ALICE, [
      "srun",
      "-N2",
      "-l",
      "sh",
      "-c",
      "hostname; readlink /proc/self/ns/uts /proc/self/ns/net /proc/self/ns/pid /proc/self/ns/mnt",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const tasks = byTask(r.stdout).map((t) => t.split("\n"));
    assert.deepStrictEqual(tasks.map((t) => t[0]).sort(), [nodes[0].name, nodes[1].name], r.stdout);
    for (const t of tasks) {
      const n = nodes.find((x) => x.name === t[0]) as LabNode;
      assert.deepStrictEqual(
        t.slice(1, 4),
        (["uts", "net", "pid"] as const).map((k) => nsOf(n.slurmdPid, k)),
        `${n.name}: the step's UTS, network and PID namespaces are its node's`,
      );
      // the plugin's mount namespace: the job's, neither the node's nor the host's
      assert.notEqual(t[4], nsOf(n.slurmdPid, "mnt"));
      assert.notEqual(t[4], nsOf("self", "mnt"));
    }
  });

  it("a step on one node sees only that node's processes, not the other node's nor the host's", () => {
    const tag = `${OUT_DIR}/ptd-mn-${process.pid}`;
    // Each task starts a marked process, waits until both have (a barrier
    // in the shared out/ directory), then lists every process it can see.
    fs.writeFileSync(
      `${tag}.sh`,
      `h=$(hostname)
(exec -a "ptd-mark-$h" sleep 60) &
m=$!
touch "${tag}.$h"
for i in $(seq 300); do [ -e "${tag}.${nodes[0].name}" ] && [ -e "${tag}.${nodes[1].name}" ] && break; sleep 0.1; done
echo "host $h"
for p in /proc/[0-9]*; do echo "proc \${p#/proc/} $(tr '\\0' ' ' <"$p/cmdline" 2>/dev/null)"; done
kill $m
`,
      { mode: 0o644 },
    );
    try {
      const r = runAs(ALICE, ["srun", "-N2", "-l", "bash", `${tag}.sh`]);
      assert.equal(r.status, 0, r.stderr);
      const tasks = byTask(r.stdout);
      assert.equal(tasks.length, 2, r.stdout);
      for (const out of tasks) {
        const name = /^host (\S+)$/m.exec(out)?.[1];
        const n = nodes.find((x) => x.name === name) as LabNode;
        const other = nodes.find((x) => x !== n) as LabNode;
        assert.ok(n, out);
        const procs = [...out.matchAll(/^proc (\d+) (.*)$/gm)].map((m) => ({ pid: Number(m[1]), cmd: m[2] ?? "" }));
        const cmds = procs.map((p) => p.cmd);
        assert.ok(
          cmds.some((c) => c.startsWith(`ptd-mark-${n.name}`)),
          `${n.name} sees its own marked process:\n${out}`,
        );
        assert.ok(!cmds.some((c) => c.includes(`ptd-mark-${other.name}`)), `${n.name} sees ${other.name}'s:\n${out}`);
        // exactly one slurmd, its own, under its pid in the node's namespace
        const slurmds = procs.filter((p) => /^(\S*\/)?slurmd /.test(p.cmd));
        assert.deepStrictEqual(
          slurmds.map((p) => [p.pid, p.cmd.includes(`-N ${n.name}`)]),
          [[innerPid(n.slurmdPid), true]],
          out,
        );
        // its init is the node's shell, and nothing of the host's is there
        assert.match(procs.find((p) => p.pid === 1)?.cmd ?? "", new RegExp(`cluster\\.sh node-init ${n.name}\\b`));
        assert.ok(!cmds.some((c) => /slurmctld|munged|mocha/.test(c)), `${n.name} sees host processes:\n${out}`);
      }
    } finally {
      for (const s of [".sh", `.${nodes[0].name}`, `.${nodes[1].name}`]) fs.rmSync(`${tag}${s}`, { force: true });
    }
  });

  it("gets its private directories on each node, and each node's epilog removes its own", async () => {
    const alice = Number(runAs("root", ["id", "-u", ALICE]).stdout.trim());
    // Each node's /tmp as its slurmd (and the job's steps there) see it.
    const [first, second] = nodes;
    const mark = logMark();
    const job = spawnAs(ALICE, [
      "srun",
      "-N2",
      "bash",
      "-c",
      "echo $SLURM_JOB_ID; touch /tmp/f-$(hostname) /var/tmp/v-$SLURMD_NODENAME; sleep 2",
    ]);
    const id = await waitFor(
      () =>
        fs
          .readdirSync(`${first.root}/tmp`)
          .map((n) => /^slurm\.(\d+)\.0$/.exec(n)?.[1])
          .find((j) => j && fs.existsSync(`${first.root}/tmp/slurm.${j}.0/tmp/f-${first.name}`)),
      20_000,
      { what: "the job on the first node" },
    );
    const dirs = nodes.map((n) => `${n.root}/tmp/slurm.${id}.0`);
    await waitFor(() => fs.existsSync(`${dirs[1]}/tmp/f-${second.name}`), 20_000, {
      what: "the job on the second node",
    });
    assert.equal(fs.existsSync(`/tmp/slurm.${id}.0`), false, "the host's /tmp is neither node's");
    nodes.forEach((n, i) => {
      const dir = dirs[i] as string;
      for (const p of [dir, `${dir}/tmp`, `${dir}/var_tmp`]) {
        const st = fs.statSync(p);
        assert.deepStrictEqual([st.uid, st.mode & 0o7777], [alice, 0o700], p);
      }
      assert.deepStrictEqual(fs.readdirSync(`${dir}/tmp`), [`f-${n.name}`], "each node holds only its own files");
      assert.deepStrictEqual(fs.readdirSync(`${dir}/var_tmp`), [`v-${n.name}`]);
    });
    const r = await job;
    assert.equal(r.status, 0, r.stderr);
    await waitFor(
      () =>
        (
          logSince(mark).match(
            new RegExp(`private-tmpdir: job ${id} uid \\d+: removed 0 bytes, 2 files, 3 directories`, "g"),
          ) ?? []
        ).length === 2,
      20_000,
      { what: "both nodes' epilog lines" },
    );
    for (const dir of dirs) assert.equal(fs.existsSync(dir), false, dir);
  });
});
