"""``ubo sweep SPEC``: compute the missing cells of a sweep spec; ``--status`` and ``--plot`` read the store."""

from __future__ import annotations

from pathlib import Path


def add_sweep_parser(sub) -> None:
    p = sub.add_parser("sweep", help="run a sweep spec (TOML): cached, resumable, local workers or Ray",
                       description=__doc__)
    p.add_argument("spec", help="a sweep spec, TOML (see examples/sweep_slip_noise.toml)")
    p.add_argument("--store", help="the result store (default: ubo-sweeps/NAME, NAME = the spec's name)")
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--workers", type=int, default=1, help="local worker processes or local Ray CPUs (default 1)")
    p.add_argument("--threads", type=int, help="torch threads per worker (default: cores // workers; 1 per Ray task)")
    p.add_argument("--ray-address", help="an existing Ray cluster (ray.init(address=...)); default: a local one")
    p.add_argument("--retry-failed", action="store_true", help="recompute cells stored as failed")
    p.add_argument("--status", action="store_true", help="say what is done, running, failed and missing; compute nothing")
    p.add_argument("--plot", action="store_true", help="draw the standard figures from the store; compute nothing")
    p.set_defaults(func=_sweep)


def _sweep(args) -> int:
    from ubo.sweeps.execute import run_sweep
    from ubo.sweeps.spec import SweepSpec
    from ubo.sweeps.store import Store

    if not Path(args.spec).is_file():
        raise SystemExit(f"ubo sweep: spec {args.spec} not found")
    spec = SweepSpec.from_toml(args.spec)
    store = Store(args.store or Path("ubo-sweeps") / spec.name)
    if args.plot:
        from ubo.sweeps.plots import plot_store

        for path in plot_store(store):
            print(path)
        return 0
    if args.status:
        status = store.status(spec.cells())
    else:
        status = run_sweep(spec, store, backend=args.backend, workers=args.workers, threads=args.threads,
                           ray_address=args.ray_address, retry_failed=args.retry_failed)
    _print_status(spec, store, status)
    return 1 if (status.state == "failed").any() else 0


def _print_status(spec, store, status) -> None:
    counts = status.state.value_counts()
    print(f"sweep {spec.name} in {store.root}: {len(status)} cells: "
          + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "running", "failed", "missing")))
    for row in status[status.state != "done"].itertuples():
        error = f"  {store.result(row.cell)['error']}" if row.state == "failed" else ""
        print(f"  {row.state:8s} {row.cell} {row.label}{error}")
