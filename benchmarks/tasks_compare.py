"""The fair comparison of the methods on the realistic tasks (tasks.compare), written to benchmarks/tasks_compare/.

    python benchmarks/tasks_compare.py [--task hyper_cleaning] [--seeds 4] [--steps N]

Per task: every method in tasks.compare.METHODS on the task's eta grid (GRIDS), 4 seeds, the eta
chosen on the 'select' pool, test accuracy with 95 % intervals (and, for meta-learning, accuracy after
test-time adaptation), and the single-level baselines. Equivalent to ``ubo tasks --compare --task NAME
--steps S --grid G --output benchmarks/tasks_compare/NAME``. CPU sizes (the tasks' 'small' presets), one
thread: measured 6 min (hyper_cleaning), 10 min (hyperparam_opt) and 33 min (hyper_representation, under a
load average above 8). hyper_representation uses two step sizes and 300 steps to cut its cost: in the
earlier 400-step run with the grid (0.1, 0.3, 1), eta = 0.1 was never any method's choice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ubo.cli import main

STEPS = {"hyper_cleaning": 400, "hyper_representation": 300, "hyperparam_opt": 400}
GRIDS = {"hyper_cleaning": "0.1,0.3,1", "hyper_representation": "0.3,1", "hyperparam_opt": "0.1,0.3,1"}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", action="append", choices=sorted(STEPS))
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=0, help="outer steps (default: per task)")
    args = parser.parse_args()
    root = Path(__file__).parent / "tasks_compare"
    for name in args.task or ["hyper_cleaning", "hyper_representation", "hyperparam_opt"]:
        code = main(["tasks", "--compare", "--task", name, "--runs", str(args.seeds),
                     "--steps", str(args.steps or STEPS[name]), "--grid", GRIDS[name],
                     "--output", str(root / name), "--force"])
        if code:
            sys.exit(code)
