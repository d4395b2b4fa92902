"""ubo's SOBA against benchopt's benchmark_bilevel SOBA (the peer's own code), on one instance, in alternation.

    python3 benchmarks/peer_soba.py --peer PATH/benchmark_bilevel --peer-python PATH/venv/bin/python
                                    [--reps 3] [--runs 1000] [--cpus 0 [1]] [--precision float32 float64]

PATH/benchmark_bilevel is a user's checkout of https://github.com/benchopt/benchmark_bilevel (JAX version:
objective.py, solvers/soba.py, datasets/simulated.py, benchmark_utils/); --peer-python the python of a venv
with benchopt and jax (default: this python, if it imports benchopt). Nothing of the peer is part of ubo: the
peer runs in a worker process of that python, loaded through benchopt's own ``Benchmark`` class.

The instance: ubo's ``quadratic`` family at d = dim_x = dim_y (default 10), n = 1024 samples per level,
batch 64 (the peer's defaults), exported with ``samples()`` as per-sample arrays; the peer gets them through
its own ``datasets/simulated.py:get_function`` (f(inner_var, outer_var, start, batch_size): dynamic_slice of
a contiguous block of samples), ubo through ``quadratic_samples`` (the same arrays). Both start at
x0 = -2 (the peer objective's start), y0 = z0 = 0, steps 0.1 / sqrt(t + 1) on x, y and z (the peer's default
step_size = 0.1, outer_ratio = 1; ubo ``make("soba", alpha=gamma=nu=0.1, schedule="inv_sqrt")``), minibatches
by shuffled blocks per epoch on both sides (ubo ``sampling="shuffle"``).

The peer is driven as benchopt drives it: ``Solver._set_objective(objective)`` (its ``set_objective`` jits
one epoch of ``eval_freq`` = 128 iterations with ``lax.scan`` and warms up with ``run_once(2)``), then
``Solver.run(callback)``: one jit call per epoch, one seed (``random_state`` = 1) per run. Our callback
stops after a fixed number of epochs and evaluates no metric (benchopt excludes metric time too); the last
call blocks on the result (``jax.block_until_ready``), so JAX's asynchronous dispatch hides no compute.
Timed: wall and process CPU time of ``run`` after a warm-up run, compile excluded.
ubo: ``algorithms.run`` with R runs (record every 128 steps, included in ubo's time).
Both sides are pinned to the same CPUs (``--cpus``, default CPU 0; the worker starts under ``taskset -c CPUS``).
ubo runs one torch thread and its fused kernels on k = len(CPUs) threads (synthetic.fused_threads); on one CPU
the peer gets XLA's single-thread flags, on more XLA its own defaults, for one seed at a time as benchopt runs it.
Each repetition times the peer (each precision) then ubo; the ratio is (ubo run-iterations/s) / (peer
iterations/s), median over repetitions; every repetition is printed.
``--precision``: the peer as benchopt runs it is float32 (jax_enable_x64 off); float64 is ubo's precision.
A check first runs 10 peer epochs (1,280 iterations) and 200 ubo runs as long (``quadratic``), and prints the
peer's ||grad Phi(x_T)|| beside ubo's 5/50/95% quantiles (the same algorithm and instance: it should lie inside).
ubo is timed on ``quadratic`` (its rank-one samples, O(R b d) per call; ``--steps``) and on ``quadratic_samples``
(the dense per-sample arrays the peer gets, O(R b d^2) per call, much slower; ``--samples-steps``, 0 skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARK = "PEER_SOBA "
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
EVAL_FREQ, STEP, BATCH, N_SAMPLES = 128, 0.1, 64, 1024
NEEDS = ("Give --peer PATH: a checkout of https://github.com/benchopt/benchmark_bilevel (its JAX version: "
         "objective.py, solvers/soba.py, datasets/simulated.py, benchmark_utils/), and --peer-python PATH: the "
         "python of a venv with benchopt and jax (pip install benchopt jax).")


# ---- the worker: runs under the peer's python; imports only numpy, jax and benchopt ----------------------
class StopAfter:
    """A benchopt-style callback (called with no argument before each epoch): lets ``epochs`` epochs run,
    then blocks on the solver's result and records the time since the first call."""

    def __init__(self, solver, epochs: int):
        self.solver, self.epochs, self.calls = solver, epochs, 0

    def __call__(self) -> bool:
        import jax

        if self.calls == 0:
            self.wall, self.cpu = time.perf_counter(), time.process_time()
        if self.calls == self.epochs:
            jax.block_until_ready((self.solver.inner_var, self.solver.outer_var))
            self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
            return False
        self.calls += 1
        return True


