#!/usr/bin/env bash
# A real three-node Slurm cluster on one machine, for CI and for developers (root, no systemd, no
# cgroups): slurmctld and munged in the machine's own network namespace, and three slurmd, each
# its own host: its own network namespace (ip netns oxnodeK, address 10.200.0.1K on a bridge
# oxbr0 whose root side is 10.200.0.1) and its own UTS namespace (its hostname is its node name,
# nodeK). The file system is shared by all of them, as a cluster file system would be. Each node
# has 2 CPUs, 1500 MB and one stand-in GPU (GRES `gpu` on a tty device). The multi-node tests of
# tests/slurm.rs run against it; `kill-node K` stops node K the way a crash does (every process in
# its namespace, slurmd and the steps it runs), `revive-node K` starts it again.
#
# Usage: .ci/slurm-multi.sh start|stop|selftest|kill-node K|revive-node K
#   then: export SLURM_CONF=/tmp/slurm-multi/slurm.conf
#         cargo test --release --test slurm multi_node -- --ignored
#
# It runs beside .ci/slurm.sh's one-node cluster: other ports, directories and pidfiles.
# The settings each avoid a pitfall of the one-node script (see there), plus: SlurmdTimeout=6 so
# a dead node is declared DOWN within seconds (the default is 300 s), and jobs that must survive a
# node's death are submitted with --no-kill (without it Slurm ends the whole job).
set -euo pipefail
SLURM_ROOT=${SLURM_ROOT:-/tmp/slurm-multi}
export SLURM_CONF=$SLURM_ROOT/slurm.conf
MUNGE_DIR=$SLURM_ROOT/munge
NODES=${NODES:-3}
BRIDGE=oxbr0
# shellcheck source=.ci/slurm-common.sh
source "$(dirname "$0")/slurm-common.sh"

write_conf() {
  prepare_dirs
  {
    cat <<CONF
ClusterName=cimulti
SlurmctldHost=localhost(10.200.0.1)
SlurmdSpoolDir=$SLURM_ROOT/spool/%n
SlurmdPidFile=$SLURM_ROOT/slurmd-%n.pid
SlurmdLogFile=$SLURM_ROOT/log/slurmd-%n.log
SlurmctldPort=6837
SlurmdPort=6838
CONF
    common_conf 500
    cat <<CONF
SlurmdTimeout=6
MessageTimeout=5
NodeName=node[1-$NODES] NodeAddr=10.200.0.1[1-$NODES] CPUs=2 RealMemory=1500 Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  } > "$SLURM_CONF"
  : > "$SLURM_ROOT/gres.conf"
  for k in $(seq 1 "$NODES"); do
    echo "NodeName=node$k Name=gpu File=/dev/tty$k" >> "$SLURM_ROOT/gres.conf"
  done
}

network() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || {
    ip link add "$BRIDGE" type bridge
    ip addr add 10.200.0.1/24 dev "$BRIDGE"
    ip link set "$BRIDGE" up
  }
  for k in $(seq 1 "$NODES"); do
    ip netns list | grep -qw "oxnode$k" && continue
    ip netns add "oxnode$k"
    ip link add "oxveth$k" type veth peer name eth0 netns "oxnode$k"
    ip link set "oxveth$k" master "$BRIDGE" up
    ip -n "oxnode$k" addr add "10.200.0.1$k/24" dev eth0
    ip -n "oxnode$k" link set eth0 up
    ip -n "oxnode$k" link set lo up
    ip -n "oxnode$k" route add default via 10.200.0.1
  done
}

# slurmd of node K in its namespaces, its hostname its node name
start_node() {
  local k=$1
  mkdir -p "$SLURM_ROOT/spool/node$k"
  # nsenter, not `ip netns exec`: that remounts /sys, without the cgroup file system slurmd reads
  nsenter --net="/run/netns/oxnode$k" unshare --uts sh -c \
    "hostname node$k && exec slurmd -f '$SLURM_CONF' -N node$k"
}

up() { sinfo -h -N -o '%N %T' 2>/dev/null | grep -cE ' (idle|mixed|allocated)$' || true; }

start() {
  if [ "$(up)" -ge "$NODES" ] 2>/dev/null; then
    echo "slurm already up: SLURM_CONF=$SLURM_CONF"; return
  fi
  stop # what a half-started cluster left
  install iproute2
  [ -n "${KEEP_CONF:-}" ] || write_conf
  network
  start_munge
  slurmctld -f "$SLURM_CONF"
  for k in $(seq 1 "$NODES"); do start_node "$k"; done
  for _ in $(seq 1 120); do
    [ "$(up)" -ge "$NODES" ] && break
    sleep 0.25
  done
  [ "$(up)" -ge "$NODES" ] || { sinfo -N; tail -n 20 "$SLURM_ROOT"/log/*.log; exit 1; }
  echo "slurm up ($NODES nodes): SLURM_CONF=$SLURM_CONF"
}

# node K crashes: every process of its network namespace (slurmd, slurmstepd, the steps) dies
kill_node() {
  local k=$1 pids
  pids=$(ip netns pids "oxnode$k" || true)
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  rm -f "$SLURM_ROOT/slurmd-node$k.pid"
}

revive_node() {
  start_node "$1"
  for _ in $(seq 1 120); do
    sinfo -h -n "node$1" -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)$' && return
    sleep 0.25
  done
  echo "node$1 did not come back"; exit 1
}

stop() {
  for k in $(seq 1 "$NODES"); do
    stop_pid "$SLURM_ROOT/slurmd-node$k.pid"
    # steps still running in the node (slurmstepd and its tasks)
    if ip netns list | grep -qw "oxnode$k"; then
      pids=$(ip netns pids "oxnode$k" || true)
      [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
      ip netns del "oxnode$k"
    fi
    ip link del "oxveth$k" 2>/dev/null || true
  done
  stop_pid "$SLURM_ROOT/slurmctld.pid"
  stop_pid "$MUNGE_DIR/munged.pid"
  ip link del "$BRIDGE" 2>/dev/null || true
}

selftest() {
  local hosts
  hosts=$(srun -N"$NODES" -n"$NODES" --mem=100M hostname | sort | tr '\n' ' ')
  [ "$hosts" = "$(seq -f 'node%g' -s ' ' 1 "$NODES") " ] || { echo "hostnames: $hosts"; exit 1; }
  echo "selftest ok: one step on every node, hostnames $hosts"
}

case "${1:-start}" in
  kill-node) kill_node "$2" ;;
  revive-node) revive_node "$2" ;;
  *) "${1:-start}" ;;
esac
