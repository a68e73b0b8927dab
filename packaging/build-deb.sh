#!/bin/bash
# packaging/build-deb.sh TARBALL OUTDIR [REVISION...]
# Builds the private-tmpdir .deb from the source tarball (scripts/dist.sh)
# with Debian's own tooling, on a Debian machine that has the build
# dependencies (debian/control) and lintian, for the Slurm installed there:
# version <upstream>-<revision>+slurm<major.minor>. Every REVISION (default
# 1) is a build of its own, the later ones on top of the first's objects
# (dpkg-buildpackage -nc): a rebuilt package for upgrade tests. lintian must
# report no error. Prints the path of each .deb, in order.
set -euo pipefail
tarball=$(readlink -f "$1")
install -d "$2"
out=$(readlink -f "$2")
shift 2
revs=("$@")
[ ${#revs[@]} -gt 0 ] || revs=(1)
name=$(basename "$tarball" -src.tar.gz)
upstream=${name#private-tmpdir-}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ptd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
src=$work/$name
mm=$(sh "$src/packaging/slurm-release.sh")

first=1
for rev in "${revs[@]}"; do
	v=$upstream-$rev+slurm$mm
	# The package's version names the Slurm it was built for.
	{
		printf 'private-tmpdir (%s) unstable; urgency=medium\n\n' "$v"
		printf '  * Built for Slurm %s.\n\n' "$mm"
		printf ' -- private-tmpdir maintainers <private-tmpdir@example.org>  %s\n\n' \
			"$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
		cat "$src/debian/changelog"
	} >"$work/changelog"
	cp "$work/changelog" "$src/debian/changelog"
	(
		cd "$src"
		if [ "$first" = 1 ]; then
			dpkg-buildpackage -b -us -uc
		else
			dpkg-buildpackage -b -us -uc -nc
		fi
	) >"$work/build-$rev.log" 2>&1 || {
		tail -n 40 "$work/build-$rev.log" >&2
		echo "build-deb.sh: dpkg-buildpackage failed for $v" >&2
		exit 1
	}
	deb=$work/private-tmpdir_${v}_$(dpkg --print-architecture).deb
	[ -f "$deb" ] || { echo "build-deb.sh: no $deb" >&2; exit 1; }
	lintian --fail-on error "$deb" >&2 || {
		echo "build-deb.sh: lintian reports errors for $deb" >&2
		exit 1
	}
	cp "$deb" "$out/"
	echo "$out/$(basename "$deb")"
	first=0
done
