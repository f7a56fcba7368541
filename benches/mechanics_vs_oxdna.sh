#!/usr/bin/env bash
# Mechanics side by side: a duplex pulled by oxDNA's `string` forces (case "stretch"), and held at
# one end while the other is pulled and turned by oxDNA's `twist` traps (case "twist"), run by
# oxDNA and by `oxgrad simulate` from the same input and external_forces_file, several seeds each;
# then the mean extension (nm), end rotation and total twist (turns) of each program with the
# combined error bar.
#
#   OXDNA_BIN=/path/to/oxDNA [SEEDS="1 2 3 4 5"] [STEPS=300000] [EQUIL=50000] [JOBS=1] \
#     benches/mechanics_vs_oxdna.sh [target/release/oxgrad] [DIR]
#
# System: the 24-bp duplex GCGTACGATCAGTCCATGCAGTCG and its complement along z (`oxgrad generate
# duplex`, box 30), oxDNA2 (interaction_type = DNA2, salt 0.5 M), 300 K, john thermostat
# (newtonian_steps 103, diff_coeff 2.5), dt 0.005, a configuration every 1000 steps.
# Nucleotides 0 and 47 are the top base pair (z ≈ 19.3), 23 and 24 the bottom one (z ≈ 10.3);
# the helix axis is x = y = 15. oxDNA's force unit is 48.63 pN (kT at 3000 K per 0.8518 nm).
#
#   stretch: `string` F0 = 0.2056 (10 pN) on each of 0 and 47 along +z and on each of 23 and 24
#            along -z: 20 pN on each end base pair, the duplex otherwise free.
#   twist:   23 and 24 held by `trap`s (stiff 10, at their initial positions); 0 and 47 each in a
#            `twist` trap (stiff 10, mask 1,1,0, axis 0,0,1 through the helix axis, pos0 their
#            initial positions, base 0, rate 3e-6 rad per step: the trap turns by 0.9 rad, +0.14
#            turns, over 300 000 steps, overwinding the duplex) and pulled along +z by a `string`
#            of 10 pN each (20 pN on the pair).
#
# Observables (`oxgrad observe`, two base pairs dropped at each end, axis z): extension along z,
# end rotation about z and writhe-free total twist, each averaged over the frames of a run from
# step EQUIL on. The error bar of a program is the standard error over its independent runs
# (seeds): sd/sqrt(n) of the per-run means; the difference is compared with the combined error
# sqrt(se_oxDNA² + se_oxgrad²) (|Δ|/σ is the last column). Each run's own block-jackknife error
# (`observe`'s std_err, which respects autocorrelation) is printed per run for comparison.
# Both programs run on one thread (oxgrad with RAYON_NUM_THREADS=1; the input files are identical);
# JOBS runs go at once. oxDNA is run outside this repository (it is GPL); see tests/data/oxdna/README.md.
set -euo pipefail
OXGRAD=$(realpath "${1:-target/release/oxgrad}")
DIR=${2:-mechanics-vs-oxdna}
: "${OXDNA_BIN:?set OXDNA_BIN to an oxDNA binary}"
SEEDS=${SEEDS:-1 2 3 4 5}
STEPS=${STEPS:-300000}
EQUIL=${EQUIL:-50000}
JOBS=${JOBS:-1}
SEQ=GCGTACGATCAGTCCATGCAGTCG
F=0.2056 # 10 pN in oxDNA force units (48.63 pN)
mkdir -p "$DIR" && cd "$DIR"
[ -s gen/init.dat ] || "$OXGRAD" generate duplex -s $SEQ --box 30 -o gen > /dev/null
pos() { awk -v n=$(($1 + 4)) 'NR == n {printf "%s, %s, %s", $1, $2, $3}' gen/init.dat; }

block() { # type particle key=value...
  printf '{\ntype = %s\nparticle = %s\n' "$1" "$2"; shift 2
  for kv in "$@"; do printf '%s\n' "${kv/=/ = }"; done
  printf '}\n'
}
{
  block string 0 F0=$F rate=0 dir=0,0,1; block string 47 F0=$F rate=0 dir=0,0,1
  block string 23 F0=$F rate=0 dir=0,0,-1; block string 24 F0=$F rate=0 dir=0,0,-1
} > forces_stretch.txt
{
  block trap 23 "pos0=$(pos 23)" stiff=10 rate=0 dir=0,0,1
  block trap 24 "pos0=$(pos 24)" stiff=10 rate=0 dir=0,0,1
  for p in 0 47; do
    block twist $p stiff=10 rate=3e-6 base=0 "pos0=$(pos $p)" "center=15, 15, 0" "axis=0, 0, 1" "mask=1, 1, 0"
    block string $p F0=$F rate=0 dir=0,0,1
  done
} > forces_twist.txt

