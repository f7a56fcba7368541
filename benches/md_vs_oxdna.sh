#!/usr/bin/env bash
# Side-by-side MD or VMMC speed: oxgrad simulate against a real oxDNA (and optionally another
# oxgrad binary, e.g. an earlier commit), on the same machine, in one session, runs alternating.
#
#   OXDNA_BIN=/path/to/oxDNA [OXGRAD_BASE=/path/to/old/oxgrad] [REPEATS=5] [THREADS=1] \
#     [CLOCK=cpu|wall] [SIM=MD|VMMC] [SMALL_SYSTEM=0|1] [MODEL=DNA|RNA2] [SEQ_DEP=0|1] \
#     benches/md_vs_oxdna.sh [target/release/oxgrad]
#
# Systems, MD: generated duplexes of 12, 60 and 1000 bp (24, 120, 2000 nucleotides), oxDNA1
# (interaction_type = DNA), john thermostat, dt 0.005, verlet_skin 0.05, 300 K. MODEL=RNA2:
# oxRNA2 (interaction_type = RNA2, salt_concentration = 1), generated duplexes of 12, 66 and
# 500 bp (24, 132, 1000 nucleotides, A C G U; ideal helices, which relax towards the RNA
# geometry as they run), 30000, 6000 and 1000 steps; SEQ_DEP=1 makes them sequence-dependent
# (use_average_seq = false with oxDNA's rna_sequence_dependent_parameters.txt). VMMC: duplexes
# of 8 and 30 bp (16 and 60 nucleotides) in a box of side 20, oxDNA1, 300 K, δ_t = δ_r = 0.22,
# `small_system = $SMALL_SYSTEM` (default 0), no umbrella. Each run's CPU
# time (user + system) is measured with /usr/bin/time (CLOCK=wall: its elapsed time instead, the
# measure for THREADS > 1, where CPU time adds the threads' up); the table gives the median over REPEATS
# of each program and the median of the per-repeat ratios (a ratio > 1: oxgrad is faster).
# Build oxDNA outside this repository (it is GPL); see tests/data/oxdna/README.md.
set -euo pipefail
OXGRAD=${1:-target/release/oxgrad}
OXGRAD=$(realpath "$OXGRAD")
: "${OXDNA_BIN:?set OXDNA_BIN to an oxDNA binary}"
REPEATS=${REPEATS:-5}
THREADS=${THREADS:-1}
SIM=${SIM:-MD}
SMALL_SYSTEM=${SMALL_SYSTEM:-0}
MODEL=${MODEL:-DNA}
SEQ_DEP=${SEQ_DEP:-0}
CLOCK=${CLOCK:-cpu}
case "$CLOCK" in cpu | wall) ;; *) echo "CLOCK must be cpu or wall, not '$CLOCK'" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BASES=ACGT
[ "$MODEL" = RNA2 ] && BASES=ACGU
sequence() { python3 -c "import random; random.seed($1); print(''.join(random.choice('$BASES') for _ in range($2)))"; }

engine() { # the engine's keys
  if [ "$SIM" = VMMC ]; then
    printf 'sim_type = VMMC\nensemble = NVT\ndelta_translation = 0.22\ndelta_rotation = 0.22\nverlet_skin = 1.0\nsmall_system = %s\n' "$SMALL_SYSTEM"
  else
    printf 'sim_type = MD\ndt = 0.005\nthermostat = john\nnewtonian_steps = 103\ndiff_coeff = 2.5\nverlet_skin = 0.05\nrefresh_vel = true\n'
  fi
}

input() { # dir steps tool
  engine > "$1/input_$3"
  cat >> "$1/input_$3" <<EOF
backend = CPU
backend_precision = double
interaction_type = $MODEL
T = 300K
steps = $2
seed = 7
topology = init.top
conf_file = init.dat
trajectory_file = traj_$3.dat
lastconf_file = last_$3.dat
energy_file = energy_$3.dat
print_conf_interval = $2
print_energy_every = $2
restart_step_counter = true
time_scale = linear
EOF
  if [ "$MODEL" = RNA2 ]; then echo "salt_concentration = 1.0" >> "$1/input_$3"; fi
  if [ "$MODEL" = RNA2 ] && [ "$SEQ_DEP" = 1 ]; then
    cp "$HERE/../data/params/seqdep/rna_sequence_dependent_parameters.txt" "$1/"
    printf 'use_average_seq = false\nseq_dep_file = rna_sequence_dependent_parameters.txt\n' >> "$1/input_$3"
  fi
  if [ "$3" = ox ]; then echo "no_stdout_energy = true" >> "$1/input_$3"; fi
  if [ "$3" != ox ]; then echo "threads = $THREADS" >> "$1/input_$3"; fi
}

cpu() { # seconds of CPU (user + system), or of wall-clock time with CLOCK=wall, of a command run in $1
  local dir=$1; shift
  ( cd "$dir" && /usr/bin/time -f "%U %S %e" "$@" > /dev/null 2> time.log ) || { cat "$dir/time.log" >&2; exit 1; }
  tail -1 "$dir/time.log" | awk -v clock="$CLOCK" '{print (clock == "wall") ? $3 : $1 + $2}'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "($CLOCK time; oxgrad on $THREADS thread(s))"
printf "%-12s %8s %10s %12s %12s %10s" "system" "steps" "repeats" "oxDNA s" "oxgrad s" "ratio"
[ -n "${OXGRAD_BASE:-}" ] && printf " %12s %14s" "base s" "ratio to base"
echo
if [ "$SIM" = VMMC ]; then
  systems=("8 20000" "30 4000")
elif [ "$MODEL" = RNA2 ]; then
  systems=("12 30000" "66 6000" "500 1000")
else
  systems=("12 200000" "60 40000" "1000 2000")
fi
for spec in "${systems[@]}"; do
  set -- $spec
  bp=$1; steps=$2
  d="$WORK/d$bp"
  box=(); [ "$SIM" = VMMC ] && box=(--box 20)
  "$OXGRAD" generate duplex -s "$(sequence "$bp" "$bp")" "${box[@]}" -o "$d" > /dev/null 2>&1
  input "$d" "$steps" ox; input "$d" "$steps" og; input "$d" "$steps" base
  ox=(); og=(); base=(); r=(); rb=()
  for ((k = 0; k < REPEATS; k++)); do
    a=$(cpu "$d" "$OXDNA_BIN" input_ox)
    b=$(cpu "$d" "$OXGRAD" simulate input_og --force)
    ox+=("$a"); og+=("$b"); r+=("$(python3 -c "print($a / $b)")")
    if [ -n "${OXGRAD_BASE:-}" ]; then
      sed -i '/^threads/d' "$d/input_base"
      # an older binary may not know --force: clear its previous outputs instead
      rm -f "$d/traj_base.dat" "$d/last_base.dat" "$d/energy_base.dat"
      c=$(cpu "$d" "$OXGRAD_BASE" simulate input_base)
      base+=("$c"); rb+=("$(python3 -c "print($c / $b)")")
    fi
  done
  printf "%-12s %8s %10s %12s %12s %10s" "${bp}bp/$((2 * bp))nt" "$steps" "$REPEATS" \
    "$(printf '%s\n' "${ox[@]}" | median)" "$(printf '%s\n' "${og[@]}" | median)" "$(printf '%s\n' "${r[@]}" | median)"
  if [ -n "${OXGRAD_BASE:-}" ]; then
    printf " %12s %14s" "$(printf '%s\n' "${base[@]}" | median)" "$(printf '%s\n' "${rb[@]}" | median)"
  fi
  echo
done
