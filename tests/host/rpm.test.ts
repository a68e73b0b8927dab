// The RPM (packaging/rpm/private-tmpdir.spec, #14), built with this machine's
// rpmbuild (Debian's rpm) from the source tarball, on this machine's Slurm
// headers (libslurm-dev; --nodeps because Debian's rpm database has no
// slurm-devel): its files, its slurm-slurmd requirement, its version, its
// config file and the plugin in it. Everything under one fresh directory in
// /var/tmp (never /tmp: the product privatises it), removed afterwards.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repo = (p: string): string => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const SPEC = repo("packaging/rpm/private-tmpdir.spec");
const SLURM_VERSION_H = "/usr/include/slurm/slurm_version.h";
const VERSION = (JSON.parse(fs.readFileSync(repo("package.json"), "utf8")) as { version: string }).version;

/** Runs a command; its stdout, or a failure with everything it said. */
function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): string {
  const r = spawnSync(cmd, args, { ...opts, encoding: "utf8", maxBuffer: 64 << 20, timeout: 280_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const haveCommand = (name: string): boolean => spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
const lines = (s: string): string[] => s.split("\n").filter((l) => l !== "");
const rpmEval = (macro: string): string => run("rpm", ["--eval", macro]).trim();
const pad2 = (n: number): string => String(n).padStart(2, "0");

/** SLURM_VERSION_NUMBER of this machine's headers: 0xMMmmuu. */
function slurmVersionNumber(): number {
  const m = /^#define\s+SLURM_VERSION_NUMBER\s+0x([0-9a-fA-F]+)\s*$/m.exec(fs.readFileSync(SLURM_VERSION_H, "utf8"));
  assert.ok(m?.[1], `no SLURM_VERSION_NUMBER in ${SLURM_VERSION_H}`);
  return parseInt(m[1], 16);
}

/** An ELF64 little-endian file's type (e_type) and the 4 bytes at a virtual address. */
function elf(file: Buffer): { type: number; u32At: (vaddr: number) => number } {
  assert.ok(file.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), "not an ELF file");
  assert.equal(file[4], 2, "not ELFCLASS64");
  assert.equal(file[5], 1, "not little-endian");
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  return {
    type: file.readUInt16LE(0x10),
    u32At(vaddr: number): number {
      for (let i = 0; i < shnum; i++) {
        const sh = shoff + i * shentsize;
        const type = file.readUInt32LE(sh + 0x04);
        const addr = Number(file.readBigUInt64LE(sh + 0x10));
        const offset = Number(file.readBigUInt64LE(sh + 0x18));
        const size = Number(file.readBigUInt64LE(sh + 0x20));
        // SHT_NOBITS (8) has no bytes in the file; address 0: not loaded.
        if (type !== 8 && addr !== 0 && vaddr >= addr && vaddr + 4 <= addr + size) {
          return file.readUInt32LE(offset + (vaddr - addr));
        }
      }
      throw new Error(`address 0x${vaddr.toString(16)} is in no section`);
    },
  };
}

describe("RPM package (packaging/rpm/private-tmpdir.spec)", function () {
  this.timeout(300_000);

  it("the spec's Version is package.json's version", () => {
    const m = /^Version:\s*(\S+)\s*$/m.exec(fs.readFileSync(SPEC, "utf8"));
    assert.equal(m?.[1], VERSION);
  });

  describe("built with rpmbuild -bb from the source tarball", function () {
    let work = "";
    let rpmFile = "";
    let mm = "";
    let next = "";

    before(function () {
      const missing = ["rpmbuild", "rpm", "rpmspec", "rpm2archive"].filter((c) => !haveCommand(c));
      if (missing.length > 0) {
        const msg = `RPM tests cannot run: missing ${missing.join(", ")} (Debian package rpm: apt-get install rpm)`;
        if (process.env["CI"]) throw new Error(`${msg} (CI is set: failing instead of skipping)`);
        console.warn(`    SKIPPED: ${msg}`);
        this.skip();
      }
      assert.ok(fs.existsSync(SLURM_VERSION_H), `${SLURM_VERSION_H} is missing (Debian package libslurm-dev)`);
      // make install (and so %install) installs it; dist.sh ships man/.
      assert.ok(
        fs.existsSync(repo("man/private-tmpdir.8")),
        "man/private-tmpdir.8 is missing: the package's %files needs it",
      );
      const n = slurmVersionNumber();
      mm = `${(n >> 16) & 0xff}.${pad2((n >> 8) & 0xff)}`;
      next = `${(n >> 16) & 0xff}.${pad2(((n >> 8) & 0xff) + 1)}`;

      const tarball = lines(run("bash", [repo("scripts/dist.sh")])).pop() ?? "";
      assert.equal(path.basename(tarball), `private-tmpdir-${VERSION}-src.tar.gz`);
      work = fs.mkdtempSync("/var/tmp/ptd-rpm-test.");
      for (const d of ["SOURCES", "SPECS", "extracted"]) fs.mkdirSync(path.join(work, d));
      fs.copyFileSync(tarball, path.join(work, "SOURCES", path.basename(tarball)));
      // The spec the tarball carries, not the work tree's.
      run("tar", [
        "-xzf",
        tarball,
        "-C",
        path.join(work, "SPECS"),
        "--strip-components=3",
        `private-tmpdir-${VERSION}/packaging/rpm/private-tmpdir.spec`,
      ]);
      const spec = path.join(work, "SPECS", "private-tmpdir.spec");
      // rpmbuild's own scripts go to %_tmppath: under the work directory too.
      fs.mkdirSync(path.join(work, "tmp"));
      run("rpmbuild", ["-bb", "--nodeps", "--define", `_topdir ${work}`, "--define", `_tmppath ${work}/tmp`, spec]);
      const rpms = fs
        .readdirSync(path.join(work, "RPMS"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".rpm"));
      assert.equal(rpms.length, 1, `one binary RPM, not ${rpms.join(", ")}`);
      rpmFile = path.join(work, "RPMS", rpms[0] ?? "");
    });

    after(() => {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("the tarball carries the spec, identical to packaging/rpm's", () => {
      assert.equal(
        fs.readFileSync(path.join(work, "SPECS", "private-tmpdir.spec"), "utf8"),
        fs.readFileSync(SPEC, "utf8"),
      );
    });

    it("holds exactly the plugin, the PAM module, the man page, the snippet and its directory, LICENSE, README and the deploying guide", () => {
      const libdir = rpmEval("%{_libdir}");
      const etc = rpmEval("%{_sysconfdir}");
      // %doc and %license directories: <name>-<version> unless the
      // distribution's %_docdir_fmt says otherwise (Fedora: <name>).
      const fmtMacro = rpmEval("%{_docdir_fmt}");
      const fmt = (fmtMacro === "%{_docdir_fmt}" ? "%{NAME}-%{VERSION}" : fmtMacro)
        .replaceAll("%{NAME}", "private-tmpdir")
        .replaceAll("%{VERSION}", VERSION);
      const doc = `${rpmEval("%{_defaultdocdir}")}/${fmt}`;
      const lic = `${rpmEval("%{_defaultlicensedir}")}/${fmt}`;
      const files = lines(run("rpm", ["-qlp", rpmFile]));
      // brp-compress may compress the man page (RHEL: .gz).
      const man = new RegExp(`^${rpmEval("%{_mandir}")}/man8/private-tmpdir\\.8(\\.gz|\\.bz2|\\.xz|\\.zst)?$`);
      assert.equal(files.filter((f) => man.test(f)).length, 1, `one man page in\n${files.join("\n")}`);
      assert.deepStrictEqual(
        files.filter((f) => !man.test(f)).sort(),
        [
          `${etc}/slurm/plugstack.conf.d`,
          `${etc}/slurm/plugstack.conf.d/private-tmpdir.conf`,
          `${libdir}/security/pam_private_tmpdir.so`,
          `${libdir}/slurm/private-tmpdir.so`,
          `${libdir}/slurm/private-tmpdir-contain.so`,
          doc,
          `${doc}/README`,
          `${doc}/deploying.md`,
          lic,
          `${lic}/LICENSE`,
        ].sort(),
      );
    });

    it("requires the slurm-slurmd major.minor of this machine's slurm_version.h, and its Release names it", () => {
      const reqs = lines(run("rpm", ["-qp", "--requires", rpmFile])).map((l) => l.trim());
      assert.deepStrictEqual(
        reqs.filter((r) => r.startsWith("slurm")).sort(),
        [`slurm-slurmd < ${next}`, `slurm-slurmd >= ${mm}`],
        reqs.join("\n"),
      );
      assert.ok(reqs.includes(`${rpmEval("%{_bindir}")}/squeue`), `squeue, which the remover runs: ${reqs.join(" ")}`);
      assert.match(
        run("rpm", ["-qp", "--qf", "%{RELEASE}", rpmFile]),
        new RegExp(`^1\\.slurm${mm.replace(".", "\\.")}(\\.|$)`),
      );
    });

    it("has package.json's version and the project's licence", () => {
      assert.equal(run("rpm", ["-qp", "--qf", "%{VERSION}", rpmFile]), VERSION);
      assert.equal(run("rpm", ["-qp", "--qf", "%{LICENSE}", rpmFile]), "GPL-2.0-or-later");
    });

    it("marks the plugstack.conf.d snippet as a config file, not replaced on upgrade", () => {
      const snippet = `${rpmEval("%{_sysconfdir}")}/slurm/plugstack.conf.d/private-tmpdir.conf`;
      assert.deepStrictEqual(lines(run("rpm", ["-qp", "--configfiles", rpmFile])), [snippet]);
      const flags = lines(run("rpm", ["-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpmFile]));
      assert.ok(flags.includes(`${snippet} cn`), `config(noreplace): ${flags.join("\n")}`);
    });

    it("--define 'slurm_mm 24.11' overrides the headers' major.minor", () => {
      const spec = path.join(work, "SPECS", "private-tmpdir.spec");
      const q = (fmt: string): string[] =>
        lines(run("rpmspec", ["-q", "--define", "slurm_mm 24.11", "--qf", fmt, spec]));
      assert.deepStrictEqual(
        q("[%{REQUIRES} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]")
          .map((l) => l.trim())
          .sort(),
        [`${rpmEval("%{_bindir}")}/squeue`, "slurm-slurmd < 24.12", "slurm-slurmd >= 24.11"],
      );
      assert.match(q("%{RELEASE}\n")[0] ?? "", /^1\.slurm24\.11(\.|$)/);
    });

    it("packages a private-tmpdir.so that is an ELF shared object exporting the SPANK symbols, for this Slurm", () => {
      const tar = spawnSync("rpm2archive", ["-n", "-"], { input: fs.readFileSync(rpmFile), maxBuffer: 64 << 20 });
      assert.equal(tar.status, 0, `rpm2archive: ${tar.stderr?.toString()}`);
      const out = path.join(work, "extracted");
      const x = spawnSync("tar", ["-xf", "-", "-C", out], { input: tar.stdout });
      assert.equal(x.status, 0, `tar: ${x.stderr?.toString()}`);
      const so = path.join(out, rpmEval("%{_libdir}"), "slurm", "private-tmpdir.so");
      const image = elf(fs.readFileSync(so));
      assert.equal(image.type, 3, "ET_DYN: a shared object");
      const syms = new Map<string, [string, number]>();
      for (const l of lines(run("nm", ["-D", "--defined-only", so]))) {
        const m = /^([0-9a-f]+) (\S) (\S+)$/.exec(l);
        if (m?.[1] && m[2] && m[3]) syms.set(m[3], [m[2], parseInt(m[1], 16)]);
      }
      assert.equal(syms.get("slurm_spank_init")?.[0], "T", "slurm_spank_init, a function");
      for (const s of ["plugin_name", "plugin_type", "plugin_version", "spank_plugin_version"]) {
        assert.ok(syms.has(s), `SPANK_PLUGIN's ${s}`);
      }
      // What slurmstepd compares at load: the headers' SLURM_VERSION_NUMBER.
      const at = syms.get("plugin_version")?.[1] ?? 0;
      assert.equal(image.u32At(at).toString(16), slurmVersionNumber().toString(16), "plugin_version");
      // The build for PrologFlags=Contain: the same callbacks but the job
      // epilog, whose mere presence makes slurmd run an epilog process.
      assert.equal(syms.get("slurm_spank_job_epilog")?.[0], "T", "private-tmpdir.so has a job epilog");
      const contain = path.join(out, rpmEval("%{_libdir}"), "slurm", "private-tmpdir-contain.so");
      const cs = new Set(lines(run("nm", ["-D", "--defined-only", contain])).map((l) => l.split(" ")[2]));
      for (const s of ["slurm_spank_init", "slurm_spank_init_post_opt", "slurm_spank_exit", "spank_plugin_version"]) {
        assert.ok(cs.has(s), `private-tmpdir-contain.so has ${s}`);
      }
      assert.equal(cs.has("slurm_spank_job_epilog"), false, "private-tmpdir-contain.so has no job epilog");
    });
  });
});
