#!/bin/bash
# sshd.sh start|stop: a real sshd (Debian's openssh-server) on
# 127.0.0.1:$SSHD_PORT for the end-to-end tests of ssh sessions (#12): its
# PAM stack is pam_slurm_adopt (Debian's libpam-slurm-adopt) in account and
# our session module in session. It runs in a mount namespace of its own in
# which /etc/pam.d/sshd is the lab's file, so the host's PAM configuration
# is never touched. Everything else is under $PTD_LAB/ssh: host key, the
# test users' keys (users/<user>/id, theirs), authorized keys, the log.
#
# Environment: PTD_LAB (/var/spool/private-tmpdir-lab), SSHD_PORT (6822),
# PAM_SO (our module, absolute), PAM_ARGS (its options), SLURM_CONF
# (pam_slurm_adopt reads it), SSH_USERS ("ptd-alice ptd-mallory").
set -euo pipefail

PTD_LAB=${PTD_LAB:-/var/spool/private-tmpdir-lab}
SSHD_PORT=${SSHD_PORT:-6822}
SSH_USERS=${SSH_USERS:-"ptd-alice ptd-mallory"}
DIR=$PTD_LAB/ssh

log() { printf '[sshd.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pam_slurm_adopt.so: Debian keeps it in /lib/security (22.05, 24.11) or a
# multiarch PAM directory.
adopt_module() {
	local f
	for f in /lib/security /usr/lib/security /lib/x86_64-linux-gnu/security \
		/usr/lib/x86_64-linux-gnu/security; do
		[ -e "$f/pam_slurm_adopt.so" ] && { echo "$f/pam_slurm_adopt.so"; return 0; }
	done
	return 1
}

cmd_stop() {
	local pid
	[ -r "$DIR/sshd.pid" ] || return 0
	pid=$(cat "$DIR/sshd.pid")
	if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$DIR/sshd.pid"
}

cmd_start() {
	local adopt u
	[ "$(id -u)" = 0 ] || die "must run as root"
	[ -x /usr/sbin/sshd ] || die "no /usr/sbin/sshd (openssh-server)"
	[ -e /etc/pam.d/sshd ] || die "no /etc/pam.d/sshd to stand in for (openssh-server)"
	adopt=$(adopt_module) || die "no pam_slurm_adopt.so (libpam-slurm-adopt)"
	[ -r "${PAM_SO:?}" ] || die "no PAM module $PAM_SO"
	[ -r "${SLURM_CONF:?}" ] || die "no $SLURM_CONF"
	cmd_stop
	install -d -m 0755 "$DIR" "$DIR/authorized" "$DIR/users"
	[ -s "$DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_key"
	for u in $SSH_USERS; do
		install -d -m 0700 -o "$u" -g "$(id -gn "$u")" "$DIR/users/$u"
		[ -s "$DIR/users/$u/id" ] ||
			runuser -u "$u" -- ssh-keygen -q -t ed25519 -N '' -f "$DIR/users/$u/id"
		install -m 0644 "$DIR/users/$u/id.pub" "$DIR/authorized/$u"
	done
	cat >"$DIR/sshd_config" <<-EOF
		Port $SSHD_PORT
		ListenAddress 127.0.0.1
		HostKey $DIR/host_key
		PidFile $DIR/sshd.pid
		UsePAM yes
		AuthenticationMethods publickey
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		AuthorizedKeysFile $DIR/authorized/%u
		PermitRootLogin no
		UseDNS no
		PrintMotd no
		LogLevel VERBOSE
	EOF
	# Public keys only: sshd asks PAM for account and session, never auth.
	cat >"$DIR/pam.sshd" <<-EOF
		auth     required pam_deny.so
		account  required $adopt log_level=debug
		session  required $PAM_SO ${PAM_ARGS:-}
		password required pam_deny.so
	EOF
	: >"$DIR/sshd.log"
	# shellcheck disable=SC2016
	setsid unshare -m --propagation private -- bash -c '
		mount --bind "$1" /etc/pam.d/sshd
		mkdir -p /run/sshd
		exec /usr/sbin/sshd -D -e -f "$2"
	' _ "$DIR/pam.sshd" "$DIR/sshd_config" >>"$DIR/sshd.log" 2>&1 </dev/null &
	for _ in $(seq 100); do
		if [ -s "$DIR/sshd.pid" ] && ssh-keyscan -p "$SSHD_PORT" 127.0.0.1 >/dev/null 2>&1; then
			echo "$DIR"
			return 0
		fi
		sleep 0.1
	done
	cat "$DIR/sshd.log" >&2
	die "sshd did not start on 127.0.0.1:$SSHD_PORT"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
