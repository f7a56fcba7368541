# What .ci/slurm.sh (one node) and .ci/slurm-multi.sh (three nodes) share, sourced by both with
# SLURM_ROOT, SLURM_CONF and MUNGE_DIR set: installing Slurm and munge, the munge key, the
# settings every CI cluster needs (each avoids a pitfall of this kind of machine: see
# .ci/slurm.sh), starting munged, and stopping a daemon by its pidfile.

# Debian's slurm-wlm and munge (and any further packages named), unless already there.
install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d in containers blocks the postinst service starts; that is fine, we start by hand
  apt-get install -y -qq --no-install-recommends slurm-wlm munge "$@" >/dev/null
}

# The cluster's directories and its munge key.
prepare_dirs() {
  mkdir -p "$SLURM_ROOT"/{state,spool,log} "$MUNGE_DIR"
  chmod 755 "$SLURM_ROOT"; chmod 700 "$MUNGE_DIR"
  [ -f "$MUNGE_DIR/munge.key" ] || mungekey --create --keyfile="$MUNGE_DIR/munge.key"
  chmod 600 "$MUNGE_DIR/munge.key"
}

# The shared settings of slurm.conf; $1: DefMemPerCPU (MB).
common_conf() {
  cat <<CONF
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket
StateSaveLocation=$SLURM_ROOT/state
SlurmctldPidFile=$SLURM_ROOT/slurmctld.pid
SlurmctldLogFile=$SLURM_ROOT/log/slurmctld.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_ROOT/log/jobcomp.txt
MpiDefault=none
GresTypes=gpu
SchedulerType=sched/backfill
ReturnToService=2
EnforcePartLimits=ALL
DefMemPerCPU=$1
InactiveLimit=0
KillWait=5
MinJobAge=300
Waittime=0
CONF
}

# munged on the cluster's own socket, checked with a round trip.
start_munge() {
  munged --force --key-file="$MUNGE_DIR/munge.key" --socket="$MUNGE_DIR/munge.socket" \
         --pid-file="$MUNGE_DIR/munged.pid" --log-file="$SLURM_ROOT/log/munged.log" \
         --seed-file="$MUNGE_DIR/munged.seed"
  munge -n -S "$MUNGE_DIR/munge.socket" | unmunge -S "$MUNGE_DIR/munge.socket" >/dev/null
}

# Stops the daemon of pidfile $1 (if any), waiting up to 10 s for it to end.
stop_pid() {
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
}
