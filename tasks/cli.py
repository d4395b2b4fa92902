"""``ubo tasks``: run an algorithm on a realistic task and write curves plus a short report.

    ubo tasks --list
    ubo tasks --task hyper_cleaning --algorithm slip --steps 100 --output out/ [--size small] [--runs 2]
              [--set hidden=64 --set data=real] [--hyper eta=0.1] [--smoothness 20] [--device cuda]
"""

from __future__ import annotations

import ast
from pathlib import Path


def _pairs(items: list[str], flag: str) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def run_tasks(args) -> int:
    import torch

    from ubo import algorithms
    from ubo import tasks
    from ubo.tasks.report import write_report
    from ubo.tasks.smoothness import trajectory_smoothness
    from ubo.tasks.tuning import suggested_hyper

    if args.list:
        for name, summary in tasks.list_tasks().items():
            print(f"{name:22s} {summary}")
        return 0
    if not args.task or not args.algorithm or not args.output:
        raise SystemExit("ubo tasks: --task, --algorithm and --output are required (or --list)")
    torch.set_num_threads(args.threads)
    task = tasks.make_task(args.task, size=args.size, device=args.device, **_pairs(args.set, "--set"))
    hyper = {**suggested_hyper(task, args.algorithm, args.eta), **_pairs(args.hyper, "--hyper")}
    algo = algorithms.make(args.algorithm, **hyper)
    trace = algorithms.run(algo, task, runs=args.runs, steps=args.steps, seed=args.seed,
                           record_every=max(1, args.record_every or args.steps // 20))
    smooth = trajectory_smoothness(task, algo, steps=args.smoothness, runs=1, seed=args.seed) if args.smoothness \
        else None
    path = write_report(Path(args.output), trace, task, hyper, smooth)
    print(path.read_text())
    return 0


def add_tasks_parser(subparsers) -> None:
    p = subparsers.add_parser("tasks", help="run an algorithm on a realistic RNN/transformer text task",
                              description=__doc__)
    p.add_argument("--list", action="store_true", help="list the tasks and exit")
    p.add_argument("--task", help="task name (see --list)")
    p.add_argument("--algorithm", help="registered algorithm name (borep, slip, adambo, ...)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", default="small", choices=("small", "paper"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--eta", type=float, default=0.3, help="upper step length for the suggested hyperparameters")
    p.add_argument("--hyper", action="append", metavar="KEY=VALUE", help="override one algorithm hyperparameter")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one task parameter")
    p.add_argument("--record-every", type=int, default=0, help="record interval (default: steps / 20)")
    p.add_argument("--smoothness", type=int, default=0, metavar="STEPS",
                   help="also run the trajectory smoothness probe for this many steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output", help="folder for curves.png, report.md and trace.pt")
    p.set_defaults(func=run_tasks)