def worker(peer: str, arrays: str, x64: bool) -> None:
    os.environ["XLA_FLAGS"] = XLA_ONE_THREAD
    import jax

    jax.config.update("jax_enable_x64", x64)
    import jax.numpy as jnp
    import numpy as np
    from benchopt.benchmark import Benchmark

    bench = Benchmark(peer)
    solvers = {getattr(s, "name", None): s for s in bench.get_solvers()}
    datasets = {getattr(d, "name", None): d for d in bench.get_datasets()}
    if "SOBA" not in solvers or "simulated" not in datasets:
        sys.exit(f"{peer}: no importable SOBA solver / simulated dataset (solvers {bench.get_solvers()}, "
                 f"datasets {bench.get_datasets()})")
    get_function = sys.modules[datasets["simulated"].__module__].get_function
    data = np.load(arrays)
    levels = {}
    for level in ("inner", "outer"):  # peer order: hess_inner (y), hess_outer (x), cross (x, y), linear y, x
        a = [jnp.asarray(data[f"{level}_{k}"]) for k in ("hess_y", "hess_x", "cross", "linear_y", "linear_x")]
        levels[level] = (get_function(*a), a[0].shape[0], a[0].shape[-1] if level == "inner" else a[1].shape[-1],
                         get_function(*[m.mean(axis=0)[None] for m in a]))
    objective = bench.get_benchmark_objective().get_instance()
    objective.set_data(pb_inner=levels["inner"], pb_outer=levels["outer"], metrics=None, n_reg=None)
    solver = solvers["SOBA"].get_instance(step_size=STEP, outer_ratio=1.0, batch_size=BATCH,
                                          eval_freq=EVAL_FREQ, random_state=1)
    skip, reason = solver._set_objective(objective)  # jits one epoch and warms up with run_once(2)
    if skip:
        sys.exit(f"the peer's SOBA skips this objective: {reason}")
    dtype = str(jnp.asarray(solver.inner_var0).dtype)
    print(MARK + json.dumps({"ready": True, "dtype": dtype, "jax": jax.__version__}), flush=True)
    for line in sys.stdin:  # one request per line: {"epochs": N}
        callback = StopAfter(solver, json.loads(line)["epochs"])
        solver.run(callback)
        print(MARK + json.dumps({"wall": callback.wall, "cpu": callback.cpu, "iterations": callback.epochs * EVAL_FREQ,
                                 "outer_var": np.asarray(solver.outer_var, dtype=float).tolist()}), flush=True)


