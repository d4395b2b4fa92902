"""The ubo command: validate (the main job), claims, demo, tasks, sweep, problems. `ubo COMMAND --help` for each."""

from __future__ import annotations

import argparse
import sys


def _problems(args) -> int:
    from ubo.synthetic import list_problems

    for name, summary in list_problems().items():
        print(f"{name:14s} {summary}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ubo.sweeps.cli import add_sweep_parser
    from ubo.tasks.cli import add_tasks_parser
    from ubo.theory.claims.cli import add_claims_parser
    from ubo.theory.cli import add_demo_parser, add_validate_parser

    from ubo import __version__

    parser = argparse.ArgumentParser(prog="ubo", description=__doc__)
    parser.add_argument("--version", action="version", version=f"ubo {__version__} (distribution ubo-bilevel)")
    sub = parser.add_subparsers(dest="command")
    add_validate_parser(sub)
    add_demo_parser(sub)
    add_tasks_parser(sub)
    add_sweep_parser(sub)
    add_claims_parser(sub)
    p = sub.add_parser("problems", help="list the synthetic problem families")
    p.set_defaults(func=_problems)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `ubo` alone: the overview, not an argparse error
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
