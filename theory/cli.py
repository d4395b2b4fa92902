"""Subcommands ``ubo validate`` (the main job) and ``ubo demo`` (certified constants + a certificate check).

``ubo validate`` exits 0 when every judged row holds, 1 when a judged row fails (or, with --mutants, when a
planted bug escapes), 2 on bad usage."""

from __future__ import annotations

import math
import sys

import torch

DEFAULT_SIGMA = 0.5

def _fail(command: str, err: Exception) -> int:
    print(f"ubo {command}: error: {err}", file=sys.stderr)
    return 2


def _mutants(args) -> int:
    """``ubo validate --mutants``: the detection matrix of theory.mutants (exit 1 if a mutant escapes)."""
    import pandas as pd

    from ubo.theory import mutants

    try:
        names = None if args.mutants == "all" else [n for n in args.mutants.split(",") if n]
        if names:
            for n in names:
                mutants.get(n)
        if args.output is not None:
            from ubo.theory.report import check_output_dir
            check_output_dir(args.output)
    except ValueError as err:
        return _fail("validate", err)
    results = mutants.run_mutants(names, quick=args.quick, seed=args.seed, progress=not args.no_progress)
    matrix = mutants.detection_matrix(results)
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_colwidth", 120):
        print(matrix.drop(columns=["caught by"]).to_string(index=False))
        for _, r in matrix.iterrows():
            print(f"\n{r['mutant']}: {r['caught by'] or 'NOT CAUGHT'}")
    if args.output is not None:
        from pathlib import Path
        Path(args.output).mkdir(exist_ok=True)
        matrix.to_csv(Path(args.output) / "mutants.csv", index=False)
    escaped = matrix[~matrix["caught"]]
    print(f"\n{len(matrix) - len(escaped)} of {len(matrix)} mutants caught"
          + (f"; escaped: {', '.join(escaped['mutant'])}" if len(escaped) else ""))
    return 1 if len(escaped) else 0


