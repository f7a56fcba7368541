#!/usr/bin/env bash
# A real one-node Slurm cluster on localhost, for CI and for developers (root, non-interactive,
# no systemd, no cgroups): installs Debian's slurm-wlm and munge, writes a minimal configuration
# and starts munged, slurmctld and slurmd. The Slurm executor's tests (tests/slurm.rs) run
# against it. The node has two stand-in GPUs (GRES `gpu` on two tty devices: Slurm binds them to
# steps and sets CUDA_VISIBLE_DEVICES, nothing uses them).
#
# Usage: .ci/slurm.sh start|stop|selftest
#   then: export SLURM_CONF=/tmp/slurm-ci/slurm.conf
#         cargo test --release --test slurm -- --ignored
#
# Adapted from the project's notes on this kind of machine (the pitfalls each setting avoids:
# DefMemPerCPU, EnforcePartLimits=ALL, OverMemoryKill with jobacct_gather/linux, slurmd -N).
set -euo pipefail
SLURM_ROOT=${SLURM_ROOT:-/tmp/slurm-ci}
export SLURM_CONF=$SLURM_ROOT/slurm.conf
MUNGE_DIR=$SLURM_ROOT/munge
# shellcheck source=.ci/slurm-common.sh
source "$(dirname "$0")/slurm-common.sh"

write_conf() {
  prepare_dirs
  local mem_mb ncpu
  mem_mb=$(awk '/MemTotal/ {print int($2/1024) - 512}' /proc/meminfo)
  ncpu=$(nproc)
  {
    cat <<CONF
ClusterName=ci
SlurmctldHost=localhost
SlurmdSpoolDir=$SLURM_ROOT/spool
SlurmdPidFile=$SLURM_ROOT/slurmd.pid
SlurmdLogFile=$SLURM_ROOT/log/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
CONF
    common_conf 1024
    cat <<CONF
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$ncpu RealMemory=$mem_mb Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  } > "$SLURM_CONF"
  # stand-in GPUs: character devices every machine has
  echo "Name=gpu File=/dev/tty[0-1]" > "$SLURM_ROOT/gres.conf"
}

start() {
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "slurm already up: SLURM_CONF=$SLURM_CONF"; return
  fi
  install
  [ -n "${KEEP_CONF:-}" ] || write_conf
  start_munge
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF" -N localhost        # -N: node name independent of the container hostname
  for _ in $(seq 1 120); do
    sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
    sleep 0.25
  done
  sinfo -h -N -o '%T' | grep -qE '^(idle|mixed|allocated)' || { tail -n 20 "$SLURM_ROOT"/log/*.log; exit 1; }
  echo "slurm up: SLURM_CONF=$SLURM_CONF"
}

stop() {
  for f in "$SLURM_ROOT/slurmd.pid" "$SLURM_ROOT/slurmctld.pid" "$MUNGE_DIR/munged.pid"; do
    stop_pid "$f"
  done
}

selftest() {
  srun -n1 -c1 --mem=100M hostname
  out=$(salloc -n2 -c1 --mem-per-cpu=200M bash -c \
    's=$(date +%s%N); srun --exact -n1 -c1 sleep 2 & srun --exact -n1 -c1 sleep 2 & wait; echo $(( ($(date +%s%N)-s)/1000000 ))' 2>/dev/null)
  [ "$out" -lt 3500 ] || { echo "steps did not run concurrently ($out ms)"; exit 1; }
  set +e; srun -n1 bash -c 'exit 3'; rc=$?; set -e
  [ "$rc" -eq 3 ] || { echo "exit code not propagated ($rc)"; exit 1; }
  echo "selftest ok (2x2s steps in ${out} ms, failing step rc=$rc)"
}

"${1:-start}"