input() { # case seed
  cat <<EOF
backend = CPU
backend_precision = double
sim_type = MD
interaction_type = DNA2
salt_concentration = 0.5
T = 300K
dt = 0.005
thermostat = john
newtonian_steps = 103
diff_coeff = 2.5
verlet_skin = 0.05
refresh_vel = true
steps = $STEPS
seed = $2
topology = ../gen/init.top
conf_file = ../gen/init.dat
trajectory_file = trajectory.dat
lastconf_file = last_conf.dat
energy_file = energy.dat
print_conf_interval = 1000
print_energy_every = 10000
restart_step_counter = true
time_scale = linear
no_stdout_energy = 1
external_forces = 1
external_forces_file = ../forces_$1.txt
EOF
}

run() { # case seed program
  local d=$1-$3-$2
  mkdir -p "$d"; input "$1" "$2" > "$d/input"
  if [ -s "$d/cpu.txt" ] && [ -s "$d/trajectory.dat" ]; then return; fi # done before
  rm -f "$d/trajectory.dat"
  if [ "$3" = oxdna ]; then (cd "$d" && nice /usr/bin/time -f "%U" -o cpu.tmp "$OXDNA_BIN" input > out.log 2>&1)
  else (cd "$d" && RAYON_NUM_THREADS=1 nice /usr/bin/time -f "%U" -o cpu.tmp "$OXGRAD" simulate input --force > out.log 2>&1); fi
  mv "$d/cpu.tmp" "$d/cpu.txt"
}

for c in stretch twist; do
  for s in $SEEDS; do
    for p in oxdna oxgrad; do
      run $c $s $p &
      while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    done
  done
done
wait

observe() { # dir kind -> "mean std_err"
  local axis=(--axis 0,0,1); [ "$2" = total_twist ] && axis=() # the writhe-free twist needs no axis
  awk -v e=$EQUIL '/^t = / {keep = ($3 >= e)} keep' "$1/trajectory.dat" > "$1/production.dat"
  "$OXGRAD" observe "$2" -t gen/init.top --trajectory "$1/production.dat" --exclude-end-pairs 2 \
    "${axis[@]}" -q 2> /dev/null | tail -1 | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["mean"], j["std_err"])'
}

echo "steps $STEPS per run, frames from step $EQUIL on, seeds: $SEEDS"
for c in stretch twist; do
  for p in oxdna oxgrad; do
    echo "== $c, $p (CPU s per run: $(cat $c-$p-*/cpu.txt | tr '\n' ' '))"
    for s in $SEEDS; do
      d=$c-$p-$s
      for k in extension end_rotation total_twist; do observe "$d" $k > "$d/$k.txt"; done
      printf '  seed %s: extension %s nm, end rotation %s turns, total twist %s turns (mean, block error)\n' \
        "$s" "$(sed 's/ / ± /' "$d/extension.txt")" "$(sed 's/ / ± /' "$d/end_rotation.txt")" "$(sed 's/ / ± /' "$d/total_twist.txt")"
    done
  done
done
echo
printf '%-8s %-14s %20s %20s %10s %8s\n' case observable "oxDNA" "oxgrad" "Δ" "|Δ|/σ"
for c in stretch twist; do
  for k in extension end_rotation total_twist; do
    python3 - "$c" "$k" $(for p in oxdna oxgrad; do echo "$p:$(for s in $SEEDS; do cut -d' ' -f1 $c-$p-$s/$k.txt; done | paste -sd,)"; done) <<'EOP'
import sys, statistics as st
c, k = sys.argv[1], sys.argv[2]
res = {}
for a in sys.argv[3:]:
    p, v = a.split(":")
    x = [float(t) for t in v.split(",")]
    res[p] = (st.mean(x), st.stdev(x) / len(x) ** 0.5)
(m1, e1), (m2, e2) = res["oxdna"], res["oxgrad"]
sig = (e1 * e1 + e2 * e2) ** 0.5
print(f"{c:<8} {k:<14} {m1:12.4f} ± {e1:.4f} {m2:12.4f} ± {e2:.4f} {m2 - m1:+10.4f} {abs(m2 - m1) / sig:8.2f}")
EOP
  done
done
