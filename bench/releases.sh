#!/bin/bash
# bench/releases.sh - the plugin's cost per Slurm release: bench/job-latency.sh
# parts 1 (new job) and 2 (steps in one allocation) on this machine's Slurm
# (Debian 12: 22.05) and inside the trixie (24.11) and sid (26.05) release
# roots (tests/slurm/release-root.sh), each against the same release with an
# empty plugstack in the same run. Replaces the section "## Per Slurm release"
# of docs/benchmarks.md (unless WRITE_DOC=0). Run as root after npm run build
# and scripts/test-release.sh (which builds each root's plugin).
#   RELEASES="bookworm trixie sid" REPS=30 TURN_REPS=15 STEP_REPS=30 ROUNDS=2
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
RR=$REPO/tests/slurm/release-root.sh
RELEASES=${RELEASES:-bookworm trixie sid}
export REPS=${REPS:-30} TURN_REPS=${TURN_REPS:-15} STEP_REPS=${STEP_REPS:-30} ROUNDS=${ROUNDS:-2}
DOC=$REPO/docs/benchmarks.md
OUT=$(mktemp -d /var/tmp/ptd-bench-releases.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
SO=/usr/lib/x86_64-linux-gnu/slurm-wlm/private-tmpdir.so

for rel in $RELEASES; do
	echo "bench/releases.sh: $rel" >&2
	if [ "$rel" = bookworm ]; then
		PARTS="1 2" WRITE_DOC=0 bash "$REPO/bench/job-latency.sh" >"$OUT/$rel.md"
		ver=$(slurmd -V | awk '{print $2}')
	else
		bash "$RR" enter "$rel" env PTD_PLUGIN_SO="$SO" PARTS="1 2" WRITE_DOC=0 REPS="$REPS" \
			TURN_REPS="$TURN_REPS" STEP_REPS="$STEP_REPS" ROUNDS="$ROUNDS" \
			bash "$REPO/bench/job-latency.sh" >"$OUT/$rel.md"
		ver=$(bash "$RR" versions "$rel" | awk '$1 == "slurmd" {print $2}')
	fi
	echo "$ver" >"$OUT/$rel.ver"
	if [ "$rel" = bookworm ]; then so_file=$REPO/dist/native/private-tmpdir.so; else so_file=${PTD_ROOTS:-/var/cache/private-tmpdir/roots}/$rel$SO; fi
	stat -c %s "$so_file" >"$OUT/$rel.size"
	sha256sum "$so_file" | cut -c1-12 >"$OUT/$rel.sha"
done

table="| Slurm | measure | no plugin: median (IQR) ms | plugin: median (IQR) ms | n each | plugin / no plugin |
|---|---|---|---|---|---|"
for rel in $RELEASES; do
	while IFS= read -r row; do
		table+="
| $(cat "$OUT/$rel.ver") ($rel) $row"
	done < <(grep -E '^\| (`srun|turnaround)' "$OUT/$rel.md")
done
sizes="| Slurm | private-tmpdir.so (stripped) | sha256 (first 12) |
|---|---:|---|"
for rel in $RELEASES; do
	sizes+="
| $(cat "$OUT/$rel.ver") ($rel) | $(cat "$OUT/$rel.size") bytes | $(cat "$OUT/$rel.sha") |"
done
printf '%s\n\n%s\n' "$table" "$sizes"
[ "${WRITE_DOC:-1}" = 1 ] || exit 0

section="## Per Slurm release

What it measures: \`bench/job-latency.sh\` parts 1 and 2 (see the sections above for what each row is) on each supported release, the plugin built for that release from the source tarball (inside a release root for 24.11 and 26.05: same machine, same kernel, the daemons of that release), each against the same release with an empty plugstack, alternating in $ROUNDS blocks. Ratios compare columns of one row only; absolute times differ between releases because the daemons do.

$table

$sizes

How to read it: the machine is a 2-vCPU VM, shared during this run with builds and tests of other work, so compare the two columns of a row, which alternate, not rows of different releases. On every release the plugin costs a new job the same kind of thing as on 22.05 (the \`slurmstepd spank epilog\` process slurmd forks for any plugin with a job epilog: the job holds the node ≈13–20 ms longer), and nothing measurable for a step in an existing allocation (within ±5 %, noise). On 24.11 the \`job COMPLETED\` turnaround is bimodal in *both* configurations: a share of the jobs (here 5 of 16 without the plugin, 8 of 16 with it) is reported COMPLETED only ≈5.07 s after srun started, the rest in ≈55–115 ms; the median then falls in whichever mode holds the middle sample, so that row's ratio says nothing about the plugin. The cause is in Slurm 24.11 (it happens with an empty plugstack too; 22.05 and 26.05 do not show it) and was not chased further here. The .so is the same size on 24.11 and 26.05 (wabt 1.0.36 and 1.0.42 generate code of one shape) and 4 KiB larger than on 22.05; each release's build is byte-reproducible (\`tests/e2e/tarball-build.test.ts\`), and all three embed the same core.wasm.

Reproduce: \`sudo RELEASES=\"$RELEASES\" REPS=$REPS TURN_REPS=$TURN_REPS STEP_REPS=$STEP_REPS ROUNDS=$ROUNDS bash bench/releases.sh\` ($(date -u +%Y-%m-%d), $(nproc) vCPU)."
new=$(mktemp "$OUT/doc.XXXXXX")
awk '/^## / { skip = ($0 == "## Per Slurm release") } !skip' "$DOC" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$new"
printf '\n%s\n' "$section" >>"$new"
cat "$new" >"$DOC"
