#!/bin/bash
# cluster.sh - a throw-away Slurm cluster for the end-to-end tests: one node,
# or two (NODES=2), which can be two hosts of their own (NETNS=1).
#
#   cluster.sh start    install packages if missing, create the test users,
#                       write slurm.conf, start munged (unless one answers),
#                       slurmctld and slurmd, wait (bounded) for the node to be
#                       idle; on failure print log tails and exit non-zero
#   cluster.sh stop     cancel our jobs, then stop exactly the daemons that
#                       "start" recorded (pid files, /proc/<pid>/comm checked),
#                       slurmd first
#   cluster.sh status   print daemons and nodes' states; exit 0 only when all
#                       of our daemons run and every node answers
#   cluster.sh install  only install missing packages and create the users
#                       (a CI step before the tests)
#   cluster.sh resume   resume drained/down nodes (a failing batch job or a
#                       failing "required" plugin drains it)
#   cluster.sh restart-slurmd
#                       SIGKILL slurmd (jobs' slurmstepd go on), start it again
#                       as "start" did (one node), wait until it has started
#
# Run as root (CI: a fresh Debian 12 machine; locally: any root shell).
# "start" is restartable: "stop" then "start" with another PLUGSTACK works;
# "start" refuses to run over daemons it started earlier.
#
# Environment:
#   PTD_LAB=/var/spool/private-tmpdir-lab   state directory (conf, spool, logs,
#                     pid files, job output). Never under /tmp: the plugin
#                     gives jobs a private /tmp, and slurmstepd and jobs need
#                     all of these (Trap 4 in docs: "Could not open stdout
#                     file", hangs, "Unable to return to working directory").
#   PLUGSTACK=<file>  plugstack.conf to use (default: an empty one). It and
#                     the .so files it names must not be under /tmp either.
#   SHARED_ROOT=1     start slurmd in its own mount namespace whose "/" has
#                     SHARED propagation, like on a systemd host (this
#                     machine's "/" is private, which would hide mount leaks).
#                     slurmd's pid is in $PTD_LAB/run/slurmd.started.pid.
#   EXTRA_CONF=...    extra slurm.conf lines (newline separated)
#   TMP_DISK=MB       the nodes' TmpDisk (jobs may then ask --tmp up to it)
#   NODES=2           a second node, <host>-n2, served by a second slurmd
#                     (Debian builds slurmd with MULTIPLE_SLURMD) on port
#                     SLURMD_PORT+1, in its own mount namespace with its own
#                     tmpfs /tmp and /var/tmp, as a separate machine would
#                     have; its pid is SLURMD2_PID in cluster.env
#   WAIT_SECS=30      bound for each wait
#   CTLD_PORT=6817 SLURMD_PORT=6818
#   SKIP_INSTALL=1    never run apt-get
#   KEEP_MUNGE=1      "stop" leaves our munged running (the next "start"
#                     reuses it and still tracks it; startCluster() does this)
#   NETNS=1           (needs NODES=2) each node is a host of its own, as on a
#                     real cluster: nodes ptd-n1 and ptd-n2, each a slurmd in
#                     its own PID, mount, UTS and network namespaces, with
#                     hostname = NodeName, its own tmpfs /tmp, /var/tmp,
#                     /dev/shm and /run (the host's /run/munge bound in), its
#                     own spool ($PTD_LAB/spool/<node>) and eth0 with
#                     $LAB_NET.1<i>/24, on a veth enslaved to the bridge
#                     $LAB_BRIDGE ($LAB_NET.1/24) in the host netns. slurmctld,
#                     munged and the clients stay in the host's namespaces
#                     (SlurmctldHost=<host>($LAB_NET.1)); a job's steps and an
#                     srun inside a batch job run on the nodes and reach
#                     slurmctld and the other node over the bridge. Names:
#                     $PTD_LAB/etc/hosts, bound on /etc/hosts of the nodes and
#                     of slurmctld (in a mount namespace of its own), says
#                     this machine's name is $LAB_NET.1 and the nodes' theirs,
#                     as a cluster's DNS would (see write_hosts). The node's
#                     PID 1 is "cluster.sh node-init" (a shell: it reaps the
#                     orphans, such as the plugin's detached remover), slurmd
#                     its child; a ps or ls /proc in a job sees only its node.
#                     From the host: SLURMD_PID/SLURMD2_PID in cluster.env are
#                     the slurmds' host pids, a node's files are under
#                     /proc/<pid>/root (its /tmp: /proc/<pid>/root/tmp), enter
#                     it with nsenter -t <pid> -m -u -n -p --wd=/.
#                     "stop" needs no NETNS=1: it stops the nodes its pid files
#                     name (slurmd, then the node's init once its last
#                     processes ended, which ends its namespaces, veth and
#                     mounts), deletes the bridge recorded in run/netns.env,
#                     and removes slurm.conf (its addresses are routed only
#                     while the bridge exists: a client using it later would
#                     send to the default gateway). "start" refuses a LAB_NET
#                     with an address or a route on this host and a
#                     LAB_BRIDGE name that is not a lab's; it deletes a lab
#                     bridge with no port left (a crashed run's). The conf is
#                     NOT copied to /etc/slurm here: clients need SLURM_CONF.
#                     Needs ip (iproute2), unshare and nsenter (util-linux).
#                     Release roots (release-root.sh enter) share the host's
#                     network namespace: the bridge is made there too, the
#                     nodes nest in the root's PID and mount namespaces.
#   LAB_NET=10.77.0 LAB_BRIDGE=ptd-br0   (NETNS=1) the /24 and the bridge
#                     (at most 13 characters: the host ends of the veths are
#                     $LAB_BRIDGE"h"<i>). No forwarding, NAT or default route:
#                     nodes reach only the host and each other.
#
# Configuration: $PTD_LAB/etc/slurm.conf is the one the daemons read. Clients
# need it too (Trap 2: "Could not establish a configuration source"), so
# callers should export SLURM_CONF=$PTD_LAB/etc/slurm.conf (the TypeScript
# helper does). For convenience (an `srun` inside a job, a debugging shell)
# the file is also copied to /etc/slurm/slurm.conf, but only when that file is
# absent or was written by this script; someone else's is left alone.
#
# $PTD_LAB/run/cluster.env (sourceable) describes the running cluster:
# NODE, SLURM_CONF, SLURMD_PID, SLURMCTLD_PID, SLURMD_LOG, SHARED_ROOT, PLUGSTACK,
# NODE2 and SLURMD2_PID (NODES=2); with NETNS=1 also NETNS=1, LAB_BRIDGE,
# CTLD_ADDR, NODE1_ADDR, NODE2_ADDR and NODE1_INIT, NODE2_INIT (host pids of
# the nodes' init).
set -euo pipefail

