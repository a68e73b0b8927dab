#!/bin/bash
# Installs what building and testing need on a fresh Debian 12 (root):
# Debian packages (Slurm, munge, wabt, a C toolchain, debootstrap, rpm) and the
# npm lockfile; then builds everything, the source tarball included.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(munge slurmctld slurmd slurm-client libslurm-dev wabt gcc g++ make
      libc6-dev python3 pkg-config util-linux procps debootstrap
      libpam0g-dev openssh-server openssh-client libpam-slurm-adopt rpm
      groff-base man-db fuse3 bindfs xvfb x11-utils iproute2 e2fsprogs)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Packages start their daemons (openssh-server: sshd on port 22) unless
	# told not to; the tests start their own sshd on a loopback port.
	policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		policy=1
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	[ "$policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
# node-gyp builds against the headers Debian's nodejs ships, offline.
if [ -d /usr/include/node ]; then
	export npm_config_nodedir=/usr
fi
npm ci --no-audit --no-fund --loglevel=error
npm run -s build
# The source tarball: the nodes' build, tested on every release.
bash scripts/dist.sh >/dev/null
