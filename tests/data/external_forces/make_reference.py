#!/usr/bin/env python3
"""Writes oxDNA's energies and forces of every external force in forces.txt on the frames of
traj.dat (see PROVENANCE). Usage: make_reference.py /path/to/DNAnalysis > reference.txt

For each force block k of forces.txt (blocks are separated by blank lines) it runs DNAnalysis on
traj.dat with that block alone as the external forces file, and prints, for every frame f (its
step t), oxDNA's `force_energy` observable (precision 15) and its `external_force` observable
(the force on each nucleotide, printed by oxDNA with 6 decimals; not for hard_wall, which has
none):

    E k t energy
    F k t i fx fy fz
"""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
dnanalysis = sys.argv[1]
blocks = [b.strip() for b in open(os.path.join(here, "forces.txt")).read().split("\n\n") if b.strip()]

INPUT = """backend = CPU
interaction_type = DNA
T = 300K
verlet_skin = 0.5
topology = {here}/top.top
trajectory_file = {here}/traj.dat
external_forces = 1
external_forces_file = forces.txt
log_file = log.txt
analysis_data_output_1 = {{
name = energy.dat
print_every = 1
col_1 = {{
type = force_energy
precision = 15
per_particle = false
general_format = true
}}
}}
"""
# hard_wall has no force (oxDNA's DNAnalysis stops if asked for one): its energy only
FORCES = """analysis_data_output_2 = {{
name = forces.dat
print_every = 1
col_1 = {{
type = external_force
}}
}}
"""

for k, block in enumerate(blocks):
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "forces.txt"), "w").write(block + "\n")
        has_force = "hard_wall" not in block
        open(os.path.join(d, "input"), "w").write(INPUT.format(here=here) + (FORCES.format() if has_force else ""))
        subprocess.run([dnanalysis, "input"], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        energies = [float(x) for x in open(os.path.join(d, "energy.dat")).read().split()]
        steps = []
        forces = []
        for line in open(os.path.join(d, "forces.dat")) if has_force else []:
            if line.startswith("# t ="):
                steps.append(int(line.split("=")[1]))
                forces.append([])
            elif line.strip():
                forces[-1].append(line.split())
        if not has_force:
            steps = [int(x.split()[2]) for x in open(os.path.join(here, "traj.dat")) if x.startswith("t =")]
            forces = [[] for _ in steps]
        assert len(steps) == len(energies), (k, steps, energies)
        for t, e, fs in zip(steps, energies, forces):
            print(f"E {k} {t} {e!r}")
            for i, f in enumerate(fs):
                print(f"F {k} {t} {i} {' '.join(f)}")
