"""``ubo claims [--quick | --preset quick|medium|full] [--only NAME,...] [--output DIR] [--seed S] [--jobs J]``: run the claims and write the report."""

from __future__ import annotations

import sys


def _claims(args) -> int:
    from ubo.theory.claims.runner import CLAIMS, run_claims

    only = None if args.only is None else [n for n in args.only.split(",") if n]
    try:
        if only is not None and set(only) - set(CLAIMS):
            raise ValueError(f"--only must name claims among {sorted(CLAIMS)}, got {args.only!r}")
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
        if args.jobs < 1:
            raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    except ValueError as err:
        print(f"ubo claims: error: {err}", file=sys.stderr)
        return 2
    results, path = run_claims("quick" if args.quick else args.preset, args.output, only=only, seed=args.seed,
                               progress=not args.no_progress, jobs=args.jobs)
    for r in results:
        for _, v in r.verdicts.iterrows():
            print(f"{r.title[:48]:48s} {v['subject'][:30]:30s} {v['verdict']:15s} {v['evidence']}")
    print(f"Report: {path}")
    return 0


def add_claims_parser(sub) -> None:
    p = sub.add_parser("claims", help="measure the papers' headline claims and write a report with verdicts")
    p.add_argument("--quick", action="store_true", help="CI-sized preset (< 2 min on a quiet 2-core machine); "
                                                        "same as --preset quick")
    p.add_argument("--preset", choices=("quick", "medium", "full"), default="full", help="sizes (default: full)")
    p.add_argument("--only", default=None, help="comma-separated subset of: complexity, high_probability, "
                                                "tracking, adambo, advantage")
    p.add_argument("--output", default="claims-report", help="output folder (default: claims-report)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="processes (claims 2-5 in parallel with claim 1, whose "
                                                     "(method, noise, eps) batches split over the processes, "
                                                     "dearest first; same numbers; default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_claims)
