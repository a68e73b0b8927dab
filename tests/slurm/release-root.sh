#!/bin/bash
# release-root.sh - another Debian release's Slurm, for the end-to-end tests.
#
#   release-root.sh ensure SUITE    build (debootstrap) or refresh the root of
#                                   SUITE (trixie, sid) and print its path
#   release-root.sh enter SUITE CMD...
#                                   run CMD as root inside the root: its own
#                                   mount namespace in which the root is a real
#                                   mount point ("/", pivot_root), with its own
#                                   /proc, /sys, /dev, tmpfs /run and /tmp; the
#                                   repository and Node.js of the host are bound
#                                   in at the same paths. It is also its own PID
#                                   namespace: when CMD ends, every daemon it
#                                   started ends with it. PTD_FRESH=1: in a
#                                   throwaway copy of the root (an overlay),
#                                   without the plugin "build" installed.
#   release-root.sh build SUITE TARBALL
#                                   build the plugin inside the root from the
#                                   source tarball (scripts/dist.sh) as an admin
#                                   of that release would (make -C native, that
#                                   release's gcc, Slurm headers and wabt), and
#                                   install it in that Slurm's plugin directory;
#                                   prints its path inside the root
#   release-root.sh versions SUITE  the installed versions of the packages the
#                                   tests depend on, one "name version" a line
#
# Roots live in $PTD_ROOTS (default /var/cache/private-tmpdir/roots), outside
# any clone, so CI reuses them. A root is rebuilt when it is missing or
# incomplete, and upgraded in place when the mirror has other versions of its
# packages than the ones it holds (checked with apt-get update at each ensure).
#
# Why not a chroot: under chroot "/" is not a mount point, and the plugin's
# mount(NULL, "/", MS_SLAVE|MS_REC) would act on the host's mount.
set -euo pipefail

PTD_ROOTS=${PTD_ROOTS:-/var/cache/private-tmpdir/roots}
MIRROR=${PTD_MIRROR:-http://deb.debian.org/debian}
# What the tests need inside: that release's Slurm and the tarball's build
# dependencies (no Node.js: the host's is bound in), plus the tools the
# harness calls (iproute2: the two-node lab's bridge and veths, cluster.sh
# NETNS=1).
PKGS=(slurmd slurmctld slurm-client munge libslurm-dev wabt gcc make libc6-dev
      libstdc++6 passwd util-linux mount procps hostname findutils tar gzip
      python3-minimal bsdutils libpam0g-dev openssh-server openssh-client
      libpam-slurm-adopt xvfb x11-utils iproute2 e2fsprogs)
# What building the .deb needs (packaging/build-deb.sh): installed by apt
# after debootstrap, whose --include cannot configure lintian's Perl stack.
DEB_PKGS=(build-essential debhelper dpkg-dev lintian)
# What only some releases have: the container runtimes jobs start
# (tests/e2e/containers.test.ts), and busybox-static, from which the tests
# make an image offline. Installed by apt after debootstrap, as DEB_PKGS, and
# tracked in the stamp, as PKGS. Apptainer is packaged in sid only; rootless
# podman needs uidmap's newuidmap, and runc because crun refuses a host with
# cgroup v1 and v2 controllers both mounted (hybrid), as CI's is.
# fuse3 and bindfs too, in every release: bookworm's bindfs depends on
# "fuse | fuse3", and debootstrap, which takes the first of alternatives,
# then unpacks fuse beside fuse3, which breaks it (seen on a fresh machine:
# the bookworm root could not be made); apt resolves it to fuse3.
suite_pkgs() { # suite
	case "$1" in
	sid) echo fuse3 bindfs apptainer squashfs-tools busybox-static podman uidmap runc charliecloud-runtime ;;
	trixie) echo fuse3 bindfs busybox-static podman uidmap runc charliecloud-runtime ;;
	*) echo fuse3 bindfs ;;
	esac
}
STAMP=.private-tmpdir-root

log() { printf '[release-root.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

suite_ok() {
	case "$1" in bookworm | trixie | sid | forky) return 0 ;; esac
	die "unknown suite '$1' (bookworm, trixie, sid)"
}

in_chroot() { # root cmd... : package management only (no mounts needed)
	local r=$1
	shift
	chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}

