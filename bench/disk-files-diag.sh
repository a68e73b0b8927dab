#!/bin/bash
# bench/disk-files-diag.sh - why 100,000 small files are slow the second time on
# a disk= (docs/benchmarks.md, "Local disk per job"): a 4 GiB image made as
# mkfs.c does (OPTS: the mke2fs -O/-E options; default the plugin's, with
# its journal; OPTS="-O ^has_journal,^resize_inode -E nodiscard" shows the
# slowness the first build had), on a
# loop device (MODES: dio, nodio, prewritten), then PASSES of "create
# 100,000 files, syncfs, rm -rf". Root, no Slurm; run bench/local-disk.sh
# once first (it builds small_files). Prints one line a pass.

set -euo pipefail
SMALL=/var/spool/ptd-bench-lab/bench/small_files
IMG=/tmp/slurm.disk/diag.img
MNT=/var/spool/ptd-bench-lab/bench/mnt
now() { echo "${EPOCHREALTIME/./}"; }
for mode in ${MODES:-dio nodio prewritten}; do
	rm -f $IMG; sync
	if [ $mode = prewritten ]; then dd if=/dev/zero of=$IMG bs=4M count=1024 conv=fsync status=none; else fallocate -l 4G $IMG; fi
	# shellcheck disable=SC2086 # OPTS is a list of options
	/sbin/mke2fs -q -F -t ext4 -b 4096 -m 0 -N 524288 ${OPTS:--O has_journal,^resize_inode -E nodiscard,assume_storage_prezeroed=1} $IMG
	dio=on; [ $mode = nodio ] && dio=off
	dev=$(losetup --find --show --direct-io=$dio --sector-size 4096 $IMG)
	mount -t ext4 -o nosuid,nodev $dev $MNT
	for pass in $(seq "${PASSES:-3}"); do
		sync; sleep 2
		t0=$(now); $SMALL $MNT/f 100000 nosync; t1=$(now); sync -f $MNT; t2=$(now)
		echo "$mode pass $pass: create $(( (t1-t0)/1000 )) ms, syncfs $(( (t2-t1)/1000 )) ms; extents of image: $(filefrag $IMG | awk '{print $2}')"
		rm -rf $MNT/f; sync -f $MNT
	done
	umount $MNT; losetup -d $dev 2>/dev/null || true; rm -f $IMG
done
