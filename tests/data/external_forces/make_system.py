#!/usr/bin/env python3
"""Writes top.top (16 one-nucleotide strands) and traj.dat (three frames, at steps 0, 1 and 3456,
of 16 nucleotides at random positions within 2 of (10, 10, 10) in a box of side 20; seed 26)."""
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
random.seed(26)
with open(os.path.join(here, "top.top"), "w") as f:
    f.write("16 16\n")
    for k in range(16):
        f.write(f"{k + 1} {'ACGT'[k % 4]} -1 -1\n")
with open(os.path.join(here, "traj.dat"), "w") as f:
    for t in (0, 1, 3456):
        f.write(f"t = {t}\nb = 20.0 20.0 20.0\nE = 0 0 0\n")
        for _ in range(16):
            x, y, z = (10 + random.uniform(-2, 2) for _ in range(3))
            f.write(f"{x!r} {y!r} {z!r} 1 0 0 0 0 1 0 0 0 0 0 0\n")