PTD_LAB=${PTD_LAB:-/var/spool/private-tmpdir-lab}
WAIT_SECS=${WAIT_SECS:-30}
CTLD_PORT=${CTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
CONF=$PTD_LAB/etc/slurm.conf
LAB_HOSTS=$PTD_LAB/etc/hosts
ETC_CONF=/etc/slurm/slurm.conf
MARKER='# generated by private-tmpdir tests/slurm/cluster.sh'
# "stop" removes a conf with this line: its addresses are routed only while
# the lab's bridge exists; without it a client would send to the default
# gateway
NETNS_MARKER='# NETNS=1: the lab bridge is up only while the lab runs'
RUN=$PTD_LAB/run
LOGDIR=$PTD_LAB/log
USERS=(ptd-alice ptd-mallory)
NODE=$(hostname -s)
NODE2=$NODE-n2
NETNS=${NETNS:-0}
LAB_NET=${LAB_NET:-10.77.0}
LAB_BRIDGE=${LAB_BRIDGE:-ptd-br0}
CTLD_HOST=$NODE
if [ "$NETNS" = 1 ]; then
	NODE=ptd-n1
	NODE2=ptd-n2
fi
export SLURM_CONF=$CONF
SELF=$(realpath -- "$0")

t0=$(date +%s%N)
log() {
	local ms=$((($(date +%s%N) - t0) / 1000000))
	printf '[cluster.sh %d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}
die() { log "ERROR: $*"; exit 1; }

under_tmp() { # path -> 0 when it is /tmp, /var/tmp or below them
	case "$(realpath -m -- "$1")/" in /tmp/* | /var/tmp/*) return 0 ;; esac
	return 1
}

# is_proc pid [name]: pid is a live process (not a zombie) named name
is_proc() {
	local stat
	stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
	[ -z "${2:-}" ] || [ "$(cat /proc/"$1"/comm 2>/dev/null || true)" = "$2" ] || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ] && [ "${stat:0:1}" != X ]
}

# pid recorded in pid file $2 if it is still process $1, else nothing
live_pid() {
	local name=$1 f=$2 pid
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	if is_proc "$pid" "$name"; then echo "$pid"; fi
	return 0
}

log_tails() {
	local f
	for f in "$LOGDIR"/slurmctld.log "$LOGDIR"/slurmd.log "$LOGDIR"/*.stdout; do
		[ -s "$f" ] || continue
		echo "==> $f (last 25 lines) <==" >&2
		tail -n 25 "$f" >&2
	done
}

# ---------------------------------------------------------------------------
install_packages() {
	local missing=()
	command -v munged >/dev/null || missing+=(munge)
	command -v slurmctld >/dev/null || missing+=(slurmctld)
	command -v slurmd >/dev/null || missing+=(slurmd)
	command -v sbatch >/dev/null || missing+=(slurm-client)
	[ -e /usr/include/slurm/spank.h ] || missing+=(libslurm-dev)
	[ "$NETNS" != 1 ] || command -v ip >/dev/null || missing+=(iproute2)
	[ ${#missing[@]} = 0 ] && return 0
	[ "${SKIP_INSTALL:-0}" = 1 ] && die "missing packages: ${missing[*]} (SKIP_INSTALL=1)"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	log "installed slurm $(slurmd -V | awk '{print $2}')"
}

ensure_users() {
	local u
	for u in "${USERS[@]}"; do
		id -u "$u" >/dev/null 2>&1 && continue
		useradd --create-home --home-dir "/home/$u" --shell /bin/bash "$u"
		log "created user $u ($(id -u "$u"))"
	done
}

write_conf() {
	local plugstack=$1 cpus sockets cores threads mem line
	# Node hardware as slurmd sees it (a mismatch drains the node); declare
	# 90% of the RAM so it is never drained for "Low RealMemory".
	line=$(slurmd -C | head -n 1)
	cpus=$(sed -nE 's/.* CPUs=([0-9]+).*/\1/p' <<<"$line")
	sockets=$(sed -nE 's/.* SocketsPerBoard=([0-9]+).*/\1/p' <<<"$line")
	cores=$(sed -nE 's/.* CoresPerSocket=([0-9]+).*/\1/p' <<<"$line")
	threads=$(sed -nE 's/.* ThreadsPerCore=([0-9]+).*/\1/p' <<<"$line")
	mem=$(sed -nE 's/.* RealMemory=([0-9]+).*/\1/p' <<<"$line")
	[ -n "$cpus" ] && [ -n "$sockets" ] && [ -n "$cores" ] && [ -n "$threads" ] && [ -n "$mem" ] ||
		die "cannot parse 'slurmd -C': $line"
	mem=$((mem * 9 / 10))

	cat >"$CONF.new" <<-EOF
		$MARKER
		# PTD_LAB=$PTD_LAB
		ClusterName=ptdlab
		SlurmctldHost=$(if [ "$NETNS" = 1 ]; then echo "$CTLD_HOST($LAB_NET.1)"; else echo "$NODE(127.0.0.1)"; fi)
		SlurmUser=slurm
		SlurmctldPort=$CTLD_PORT
		SlurmdPort=$SLURMD_PORT
		AuthType=auth/munge
		CredType=cred/munge
		StateSaveLocation=$PTD_LAB/state
		SlurmdSpoolDir=$PTD_LAB/spool$([ "${NODES:-1}" = 2 ] && echo /%n)
		SlurmctldPidFile=$RUN/slurmctld.pid
		SlurmdPidFile=$RUN/slurmd$([ "${NODES:-1}" = 2 ] && echo -%n).pid
		SlurmctldLogFile=$LOGDIR/slurmctld.log
		SlurmdLogFile=$LOGDIR/slurmd.log
		SlurmctldDebug=info
		# debug: the plugin's slurm_debug() lines land in slurmd.log
		SlurmdDebug=debug
		ProctrackType=proctrack/linuxproc
		TaskPlugin=task/none
		JobAcctGatherType=jobacct_gather/none
		AccountingStorageType=accounting_storage/none
		JobCompType=jobcomp/none
		SelectType=select/cons_tres
		SelectTypeParameters=CR_Core
		SchedulerType=sched/backfill
		# a submitted batch job starts within ~1 s instead of ~3 s
		SchedulerParameters=batch_sched_delay=0
		MpiDefault=none
		SwitchType=switch/none
		MailProg=/bin/true
		ReturnToService=2
		InactiveLimit=0
		KillWait=5
		MinJobAge=300
		PlugStackConfig=$plugstack
	EOF
	[ -n "${EXTRA_CONF:-}" ] && printf '%s\n' "$EXTRA_CONF" >>"$CONF.new"
	if [ "$NETNS" = 1 ]; then
		cat >>"$CONF.new" <<-EOF
			$NETNS_MARKER
			NodeName=$NODE NodeHostname=$NODE NodeAddr=$LAB_NET.11 CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem${TMP_DISK:+ TmpDisk=$TMP_DISK} State=UNKNOWN
			NodeName=$NODE2 NodeHostname=$NODE2 NodeAddr=$LAB_NET.12 CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem${TMP_DISK:+ TmpDisk=$TMP_DISK} State=UNKNOWN
		EOF
	else
	cat >>"$CONF.new" <<-EOF
		NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem${TMP_DISK:+ TmpDisk=$TMP_DISK} State=UNKNOWN
	EOF
	[ "${NODES:-1}" = 2 ] && cat >>"$CONF.new" <<-EOF
		NodeName=$NODE2 NodeHostname=$NODE NodeAddr=127.0.0.1 Port=$((SLURMD_PORT + 1)) CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem${TMP_DISK:+ TmpDisk=$TMP_DISK} State=UNKNOWN
	EOF
	fi
	cat >>"$CONF.new" <<-EOF
		PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
	EOF
	chmod 0644 "$CONF.new"
	mv -f "$CONF.new" "$CONF"
	[ "$NETNS" != 1 ] || write_hosts

	if [ "$NETNS" = 1 ]; then
		log "NETNS=1: $ETC_CONF left alone - export SLURM_CONF=$CONF"
	elif [ ! -e "$ETC_CONF" ] || head -n 1 "$ETC_CONF" | grep -qxF "$MARKER"; then
		install -d -m 0755 "$(dirname "$ETC_CONF")"
		install -m 0644 "$CONF" "$ETC_CONF"
	else
		log "WARNING: $ETC_CONF is not ours; left alone - export SLURM_CONF=$CONF"
	fi
	log "wrote $CONF (node $NODE: $cpus cpus, ${mem}M, PlugStackConfig=$plugstack)"
}

# NETNS=1: the lab's name service, as a cluster's DNS would be: this
# machine's name is slurmctld's address on the bridge, the nodes' names
# theirs; then the system's /etc/hosts without those names. slurmctld and
# the nodes see it as /etc/hosts (each in a mount namespace of its own).
# Without it, a release root (its /etc/hosts does not name the machine, and
# munge credentials then carry no address) has slurmctld 24.11 retry for
# 10 s to resolve the submit host at each job's end, and never reach srun.
write_hosts() {
	{
		echo "# generated by private-tmpdir tests/slurm/cluster.sh (NETNS=1)"
		printf '%s\t%s\n' "$LAB_NET.1" "$CTLD_HOST" "$LAB_NET.11" "$NODE" "$LAB_NET.12" "$NODE2"
		awk -v a="$CTLD_HOST" -v b="$NODE" -v c="$NODE2" '{
			for (i = 2; i <= NF; i++) if ($i == a || $i == b || $i == c) next
			print
		}' /etc/hosts 2>/dev/null || true
	} >"$LAB_HOSTS.new"
	chmod 0644 "$LAB_HOSTS.new"
	mv -f "$LAB_HOSTS.new" "$LAB_HOSTS"
}

start_munged() {
	local i pid
	[ -s /etc/munge/munge.key ] || {
		mungekey -c -k /etc/munge/munge.key
		chown munge:munge /etc/munge/munge.key
		chmod 0400 /etc/munge/munge.key
	}
	# no systemd here: create its RuntimeDirectory ourselves
	install -d -o munge -g munge -m 0755 /run/munge
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		if [ -n "$(live_pid munged "$RUN/munged.started.pid")" ]; then
			log "munged pid $(cat "$RUN/munged.started.pid") (ours, from an earlier start)"
		else
			log "munged already answers; reusing it (stop will leave it alone)"
			rm -f "$RUN/munged.started.pid"
		fi
		return 0
	fi
	(cd / && runuser -u munge -- /usr/sbin/munged)
	pid=$(cat /run/munge/munged.pid)
	is_proc "$pid" munged || die "munged did not start"
	echo "$pid" >"$RUN/munged.started.pid"
	for i in $(seq $((WAIT_SECS * 10))); do
		munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
		sleep 0.1
	done
	log "munged pid $pid"
}

# start daemon $1 (comm name) in the foreground under setsid, from cwd /, so
# that $! is the daemon itself (setsid and "unshare" without --fork exec).
spawn() {
	local name=$1 comm=${SPAWN_COMM:-$1} pid i
	shift
	(cd / && exec setsid "$@" >>"$LOGDIR/$name.stdout" 2>&1 </dev/null) &
	pid=$!
	echo "$pid" >"$RUN/$name.started.pid"
	for i in $(seq 40); do # the exec chain: subshell -> setsid [-> unshare]
		is_proc "$pid" "$comm" && break
		sleep 0.05
	done
	is_proc "$pid" "$comm" || {
		log_tails
		die "$name (pid $pid) is not running"
	}
	echo "$pid"
}

# ---------------------------------------------------------------------------
# NETNS=1: each node a host of its own, on a bridge in the host netns.
#
# What is created, and where it goes:
#   - bridge $LAB_BRIDGE ($LAB_NET.1/24) in the host netns, its alias
#     "$BR_PREFIX$PTD_LAB" marks it as a lab's; deleted by "stop" (also
#     after a failed start); a lab bridge with no port left (its nodes died
#     with a crashed run) is deleted by the next "start".
#   - per node: a launcher `unshare --net --uts --pid --fork --kill-child
#     --mount-proc --propagation private` whose child, `cluster.sh node-init`,
#     is PID 1 of the node; the veth pair ${LAB_BRIDGE}h<i> <-> eth0,
#     the tmpfs /tmp, /var/tmp, /dev/shm, /run: all of them end with the
#     node's namespaces, i.e. with its init.
# $RUN/netns.env records the bridge and subnet, so that "stop" finds them
# whatever its environment.
BR_PREFIX="private-tmpdir lab "
BR_ALIAS="$BR_PREFIX$PTD_LAB"
NETNS_ENV=$RUN/netns.env

# the bridge's alias, or nothing
br_alias() { cat /sys/class/net/"$1"/ifalias 2>/dev/null || true; }
# how many ports the bridge has
br_ports() { find /sys/class/net/"$1"/brif -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

net_down() { # bridge
	local br=$1 alias
	ip link show dev "$br" >/dev/null 2>&1 || return 0
	alias=$(br_alias "$br")
	[ "$alias" = "$BR_ALIAS" ] || {
		log "WARNING: bridge $br is not ours (alias '$alias'); left alone"
		return 1
	}
	ip link del "$br"
	log "deleted bridge $br"
}

# refuse a subnet or bridge that something else uses; delete a lab
# bridge a crashed run left (no port: its nodes are gone)
net_check() {
	local alias routes i
	command -v ip >/dev/null || die "NETNS=1 needs iproute2 (ip)"
	command -v nsenter >/dev/null || die "NETNS=1 needs nsenter (util-linux)"
	[ ${#LAB_BRIDGE} -le 13 ] || die "LAB_BRIDGE=$LAB_BRIDGE: at most 13 characters (its veths add 'h<i>')"
	[[ $LAB_NET =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "LAB_NET=$LAB_NET: three octets, e.g. 10.77.0"
	if ip link show dev "$LAB_BRIDGE" >/dev/null 2>&1; then
		alias=$(br_alias "$LAB_BRIDGE")
		case "$alias" in
		"$BR_PREFIX"*) ;;
		*) die "a link named $LAB_BRIDGE exists and is not a lab's (alias '$alias'); set LAB_BRIDGE" ;;
		esac
		[ "$(br_ports "$LAB_BRIDGE")" = 0 ] ||
			die "bridge $LAB_BRIDGE ($alias) still has nodes on it: another lab runs; stop it or set LAB_BRIDGE"
		ip link del "$LAB_BRIDGE"
		log "deleted bridge $LAB_BRIDGE a crashed run left ($alias)"
	fi
	for i in 1 2; do # host ends of veths of a crashed run (normally gone with their netns)
		ip link del "${LAB_BRIDGE}h$i" 2>/dev/null && log "deleted leftover ${LAB_BRIDGE}h$i" || true
	done
	ip -o -4 addr show | grep -qF " $LAB_NET." && die "$LAB_NET.0/24 is in use on this host; set LAB_NET"
	# a route into the subnet, or one holding it, other than the default
	routes=$({
		ip -4 route show root "$LAB_NET.0/24"
		ip -4 route show match "$LAB_NET.0/24"
	} | grep -v '^default' || true)
	[ -z "$routes" ] || die "$LAB_NET.0/24 is routed on this host ($routes); set LAB_NET"
}

net_up() {
	net_check
	printf 'LAB_BRIDGE=%s\nLAB_NET=%s\n' "$LAB_BRIDGE" "$LAB_NET" >"$NETNS_ENV"
	ip link add "$LAB_BRIDGE" type bridge stp_state 0 forward_delay 0
	# frames between nodes never go through a host firewall (br_netfilter)
	ip link set "$LAB_BRIDGE" type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 2>/dev/null || true
	ip link set "$LAB_BRIDGE" alias "$BR_ALIAS"
	# IPv4 only: no link-local addresses, no router solicitations
	ip link set "$LAB_BRIDGE" addrgenmode none 2>/dev/null || true
	ip addr add "$LAB_NET.1/24" dev "$LAB_BRIDGE"
	ip link set "$LAB_BRIDGE" up
	log "bridge $LAB_BRIDGE $LAB_NET.1/24"
}

# the host pid of node $1's init (the launcher's only child), or nothing
node_init_pid() {
	local launcher init
	launcher=$(live_pid unshare "$RUN/node-$1.launcher.pid")
	[ -n "$launcher" ] || return 0
	init=$(cat /proc/"$launcher"/task/"$launcher"/children 2>/dev/null || true)
	echo "${init%% *}"
}

# start node i (1|2) in new namespaces; prints the host pid of its slurmd
spawn_node() {
	local i=$1 name=ptd-n$1 launcher init slurmd k c veth=${LAB_BRIDGE}h$1
	install -d -m 0755 "$PTD_LAB/nodes/$name/munge"
	rm -f "$RUN/$name.go"
	(cd / && exec setsid unshare --net --uts --pid --fork --kill-child --mount-proc --propagation private \
		-- bash "$SELF" node-init "$name" >>"$LOGDIR/slurmd-$name.stdout" 2>&1 </dev/null) &
	launcher=$!
	echo "$launcher" >"$RUN/node-$name.launcher.pid"
	for k in $(seq 40); do
		is_proc "$launcher" unshare && [ "$(readlink /proc/"$launcher"/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.05
	done
	is_proc "$launcher" unshare || die "node $name: launcher pid $launcher is not running"
	ip link add "$veth" type veth peer name eth0 netns "$launcher"
	ip link set "$veth" addrgenmode none 2>/dev/null || true
	ip link set "$veth" master "$LAB_BRIDGE" up
	nsenter -t "$launcher" -n sh -c "ip link set lo up && ip link set eth0 addrgenmode none 2>/dev/null;
		ip addr add $LAB_NET.1$i/24 dev eth0 && ip link set eth0 up"
	: >"$RUN/$name.go"
	slurmd=
	for k in $(seq 60); do
		init=$(node_init_pid "$name")
		if [ -n "$init" ]; then
			for c in $(cat /proc/"$init"/task/"$init"/children 2>/dev/null || true); do
				is_proc "$c" slurmd && slurmd=$c
			done
		fi
		[ -n "$slurmd" ] && break
		sleep 0.05
	done
	[ -n "$slurmd" ] || {
		log_tails
		die "node $name: no slurmd under launcher $launcher"
	}
	echo "$slurmd" >"$RUN/slurmd-$name.started.pid"
	echo "$slurmd"
}

# runs as PID 1 of the node's PID namespace (bash: it reaps the orphans,
# the plugin's detached remover among them)
cmd_node_init() {
	local name=$1 k spid=
	# PID 1 gets only the signals it handles: "stop" TERMs it to end the
	# node (its exit makes the kernel kill what is left in the namespace)
	trap '[ -z "$spid" ] || kill -TERM "$spid" 2>/dev/null || true; exit 0' TERM
	hostname "$name"
	# propagation is already private (unshare --propagation private ran
	# before --mount-proc); make sure before mounting anything
	mount --make-rprivate /
	mount --bind /run/munge "$PTD_LAB/nodes/$name/munge"
	mount -t tmpfs -o mode=1777 "$name-tmp" /tmp
	mount -t tmpfs -o mode=1777 "$name-var-tmp" /var/tmp
	mount -t tmpfs -o mode=1777 "$name-shm" /dev/shm
	mount -t tmpfs -o mode=0755 "$name-run" /run
	mkdir -p /run/munge
	mount --move "$PTD_LAB/nodes/$name/munge" /run/munge
	mount --bind "$LAB_HOSTS" /etc/hosts
	[ "${SHARED_ROOT:-0}" = 1 ] && mount --make-rshared /
	for k in $(seq $((WAIT_SECS * 20))); do # the host has set up eth0
		[ -e "$RUN/$name.go" ] && break
		sleep 0.05
	done
	[ -e "$RUN/$name.go" ] || { echo "node-init $name: no go after ${WAIT_SECS}s" >&2; exit 1; }
	cd /
	echo "node-init $name: pid $$ hostname $(hostname) addr $(ip -4 -o addr show eth0 | awk '{print $4}')"
	slurmd -D -N "$name" -f "$CONF" &
	spid=$!
	while :; do
		sleep 1 &
		wait $! || true
	done
}

stop_node() { # name
	local name=$1 launcher init k kids c
	launcher=$(live_pid unshare "$RUN/node-$name.launcher.pid")
	init=$(node_init_pid "$name")
	stop_one "slurmd-$name" "$RUN/slurmd-$name.started.pid" slurmd
	if [ -z "$launcher" ]; then
		rm -f "$RUN/node-$name.launcher.pid" "$RUN/$name.go"
		return 0
	fi
	# let the node's last processes (the plugin's detached remover) end,
	# bounded: the init's exit would kill them
	for k in $(seq 50); do
		[ -n "$init" ] || break
		kids=
		for c in $(cat /proc/"$init"/task/"$init"/children 2>/dev/null || true); do
			[ "$(cat /proc/"$c"/comm 2>/dev/null)" = sleep ] || kids="$kids $c"
		done
		[ -z "$kids" ] && break
		sleep 0.1
	done
	[ -z "${kids:-}" ] || log "node $name: processes still there 5s after slurmd:$kids"
	# unshare --fork ignores SIGTERM while it waits: TERM the node's init
	# (its trap exits), the launcher then exits with it
	[ -z "$init" ] || kill -TERM "$init" 2>/dev/null || true
	for k in $(seq 100); do
		is_proc "$launcher" || break
		sleep 0.05
	done
	if is_proc "$launcher"; then
		log "node $name: launcher $launcher still there 5s after TERM of init $init; SIGKILL"
		[ -z "$init" ] || kill -KILL "$init" 2>/dev/null || true
		kill -KILL "$launcher" 2>/dev/null || true
		stop_rc=1
	fi
	rm -f "$RUN/node-$name.launcher.pid" "$RUN/$name.go"
	log "stopped node $name (launcher $launcher, init $init)"
}

cmd_start() {
	local plugstack d pid ctld_pid slurmd_pid slurmd2_pid i n state t_start
	[ "$(id -u)" = 0 ] || die "must run as root"
	under_tmp "$PTD_LAB" && die "PTD_LAB=$PTD_LAB is under /tmp or /var/tmp; jobs would not see it"
	for d in slurmd slurmctld; do
		pid=$(live_pid "$d" "$RUN/$d.started.pid")
		[ -z "$pid" ] || die "$d from an earlier start is still running (pid $pid); run '$0 stop' first"
	done
	for d in ptd-n1 ptd-n2; do
		pid=$(live_pid unshare "$RUN/node-$d.launcher.pid")
		[ -z "$pid" ] || die "node $d from an earlier start is still running (pid $pid); run '$0 stop' first"
	done
	[ "$NETNS" != 1 ] || [ "${NODES:-1}" = 2 ] || die "NETNS=1 needs NODES=2"

	install_packages
	ensure_users

	install -d -m 0755 "$PTD_LAB" "$PTD_LAB/etc" "$PTD_LAB/spool"
	install -d -o slurm -g slurm -m 0755 "$PTD_LAB/state" "$LOGDIR" "$RUN"
	install -d -m 1777 "$PTD_LAB/out"
	chmod 1777 "$PTD_LAB/out"
	# one generation of old logs; marks (byte offsets) restart at 0. Copied
	# and emptied in place, not renamed: a remover the plugin left behind
	# (it stays 2 s for the next job's directories) writes on into the
	# file it was started with, and its lines are about this cluster's jobs.
	for f in slurmctld.log slurmd.log slurmctld.stdout slurmd.stdout slurmd2.stdout slurmd-ptd-n1.stdout \
		slurmd-ptd-n2.stdout; do
		if [ -e "$LOGDIR/$f" ]; then
			cp -f "$LOGDIR/$f" "$LOGDIR/$f.1"
			: >"$LOGDIR/$f"
		fi
	done
	rm -f "$RUN/cluster.env" "$RUN/slurmd.pid" "$RUN/slurmctld.pid"
	# what a crashed run left: nothing of it runs (checked above)
	rm -f "$RUN"/node-ptd-n*.launcher.pid "$RUN"/ptd-n*.go

	if [ -n "${PLUGSTACK:-}" ]; then
		plugstack=$(realpath -- "$PLUGSTACK") || die "PLUGSTACK=$PLUGSTACK does not exist"
		[ -r "$plugstack" ] || die "PLUGSTACK=$plugstack is not readable"
		under_tmp "$plugstack" && die "PLUGSTACK=$plugstack is under /tmp; slurmstepd would not see it"
		grep -qE '(^|[[:space:]])/(var/)?tmp/' "$plugstack" &&
			die "$plugstack names a file under /tmp or /var/tmp; jobs would not see it"
	else
		plugstack=$PTD_LAB/etc/plugstack.empty.conf
		: >"$plugstack"
	fi
	write_conf "$plugstack"

	# a failed start leaves none of its daemons behind (logs stay)
	trap 'start_failed $?' EXIT
	t_start=$(date +%s%N)
	start_munged
	[ "$NETNS" != 1 ] || net_up

	# -c: forget jobs of earlier runs, so that a restart starts clean
	if [ "$NETNS" = 1 ]; then
		# shellcheck disable=SC2016
		ctld_pid=$(SPAWN_COMM=slurmctld spawn slurmctld unshare -m --propagation private -- \
			sh -c 'mount --bind "$0" /etc/hosts && exec slurmctld -D -c -f "$1"' "$LAB_HOSTS" "$CONF")
	else
		ctld_pid=$(spawn slurmctld slurmctld -D -c -f "$CONF")
	fi
	for i in $(seq $((WAIT_SECS * 20))); do
		scontrol ping 2>/dev/null | grep -q 'is UP' && break
		is_proc "$ctld_pid" || break
		sleep 0.05
	done
	scontrol ping 2>/dev/null | grep -q 'is UP' || {
		log_tails
		die "slurmctld (pid $ctld_pid) does not answer"
	}
	log "slurmctld pid $ctld_pid"

	# With NODES=2 each slurmd has its own spool (SlurmdSpoolDir=.../%n).
	[ "${NODES:-1}" = 2 ] && install -d -m 0755 "$PTD_LAB/spool/$NODE" "$PTD_LAB/spool/$NODE2"
	if [ "$NETNS" = 1 ]; then
		slurmd_pid=$(spawn_node 1)
		log "slurmd pid $slurmd_pid (node $NODE, own net/uts/pid/mnt namespaces, $LAB_NET.11)"
	elif [ "${SHARED_ROOT:-0}" = 1 ]; then
		slurmd_pid=$(spawn slurmd unshare -m --propagation shared -- slurmd -D -f "$CONF")
		grep -qE '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / .* shared:[0-9]+' /proc/"$slurmd_pid"/mountinfo || {
			log_tails
			die "slurmd (pid $slurmd_pid) has no shared '/'"
		}
		log "slurmd pid $slurmd_pid (own mount namespace, '/' shared)"
	else
		slurmd_pid=$(spawn slurmd slurmd -D -f "$CONF")
		log "slurmd pid $slurmd_pid"
	fi

	slurmd2_pid=
	if [ "$NETNS" = 1 ]; then
		slurmd2_pid=$(spawn_node 2)
		log "slurmd pid $slurmd2_pid (node $NODE2, own net/uts/pid/mnt namespaces, $LAB_NET.12)"
	elif [ "${NODES:-1}" = 2 ]; then
		# shellcheck disable=SC2016
		slurmd2_pid=$(SPAWN_COMM=slurmd spawn slurmd2 unshare -m --propagation private -- \
			sh -c 'mount -t tmpfs -o mode=1777 ptd-n2-tmp /tmp &&
				mount -t tmpfs -o mode=1777 ptd-n2-var-tmp /var/tmp &&
				exec slurmd -D -N "$0" -f "$1"' "$NODE2" "$CONF")
		log "slurmd pid $slurmd2_pid (node $NODE2, own /tmp and /var/tmp)"
	fi

	for n in $NODE $([ "${NODES:-1}" = 2 ] && echo "$NODE2"); do
		state=unknown
		for i in $(seq $((WAIT_SECS * 20))); do
			state=$(sinfo -h -n "$n" -o %T 2>/dev/null || true)
			[ "$state" = idle ] && break
			is_proc "$slurmd_pid" || { state="slurmd died"; break; }
			[ -z "$slurmd2_pid" ] || [ "$NETNS" != 1 ] || is_proc "$slurmd2_pid" || { state="slurmd2 died"; break; }
			sleep 0.05
		done
		if [ "$state" != idle ]; then
			log_tails
			die "node $n is not idle (state: $state)"
		fi
	done

	cat >"$RUN/cluster.env" <<-EOF
		NODE=$NODE
		SLURM_CONF=$CONF
		SLURMD_PID=$slurmd_pid
		NODE2=$([ "${NODES:-1}" = 2 ] && echo "$NODE2")
		SLURMD2_PID=$slurmd2_pid
		SLURMCTLD_PID=$ctld_pid
		SLURMD_LOG=$LOGDIR/slurmd.log
		SHARED_ROOT=${SHARED_ROOT:-0}
		PLUGSTACK=$plugstack
	EOF
	if [ "$NETNS" = 1 ]; then
		! grep 'ptd-n[12]-' /proc/self/mountinfo >&2 || die "a node's mount (above) leaked into the host"
		for n in "$NODE:$slurmd_pid" "$NODE2:$slurmd2_pid"; do
			is_proc "${n#*:}" slurmd || die "node ${n%%:*}: slurmd (pid ${n#*:}) died"
			[ "$(nsenter -t "${n#*:}" -u hostname)" = "${n%%:*}" ] || die "node ${n%%:*} has hostname $(nsenter -t "${n#*:}" -u hostname)"
		done
		cat >>"$RUN/cluster.env" <<-EOF
			NETNS=1
			LAB_BRIDGE=$LAB_BRIDGE
			CTLD_ADDR=$LAB_NET.1
			NODE1_ADDR=$LAB_NET.11
			NODE2_ADDR=$LAB_NET.12
			NODE1_INIT=$(node_init_pid "$NODE")
			NODE2_INIT=$(node_init_pid "$NODE2")
		EOF
	fi
	trap - EXIT
	log "node $NODE idle $((($(date +%s%N) - t_start) / 1000000)) ms after starting the daemons"
}

start_failed() {
	trap - EXIT
	[ "$1" = 0 ] && exit 0
	log "start failed; stopping the daemons it started"
	cmd_stop || true
	exit "$1"
}

stop_one() { # name pidfile [comm]
	local name=$1 f=$2 pid i
	pid=$(live_pid "${3:-$name}" "$f")
	if [ -z "$pid" ]; then
		rm -f "$f"
		return 0
	fi
	kill -TERM "$pid"
	for i in $(seq 300); do
		is_proc "$pid" || break
		sleep 0.05
	done
	if is_proc "$pid"; then
		log "$name pid $pid ignored SIGTERM for 15s; SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		stop_rc=1
	fi
	rm -f "$f"
	log "stopped $name pid $pid"
}

cmd_stop() {
	local ids i
	[ "$(id -u)" = 0 ] || die "must run as root"
	stop_rc=0
	# Cancel our jobs first, so their slurmstepd (not a child of slurmd)
	# finish and run the plugin's cleanup while slurmd still runs.
	if [ -n "$(live_pid slurmctld "$RUN/slurmctld.started.pid")" ] && [ -r "$CONF" ]; then
		ids=$(squeue -h -o %A 2>/dev/null || true)
		if [ -n "$ids" ]; then
			# shellcheck disable=SC2086
			scancel $ids 2>/dev/null || true
			for i in $(seq $((WAIT_SECS * 10))); do
				[ -z "$(squeue -h -o %A 2>/dev/null || true)" ] && break
				sleep 0.1
			done
			log "cancelled jobs: $(echo $ids)"
		fi
	fi
	# NETNS=1 nodes: whatever this environment says (pid files tell)
	for n in ptd-n2 ptd-n1; do
		if [ -e "$RUN/node-$n.launcher.pid" ] || [ -e "$RUN/slurmd-$n.started.pid" ]; then stop_node "$n"; fi
	done
	stop_one slurmd2 "$RUN/slurmd2.started.pid" slurmd
	stop_one slurmd "$RUN/slurmd.started.pid"
	stop_one slurmctld "$RUN/slurmctld.started.pid"
	[ "${KEEP_MUNGE:-0}" = 1 ] || stop_one munged "$RUN/munged.started.pid"
	if [ -e "$NETNS_ENV" ]; then
		if net_down "$(sed -n 's/^LAB_BRIDGE=//p' "$NETNS_ENV")"; then rm -f "$NETNS_ENV"; else stop_rc=1; fi
	fi
	if [ -e "$CONF" ] && grep -qxF "$NETNS_MARKER" "$CONF"; then
		rm -f "$CONF"
		log "removed $CONF (its addresses were the lab bridge's)"
	fi
	rm -f "$RUN/cluster.env"
	return $stop_rc
}

# value of KEY in cluster.env, or nothing
env_get() { sed -n "s/^$1=//p" "$RUN/cluster.env" 2>/dev/null || true; }

# the running cluster's nodes, one "name slurmd-pid-file" a line
nodes_of_env() {
	local n1 n2
	n1=$(env_get NODE)
	n2=$(env_get NODE2)
	[ -n "$n1" ] || n1=$NODE
	if [ "$(env_get NETNS)" = 1 ]; then
		echo "$n1 $RUN/slurmd-$n1.started.pid"
		echo "$n2 $RUN/slurmd-$n2.started.pid"
	else
		echo "$n1 $RUN/slurmd.started.pid"
		[ -z "$n2" ] || echo "$n2 $RUN/slurmd2.started.pid"
	fi
}

cmd_status() {
	local rc=0 d pid n f state
	for d in munged slurmctld; do
		pid=$(live_pid "$d" "$RUN/$d.started.pid")
		if [ -n "$pid" ]; then
			echo "$d: pid $pid"
		elif [ "$d" = munged ] && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
			echo "munged: not ours, answering"
		else
			echo "$d: not running"
			rc=1
		fi
	done
	while read -r n f; do
		pid=$(live_pid slurmd "$f")
		if [ -z "$pid" ]; then
			echo "slurmd of $n: not running"
			rc=1
		elif [ "$(env_get NETNS)" = 1 ]; then
			echo "slurmd of $n: pid $pid (hostname $(nsenter -t "$pid" -u hostname)," \
				"$(nsenter -t "$pid" -n ip -4 -o addr show eth0 | awk '{print $4}'))"
		else
			echo "slurmd of $n: pid $pid"
		fi
	done < <(nodes_of_env)
	if [ -r "$CONF" ] && [ -n "$(live_pid slurmctld "$RUN/slurmctld.started.pid")" ]; then
		while read -r n f; do
			state=$(sinfo -h -n "$n" -o %T 2>/dev/null || true)
			echo "node $n: ${state:-unknown}"
			case "$state" in "" | *'*' | down* | drain* | unknown) rc=1 ;; esac
		done < <(nodes_of_env)
		scontrol ping 2>/dev/null | grep -q 'is UP' || rc=1
	else
		echo "no slurmctld of ours answering (conf: $CONF)"
		rc=1
	fi
	return $rc
}

cmd_resume() {
	local state i n f
	[ -r "$CONF" ] || die "no $CONF; cluster not running"
	while read -r n f; do
		state=$(sinfo -h -n "$n" -o %T 2>/dev/null || true)
		case "$state" in
		idle | mixed | allocated | completing) continue ;;
		esac
		scontrol update nodename="$n" state=resume
		for i in $(seq $((WAIT_SECS * 20))); do
			state=$(sinfo -h -n "$n" -o %T 2>/dev/null || true)
			[ "$state" = idle ] && break
			sleep 0.05
		done
		[ "$state" = idle ] || die "node $n is $state after resume"
		log "node $n resumed"
	done < <(nodes_of_env)
}

# slurmd dies as in a crash: no shutdown, its jobs' slurmstepd keep running.
cmd_restart_slurmd() {
	local pid slurmd_pid n i
	[ "$(id -u)" = 0 ] || die "must run as root"
	[ -r "$RUN/cluster.env" ] || die "no cluster running ($RUN/cluster.env missing)"
	grep -q '^NODE2=.' "$RUN/cluster.env" && die "restart-slurmd: one node only"
	pid=$(live_pid slurmd "$RUN/slurmd.started.pid")
	[ -n "$pid" ] || die "slurmd is not running"
	n=$(grep -c 'slurmd started on' "$LOGDIR/slurmd.log" || true)
	kill -KILL "$pid"
	for i in $(seq 100); do
		is_proc "$pid" || break
		sleep 0.05
	done
	is_proc "$pid" && die "slurmd pid $pid survived SIGKILL"
	# DOWN_MS: how long the node stays without slurmd (jobs may end then).
	[ "${DOWN_MS:-0}" -gt 0 ] && sleep "$(awk -v ms="$DOWN_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
	if grep -q '^SHARED_ROOT=1' "$RUN/cluster.env"; then
		slurmd_pid=$(spawn slurmd unshare -m --propagation shared -- slurmd -D -f "$CONF")
	else
		slurmd_pid=$(spawn slurmd slurmd -D -f "$CONF")
	fi
	for i in $(seq $((WAIT_SECS * 20))); do
		[ "$(grep -c 'slurmd started on' "$LOGDIR/slurmd.log" || true)" -gt "$n" ] && break
		is_proc "$slurmd_pid" || die "slurmd (pid $slurmd_pid) died after its restart"
		sleep 0.05
	done
	[ "$(grep -c 'slurmd started on' "$LOGDIR/slurmd.log" || true)" -gt "$n" ] ||
		die "slurmd (pid $slurmd_pid) did not start in ${WAIT_SECS}s"
	sed -i "s/^SLURMD_PID=.*/SLURMD_PID=$slurmd_pid/" "$RUN/cluster.env"
	log "slurmd pid $pid killed (SIGKILL); restarted as pid $slurmd_pid"
}

case "${1:-}" in
start) cmd_start ;;
node-init) cmd_node_init "$2" ;;
restart-slurmd) cmd_restart_slurmd ;;
install)
	[ "$(id -u)" = 0 ] || die "must run as root"
	install_packages
	ensure_users
	;;
stop) cmd_stop ;;
status) cmd_status ;;
resume) cmd_resume ;;
*)
	echo "usage: $0 start|stop|status|resume|install|restart-slurmd" >&2
	exit 2
	;;
esac
