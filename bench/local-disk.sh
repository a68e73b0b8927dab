#!/bin/bash
# bench/local-disk.sh - what a local disk per job (disk=, #25) costs, on a
# real single-node Slurm (tests/slurm/cluster.sh, the lab of
# bench/bench-lab.sh), each figure against a bind-mounted path of the same
# plugin measured in the same run:
#
#   1. new job:   `srun -N1 true` as ptd-alice, a new job each time, and
#                 "turnaround" (srun's start until slurmctld reports the job
#                 COMPLETED, and until its loop device is detached), for
#                   bind       base=/tmp/slurm mount=/tmp mount=/var/tmp
#                   disk1g     base=/tmp/slurm mount=/tmp disk=/var/tmp size=1G
#                   disklarge  the same with size=$LARGE
#                 configurations alternating in ROUNDS blocks (the cluster
#                 restarted per block, the order rotated each round) so that
#                 drift hits all alike. Goal: disk= within +50 ms of bind.
#   2. I/O:       in one job (disk=/var/tmp size=$IO_SIZE, /tmp a bind on
#                 the same disk), alternating between /var/tmp (the job's
#                 disk) and /tmp (the bind), the first target swapped each
#                 round: `dd if=/dev/zero bs=1M count=$IO_MB conv=fsync`,
#                 and $IO_FILES files of one byte (bench/small_files.c,
#                 then syncfs); each removed (untimed) before the next.
#                 Goal: disk= >= 0.9x a bind's throughput.
#   3. job end:   jobs that leave $END_FILES files in /var/tmp against jobs
#                 that leave it empty, alternating job by job in one
#                 cluster per configuration (END_CONFIGS: disk, size
#                 $END_SIZE; bind, as context: its directory is removed by
#                 the plugin); times from the job's last task writing its
#                 last line ("task end") until srun returns, until
#                 slurmctld reports COMPLETED, and (disk) until no loop
#                 device of ours is left. Goal: full <= x1.1 of empty.
#   4. many jobs: CONC_JOBS batch jobs at once on the one node (a partition
#                 with OverSubscribe=FORCE:CONC_JOBS, added with
#                 cluster.sh's EXTRA_CONF), each with disk= size=$CONC_SIZE
#                 writing CONC_WRITE_MB MiB there, then waiting for a go:
#                 how long until all run, our loop devices in use, holders,
#                 MemAvailable before / lowest while they run / after, free
#                 space; after the go, that every loop device and holder
#                 is gone. The same with the bind configuration as the
#                 baseline (CONC_CONFIGS).
#   5. steps:     no Slurm: the plugin's steps by hand, with the tools
#                 (fallocate, mke2fs with the plugin's options, losetup
#                 --direct-io, mount, FS_IOC_SHUTDOWN is not done: umount,
#                 punch) on an unnamed-like image in /tmp/slurm.disk, at 1G
#                 and $LARGE, STEP_REPS times: where a new job's time goes.
#
# Run as root, from the repository, after `npm run build`. Slurm is started
# only by parts 1-4; each must hold the machine's lab lock, one part at a
# time (release it in between):
#   d=/var/spool/ptd-bench-lab/bench/disk-$(date +%Y%m%d-%H%M%S)
#   for p in 5 1 2 3 4; do
#     flock /run/ptd-e2e.lock env PARTS=$p DATA=$d bash bench/local-disk.sh
#   done
# Each run measures PARTS into DATA (appending), then prints the report of
# every part DATA holds (markdown on stdout, progress on stderr) and, with
# WRITE_DOC=1, replaces the section "## Local disk per job (disk=, #25)" of
# docs/benchmarks.md. `bash bench/local-disk.sh report DIR` only reports.
#
# Raw results in DATA:
#   <config>.tsv   part 1: "new<TAB>us" and "turn<TAB>srun_us<TAB>done_us
#                  <TAB>loopfree_us" (loopfree "-" for bind)
#   io.tsv         part 2: "dd|files<TAB>disk|bind<TAB>us"
#   end.tsv        part 3: "<config><TAB>full|empty<TAB>srun_us<TAB>done_us
#                  <TAB>loopfree_us" (from the task's end; "-" for bind)
#   conc.<config>.env  part 4: its figures (sourceable)
#   steps.tsv      part 5: "<size><TAB>fallocate|mkfs|losetup|mount|umount
#                  |punch<TAB>us"
#   slurmd.<config>.log, cluster.log, *.err, run.<part>.env (machine)
#
# Environment (defaults):
#   PARTS="1 2 3 4 5 6"  DATA=$PTD_LAB/bench/disk-<date>  WRITE_DOC=0
#   ROUNDS=3 REPS=30 TURN_REPS=15 LARGE=50G   part 1 (per configuration)
#   IO_REPS=6 IO_MB=2048 IO_FILES=100000 IO_SIZE=4G IO_SETTLE=5   part 2
#                  (IO_SETTLE: seconds of rest after a sync before each sample)
#   END_REPS=8 END_FILES=300000 END_SIZE=4G END_CONFIGS="disk bind"   part 3
#   CONC_JOBS=50 CONC_SIZE=256M CONC_WRITE_MB=32 CONC_CONFIGS="bind disk"
#   STEP_REPS=5   parts 5 and 6 (6 uses END_FILES and END_SIZE)
#   PTD_LAB, CTLD_PORT, SLURMD_PORT as bench/bench-lab.sh;
#   FIRST_JOB_ID=720000 (far from the e2e tests' and job-latency.sh's ids)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/bench-lab.sh"
PLUGIN_SO=${PTD_PLUGIN_SO:-$REPO/dist/native/private-tmpdir.so}
DOC=$REPO/docs/benchmarks.md
SECTION="Local disk per job (disk=, #25)"
IMAGES=/tmp/slurm.disk

