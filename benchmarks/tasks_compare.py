"""The fair comparison of the methods on the realistic tasks (tasks.compare), written to benchmarks/tasks_compare/.

    python benchmarks/tasks_compare.py [--task hyper_cleaning] [--seeds 4] [--steps N]

Per task: every method in tasks.compare.METHODS on the eta grid, 4 seeds, the eta chosen on the
'select' pool, test accuracy with 95 % intervals, and the single-level baselines. Equivalent to
``ubo tasks --compare --task NAME --output benchmarks/tasks_compare/NAME``. CPU sizes (the tasks'
'small' presets); about 3 min for hyper_cleaning and 15 min for hyper_representation on 1 thread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ubo.cli import main

STEPS = {"hyper_cleaning": 400, "hyper_representation": 400, "hyperparam_opt": 400}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", action="append", choices=sorted(STEPS))
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=0, help="outer steps (default: per task)")
    args = parser.parse_args()
    root = Path(__file__).parent / "tasks_compare"
    for name in args.task or ["hyper_cleaning", "hyper_representation"]:
        code = main(["tasks", "--compare", "--task", name, "--runs", str(args.seeds),
                     "--steps", str(args.steps or STEPS[name]), "--output", str(root / name), "--force"])
        if code:
            sys.exit(code)
