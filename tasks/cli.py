"""`ubo tasks`: run an algorithm on a realistic task and write curves plus a short report.

  ubo tasks --list
  ubo tasks --task hyper_cleaning --params [--size paper]
  ubo tasks --task hyper_cleaning --algorithm slip --steps 100 --output out/ [--size small] [--runs 2]
            [--set hidden=64 --set data=real] [--hyper eta=0.1] [--smoothness 20] [--device cuda] [--force]
  ubo tasks --compare --task hyper_cleaning --output out/ [--runs 4] [--steps 400]

Bad arguments end with one line `ubo tasks: error: ...` and exit status 2. An existing report in
--output is never overwritten without --force.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

# Measured on the 2-core development CPU (float32, batch 64, max_len 48): one Adam pre-training step of
# the frozen-feature encoder at hidden 4096 took 49.5 s, at hidden 2048 4.3 s.
PRETRAIN_SECONDS_AT_2048 = 4.3
WARN_SECONDS = 600.0


class UsageError(ValueError):
    """A bad command-line argument: reported as one line, never as a traceback."""


def _pairs(items: list[str], flag: str) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def _check_args(args) -> None:
    import torch

    for name, low in (("runs", 1), ("steps", 0), ("threads", 1), ("smoothness", 0), ("record_every", 0),
                      ("seed", 0)):
        value = getattr(args, name)
        if value < low:
            raise UsageError(f"--{name.replace('_', '-')} must be an integer >= {low}, got {value}")
    if args.eta <= 0:
        raise UsageError(f"--eta must be > 0, got {args.eta}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {args.device}: this torch has no CUDA device (use --device cpu)")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} is a file, not a folder")
    existing = [n for n in ("report.md", "table.md", "config.json") if (out / n).exists()]
    if existing and not args.force:
        raise UsageError(f"--output {out} already holds {', '.join(existing)}; pass --force to overwrite")


def paper_cost_warning(task_name: str, params: dict, device: str) -> str | None:
    """A warning with an estimate when a paper-size build will take long on this device (None otherwise)."""
    if device != "cpu":
        return None
    steps = params.get("pretrain_steps", 0) if params.get("representation") == "pretrained" else 0
    hidden = params.get("hidden", params.get("width", 0))
    if steps:
        seconds = steps * PRETRAIN_SECONDS_AT_2048 * (hidden / 2048) ** 2 * params.get("max_len", 48) / 48
        if seconds > WARN_SECONDS:
            return (f"warning: {task_name} pre-trains its frozen encoder for {steps} Adam steps at hidden {hidden}: "
                    f"about {seconds / 3600:.1f} h on CPU (measured {PRETRAIN_SECONDS_AT_2048} s/step at hidden 2048, "
                    "scaled by hidden^2); this size is meant for a GPU (--device cuda)")
    if hidden >= 512:
        return (f"warning: {task_name} at hidden/width {hidden} on CPU: one oracle call takes seconds to a minute "
                "(measured 2-43 s at the paper sizes), so a run of a few hundred steps takes hours; "
                "this size is meant for a GPU (--device cuda)")
    return None


def versions() -> dict:
    """ubo's versions record (``theory.report.versions``: packages, git commit, command) plus the CUDA build."""
    import torch

    from ubo.theory.report import versions as base

    return {**base(), "cuda": torch.version.cuda if torch.cuda.is_available() else None}


def _write_json(out: Path, task, args, extra: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    config = {"command": "ubo " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("ubo") else None,
              "arguments": {k: v for k, v in vars(args).items() if k != "func"},
              "task": repr(task), "task_parameters": {k: (list(v) if isinstance(v, tuple) else v)
                                                        for k, v in task.params.items()},
              "data": task.data_source, **extra}
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str))
    (out / "versions.json").write_text(json.dumps(versions(), indent=2))


def _run(args) -> int:
    import torch

    from ubo import tasks

    if args.list:
        for name, summary in tasks.list_tasks().items():
            print(f"{name:22s} {summary}")
        return 0
    if args.params:
        if not args.task:
            raise UsageError("--params needs --task")
        for key, value in tasks.task_parameters(args.task, args.size).items():
            print(f"{key:16s} {value!r}")
        return 0
    if not args.task or not args.output or not (args.algorithm or args.compare):
        raise UsageError("--task, --output and --algorithm (or --compare) are required (or --list, --params)")
    _check_args(args)
    if args.task not in tasks.list_tasks():
        raise UsageError(f"--task must be one of {sorted(tasks.list_tasks())}, got {args.task!r}")
    from ubo import algorithms

    for name in ([args.algorithm] if args.algorithm and not args.compare else
                 (args.methods.split(",") if args.methods else [])):
        if name not in algorithms.list_algorithms():
            raise UsageError(f"algorithm must be one of {sorted(algorithms.list_algorithms())}, got {name!r}")
    params = _pairs(args.set, "--set")
    hyper_overrides = _pairs(args.hyper, "--hyper")
    preset = {**tasks.task_parameters(args.task, args.size), **params}
    warning = paper_cost_warning(args.task, preset, args.device) if args.size == "paper" else None
    if warning:
        print(warning, file=sys.stderr)
    torch.set_num_threads(args.threads)
    task = tasks.make_task(args.task, size=args.size, device=args.device, **params)
    if args.compare:
        return _compare(args, task)
    return _single(args, task, hyper_overrides)