versions() { # root suite
	# shellcheck disable=SC2016,SC2046 # dpkg's format; one word a package
	in_chroot "$1" dpkg-query -W -f='${Package} ${Version}\n' "${PKGS[@]}" $(suite_pkgs "$2") 2>/dev/null | sort
}

build() { # suite root
	local suite=$1 r=$2 new=$2.new extra
	extra=$(suite_pkgs "$suite")
	rm -rf "$new"
	install -d -m 0755 "$new"
	log "debootstrap $suite into $new (about 1.5 min)"
	local inc
	inc=$(
		IFS=,
		echo "${PKGS[*]}"
	)
	debootstrap --variant=minbase --include="$inc" "$suite" "$new" "$MIRROR" \
		>"$new.log" 2>&1 || {
		tail -n 30 "$new.log" >&2
		die "debootstrap $suite failed (log: $new.log)"
	}
	# The mirror may serve a frozen snapshot whose Release has expired
	# (seen for sid); debootstrap does not check that, apt would refuse.
	echo 'Acquire::Check-Valid-Until "false";' >"$new/etc/apt/apt.conf.d/99private-tmpdir"
	# Daemons are started by the harness, never by the package scripts.
	printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
	chmod 0755 "$new/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$new/etc/resolv.conf" 2>/dev/null || true
	# shellcheck disable=SC2086 # $extra: one word a package
	{ in_chroot "$new" apt-get update -qq &&
		in_chroot "$new" apt-get install -y -qq --no-install-recommends "${DEB_PKGS[@]}" $extra; } \
		>"$new.log" 2>&1 || {
		tail -n 30 "$new.log" >&2
		die "apt-get install ${DEB_PKGS[*]} $extra in $new failed (log: $new.log)"
	}
	in_chroot "$new" apt-get clean
	versions "$new" "$suite" >"$new/$STAMP"
	rm -rf "$r"
	mv "$new" "$r"
	rm -f "$new.log"
}

refresh() { # root suite: upgrade in place when the mirror moved on
	local r=$1 suite=$2 before after
	before=$(cat "$r/$STAMP")
	cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
	echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99private-tmpdir"
	if ! in_chroot "$r" apt-get update -qq >/dev/null 2>&1; then
		log "apt-get update failed in $r; keeping its packages as they are"
		return 0
	fi
	# shellcheck disable=SC2046 # suite_pkgs: one word a package
	in_chroot "$r" apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confold "${PKGS[@]}" "${DEB_PKGS[@]}" $(suite_pkgs "$suite") >/dev/null 2>&1 ||
		die "apt-get install in $r failed"
	in_chroot "$r" apt-get clean
	after=$(versions "$r" "$suite")
	if [ "$before" != "$after" ]; then
		log "packages changed in $r:"
		diff <(echo "$before") <(echo "$after") | sed -n 's/^> /  now /p' >&2 || true
		echo "$after" >"$r/$STAMP"
	fi
}

cmd_ensure() {
	local suite=$1 r
	suite_ok "$suite"
	[ "$(id -u)" = 0 ] || die "must run as root"
	command -v debootstrap >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	}
	r=$PTD_ROOTS/$suite
	install -d -m 0755 "$PTD_ROOTS"
	if [ ! -s "$r/$STAMP" ] || [ ! -x "$r/usr/sbin/slurmd" ]; then
		build "$suite" "$r"
	else
		refresh "$r" "$suite"
	fi
	local want
	# shellcheck disable=SC2046 # suite_pkgs: one word a package
	want=$(printf '%s\n' "${PKGS[@]}" $(suite_pkgs "$suite") | wc -l)
	[ "$(versions "$r" "$suite" | wc -l)" = "$want" ] ||
		die "$r lacks some of: ${PKGS[*]} $(suite_pkgs "$suite")"
	echo "$r"
}

