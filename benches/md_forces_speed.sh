#!/usr/bin/env bash
# What external forces cost oxgrad's MD: the same input run without forces, with `string` forces
# on the 4 nucleotides of the two end base pairs, and with the twisting set of
# benches/mechanics_vs_oxdna.sh (`trap`s on one end pair, a `twist` trap turning at a rate and a
# `string` on each nucleotide of the other), on one thread, runs alternating, REPEATS times.
#
#   [REPEATS=5] benches/md_forces_speed.sh [target/release/oxgrad]
#
# Systems: the 60-bp and 1000-bp duplexes of benches/md_vs_oxdna.sh (same sequences), oxDNA1,
# john thermostat, dt 0.005, verlet_skin 0.05, 300 K, 40 000 and 2 000 steps. Each run's CPU time
# (user + system) is measured with /usr/bin/time; the table gives the median over REPEATS of each
# variant and the median of the per-repeat ratios to the run without forces (above 1: slower).
set -euo pipefail
OXGRAD=$(realpath "${1:-target/release/oxgrad}")
REPEATS=${REPEATS:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
sequence() { python3 -c "import random; random.seed($1); print(''.join(random.choice('ACGT') for _ in range($2)))"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
cpu() { # seconds of CPU (user + system) of `oxgrad simulate` on input $2 in $1
  ( cd "$1" && /usr/bin/time -f "%U %S" "$OXGRAD" simulate "$2" --force > /dev/null 2> time.log ) || { cat "$1/time.log" >&2; exit 1; }
  tail -1 "$1/time.log" | awk '{print $1 + $2}'
}
block() { # type particle key=value...
  printf '{\ntype = %s\nparticle = %s\n' "$1" "$2"; shift 2
  for kv in "$@"; do printf '%s\n' "${kv/=/ = }"; done
  printf '}\n'
}

printf "%-16s %8s %8s %10s %12s %10s %12s %10s\n" system steps repeats "none s" "string s" ratio "twist s" ratio
for spec in "60 40000" "1000 2000"; do
  set -- $spec
  n=$1; steps=$2; d="$WORK/d$n"
  "$OXGRAD" generate duplex -s "$(sequence "$n" "$n")" -o "$d" > /dev/null 2>&1
  # top pair 0 and 2n-1, bottom pair n-1 and n; the axis through the midpoint of a pair
  pos() { awk -v k=$(($1 + 4)) 'NR == k {printf "%s, %s, %s", $1, $2, $3}' "$d/init.dat"; }
  centre=$(awk -v a=4 -v b=$((2 * n + 3)) 'NR == a {x = $1; y = $2} NR == b {printf "%s, %s, 0", (x + $1) / 2, (y + $2) / 2}' "$d/init.dat")
  F=0.2056
  {
    block string 0 F0=$F rate=0 dir=0,0,1; block string $((2 * n - 1)) F0=$F rate=0 dir=0,0,1
    block string $((n - 1)) F0=$F rate=0 dir=0,0,-1; block string $n F0=$F rate=0 dir=0,0,-1
  } > "$d/forces_string.txt"
  {
    block trap $((n - 1)) "pos0=$(pos $((n - 1)))" stiff=10 rate=0 dir=0,0,1
    block trap $n "pos0=$(pos $n)" stiff=10 rate=0 dir=0,0,1
    for p in 0 $((2 * n - 1)); do
      block twist $p stiff=10 rate=3e-6 base=0 "pos0=$(pos $p)" "center=$centre" "axis=0, 0, 1" "mask=1, 1, 0"
      block string $p F0=$F rate=0 dir=0,0,1
    done
  } > "$d/forces_twist.txt"
  for v in none string twist; do
    cat > "$d/input_$v" <<EOF
backend = CPU
backend_precision = double
sim_type = MD
interaction_type = DNA
T = 300K
dt = 0.005
thermostat = john
newtonian_steps = 103
diff_coeff = 2.5
verlet_skin = 0.05
refresh_vel = true
steps = $steps
seed = 7
threads = 1
topology = init.top
conf_file = init.dat
trajectory_file = traj_$v.dat
lastconf_file = last_$v.dat
energy_file = energy_$v.dat
print_conf_interval = $steps
print_energy_every = $steps
restart_step_counter = true
time_scale = linear
EOF
    [ $v != none ] && printf 'external_forces = 1\nexternal_forces_file = forces_%s.txt\n' $v >> "$d/input_$v"
  done
  t0=(); t1=(); t2=(); r1=(); r2=()
  for ((k = 0; k < REPEATS; k++)); do
    # the order turns each repeat, so no variant always runs first
    for v in $(case $((k % 3)) in 0) echo none string twist ;; 1) echo string twist none ;; *) echo twist none string ;; esac); do
      eval "c_$v=\$(cpu \"\$d\" input_$v)"
    done
    t0+=("$c_none"); t1+=("$c_string"); t2+=("$c_twist")
    r1+=("$(python3 -c "print($c_string / $c_none)")"); r2+=("$(python3 -c "print($c_twist / $c_none)")")
  done
  printf "%-16s %8s %8s %10s %12s %10.3f %12s %10.3f\n" "${n}bp/$((2 * n))nt" "$steps" "$REPEATS" \
    "$(printf '%s\n' "${t0[@]}" | median)" "$(printf '%s\n' "${t1[@]}" | median)" "$(printf '%s\n' "${r1[@]}" | median)" \
    "$(printf '%s\n' "${t2[@]}" | median)" "$(printf '%s\n' "${r2[@]}" | median)"
done
