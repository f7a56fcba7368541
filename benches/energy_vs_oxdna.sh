#!/usr/bin/env bash
# Side-by-side energy of a trajectory: `oxgrad energy` against oxDNA's DNAnalysis on the same
# 1000-frame trajectory, whole processes, on the same machine, in one session, runs alternating.
#
#   OXDNA_BIN=/path/to/oxDNA DNANALYSIS_BIN=/path/to/DNAnalysis [OXGRAD_BASE=/path/to/old/oxgrad] \
#     [REPEATS=5] [MODEL=DNA|DNA2] [FRAMES=1000] benches/energy_vs_oxdna.sh [target/release/oxgrad]
#
# The trajectory: a generated 60-bp duplex (120 nucleotides, seeded random sequence), run by
# oxDNA (MD, dt 0.005, john thermostat, 300 K, double precision) for 100 × FRAMES steps, a frame
# every 100 steps, as oxDNA writes it. Then, alternating in each round: DNAnalysis printing the
# total potential energy per frame (`potential_energy`, its cheapest energy output),
# DNAnalysis printing every term per frame (`split = true`, what `oxgrad energy` prints), and
# `oxgrad energy` (every term and the total per frame, TSV); each with `interaction_type = MODEL`
# (oxDNA's default, tabulated interactions: its fastest). Each run's CPU time (user + system,
# the child's rusage) and wall time are taken by a small Python wrapper; the table gives the median over REPEATS of each
# program and the median of the per-round ratios oxgrad / DNAnalysis (< 1: oxgrad takes less).
# Before timing, oxgrad's per-nucleotide energies are checked against DNAnalysis's exact
# functions (`${MODEL}_nomesh`, 17 digits) on every frame and term: the largest difference is
# printed (and must stay below 1e-6).
# Build oxDNA outside this repository (it is GPL); see tests/data/oxdna/README.md.
set -euo pipefail
OXGRAD=${1:-target/release/oxgrad}
OXGRAD=$(realpath "$OXGRAD")
: "${OXDNA_BIN:?set OXDNA_BIN to an oxDNA binary}"
: "${DNANALYSIS_BIN:?set DNANALYSIS_BIN to the DNAnalysis binary of oxDNA}"
REPEATS=${REPEATS:-5}
MODEL=${MODEL:-DNA}
FRAMES=${FRAMES:-1000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
d="$WORK/d60"
seq=$(python3 -c 'import random; random.seed(60); print("".join(random.choice("ACGT") for _ in range(60)))')
"$OXGRAD" generate duplex -s "$seq" -o "$d" > /dev/null 2>&1
salt=""
[ "$MODEL" = DNA2 ] && salt="salt_concentration = 0.5"
cat > "$d/input_run" <<EOF
sim_type = MD
backend = CPU
backend_precision = double
interaction_type = $MODEL
$salt
T = 300K
dt = 0.005
steps = $((100 * FRAMES))
thermostat = john
newtonian_steps = 103
diff_coeff = 2.5
verlet_skin = 0.05
seed = 1
topology = init.top
conf_file = init.dat
trajectory_file = trajectory.dat
lastconf_file = last_conf.dat
energy_file = energy.dat
print_conf_interval = 100
print_energy_every = $((100 * FRAMES))
refresh_vel = true
restart_step_counter = true
time_scale = linear
no_stdout_energy = true
EOF
(cd "$d" && "$OXDNA_BIN" input_run > run.log 2>&1)
[ "$(grep -c '^t = ' "$d/trajectory.dat")" = "$FRAMES" ] || { echo "expected $FRAMES frames" >&2; exit 1; }

analysis() { # file interaction_type output split(true|false)
  local cols='  col_2 = {
    type = potential_energy
    precision = 17
    general_format = true
  }'
  [ "$4" = true ] && cols='  col_2 = {
    type = potential_energy
    split = true
    precision = 17
    general_format = true
  }'
  cat > "$d/$1" <<EOF
