#!/bin/bash
# Melting side by side: oxDNA's VMMC and oxgrad's on the same input, alternating, one run per
# seed each, then Tm of every run from its last_hist.dat (oxgrad melting) and CPU seconds.
#
#   OXDNA_BIN=/path/to/oxDNA SEEDS="1 2 3 4" STEPS=3000000 benches/melting_vs_oxdna.sh target/release/oxgrad [DIR]
#
# The system is examples/melting's: averaged oxDNA1, AGCGTGAC and its complement in a box of side
# 12 at 60 C, umbrella sampling on its op.txt and weights.txt, small_system = 1.
set -euo pipefail
OXGRAD=$(realpath "${1:?usage: OXDNA_BIN=... $0 path/to/oxgrad [dir]}")
DIR=${2:-melting-vs-oxdna}
: "${OXDNA_BIN:?set OXDNA_BIN to an oxDNA binary}"
SEEDS=${SEEDS:-1 2 3 4}
STEPS=${STEPS:-3000000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$DIR" && cd "$DIR"
"$OXGRAD" generate duplex -s AGCGTGAC --box 12 -o gen > /dev/null
cp "$HERE/examples/melting/op.txt" op.txt
grep -v '^#' "$HERE/examples/melting/weights.txt" > wfile.txt
for seed in $SEEDS; do
  for prog in oxdna oxgrad; do
    d=$prog-$seed; mkdir -p $d
    cat > $d/input <<EOI
backend = CPU
sim_type = VMMC
ensemble = NVT
steps = $STEPS
delta_translation = 0.22
delta_rotation = 0.22
T = 60C
verlet_skin = 1.0
small_system = 1
umbrella_sampling = 1
op_file = ../op.txt
weights_file = ../wfile.txt
extrapolate_hist = 44C, 46C, 48C, 50C, 52C, 54C, 56C, 58C, 60C, 62C, 64C, 66C, 68C, 70C, 72C, 74C, 76C
use_average_seq = 1
interaction_type = DNA
topology = ../gen/init.top
conf_file = ../gen/init.dat
trajectory_file = trajectory.dat
restart_step_counter = 1
energy_file = energy.dat
print_conf_interval = 100000
print_energy_every = 10000
lastconf_file = last_conf.dat
time_scale = linear
no_stdout_energy = 1
seed = $seed
EOI
    if [ $prog = oxdna ]; then (cd $d && /usr/bin/time -f "%U" -o cpu.txt "$OXDNA_BIN" input > out.log 2>&1)
    else (cd $d && /usr/bin/time -f "%U" -o cpu.txt "$OXGRAD" simulate input > out.log 2>&1); fi
  done
done
for prog in oxdna oxgrad; do
  echo "== $prog (CPU s per run: $(cat $prog-*/cpu.txt | tr '\n' ' '))"
  for d in $prog-*; do
    echo -n "$d: "; "$OXGRAD" melting --bimolecular --input $d/input $d/last_hist.dat 2>&1 | grep -E "^Tm =|^error" || true
  done
done
