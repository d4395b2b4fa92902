"""A hand-written JAX reference of ubo's SOBA and SLIP steps, and the speed ratio measured in alternation.

    pip install -e ".[bench]"          # jax (CPU), never a dependency of the package
    python3 benchmarks/jax_reference.py [--dims 10 100] [--runs 1000] [--reps 3] [--check]

The reference does the same work as ``ubo.algorithms.run`` on the coupled F3 family with bounded noise on
every oracle call (``make_problem("coupled", dim_x=d, dim_y=d, noise="bounded", sigma_f=sigma_g1=sigma_g2=0.1)``):
the same matrices, the same oracle calls in the same order (grad_f, fused hvp+jvp, grad_g: calls 3t, 3t + 1,
3t + 2), the same counter-based noise (SplitMix64 keys of (seed, run, call, sub-stream), synthetic.fused_rng's ziggurat
with its tables, jnp.log in place of its log_pos, every element's later attempts in lock-step under a
``lax.while_loop``: JAX has no compaction of the rejected), jit + vmap over the runs, float64,
one thread, recording ||grad Phi||, Phi, ||y - y*|| and ||z - z*|| every 100 steps as ubo's runner does.

``--check`` first runs both for 200 steps on 8 runs and prints the largest difference of the iterates
(jnp.log and log_pos differ by an ulp at times, and the products round as each library does, so the
trajectories agree to rounding, not bit for bit).
Each repetition times ubo, then JAX, on the same number of steps; the table gives medians over repetitions
of run-iterations per second and of the per-repetition ratio, in wall-clock time and in process CPU time
(the steadier one on a shared machine; it would also show JAX using more than one thread).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ubo import algorithms  # noqa: E402
from ubo.synthetic import fused_rng, make_problem  # noqa: E402
from ubo.synthetic.rng import GOLDEN, run_keys  # noqa: E402

jax.config.update("jax_enable_x64", True)

U64 = jnp.uint64
M1, M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
C_CALL, C_SUB = 0x2545F4914F6CDD1D, 0x632BE59BD9B4E019
SUB_X, SUB_Y, SUB_HVP = 20, 30, 40  # synthetic.problem's noise sub-streams
SIGMA = 0.1
HYPER = {"slip": dict(eta=0.01, beta=0.9, gamma=0.1, nu=0.1), "soba": dict(alpha=0.01, gamma=0.1, nu=0.1)}


def mix(z):
    z = (z ^ (z >> U64(30))) * U64(M1)
    z = (z ^ (z >> U64(27))) * U64(M2)
    return z ^ (z >> U64(31))


ZIG_X, ZIG_RATIO, ZIG_F, ZIG_RISE = (jnp.asarray(t) for t in (fused_rng.ZIG_X, fused_rng.ZIG_RATIO, fused_rng.ZIG_F,
                                                                  fused_rng.ZIG_RISE))
ZIG_R, RETRY, SIGN = fused_rng.ZIG_R_FLOAT, U64(fused_rng.RETRY), U64(1 << 63)


def magnitude(w):
    return (((w >> U64(11)) & U64((1 << 52) - 1)).astype(jnp.float64) + 0.5) * 2.0**-52


def open_unit(w):
    return (w >> U64(11)).astype(jnp.float64) * 2.0**-53 + 2.0**-54


def ziggurat(w):
    """(n,) uint64 words -> normals, fused_rng.ziggurat's steps: the first attempt of every element, then rounds
    in which each pending element takes its next step (a wedge test, a retry, a trial of the tail)."""
    def signed(word, v):
        return jnp.where(word >= SIGN, -v, v)

    a = magnitude(w)
    i = (w & U64(255)).astype(jnp.int32)
    state = (w, jnp.zeros_like(w), jnp.zeros(w.shape, bool), a < ZIG_RATIO[i], signed(w, a * ZIG_X[i]))

    def body(state):
        word, c, tail, done, value = state
        i = (word & U64(255)).astype(jnp.int32)
        a = magnitude(word)
        x = a * ZIG_X[i]
        rect = ~done & ~tail & (a < ZIG_RATIO[i])
        enter = ~done & ~tail & ~rect & (i == 0)
        wedge = ~done & ~tail & ~rect & (i != 0)
        trial = ~done & tail
        c_wedge = c + U64(1)
        under = jnp.log(ZIG_F[i] + open_unit(mix(w + c_wedge * RETRY)) * ZIG_RISE[i]) < -0.5 * x * x
        retry = wedge & ~under
        t = -jnp.log(open_unit(mix(w + (c + U64(1)) * RETRY))) / ZIG_R
        y = -jnp.log(open_unit(mix(w + (c + U64(2)) * RETRY)))
        take_tail = trial & (y + y > t * t)
        value = jnp.where(rect | (wedge & under), signed(word, x), jnp.where(take_tail, signed(word, ZIG_R + t), value))
        c = jnp.where(wedge, c_wedge, c) + jnp.where(retry, U64(1), U64(0)) + jnp.where(trial, U64(2), U64(0))
        word = jnp.where(retry, mix(w + c * RETRY), word)
        return word, c, tail | enter, done | rect | (wedge & under) | take_tail, value

    return jax.lax.while_loop(lambda s: ~jnp.all(s[3]), body, state)[4]


def normals(key, call, sub: int, n: int):
    """(n,) normals of one run: synthetic.rng's definition (the ziggurat of each element's word)."""
    salt = mix(call.astype(U64) * U64(C_CALL) + U64((sub * C_SUB + 1) & ((1 << 64) - 1)))
    base = mix(key ^ salt)
    return ziggurat(mix(base + jnp.arange(1, n + 1, dtype=U64) * U64(GOLDEN)))


def bounded(key, call, sub: int, dims: tuple[int, ...], scale=1.0):
    """Bounded noise: each part z * (scale sigma / ||z||), as synthetic.noise."""
    z = normals(key, call, sub, sum(dims))
    parts, start = [], 0
    for d in dims:
        part = z[start:start + d]
        parts.append(part * (scale * SIGMA / jnp.linalg.norm(part)))
        start += d
    return parts


def problem_arrays(problem) -> dict:
    U = problem.U
    return {name: jnp.asarray(value.numpy()) for name, value in
            dict(A=problem.A, B=problem.B, K=problem.K, t=problem.t, M=problem.M, J=problem.J, A_inv=problem.A_inv,
                 Rot=U.rotation).items()} | dict(c=problem.c, L0=U.L0, L1=U.L1, alpha=U.alpha, omega=U.omega)


def make_steps(P: dict, method: str):
    """The jitted block of ``every`` steps and the record, both vmapped over runs."""
    A, B, K, t, M, J, A_inv, Rot, c = (P[k] for k in ("A", "B", "K", "t", "M", "J", "A_inv", "Rot", "c"))
    L0, L1, alpha, omega = P["L0"], P["L1"], P["alpha"], P["omega"]
    hp = HYPER[method]
    dx, dy = B.shape[1], B.shape[0]

    def grad_U(x):
        s = Rot @ x
        return Rot.T @ ((L0 / L1) * jnp.sinh(L1 * s) - alpha * omega * jnp.sin(omega * s))

    def U_value(x):
        s = Rot @ x
        return jnp.sum((L0 / L1**2) * jnp.cosh(L1 * s) + alpha * jnp.cos(omega * s))

    def step(it, key, state):
        x, y, z, m = state
        call = 3 * it
        th = c * jnp.tanh(y - K @ x - t)
        nx, ny = bounded(key, call, SUB_X, (dx, dy))
        gx, gy = grad_U(x) - K.T @ th + nx, th + ny
        ny2, nx2 = bounded(key, call + 1, SUB_HVP, (dy, dx), jnp.linalg.norm(z))
        hz, jz = A @ z + ny2, -(B.T @ z) + nx2
        gg = A @ y - B @ x + bounded(key, call + 2, SUB_Y, (dy,))[0]
        h = gx - jz
        if method == "slip":
            m = hp["beta"] * m + (1.0 - hp["beta"]) * h
            x_new = x - hp["eta"] * m / jnp.maximum(jnp.linalg.norm(m), jnp.finfo(jnp.float64).tiny)
        else:
            m = h
            x_new = x - hp["alpha"] * h
        return x_new, y - hp["gamma"] * gg, z - hp["nu"] * (hz - gy), m

    def block(start, every, keys, state):
        def body(i, st):
            return jax.vmap(step, in_axes=(None, 0, 0))(start + i, keys, st)
        return jax.lax.fori_loop(0, every, body, state)

    def record(state):
        x, y, z, _ = state

        def one(x, y, z):
            w = M @ x - t
            gp = grad_U(x) + c * M.T @ jnp.tanh(w)
            phi = U_value(x) + c * jnp.sum(jnp.abs(w) + jnp.log1p(jnp.exp(-2 * jnp.abs(w))) - jnp.log(2.0))
            return jnp.linalg.norm(gp), phi, jnp.linalg.norm(y - J @ x), jnp.linalg.norm(z - c * A_inv @ jnp.tanh(w))
        return jax.vmap(one)(x, y, z)

    return jax.jit(block, static_argnums=1), jax.jit(record)


def jax_run(block, record, keys, x0, steps: int, every: int = 100):
    R, d = keys.shape[0], x0.shape[0]
    zeros = jnp.zeros((R, d))
    state = (jnp.broadcast_to(x0, (R, d)), zeros, zeros, zeros)
    records = [record(state)]
    for start in range(0, steps, every):
        state = block(start, min(every, steps - start), keys, state)
        records.append(record(state))
    jax.block_until_ready(records)
    return state, records


def setup(dim: int, runs: int, method: str, seed: int = 0):
    problem = make_problem("coupled", dim_x=dim, dim_y=dim, noise="bounded", sigma_f=SIGMA, sigma_g1=SIGMA,
                           sigma_g2=SIGMA)
    keys = jnp.asarray(run_keys(seed, torch.arange(runs)).numpy().view(np.uint64))
    block, record = make_steps(problem_arrays(problem), method)
    return problem, keys, block, record, jnp.asarray(problem.x0.numpy())


def check(method: str, dim: int = 10, runs: int = 8, steps: int = 200) -> float:
    """Largest |x_ubo - x_jax| after ``steps`` steps (the two compute the same iterates up to rounding)."""
    problem, keys, block, record, x0 = setup(dim, runs, method)
    (x, *_), _ = jax_run(block, record, keys, x0, steps)
    algo = algorithms.make(method, **HYPER[method])
    oracle = problem.oracle(runs=runs)
    state = algo.init(oracle, problem.x0.expand(runs, -1).clone(), problem.y0.expand(runs, -1).clone())
    for _ in range(steps):
        state = algo.step(oracle, state)
    return float(np.max(np.abs(np.asarray(x) - state.x.numpy())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--methods", nargs="+", default=["soba", "slip"], choices=sorted(HYPER))
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 200], help="steps per repetition, per dim")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        for method in args.methods:
            print(f"- {method}: max |x_ubo - x_jax| after 200 steps, 8 runs, d = 10: {check(method):.2e}")
        print()
    print(f"load average at start: {os.getloadavg()[0]:.2f}\n")
    print("| method | d | R | steps | ubo run-it/s | JAX run-it/s | ubo / JAX, wall (median of per-rep ratios) | "
          "wall ratios | ubo / JAX, CPU time | CPU ratios |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dim, steps in zip(args.dims, args.steps):
        for method in args.methods:
            problem, keys, block, record, x0 = setup(dim, args.runs, method)
            algo = algorithms.make(method, **HYPER[method])
            jax_run(block, record, keys, x0, steps)  # compile (block length is static: warm up on the same steps)
            algorithms.run(algo, problem, runs=args.runs, steps=10, record_every=100)
            ours, theirs, ratios, cpu_ratios = [], [], [], []
            for _ in range(args.reps):
                start, cpu = time.perf_counter(), time.process_time()
                algorithms.run(algo, problem, runs=args.runs, steps=steps, record_every=100, progress=False)
                ours.append(args.runs * steps / (time.perf_counter() - start))
                cpu_ours = time.process_time() - cpu
                start, cpu = time.perf_counter(), time.process_time()
                jax_run(block, record, keys, x0, steps)
                theirs.append(args.runs * steps / (time.perf_counter() - start))
                ratios.append(ours[-1] / theirs[-1])
                cpu_ratios.append((time.process_time() - cpu) / cpu_ours)
            print(f"| {method} | {dim} | {args.runs} | {steps} | {statistics.median(ours):,.0f} | "
                  f"{statistics.median(theirs):,.0f} | {statistics.median(ratios):.2f}x | "
                  f"{', '.join(f'{r:.2f}' for r in ratios)} | {statistics.median(cpu_ratios):.2f}x | "
                  f"{', '.join(f'{r:.2f}' for r in cpu_ratios)} |", flush=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