cmd_enter() {
	local suite=$1 r repo node fresh rc
	shift
	suite_ok "$suite"
	r=$PTD_ROOTS/$suite
	[ -s "$r/$STAMP" ] || die "no root for $suite; run: $0 ensure $suite"
	repo=$(cd "$(dirname "$0")/../.." && pwd -P)
	node=$(command -v node || true)
	fresh=
	if [ "${PTD_FRESH:-0}" = 1 ]; then
		fresh=$(mktemp -d /var/tmp/ptd-fresh.XXXXXX)
		mkdir "$fresh/upper" "$fresh/work" "$fresh/root"
	fi
	rc=0
	# shellcheck disable=SC2016
	unshare -m --propagation private --pid --fork --kill-child -- bash -c '
		set -e
		R=$1 REPO=$2 NODE=$3 FRESH=$4
		shift 4
		if [ -n "$FRESH" ]; then
			# A copy of the root that ends with this command: an
			# overlay on it, as debootstrap and apt left it (what
			# "build" installed there is taken out of the copy).
			mount -t overlay ptd-fresh -o "lowerdir=$R,upperdir=$FRESH/upper,workdir=$FRESH/work" "$FRESH/root"
			R=$FRESH/root
			rm -rf "$R/var/lib/private-tmpdir-build"
			rm -f "$R"/usr/lib/*/slurm-wlm/private-tmpdir.so "$R"/usr/lib/*/security/pam_private_tmpdir.so
		fi
		mount --bind "$R" "$R"
		mount -t proc proc "$R/proc"
		mount --rbind /sys "$R/sys"
		mount --rbind /dev "$R/dev"
		mount -t tmpfs -o mode=0755 ptd-run "$R/run"
		mount -t tmpfs -o mode=1777 ptd-tmp "$R/tmp"
		mount -t tmpfs -o mode=1777 ptd-var-tmp "$R/var/tmp"
		mkdir -p "$R$REPO" "$R/.oldroot"
		mount --bind "$REPO" "$R$REPO"
		if [ -n "$NODE" ]; then
			touch "$R/usr/local/bin/node"
			mount --bind "$NODE" "$R/usr/local/bin/node"
		fi
		cd "$R"
		pivot_root . .oldroot
		umount -l /.oldroot
		rmdir /.oldroot 2>/dev/null || true
		# As on systemd hosts; cluster.sh SHARED_ROOT=1 relies on it.
		mount --make-rshared /
		cd /
		exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			LANG=C.UTF-8 HOME=/root ${CI:+CI=$CI} PTD_RELEASE="$(cat /etc/debian_version)" "$@"
	' _ "$r" "$repo" "$node" "$fresh" "$@" || rc=$?
	[ -z "$fresh" ] || rm -rf "$fresh"
	return $rc
}

cmd_build() {
	local suite=$1 tarball=$2 r name dir so
	suite_ok "$suite"
	r=$PTD_ROOTS/$suite
	[ -s "$r/$STAMP" ] || die "no root for $suite; run: $0 ensure $suite"
	[ -r "$tarball" ] || die "no tarball $tarball"
	name=$(basename "$tarball" -src.tar.gz)
	dir=/var/lib/private-tmpdir-build
	rm -rf "${r:?}$dir"
	install -d -m 0755 "$r$dir"
	tar -xzf "$tarball" -C "$r$dir"
	in_chroot "$r" make -s -C "$dir/$name/native" >&2 ||
		die "make -C native failed inside the $suite root"
	# Debian's PluginDir: /usr/lib/<multiarch>/slurm-wlm
	so=/usr/lib/$(in_chroot "$r" gcc -print-multiarch)/slurm-wlm
	[ -d "$r$so" ] || die "no plugin directory $so in the $suite root"
	install -m 0755 "$r$dir/$name/dist/native/private-tmpdir.so" "$r$so/private-tmpdir.so"
	# Its build without a job epilog, for PrologFlags=Contain, beside it.
	install -m 0755 "$r$dir/$name/dist/native/private-tmpdir-contain.so" "$r$so/private-tmpdir-contain.so"
	# The PAM session module where Debian keeps PAM's (beside pam_slurm_adopt).
	install -D -m 0644 "$r$dir/$name/dist/native/pam_private_tmpdir.so" \
		"$r$(dirname "$so")/security/pam_private_tmpdir.so"
	echo "$so/private-tmpdir.so"
}

case "${1:-}" in
ensure) cmd_ensure "${2:?suite}" ;;
build) cmd_build "${2:?suite}" "${3:?tarball}" ;;
enter) cmd_enter "${2:?suite}" "${@:3}" ;;
versions)
	suite_ok "${2:?suite}"
	versions "$PTD_ROOTS/$2" "$2"
	;;
*)
	echo "usage: $0 ensure|enter|versions SUITE [CMD...]" >&2
	exit 2
	;;
esac