PARTS=${PARTS:-"1 2 3 4 5 6"}
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-30}
TURN_REPS=${TURN_REPS:-15}
LARGE=${LARGE:-50G}
IO_REPS=${IO_REPS:-6}
IO_MB=${IO_MB:-2048}
IO_FILES=${IO_FILES:-100000}
IO_SIZE=${IO_SIZE:-4G}
IO_SETTLE=${IO_SETTLE:-5}
END_REPS=${END_REPS:-8}
END_FILES=${END_FILES:-300000}
END_SIZE=${END_SIZE:-4G}
END_CONFIGS=${END_CONFIGS:-"disk bind"}
CONC_JOBS=${CONC_JOBS:-50}
CONC_SIZE=${CONC_SIZE:-256M}
CONC_WRITE_MB=${CONC_WRITE_MB:-32}
CONC_CONFIGS=${CONC_CONFIGS:-"bind disk"}
STEP_REPS=${STEP_REPS:-5}
FIRST_JOB_ID=${FIRST_JOB_ID:-720000}
WRITE_DOC=${WRITE_DOC:-0}
DEFAULT_LAB=/var/spool/private-tmpdir-lab
BIND_ARGS="base=/tmp/slurm mount=/tmp mount=/var/tmp"
DISK_ARGS="base=/tmp/slurm mount=/tmp disk=/var/tmp"