# ---- the parent: ubo's side, the alternation, the table ------------------------------------------------
class Peer:
    """The worker process of one precision; ``run(epochs)`` -> its reply."""

    def __init__(self, python: str, peer: Path, arrays: Path, x64: bool, cpus: tuple[int, ...]):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        if len(cpus) == 1:
            env["XLA_FLAGS"] = XLA_ONE_THREAD
        cmd = [python, str(Path(__file__).resolve()), "--worker", str(peer), str(arrays)] + (["--x64"] if x64 else [])
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", ",".join(map(str, cpus))] + cmd
        # the peer's gen_matrices caches in ./__cache__: run it from a scratch folder
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                     cwd=arrays.parent)
        self.info = self._reply()

    def _reply(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
        raise RuntimeError(f"the peer worker ended (exit {self.proc.wait()}) before answering; see its stderr above")

    def run(self, epochs: int) -> dict:
        self.proc.stdin.write(json.dumps({"epochs": epochs}) + "\n")
        self.proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def instance(dim: int):
    """ubo's quadratic at d = dim, n = 1024, batch 64, and the same instance as per-sample arrays."""
    import torch

    from ubo.synthetic import make_problem
    from ubo.synthetic.quadratic_samples import quadratic_samples

    native = make_problem("quadratic", dim_x=dim, dim_y=dim, n=N_SAMPLES, batch_size=BATCH, sampling="shuffle")
    inner, outer = native.samples()
    x0 = -2.0 * torch.ones(dim, dtype=torch.float64)
    return native, quadratic_samples(inner, outer, batch_size=BATCH, sampling="shuffle", x0=x0), inner, outer, x0


def ubo_run(problem, runs: int, steps: int, x0, record_every: int = EVAL_FREQ):
    """(wall s, CPU s, trace) of ubo's SOBA, the peer's step sizes and schedule."""
    from ubo import algorithms

    algo = algorithms.make("soba", alpha=STEP, gamma=STEP, nu=STEP, schedule="inv_sqrt")
    wall, cpu = time.perf_counter(), time.process_time()
    trace = algorithms.run(algo, problem, runs=runs, steps=steps, record_every=record_every, progress=False, x0=x0)
    return time.perf_counter() - wall, time.process_time() - cpu, trace


def check(peer: Peer, problem, x0) -> str:
    import numpy as np
    import torch

    epochs = 10
    x_peer = torch.tensor(peer.run(epochs)["outer_var"], dtype=torch.float64)[None]
    theirs = float(problem.grad_phi(x_peer).norm())
    _, _, trace = ubo_run(problem, 200, epochs * EVAL_FREQ, x0, record_every=epochs * EVAL_FREQ)
    ours = trace.series["grad_phi_norm"][-1].numpy()
    q = np.quantile(ours, [0.05, 0.5, 0.95])
    start = float(problem.grad_phi(x0[None]).norm())
    return (f"check after {epochs * EVAL_FREQ} iterations (from ||grad Phi(x0)|| = {start:.3g}): peer "
            f"({peer.info['dtype']}) {theirs:.4g}; ubo over 200 runs: 5% {q[0]:.4g}, median {q[1]:.4g}, 95% {q[2]:.4g}"
            f" ({'inside' if q[0] <= theirs <= q[2] else 'OUTSIDE'} the 5-95% band)")


def measure(peer_dir: Path, python: str, reps: int = 3, runs: int = 1000, dim: int = 10, cpus: tuple = (0,),
            precisions=("float32", "float64"), peer_epochs: int = 80, ubo_steps: int = 256, samples_steps: int = 32,
            log=print) -> list[dict]:
    """Alternate the peer (each precision) and ubo, both pinned to ``cpus``, ubo on one torch thread and its fused
    kernels on len(cpus) (restored after); return one dict per (peer precision, ubo problem)."""
    import torch

    from ubo.synthetic import fused_threads

    affinity, threads = os.sched_getaffinity(0), torch.get_num_threads()
    os.sched_setaffinity(0, set(cpus))
    torch.set_num_threads(1)
    setting = fused_threads.set_threads(len(cpus))
    try:
        return _alternate(peer_dir, python, reps, runs, dim, cpus, precisions, peer_epochs, ubo_steps,
                          samples_steps, log)
    finally:
        os.sched_setaffinity(0, affinity)
        torch.set_num_threads(threads)
        fused_threads.set_threads(setting)


def _alternate(peer_dir, python, reps, runs, dim, cpus, precisions, peer_epochs, ubo_steps, samples_steps, log):
    import numpy as np

    native_problem, samples_problem, inner, outer, x0 = instance(dim)
    scratch = Path(tempfile.mkdtemp(prefix="peer_soba_"))
    arrays = scratch / "instance.npz"
    np.savez(arrays, **{f"inner_{k}": v.numpy() for k, v in inner.items()},
             **{f"outer_{k}": v.numpy() for k, v in outer.items()})
    peers = {p: Peer(python, peer_dir, arrays, p == "float64", cpus) for p in precisions}
    try:
        for p, worker_ in peers.items():
            log(f"peer {p}: jax {worker_.info['jax']}, arrays {worker_.info['dtype']}; "
                + check(worker_, native_problem, x0))
        ours = {"quadratic (the same instance, its rank-one samples)": (native_problem, ubo_steps)}
        if samples_steps:  # dense per-sample matrices: O(R b d^2) per oracle call, so fewer steps
            ours["quadratic_samples (the same arrays, dense per-sample matrices)"] = (samples_problem, samples_steps)
        for problem, _ in ours.values():
            ubo_run(problem, runs, 4, x0)  # warm-up
        for worker_ in peers.values():
            worker_.run(4)
        times = {key: [] for key in list(peers) + list(ours)}
        loads = [os.getloadavg()[0]]
        for rep in range(reps):
            for p, worker_ in peers.items():
                r = worker_.run(peer_epochs)
                times[p].append((r["iterations"] / r["wall"], r["cpu"] / r["wall"]))
                log(f"rep {rep + 1}: peer {p}: {r['iterations']} it in {r['wall']:.3f} s wall, {r['cpu']:.3f} s CPU "
                    f"-> {times[p][-1][0]:,.0f} it/s")
            for name, (problem, steps) in ours.items():
                wall, cpu_s, _ = ubo_run(problem, runs, steps, x0)
                times[name].append((runs * steps / wall, cpu_s / wall))
                log(f"rep {rep + 1}: ubo {name.split(' ')[0]}: {runs} x {steps} in {wall:.3f} s wall, "
                    f"{cpu_s:.3f} s CPU -> {times[name][-1][0]:,.0f} run-it/s")
            loads.append(os.getloadavg()[0])
    finally:
        for worker_ in peers.values():
            worker_.close()
        shutil.rmtree(scratch, ignore_errors=True)
    rows = []
    for p in peers:
        for name in ours:
            ratios = [u[0] / t[0] for u, t in zip(times[name], times[p])]
            rows.append(dict(peer=p, ubo=name, ratio=statistics.median(ratios), ratios=ratios,
                             peer_rate=statistics.median(t[0] for t in times[p]), peer_rates=[t[0] for t in times[p]],
                             ubo_rate=statistics.median(u[0] for u in times[name]),
                             ubo_rates=[u[0] for u in times[name]],
                             cpu_per_wall=(max(t[1] for t in times[p]), max(u[1] for u in times[name])),
                             loads=(min(loads), max(loads)), dim=dim, runs=runs, cpus=tuple(cpus)))
    return rows


def markdown(row: dict) -> str:
    ratios = ", ".join(f"{r:.1f}" for r in row["ratios"])
    verdict = "met" if row["ratio"] >= 10 else "missed"
    target = (f">= 10x benchmark_bilevel's SOBA, d = {row['dim']} (peer {row['peer']}, one seed; "
              f"ubo R = {row['runs']}, {row['ubo'].split(' ')[0]}; both on CPUs {','.join(map(str, row['cpus']))})")
    measured = (f"{row['ratio']:.1f}x ({ratios}); peer {row['peer_rate']:,.0f} it/s, ubo {row['ubo_rate']:,.0f} "
                f"run-it/s; CPU/wall <= {row['cpu_per_wall'][0]:.2f} / {row['cpu_per_wall'][1]:.2f}")
    return f"| {target} | {measured} | {verdict} | {row['loads'][0]:.1f} / {row['loads'][1]:.1f} |"


def peer_python(given: str | None) -> str | None:
    if given:
        return given
    try:
        import benchopt  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker(sys.argv[2], sys.argv[3], "--x64" in sys.argv[4:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", type=Path, default=None, help="a checkout of benchopt/benchmark_bilevel")
    parser.add_argument("--peer-python", default=None, help="python of a venv with benchopt and jax")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--cpus", type=int, nargs="+", default=[0], help="the CPUs both sides are pinned to")
    parser.add_argument("--precision", nargs="+", default=["float32", "float64"], choices=("float32", "float64"))
    parser.add_argument("--peer-epochs", type=int, default=80, help="peer epochs of 128 iterations per repetition")
    parser.add_argument("--steps", type=int, default=256, help="ubo steps per repetition, quadratic")
    parser.add_argument("--samples-steps", type=int, default=32,
                        help="ubo steps per repetition, quadratic_samples (0: skip it)")
    args = parser.parse_args()
    python = peer_python(args.peer_python)
    if args.peer is None or python is None:
        sys.exit(NEEDS)
    if not (args.peer / "solvers" / "soba.py").is_file() or not (args.peer / "objective.py").is_file():
        sys.exit(f"--peer {args.peer}: no objective.py and solvers/soba.py there. " + NEEDS)
    if min(args.reps, args.runs, args.peer_epochs, args.steps) < 1 or args.samples_steps < 0 \
            or not set(args.cpus) <= os.sched_getaffinity(0):
        sys.exit(f"--reps, --runs, --peer-epochs and --steps must be >= 1, --samples-steps >= 0 and --cpus among "
                 f"{sorted(os.sched_getaffinity(0))}")
    print(f"command: python3 benchmarks/peer_soba.py {' '.join(sys.argv[1:])}; pinned to CPUs {args.cpus}, "
          f"load average {os.getloadavg()}", flush=True)
    rows = measure(args.peer, python, args.reps, args.runs, args.dim, tuple(args.cpus), tuple(args.precision),
                   args.peer_epochs, args.steps, args.samples_steps, log=lambda s: print(s, flush=True))
    print("\n| target | measured (median; every repetition) | verdict | load min / max |\n|---|---|---|---|")
    for row in rows:
        print(markdown(row))


if __name__ == "__main__":
    main()