def _single(args, task, hyper_overrides: dict) -> int:
    from ubo import algorithms
    from ubo.tasks.report import write_report
    from ubo.tasks.smoothness import trajectory_smoothness
    from ubo.tasks.tuning import suggested_hyper

    hyper = {**suggested_hyper(task, args.algorithm, args.eta), **hyper_overrides}
    algo = algorithms.make(args.algorithm, **hyper)
    _write_json(Path(args.output), task, args, {"algorithm": args.algorithm, "hyper": hyper})
    trace = algorithms.run(algo, task, runs=args.runs, steps=args.steps, seed=args.seed,
                           record_every=max(1, args.record_every or args.steps // 20))
    smooth = trajectory_smoothness(task, algo, steps=args.smoothness, runs=1, seed=args.seed) if args.smoothness \
        else None
    path = write_report(Path(args.output), trace, task, hyper, smooth)
    print(path.read_text())
    return 0


def _compare(args, task) -> int:
    from ubo.progress import tqdm

    from ubo.tasks import compare
    from ubo.tasks.compare_report import write_comparison

    methods = tuple(args.methods.split(",")) if args.methods else compare.METHODS
    etas = tuple(float(e) for e in args.grid.split(",")) if args.grid else compare.ETAS
    config = {"seeds": args.runs, "seed": args.seed, "steps": args.steps, "etas": etas, "lrs": compare.ADAM_LRS,
              "methods": methods}
    _write_json(Path(args.output), task, args, {"compare": {k: list(v) if isinstance(v, tuple) else v
                                                            for k, v in config.items()}})
    bar = tqdm(total=len(methods) * len(etas) + len(compare.ADAM_LRS), desc="compare")

    def progress(label):
        bar.set_postfix_str(label)
        bar.update(1)

    grid, traces = compare.run_grid(task, methods, etas, args.runs, args.steps, args.seed, progress)
    base = compare.baselines(task, args.runs, args.steps, args.seed, progress=progress)
    bar.close()
    best = compare.select_best(grid)
    command = "ubo " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("ubo") else \
        (f"ubo tasks --compare --task {task.name} --runs {args.runs} --steps {args.steps}"
         + (f" --grid {args.grid}" if args.grid else "") + (f" --methods {args.methods}" if args.methods else "")
         + " --output OUT")
    path = write_comparison(Path(args.output), task, grid, best, base, traces, command, config)
    print(path.read_text())
    return 0


def run_tasks(args) -> int:
    try:
        return _run(args)
    except (UsageError, ValueError) as err:
        print(f"ubo tasks: error: {err}", file=sys.stderr)
        return 2


def add_tasks_parser(subparsers) -> None:
    p = subparsers.add_parser("tasks", help="run an algorithm on a realistic RNN/transformer text task",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="list the tasks and exit")
    p.add_argument("--params", action="store_true", help="list the task's parameters at --size and exit")
    p.add_argument("--task", help="task name (see --list)")
    p.add_argument("--algorithm", help="registered algorithm name (borep, slip, adambo, ...)")
    p.add_argument("--compare", action="store_true",
                   help="compare the methods (step-size grid, --runs seeds, choice on a held-out split, baselines)")
    p.add_argument("--methods", help="comma-separated methods for --compare (default: slip,borep,adambo,ma_soba,"
                                     "stocbio)")
    p.add_argument("--grid", help="comma-separated eta values for --compare (default: 0.1,0.3,1)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--runs", type=int, default=2, help="independent runs (seeds); --compare: use >= 4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", default="small", choices=("small", "paper"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--eta", type=float, default=0.3, help="upper step length for the suggested hyperparameters")
    p.add_argument("--hyper", action="append", metavar="KEY=VALUE", help="override one algorithm hyperparameter")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one task parameter (see --params)")
    p.add_argument("--record-every", type=int, default=0, help="record interval (default: steps / 20)")
    p.add_argument("--smoothness", type=int, default=0, metavar="STEPS",
                   help="also run the trajectory smoothness probe for this many steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output", help="folder for the report, curves.png, trace.pt, config.json and versions.json")
    p.add_argument("--force", action="store_true", help="overwrite an existing report in --output")
    p.set_defaults(func=run_tasks)