say() { printf '[local-disk %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
now() { echo "${EPOCHREALTIME/./}"; }

# ------------------------------------------------------------------ report
. "$REPO/bench/stats.sh"
# sel FILE AWK-CONDITION COLUMNS... -> those columns of matching lines
sel() {
	local f=$1 cond=$2
	shift 2
	[ -e "$f" ] || return 0
	awk -F'\t' -v cols="$*" "$cond"' { n = split(cols, c, " "); s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") $c[i]; print s }' "$f"
}

report() {
	local D=$1 W out="" c
	W=$(mktemp -d)
	MACHINE=""
	for c in 5 6 1 2 3 4; do
		# shellcheck source=/dev/null
		[ -r "$D/run.$c.env" ] && . "$D/run.$c.env"
	done
	if [ -e "$D/bind.tsv" ]; then
		local b n1 t1 cfg
		for cfg in bind disk1g disklarge; do
			sel "$D/$cfg.tsv" '$1 == "new"' 2 >"$W/new.$cfg"
			sel "$D/$cfg.tsv" '$1 == "turn"' 2 3 4 >"$W/turn.$cfg"
		done
		b=$(med "$W/new.bind")
		t1=$(med "$W/turn.bind" 2)
		out+="### 1. New job

\`srun -N1 true\` as ptd-alice, a new job each time, each started once the previous one is gone from squeue and 0.2 s have passed (so that no job waits for the previous one's epilog: \"waited for the node\" counts srun's \"queued and waiting for resources\"); turnaround, a job at a time: from srun's start until slurmctld reports the job COMPLETED (its epilog done) and until its loop device is detached. ${P1_ROUNDS:-?} rounds, the configurations alternating (cluster restarted per block). \`bind\` is \`$BIND_ARGS\`; the disk= lines are \`$DISK_ARGS size=…\`: the only difference is what \`/var/tmp\` is.

| configuration | new job: median (IQR) ms | n | − bind | ÷ bind | waited for the node | turnaround, srun returns: median (IQR) ms | turnaround, COMPLETED | − bind | turnaround, loop device detached |
|---|---|---|---|---|---|---|---|---|---|
"
		for cfg in bind disk1g disklarge; do
			n1=$(med "$W/new.$cfg")
			local tc
			tc=$(med "$W/turn.$cfg" 2)
			local size=""
			case $cfg in disk1g) size=" (size=1G)" ;; disklarge) size=" (size=${P1_LARGE:-?})" ;; esac
			out+="| $cfg$size | $(cell "$W/new.$cfg") | $(cnt "$W/new.$cfg") | $(diffms "$n1" "$b") ms | ×$(ratio "$n1" "$b") | $(grep -c 'queued and waiting' "$D/new.$cfg.err" 2>/dev/null || true) of $(cnt "$W/new.$cfg") | $(cell "$W/turn.$cfg" 1) | $(cell "$W/turn.$cfg" 2) | $(diffms "$tc" "$t1") ms | $([ "$cfg" = bind ] && echo — || cell "$W/turn.$cfg" 3) |
"
		done
		out+="
Goal: a new job with disk= within +50 ms of a bind at any size: $(
			awk -v b="$b" -v a="$(med "$W/new.disk1g")" -v l="$(med "$W/new.disklarge")" 'BEGIN {
				printf "1G %+.1f ms, large %+.1f ms — %s.", a - b, l - b, (a - b <= 50 && l - b <= 50) ? "met" : "missed"
			}')

"
	fi
	if [ -e "$D/steps.tsv" ]; then
		local s st
		out+="### 5. Where a new job's time goes (the plugin's steps by hand)

No Slurm: the plugin's steps with the command-line tools on an image in \`$IMAGES\` (the same directory, the root ext4 on virtio): \`fallocate\`, \`mke2fs\` with the plugin's options (\`-q -F -t ext4 -b 4096 -m 0 -N <size/8K> -O has_journal,^resize_inode -E nodiscard,assume_storage_prezeroed=1\`), \`losetup --direct-io=on\`, \`mount -o nosuid,nodev\`, then \`umount\` and \`fallocate --punch-hole\` (the job's end; the plugin shuts the filesystem down with FS_IOC_SHUTDOWN instead of a clean unmount). Each tool's exec is included (a few ms); medians (IQR) in ms of ${P5_REPS:-?} runs.

| size | fallocate | mke2fs | losetup | mount | sum (start) | umount | punch |
|---|---|---|---|---|---|---|---|
"
		for s in $(cut -f1 "$D/steps.tsv" | awk '!seen[$0]++'); do
			out+="| $s "
			local sum=0 m
			for st in fallocate mkfs losetup mount umount punch; do
				sel "$D/steps.tsv" "\$1 == \"$s\" && \$2 == \"$st\"" 3 >"$W/st"
				m=$(med "$W/st")
				case $st in umount) out+="| $(awk -v s="$sum" 'BEGIN{printf "%.1f", s}') " ;; esac
				case $st in fallocate | mkfs | losetup | mount) sum=$(awk -v s="$sum" -v m="$m" 'BEGIN{print s + m}') ;; esac
				out+="| $(cell "$W/st") "
			done
			out+="|
"
		done
		out+="
"
	fi
	if [ -e "$D/end-steps.tsv" ]; then
		local kind st
		out+="### 6. Where a job's end goes (by hand)

No Slurm: an image of ${P6_SIZE:-?} made and mounted as in part 5, with ${P6_FILES:-?} files of one byte left in it (not synced, as a job leaves them) or nothing, then the holder's steps by hand: \`FS_IOC_SHUTDOWN\` (NOLOGFLUSH, from python3), \`fallocate --punch-hole\`, then \`umount\` (what the namespace's end does) and \`losetup -d\`; alternating, ${P6_REPS:-?} each; medians (IQR) in ms, exec included.

| left | shutdown | punch | umount | detach |
|---|---|---|---|---|
"
		for kind in empty full; do
			out+="| $([ "$kind" = full ] && echo "${P6_FILES:-?} files" || echo nothing) "
			for st in shutdown punch umount detach; do
				sel "$D/end-steps.tsv" "\$1 == \"$kind\" && \$2 == \"$st\"" 3 >"$W/st"
				out+="| $(cell "$W/st") "
			done
			out+="|
"
		done
		out+="
"
	fi
	if [ -e "$D/io.tsv" ]; then
		local m0 m1 what
		out+="### 2. I/O inside one job

One job with \`$DISK_ARGS size=${P2_SIZE:-?}\`: \`/var/tmp\` is the job's disk, \`/tmp\` a bind of a directory on the same root ext4; the targets alternate, the first one swapped each round, ${P2_REPS:-?} samples each; each file or tree is removed (not timed) before the next sample.

| load | bind /tmp: median (IQR) s | disk= /var/tmp: median (IQR) s | n each | bind MiB/s or files/s | disk= | disk= ÷ bind (throughput) |
|---|---|---|---|---|---|---|
"
		for what in dd files; do
			sel "$D/io.tsv" "\$1 == \"$what\" && \$2 == \"bind\"" 3 >"$W/io.bind"
			sel "$D/io.tsv" "\$1 == \"$what\" && \$2 == \"disk\"" 3 >"$W/io.disk"
			m0=$(med "$W/io.bind") m1=$(med "$W/io.disk")
			local amount label
			if [ "$what" = dd ]; then amount=${P2_MB:-2048} label="\`dd bs=1M count=${P2_MB:-?} conv=fsync\`"; else amount=${P2_FILES:-100000} label="${P2_FILES:-?} files of 1 byte + syncfs"; fi
			out+="| $label | $(stats "$W/io.bind" | awk '{printf "%.2f (%.2f-%.2f)", $2 / 1000, $3 / 1000, $4 / 1000}') | $(stats "$W/io.disk" | awk '{printf "%.2f (%.2f-%.2f)", $2 / 1000, $3 / 1000, $4 / 1000}') | $(cnt "$W/io.bind") | $(awk -v a="$amount" -v m="$m0" 'BEGIN{printf "%.0f", a / m * 1000}') | $(awk -v a="$amount" -v m="$m1" 'BEGIN{printf "%.0f", a / m * 1000}') | ×$(ratio "$m0" "$m1") |
"
		done
		out+="
Goal: ≥ 0.9× of a bind's throughput: $(
			for what in dd files; do
				sel "$D/io.tsv" "\$1 == \"$what\" && \$2 == \"bind\"" 3 >"$W/io.bind"
				sel "$D/io.tsv" "\$1 == \"$what\" && \$2 == \"disk\"" 3 >"$W/io.disk"
				awk -v w="$what" -v b="$(med "$W/io.bind")" -v d="$(med "$W/io.disk")" 'BEGIN { printf "%s ×%.3f (%s); ", w, b / d, (b / d >= 0.9) ? "met" : "missed" }'
			done)

"
	fi
	if [ -e "$D/end.tsv" ]; then
		local cfg kind e0 e1
		out+="### 3. Job end with ${P3_FILES:-?} files left

\`srun -N1\` jobs that create ${P3_FILES:-?} files of one byte in \`/var/tmp\` and leave them, against jobs that leave it empty, alternating job by job (${P3_REPS:-?} each); times from the job's task printing its last line (its end) until srun returns, until slurmctld reports COMPLETED (epilog done), and, for disk=, until the job's loop device is detached (the holder has shut the filesystem down and punched the image, the mount is gone). \`disk\` is \`$DISK_ARGS size=${P3_SIZE:-?}\`; \`bind\` (context) is \`$BIND_ARGS\`, whose directory the plugin removes.

| configuration | left in /var/tmp | → srun returns: median (IQR) ms | → COMPLETED | → loop device detached | n |
|---|---|---|---|---|---|
"
		for cfg in disk bind; do
			for kind in empty full; do
				sel "$D/end.tsv" "\$1 == \"$cfg\" && \$2 == \"$kind\"" 3 4 5 >"$W/end.$cfg.$kind"
				[ -s "$W/end.$cfg.$kind" ] || continue
				out+="| $cfg | $([ "$kind" = full ] && echo "${P3_FILES:-?} files" || echo nothing) | $(cell "$W/end.$cfg.$kind" 1) | $(cell "$W/end.$cfg.$kind" 2) | $([ "$cfg" = bind ] && echo — || cell "$W/end.$cfg.$kind" 3) | $(cnt "$W/end.$cfg.$kind") |
"
			done
		done
		e0=$(med "$W/end.disk.empty" 2) e1=$(med "$W/end.disk.full" 2)
		local l0 l1
		l0=$(med "$W/end.disk.empty" 3) l1=$(med "$W/end.disk.full" 3)
		out+="
Goal: a job ending with ${P3_FILES:-?} files on its disk ≤ ×1.1 of an empty one: until COMPLETED ×$(ratio "$e1" "$e0") ($(diffms "$e1" "$e0") ms), until the loop device is detached ×$(ratio "$l1" "$l0") ($(diffms "$l1" "$l0") ms) — $(awk -v a="$e1" -v b="$e0" 'BEGIN { print (a / b <= 1.1) ? "met" : "missed" }').

"
	fi
	local any=0
	for c in bind disk; do [ -r "$D/conc.$c.env" ] && any=1; done
	if [ "$any" = 1 ]; then
		out+="### 4. ${P4_JOBS:-?} jobs at once on one node

${P4_JOBS:-?} batch jobs submitted at once (\`sbatch -p over -n1\`, a partition with \`OverSubscribe=FORCE:${P4_JOBS:-?}\` on the 2-CPU node), each writing ${P4_WRITE_MB:-?} MiB with \`dd conv=fsync\` into \`/var/tmp\`, then waiting for a go; \`disk\` is \`$DISK_ARGS size=${P4_SIZE:-?}\`, \`bind\` is \`$BIND_ARGS\`. MemAvailable from /proc/meminfo: before the submission, lowest while the jobs ran (sampled every 0.25 s) and 5 s after the last job and loop device were gone.

| | bind | disk |
|---|---|---|
"
		local k label
		for c in bind disk; do
			# shellcheck source=/dev/null
			[ -r "$D/conc.$c.env" ] && . "$D/conc.$c.env"
			eval "R_$c=(\"\$C_STARTED\" \"\$C_ALL_S\" \"\$C_LOOPS\" \"\$C_HOLDERS\" \"\$C_MEM0\" \"\$C_MEMMIN\" \"\$C_MEM1\" \"\$C_FREE0\" \"\$C_FREEMIN\" \"\$C_COMPLETED\" \"\$C_END_S\" \"\$C_LEFT_LOOPS\" \"\$C_LEFT_HOLDERS\" \"\$C_STEPD_RSS\" \"\$C_HOLDER_RSS\")"
			unset C_STARTED C_ALL_S C_LOOPS C_HOLDERS C_MEM0 C_MEMMIN C_MEM1 C_FREE0 C_FREEMIN C_COMPLETED C_END_S C_LEFT_LOOPS C_LEFT_HOLDERS C_STEPD_RSS C_HOLDER_RSS
		done
		k=0
		for label in "jobs running at once (of ${P4_JOBS:-?})" "submission → all running, s" "our loop devices in use, most" "namespace holders, most" "MemAvailable before, MiB" "MemAvailable lowest while running, MiB" "MemAvailable after, MiB" "free on /, before, MiB" "free on /, lowest while running, MiB" "jobs COMPLETED" "go → last job and loop device gone, s" "loop devices of ours left after" "holders left after" "slurmstepd RSS, sum while running, MiB" "holders' RSS, sum while running, MiB"; do
			local vb vd
			eval "vb=\${R_bind[$k]:-—} vd=\${R_disk[$k]:-—}"
			out+="| $label | $vb | $vd |
"
			k=$((k + 1))
		done
		out+="
$(awk -v b0="${R_bind[4]:-0}" -v bm="${R_bind[5]:-0}" -v d0="${R_disk[4]:-0}" -v dm="${R_disk[5]:-0}" -v n="${P4_JOBS:-1}" 'BEGIN {
			if (b0 && d0) printf "MemAvailable drop while running: bind %d MiB, disk %d MiB: disk= adds %.1f MiB a job.", b0 - bm, d0 - dm, ((d0 - dm) - (b0 - bm)) / n
		}')

"
	fi
	rm -rf "$W"
	printf '%s' "$out" >"$D/report.md"
	printf '%s\nMachine: %s. Raw samples: %s\n' "$out" "$MACHINE" "$D"
}

write_doc() { # DIR
	local new_doc
	[ -e "$DOC" ] || die "$DOC missing"
	new_doc=$(mktemp)
	awk -v s="## $SECTION" '
		/^## / { skip = ($0 == s) }
		!skip' "$DOC" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$new_doc"
	cat "$new_doc" >"$DOC"
	rm -f "$new_doc"
	{
		printf '\n## %s\n\n' "$SECTION"
		cat "$1/report.md"
	} >>"$DOC"
	say "wrote $DOC"
}

if [ "${1:-}" = report ]; then
	[ -d "${2:-}" ] || { echo "usage: $0 report DIR" >&2; exit 2; }
	report "$2"
	[ "$WRITE_DOC" = 1 ] && write_doc "$2"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root"
[ -r "$PLUGIN_SO" ] || die "$PLUGIN_SO missing: run npm run build"
case "$PTD_LAB/" in /tmp/* | /var/tmp/*) die "PTD_LAB must not be under /tmp" ;; esac
DATA=${DATA:-$PTD_LAB/bench/disk-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$DATA"

# ------------------------------------------------------------- the cluster
cluster_up=0
cleanup_all() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$cluster_up" = 1 ]; then
		say "cleaning up"
		stop_cluster final || true
	fi
	if [ -r "$DEFAULT_LAB/run/cluster.env" ] && [ -r "$DEFAULT_LAB/etc/slurm.conf" ] &&
		head -n 1 /etc/slurm/slurm.conf 2>/dev/null | grep -q 'generated by private-tmpdir'; then
		install -m 0644 "$DEFAULT_LAB/etc/slurm.conf" /etc/slurm/slurm.conf
	fi
	[ "$(our_loops)" = 0 ] || say "WARNING: loop devices of ours left: $(losetup -l | grep -F "$IMAGES" || true)"
	exit "$rc"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

stop_cluster() { # [final]: a final stop leaves munged to a running default-lab cluster
	local keep=1
	if [ "${1:-}" = final ] && ! PTD_LAB=$DEFAULT_LAB bash "$CLUSTER_SH" status >/dev/null 2>&1; then
		keep=0
	fi
	KEEP_MUNGE=$keep bash "$CLUSTER_SH" stop 2>>"$DATA/cluster.log"
	[ "${1:-}" = final ] && cluster_up=0
	return 0
}

# start_cluster NAME "ARGS" [EXTRA_CONF]: (re)start the lab with the line
# `required <so> ARGS`
start_cluster() {
	local ps=$PTD_LAB/etc/plugstack.disk-$1.conf extra="FirstJobId=$FIRST_JOB_ID"
	[ -n "${3:-}" ] && extra+=$'\n'"$3"
	stop_cluster
	install -d -m 0755 "$PTD_LAB/etc"
	echo "required $PLUGIN_SO $2" >"$ps"
	cluster_up=1
	env PLUGSTACK="$ps" SHARED_ROOT=0 KEEP_MUNGE=1 EXTRA_CONF="$extra" bash "$CLUSTER_SH" start 2>>"$DATA/cluster.log" ||
		die "cluster start failed (see $DATA/cluster.log)"
	as_alice srun -N1 true >/dev/null 2>>"$DATA/warmup.err" || true
	grep -q 'private-tmpdir: loaded' "$PTD_LAB/log/slurmd.log" ||
		die "plugin not loaded (no 'private-tmpdir: loaded' in slurmd.log)"
	wait_loops 0 20 || die "a loop device of ours is still attached after the warm-up job"
}

# our_loops: how many loop devices are attached to an image of ours
our_loops() {
	local f n=0 b
	for f in /sys/block/loop*/loop/backing_file; do
		[ -r "$f" ] || continue
		b=$(cat "$f" 2>/dev/null) || continue
		case $b in "$IMAGES"/*) n=$((n + 1)) ;; esac
	done
	echo "$n"
}
# wait_loops MAX SECS: until at most MAX of ours are attached
wait_loops() {
	local end=$((SECONDS + $2))
	while [ "$(our_loops)" -gt "$1" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.01
	done
}
# wait_completed ID SECS: until slurmctld has the job COMPLETED (or any
# ended state); 10 ms between looks
wait_completed() {
	local end=$((SECONDS + $2)) st
	while :; do
		st=$(scontrol -o show job "$1" 2>/dev/null) || true
		case "$st" in *"JobState=COMPLETED "* | *"JobState=FAILED "* | *"JobState=CANCELLED "*) return 0 ;; esac
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.01
	done
}
mem_avail_mb() { awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo; }
free_mb() { df -Pm / | awk 'NR == 2 {print $4}'; }
holders() { pgrep -x ptd-nsholder | wc -l || true; }
rss_mb() { # comm: the sum of their RSS, MiB
	local p s=0 r
	for p in $(pgrep -x "$1" || true); do
		r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		s=$((s + ${r:-0}))
	done
	echo $((s / 1024))
}

# ------------------------------------------------------------------ run
KERNEL=$(uname -r)
MACHINE="$(date -u +%Y-%m-%dT%H:%MZ); $(nproc) vCPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $KERNEL, Slurm $(slurmd -V | awk '{print $2}'), $(. /etc/os-release && echo "$PRETTY_NAME"); / is $(findmnt -no FSTYPE,SOURCE /) ($(df -h --output=avail / | tail -n 1 | tr -d ' ') free); load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
say "data in $DATA; lab $PTD_LAB ports $CTLD_PORT/$SLURMD_PORT"
install -d -m 0755 "$PTD_LAB/bench"
SMALL=$PTD_LAB/bench/small_files
gcc -O2 -Wall -Wextra -Werror -o "$SMALL" "$REPO/bench/small_files.c" || die "cannot build bench/small_files.c"
chmod 0755 "$SMALL"

# ---- part 5: the steps by hand
if has_part 5; then
	declare -p MACHINE >"$DATA/run.5.env"
	echo "P5_REPS=$STEP_REPS" >>"$DATA/run.5.env"
	install -d -m 0700 "$IMAGES"
	t() { # name command...: times the command, a line of steps.tsv
		local t0 t1 name=$1
		shift
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		printf '%s\t%s\t%s\n' "$size" "$name" $((t1 - t0)) >>"$DATA/steps.tsv"
	}
	mnt=$PTD_LAB/bench/mnt
	install -d -m 0755 "$mnt"
	for ((r = 0; r < STEP_REPS; r++)); do
		for size in 1G "$LARGE"; do
			say "part 5: $size, $((r + 1))/$STEP_REPS"
			img=$IMAGES/bench-steps.img
			bytes=$(numfmt --from=iec "$size")
			inodes=$((bytes / 8192))
			rm -f "$img"
			sync
			t fallocate fallocate -l "$size" "$img"
			t mkfs /sbin/mke2fs -q -F -t ext4 -b 4096 -m 0 -N "$inodes" -O has_journal,^resize_inode \
				-E nodiscard,assume_storage_prezeroed=1,root_owner=0:0 "$img"
			t0=$(now)
			dev=$(losetup --find --show --direct-io=on --sector-size 4096 "$img")
			t1=$(now)
			printf '%s\tlosetup\t%s\n' "$size" $((t1 - t0)) >>"$DATA/steps.tsv"
			t mount mount -t ext4 -o nosuid,nodev "$dev" "$mnt"
			t umount umount "$mnt"
			losetup -d "$dev"
			t punch fallocate --punch-hole --keep-size -o 0 -l "$size" "$img"
			rm -f "$img"
		done
	done
fi

# ---- part 6: a job's end by hand
if has_part 6; then
	declare -p MACHINE >"$DATA/run.6.env"
	printf 'P6_REPS=%s\nP6_FILES=%s\nP6_SIZE=%s\n' "$STEP_REPS" "$END_FILES" "$END_SIZE" >>"$DATA/run.6.env"
	install -d -m 0700 "$IMAGES"
	mnt=$PTD_LAB/bench/mnt
	install -d -m 0755 "$mnt"
	img=$IMAGES/bench-end.img
	bytes=$(numfmt --from=iec "$END_SIZE")
	# e() name command...: times the command, a line of end-steps.tsv
	e() {
		local t0 t1 name=$1
		shift
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		printf '%s\t%s\t%s\n' "$kind" "$name" $((t1 - t0)) >>"$DATA/end-steps.tsv"
	}
	for ((r = 0; r < 2 * STEP_REPS; r++)); do
		kind=empty
		[ $(((r + r / 2) % 2)) = 1 ] && kind=full
		say "part 6: $kind, $((r + 1))/$((2 * STEP_REPS))"
		rm -f "$img"
		fallocate -l "$END_SIZE" "$img"
		/sbin/mke2fs -q -F -t ext4 -b 4096 -m 0 -N $((bytes / 8192)) -O has_journal,^resize_inode \
			-E nodiscard,assume_storage_prezeroed=1,root_owner=0:0 "$img"
		dev=$(losetup --find --show --direct-io=on --sector-size 4096 "$img")
		mount -t ext4 -o nosuid,nodev "$dev" "$mnt"
		[ "$kind" = full ] && "$SMALL" "$mnt/left" "$END_FILES" nosync
		# what the holder does: FS_IOC_SHUTDOWN (NOLOGFLUSH), punch; then
		# the namespace's end unmounts it and the loop device goes
		e shutdown python3 -c 'import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))' "$mnt"
		e punch fallocate --punch-hole --keep-size -o 0 -l "$END_SIZE" "$img"
		e umount umount "$mnt"
		e detach losetup -d "$dev"
		rm -f "$img"
	done
fi

# ---- part 1: new jobs
if has_part 1; then
	declare -p MACHINE >"$DATA/run.1.env"
	printf 'P1_ROUNDS=%s\nP1_LARGE=%s\n' "$ROUNDS" "$LARGE" >>"$DATA/run.1.env"
	cfgs=(bind disk1g disklarge)
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < 3; k++)); do
			cfg=${cfgs[$(((k + r) % 3))]}
			case $cfg in
			bind) args=$BIND_ARGS ;;
			disk1g) args="$DISK_ARGS size=1G" ;;
			disklarge) args="$DISK_ARGS size=$LARGE" ;;
			esac
			say "part 1, round $((r + 1))/$ROUNDS: $cfg"
			start_cluster "$cfg" "$args"
			as_alice bash -c '
				for ((i = 0; i < $1; i++)); do
					# the node free again first: the previous job gone
					# from squeue (its epilog done), then a pause
					while [ -n "$(squeue -h -u ptd-alice -o %i)" ]; do sleep 0.02; done
					sleep 0.2
					t0=${EPOCHREALTIME/./}
					srun -N1 true || { echo "srun failed" >&2; exit 1; }
					t1=${EPOCHREALTIME/./}
					echo $((t1 - t0))
				done' _ $(((REPS + ROUNDS - 1) / ROUNDS)) 2>>"$DATA/new.$cfg.err" |
				awk '{print "new\t" $1}' >>"$DATA/$cfg.tsv"
			wait_loops 0 30 || die "$cfg: loop devices left after the new jobs"
			for ((i = 0; i < (TURN_REPS + ROUNDS - 1) / ROUNDS; i++)); do
				read -r t0 t1 id < <(as_alice bash -c '
					t0=${EPOCHREALTIME/./}
					id=$(srun -N1 printenv SLURM_JOB_ID) || exit 1
					echo "$t0" "${EPOCHREALTIME/./}" "$id"') || die "$cfg: turnaround srun failed"
				wait_completed "$id" 20 || say "job $id not COMPLETED within 20 s"
				t2=$(now)
				t3=-
				if [ "$cfg" != bind ]; then
					wait_loops 0 20 || say "job $id: loop device still attached after 20 s"
					t3=$(($(now) - t0))
				fi
				printf 'turn\t%s\t%s\t%s\n' $((t1 - t0)) $((t2 - t0)) "$t3" >>"$DATA/$cfg.tsv"
			done
			cat "$PTD_LAB/log/slurmd.log" >>"$DATA/slurmd.$cfg.log"
		done
	done
	stop_cluster final
fi

# ---- part 2: I/O in one job
if has_part 2; then
	declare -p MACHINE >"$DATA/run.2.env"
	printf 'P2_REPS=%s\nP2_MB=%s\nP2_FILES=%s\nP2_SIZE=%s\n' "$IO_REPS" "$IO_MB" "$IO_FILES" "$IO_SIZE" >>"$DATA/run.2.env"
	start_cluster io "$DISK_ARGS size=$IO_SIZE"
	say "part 2: $IO_REPS rounds of dd $IO_MB MiB and $IO_FILES files, /var/tmp (disk) and /tmp (bind)"
	as_alice srun -N1 bash -c '
		set -e
		IO_REPS=$1 IO_MB=$2 IO_FILES=$3 SMALL=$4 SETTLE=$5
		one() { # what target dir
			local t0 t1
			# the same start for every sample: nothing dirty, the disk
			# idle for a while
			sync
			sleep "$SETTLE"
			t0=${EPOCHREALTIME/./}
			if [ "$1" = dd ]; then
				dd if=/dev/zero of="$3/ptd-io.bin" bs=1M count="$IO_MB" conv=fsync status=none
			else
				"$SMALL" "$3/ptd-files" "$IO_FILES"
			fi
			t1=${EPOCHREALTIME/./}
			printf "%s\t%s\t%s\n" "$1" "$2" $((t1 - t0))
			rm -rf "$3/ptd-io.bin" "$3/ptd-files"
			sync -f "$3"
		}
		[ "$(stat -f -c %T /var/tmp)" = ext2/ext3 ] || { echo "/var/tmp is not the job disk" >&2; exit 1; }
		for ((r = 0; r < IO_REPS; r++)); do
			for what in dd files; do
				if ((r % 2)); then one "$what" bind /tmp; one "$what" disk /var/tmp
				else one "$what" disk /var/tmp; one "$what" bind /tmp; fi
			done
			echo "round $((r + 1)) done" >&2
		done' _ "$IO_REPS" "$IO_MB" "$IO_FILES" "$SMALL" "$IO_SETTLE" >>"$DATA/io.tsv" 2>>"$DATA/io.err" ||
		die "part 2 job failed (see $DATA/io.err)"
	stop_cluster final
fi

# ---- part 3: job end with many files
if has_part 3; then
	declare -p MACHINE >"$DATA/run.3.env"
	printf 'P3_REPS=%s\nP3_FILES=%s\nP3_SIZE=%s\n' "$END_REPS" "$END_FILES" "$END_SIZE" >>"$DATA/run.3.env"
	for cfg in $END_CONFIGS; do
		case $cfg in
		disk) args="$DISK_ARGS size=$END_SIZE" ;;
		bind) args=$BIND_ARGS ;;
		*) die "END_CONFIGS: disk or bind" ;;
		esac
		start_cluster "end-$cfg" "$args"
		for ((i = 0; i < 2 * END_REPS; i++)); do
			kind=empty
			[ $(((i + i / 2) % 2)) = 1 ] && kind=full
			say "part 3, $cfg: job $((i + 1))/$((2 * END_REPS)) ($kind)"
			# the task's last line is its end time; then srun's return
			out=$(as_alice bash -c '
				srun -N1 bash -c "
					[ \$1 = full ] && \"\$2\" /var/tmp/left \"\$3\" nosync
					echo \$SLURM_JOB_ID \${EPOCHREALTIME/./}" _ "$@" || exit 1
				echo "${EPOCHREALTIME/./}"' _ "$kind" "$SMALL" "$END_FILES" 2>>"$DATA/end.err") ||
				die "part 3 job failed (see $DATA/end.err)"
			read -r id te <<<"$(head -n 1 <<<"$out")"
			ts=$(tail -n 1 <<<"$out")
			wait_completed "$id" 60 || say "job $id not COMPLETED within 60 s"
			tc=$(now)
			tl=-
			if [ "$cfg" = disk ]; then
				wait_loops 0 60 || say "job $id: loop device still attached after 60 s"
				tl=$(($(now) - te))
			fi
			printf '%s\t%s\t%s\t%s\t%s\n' "$cfg" "$kind" $((ts - te)) $((tc - te)) "$tl" >>"$DATA/end.tsv"
		done
		cat "$PTD_LAB/log/slurmd.log" >>"$DATA/slurmd.end-$cfg.log"
	done
	stop_cluster final
fi

# ---- part 4: many jobs at once
if has_part 4; then
	declare -p MACHINE >"$DATA/run.4.env"
	printf 'P4_JOBS=%s\nP4_SIZE=%s\nP4_WRITE_MB=%s\n' "$CONC_JOBS" "$CONC_SIZE" "$CONC_WRITE_MB" >>"$DATA/run.4.env"
	for cfg in $CONC_CONFIGS; do
		case $cfg in
		disk) args="$DISK_ARGS size=$CONC_SIZE" ;;
		bind) args=$BIND_ARGS ;;
		*) die "CONC_CONFIGS: disk or bind" ;;
		esac
		start_cluster "conc-$cfg" "$args" "PartitionName=over Nodes=ALL OverSubscribe=FORCE:$CONC_JOBS MaxTime=INFINITE State=UP"
		tag=conc-$cfg-$$
		go=$PTD_LAB/out/$tag.go
		rm -f "$PTD_LAB/out/$tag".*
		sync
		sleep 5
		mem0=$(mem_avail_mb) free0=$(free_mb) loops0=$(our_loops)
		say "part 4, $cfg: $CONC_JOBS jobs (MemAvailable $mem0 MiB)"
		t0=$(now)
		ids=()
		for ((i = 0; i < CONC_JOBS; i++)); do
			ids+=("$(as_alice sbatch --parsable -p over -n1 -o "$PTD_LAB/out/$tag.%j.out" --wrap "
				dd if=/dev/zero of=/var/tmp/w bs=1M count=$CONC_WRITE_MB conv=fsync status=none || echo dd failed
				stat -f -c %T /var/tmp
				touch $PTD_LAB/out/$tag.\$SLURM_JOB_ID.ready
				while [ ! -e $go ]; do sleep 0.2; done")") || die "sbatch failed"
		done
		memmin=$mem0 freemin=$free0 loopmax=0 holdmax=0 stepd_rss=0 holder_rss=0 all_s=- started=0
		end=$((SECONDS + 300))
		while [ "$SECONDS" -lt "$end" ]; do
			m=$(mem_avail_mb) f=$(free_mb) l=$(our_loops) h=$(holders)
			[ "$m" -lt "$memmin" ] && memmin=$m
			[ "$f" -lt "$freemin" ] && freemin=$f
			[ "$l" -gt "$loopmax" ] && loopmax=$l
			[ "$h" -gt "$holdmax" ] && holdmax=$h
			started=$(find "$PTD_LAB/out" -maxdepth 1 -name "$tag.*.ready" | wc -l)
			if [ "$started" -ge "$CONC_JOBS" ]; then
				all_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
				break
			fi
			sleep 0.25
		done
		# all running (or the bound passed): a few samples more
		for ((i = 0; i < 8; i++)); do
			m=$(mem_avail_mb) l=$(our_loops) h=$(holders)
			[ "$m" -lt "$memmin" ] && memmin=$m
			[ "$l" -gt "$loopmax" ] && loopmax=$l
			[ "$h" -gt "$holdmax" ] && holdmax=$h
			sleep 0.25
		done
		stepd_rss=$(rss_mb slurmstepd) holder_rss=$(rss_mb ptd-nsholder)
		say "part 4, $cfg: $started running after ${all_s}s, $loopmax loop devices, $holdmax holders; go"
		touch "$go"
		tg=$(now)
		end=$((SECONDS + 300))
		while [ "$SECONDS" -lt "$end" ]; do
			[ -z "$(squeue -h -p over -t PENDING,CONFIGURING,RUNNING,COMPLETING -o %i 2>/dev/null)" ] &&
				[ "$(our_loops)" -le "$loops0" ] && break
			sleep 0.1
		done
		end_s=$(awk -v a="$tg" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
		completed=0
		for id in "${ids[@]}"; do
			scontrol -o show job "$id" 2>/dev/null | grep -q 'JobState=COMPLETED ' && completed=$((completed + 1))
		done
		sleep 5
		sync
		cat >"$DATA/conc.$cfg.env" <<-EOF
			C_STARTED=$started
			C_ALL_S=$all_s
			C_LOOPS=$loopmax
			C_HOLDERS=$holdmax
			C_MEM0=$mem0
			C_MEMMIN=$memmin
			C_MEM1=$(mem_avail_mb)
			C_FREE0=$free0
			C_FREEMIN=$freemin
			C_COMPLETED=$completed
			C_END_S=$end_s
			C_LEFT_LOOPS=$(($(our_loops) - loops0))
			C_LEFT_HOLDERS=$(holders)
			C_STEPD_RSS=$stepd_rss
			C_HOLDER_RSS=$holder_rss
		EOF
		cat "$PTD_LAB/out/$tag".*.out >"$DATA/conc.$cfg.out" 2>/dev/null || true
		rm -f "$PTD_LAB/out/$tag".*
		cat "$PTD_LAB/log/slurmd.log" >>"$DATA/slurmd.conc-$cfg.log"
	done
	stop_cluster final
fi

report "$DATA"
[ "$WRITE_DOC" = 1 ] && write_doc "$DATA"
exit 0
