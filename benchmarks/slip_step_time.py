"""Milliseconds per SLIP iteration (wall and CPU) on the noisy coupled family: for comparing two checkouts.

    python3 benchmarks/slip_step_time.py RUNS STEPS DIM

Prints which checkout was imported, so that two venvs (e.g. main's and a branch's) can be run back to back and
paired. Problem: ``make_problem("coupled", dim_x=DIM, dim_y=DIM, noise="bounded", sigma_f=sigma_g1=sigma_g2=0.1)``,
SLIP(eta=0.01, gamma=0.1, nu=0.1), record every 100, one thread, after a 10-step warm-up.
"""

import sys
import time

import torch

import ubo
from ubo import algorithms
from ubo.synthetic import make_problem


def main() -> None:
    runs, steps, dim = (int(a) for a in sys.argv[1:4])
    torch.set_num_threads(1)
    problem = make_problem("coupled", dim_x=dim, dim_y=dim, noise="bounded", sigma_f=0.1, sigma_g1=0.1, sigma_g2=0.1)
    algo = algorithms.make("slip", eta=0.01, gamma=0.1, nu=0.1)
    algorithms.run(algo, problem, runs=runs, steps=10, record_every=100)
    wall, cpu = time.perf_counter(), time.process_time()
    algorithms.run(algo, problem, runs=runs, steps=steps, record_every=100, progress=False)
    print(f"{ubo.__file__.split('/ubo/')[0]} R={runs} d={dim}: {(time.perf_counter() - wall) / steps * 1e3:.3f} "
          f"ms/iter wall, {(time.process_time() - cpu) / steps * 1e3:.3f} ms/iter CPU")


if __name__ == "__main__":
    main()