def _validate(args) -> int:
    from ubo.theory.validate import (DEFAULT_ALGORITHMS, FULL, QUICK, check_options, default_output, failed_rows,
                                     validate)

    if args.mutants is not None:
        return _mutants(args)

    names = DEFAULT_ALGORITHMS if args.algorithms is None else tuple(a for a in args.algorithms.split(",") if a)
    if args.output is None:
        args.output = default_output()
    plan = QUICK if args.quick else FULL
    if args.sigma is None:  # the default size applies only where there is noise
        args.sigma = 0.0 if args.noise == "none" else DEFAULT_SIGMA
    runs = plan["runs"] if args.runs is None else args.runs
    steps = plan["steps"] if args.steps is None else args.steps
    try:  # every option is checked before any work: a bad one exits 2 with nothing written
        check_options(args.problem, names, runs, steps, args.noise, args.sigma, args.seed, args.output)
    except ValueError as err:
        return _fail("validate", err)
    verdict, path = validate(problem=args.problem, names=names, runs=runs, steps=steps, noise=args.noise,
                             sigma=args.sigma, seed=args.seed, output=args.output, quick=args.quick,
                             progress=not args.no_progress, rates=not args.no_rates)
    show = verdict[["probe", "algorithm", "quantity", "measured", "bound", "ratio", "kind", "holds"]]
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 48):
        print(show.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    failed = failed_rows(verdict)
    print(f"\n{len(failed)} judged row(s) did not hold "
          f"({int(failed['kind'].isin(['every realisation', 'identity', 'sanity']).sum())} per-realisation, identity "
          f"or sanity). Report: {path}/report.md")
    return 1 if len(failed) else 0


def add_validate_parser(subparsers) -> None:
    p = subparsers.add_parser("validate", help="run BO-REP, SLIP, AdamBO and a baseline, apply every probe, "
                                               "write a report folder")
    p.add_argument("--problem", default="steep", help="synthetic problem family (ubo problems); default steep")
    p.add_argument("--algorithms", default=None,
                   help="comma-separated names; default borep,slip,adambo,soba (soba = bounded-smooth baseline)")
    p.add_argument("--runs", type=int, default=None, help="runs per algorithm (default 1000; --quick 200)")
    p.add_argument("--steps", type=int, default=None, help="outer iterations (default 2000; --quick 300)")
    p.add_argument("--noise", default="bounded", help="noise law: none, bounded, gaussian, student_t")
    p.add_argument("--sigma", type=float, default=None,
                   help=f"noise size for every oracle kind (default {DEFAULT_SIGMA}; 0 with --noise none, "
                        "where a positive --sigma is an error)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run's noise streams (default 0)")
    p.add_argument("--output", default=None,
                   help="new or empty output folder (default: a fresh ubo-report-YYYYmmdd-HHMMSS)")
    p.add_argument("--quick", action="store_true", help="small configuration (about 30 s) for tests")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--no-rates", action="store_true", help="skip the P9 rate sweeps")
    p.add_argument("--mutants", nargs="?", const="all", default=None,
                   help="run the planted-bug catalogue (theory.mutants; all, or comma-separated names) and print the "
                        "detection matrix; with --quick the quick plan; exit 1 if a mutant is not caught")
    p.set_defaults(func=_validate)


def certificate_check(problem, points: int = 2000, seed: int = 0) -> dict:
    """Check ||Hess Phi(x)|| <= L0 + L1 ||grad Phi(x)|| at random points around the path from x0 to 0
    (plus x0 and 0). Returns the worst ratio, the frontier L0*(L1) and the certified pair."""
    from ubo.theory.phi_smoothness import certified_phi_constants
    from ubo.theory.probes import hessian_norms
    from ubo.theory.smoothness import frontier

    gen = torch.Generator().manual_seed(seed)
    x0 = problem.x0.to(torch.float64)
    t = torch.rand(points, 1, generator=gen, dtype=torch.float64) * 1.2
    x = t * x0 + torch.randn(points, problem.dim_x, generator=gen, dtype=torch.float64) * 0.5
    x = torch.cat([x, x0[None], torch.zeros_like(x0)[None]])
    L0, L1 = certified_phi_constants(problem.constants)
    H = hessian_norms(problem, x).numpy()
    G = problem.grad_phi(x).norm(dim=1).numpy()
    return {"L0": L0, "L1": L1, "points": len(G), "max_ratio": float((H / (L0 + L1 * G)).max()),
            "frontier_at_L1": float(frontier(H, G, L1)[0])}


def _demo(args) -> int:
    from ubo.synthetic import make_problem
    from ubo.theory.phi_smoothness import looseness, phi_smoothness

    try:
        if args.points < 1:
            raise ValueError(f"--points must be an int >= 1, got {args.points!r}")
        problem = make_problem(args.problem)
    except ValueError as err:
        return _fail("demo", err)
    torch.set_num_threads(1)
    c = problem.constants
    print(problem.describe())
    for key, value in c.as_dict().items():
        print(f"  {key:14s} {value}")
    lemma = phi_smoothness(c)
    print(f"Phi lemma (BO-REP, ICLR 2024): L0={lemma.L0:.4g}, L1={lemma.L1:.4g}, radius={lemma.radius:.3g}, "
          f"kappa={lemma.kappa:.4g}")
    loose = looseness(c)
    print("lemma / family certificate: " + ", ".join(f"{k.removesuffix('_ratio')} x{v:.3g}" for k, v in loose.items())
          + ("  (nan: the family certifies no Phi pair of its own)" if any(v != v for v in loose.values()) else ""))
    check = certificate_check(problem, args.points, args.seed)
    ok = check["max_ratio"] <= 1 + 1e-9
    print(f"certificate ||Hess Phi|| <= L0 + L1 ||grad Phi|| with (L0, L1)=({check['L0']:.4g}, {check['L1']:.4g}) "
          f"on {check['points']} points: max ratio {check['max_ratio']:.4f} -> {'holds' if ok else 'VIOLATED'}; "
          f"sampled frontier L0*(L1) = {check['frontier_at_L1']:.4g}")
    return 0 if ok and math.isfinite(check["max_ratio"]) else 1


def add_demo_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help="print a problem's certified constants and check its (L0,L1) certificate")
    p.add_argument("--problem", default="coupled", help="synthetic problem family (ubo problems); default coupled")
    p.add_argument("--points", type=int, default=2000, help="random points of the certificate check (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.set_defaults(func=_demo)