backend = CPU
backend_precision = double
interaction_type = $2
$salt
T = 300K
verlet_skin = 0.05
topology = init.top
trajectory_file = trajectory.dat
conf_file = trajectory.dat
analysis_data_output_1 = {
  name = $3
  print_every = 1
  col_1 = {
    type = step
  }
$cols
}
EOF
}
analysis input_total "$MODEL" ox_total.dat false
analysis input_split "$MODEL" ox_split.dat true
analysis input_exact "${MODEL}_nomesh" ox_exact.dat true

# the energies: oxgrad's against DNAnalysis's exact functions, every frame and term
(cd "$d" && "$DNANALYSIS_BIN" input_exact > /dev/null 2>&1 && "$OXGRAD" energy input_split -o og.tsv --force)
python3 - "$d/ox_exact.dat" "$d/og.tsv" <<'EOF'
import sys
ox = [l.split() for l in open(sys.argv[1]) if l.strip()]
og = [l.split('\t') for l in open(sys.argv[2])][1:]
assert len(ox) == len(og), (len(ox), len(og))
worst = 0.0
for a, b in zip(ox, og):
    assert a[0] == b[1], (a[0], b[1])
    # DNAnalysis: step, the terms in oxgrad's order; oxgrad: frame, step, the terms, the total
    assert len(a) == len(b) - 2, (len(a), len(b))
    terms = [float(x) for x in a[1:]]
    worst = max(worst, max(abs(x - float(y)) for x, y in zip(terms + [sum(terms)], b[2:])))
print(f"{len(og)} frames: largest difference per nucleotide from DNAnalysis ({sys.argv[1].split('/')[-1]}, exact functions): {worst:.1e}")
assert worst < 1e-6
EOF

run() { # prints "cpu wall" (seconds) of a command run in $d: its rusage (user + system), to the µs
  ( cd "$d" && python3 -c '
import resource, subprocess, sys, time
# (from just before the run: the interpreter may have had children of its own before)
r0, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
w, r = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime - r0.ru_utime - r0.ru_stime:.6f} {w:.6f}")' "$@" )
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { python3 -c "print($1 / $2)"; }

declare -A cpu wall rc rw
names=(total split oxgrad)
[ -n "${OXGRAD_BASE:-}" ] && names+=(base)
for ((k = 0; k < REPEATS; k++)); do
  for name in "${names[@]}"; do
    case $name in
      total) t=$(run "$DNANALYSIS_BIN" input_total) ;;
      split) t=$(run "$DNANALYSIS_BIN" input_split) ;;
      oxgrad) t=$(run "$OXGRAD" energy input_split -o og.tsv --force) ;;
      base) rm -f "$d/base.tsv"; t=$(run "$OXGRAD_BASE" energy input_split -o base.tsv) ;;
    esac
    read -r c w <<< "$t"
    cpu[$name]+="$c "; wall[$name]+="$w "
    eval "c_$name=$c; w_$name=$w"
  done
  for name in "${names[@]}"; do
    rc[$name]+="$(ratio "$c_oxgrad" "$(eval echo "\$c_$name")") "
    rw[$name]+="$(ratio "$w_oxgrad" "$(eval echo "\$w_$name")") "
  done
done
col() { tr ' ' '\n' <<< "$1" | grep . | median; }
echo "$MODEL, 120 nucleotides, $FRAMES frames, $REPEATS rounds (medians; ratio: oxgrad / program, per round)"
printf "%-34s %10s %10s %14s %14s\n" "program" "CPU s" "wall s" "oxgrad/it CPU" "oxgrad/it wall"
for name in "${names[@]}"; do
  case $name in
    total) label="DNAnalysis, total" ;;
    split) label="DNAnalysis, every term" ;;
    oxgrad) label="oxgrad energy" ;;
    base) label="oxgrad energy (OXGRAD_BASE)" ;;
  esac
  printf "%-34s %10s %10s %14.3f %14.3f\n" "$label" "$(col "${cpu[$name]}")" "$(col "${wall[$name]}")" \
    "$(col "${rc[$name]}")" "$(col "${rw[$name]}")"
done
