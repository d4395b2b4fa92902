"""SOBA on a per-sample quadratic instance, written by hand in JAX the way benchopt's benchmark_bilevel samples.

    pip install -e ".[bench]"          # jax (CPU), never a dependency of the package
    python3 benchmarks/jax_quadratic.py [--runs 400] [--steps 300] [--sampling shuffle]

The same instance as ubo's ``quadratic_samples`` (per-sample arrays: hess_y, hess_x, cross, linear_y,
linear_x of g and of f), the same step (SOBA, Dagreou et al. 2022, with ubo's sign convention z = -v):

    h_t = grad_x F(x_t, y_t; xi) - grad2_xy G(x_t, y_t; zeta) z_t
    x_{t+1} = x_t - a_t alpha h_t,  y_{t+1} = y_t - a_t gamma grad_y G(x_t, y_t; pi),
    z_{t+1} = z_t - a_t nu (grad2_yy G(x_t, y_t; zeta) z_t - grad_y F(x_t, y_t; xi)),   a_t = 1/sqrt(t + 1)
    (schedule "inv_sqrt", benchopt's default; "constant": a_t = 1)

but its own randomness, in benchopt's way: jax.random keys per run, a minibatch counter per level (the outer
level draws xi, the inner level zeta then pi), and with ``sampling="shuffle"`` the k-th minibatch of a level is
block k mod B of the permutation of epoch k // B (B = n // b), cut with ``lax.dynamic_slice``; "iid" draws
b indices with replacement. So ubo and this reference agree in law, not draw for draw: the slow test
tests/synthetic/test_synth_jax_quadratic.py compares the two distributions of ||grad Phi(x_T)|| over runs.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _level(arrays: dict) -> dict:
    return {k: jnp.asarray(np.asarray(v)) for k, v in arrays.items()}


def make_soba(inner: dict, outer: dict, batch_size: int, sampling: str = "shuffle", schedule: str = "inv_sqrt",
              alpha: float = 0.01, gamma: float = 0.1, nu: float = 0.1):
    """run(keys (R, 2), x0 (dx,), steps) -> x_T (R, dx): jit + vmap over runs."""
    G, F = _level(inner), _level(outer)
    n_in, n_out, b = G["hess_y"].shape[0], F["hess_y"].shape[0], batch_size

    def indices(key, count, n):
        if sampling == "iid":
            return jax.random.randint(jax.random.fold_in(key, count), (b,), 0, n)
        blocks = n // b
        perm = jax.random.permutation(jax.random.fold_in(key, count // blocks), n)
        return jax.lax.dynamic_slice(perm, ((count % blocks) * b,), (b,))

    def mean_matvec(M, idx, v, transpose=False):
        return jnp.mean(jnp.einsum("bpq,q->bp" if transpose else "bpq,p->bq", M[idx], v), axis=0)

    def step(t, key_in, key_out, state):
        x, y, z = state
        a = 1.0 / jnp.sqrt(t + 1.0) if schedule == "inv_sqrt" else 1.0
        xi = indices(key_out, t, n_out)
        zeta, pi = indices(key_in, 2 * t, n_in), indices(key_in, 2 * t + 1, n_in)
        gx = mean_matvec(F["hess_x"], xi, x) + mean_matvec(F["cross"], xi, y, True) + F["linear_x"][xi].mean(0)
        gy = mean_matvec(F["hess_y"], xi, y) + mean_matvec(F["cross"], xi, x) + F["linear_y"][xi].mean(0)
        hz, jz = mean_matvec(G["hess_y"], zeta, z), mean_matvec(G["cross"], zeta, z, True)
        gg = mean_matvec(G["hess_y"], pi, y) + mean_matvec(G["cross"], pi, x) + G["linear_y"][pi].mean(0)
        return x - a * alpha * (gx - jz), y - a * gamma * gg, z - a * nu * (hz - gy)

    def one_run(key, x0, steps):
        key_in, key_out = jax.random.split(key)
        dy = G["hess_y"].shape[-1]
        state = (x0, jnp.zeros(dy), jnp.zeros(dy))
        return jax.lax.fori_loop(0, steps, lambda t, s: step(t, key_in, key_out, s), state)[0]

    return jax.jit(jax.vmap(one_run, in_axes=(0, None, None)), static_argnums=2)


def final_grad_norms(problem, runs: int, steps: int, seed: int = 0, **soba) -> np.ndarray:
    """||grad Phi(x_T)|| of ``runs`` JAX runs on a ``quadratic_samples`` problem (its closed form)."""
    import torch

    run = make_soba(problem.inner, problem.outer, problem.batch_size, problem.sampling, **soba)
    keys = jax.random.split(jax.random.PRNGKey(seed), runs)
    x = run(keys, jnp.asarray(problem.x0.numpy()), steps)
    return problem.grad_phi(torch.from_numpy(np.asarray(x))).norm(dim=1).numpy()


def main() -> None:
    import time

    import torch
    from scipy.stats import ks_2samp

    from ubo import algorithms
    from ubo.synthetic import make_problem
    from ubo.synthetic.quadratic_samples import quadratic_samples

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--dim", type=int, default=5)
    parser.add_argument("--sampling", default="shuffle", choices=("iid", "shuffle"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    q = make_problem("quadratic", dim_x=args.dim, dim_y=args.dim, n=256, batch_size=16)
    problem = quadratic_samples(*q.samples(), batch_size=16, sampling=args.sampling, x0=q.x0)
    start = time.perf_counter()
    ours = algorithms.run(algorithms.make("soba", schedule="inv_sqrt"), problem, runs=args.runs, steps=args.steps,
                          record_every=args.steps, progress=False).series["grad_phi_norm"][-1].numpy()
    middle = time.perf_counter()
    theirs = final_grad_norms(problem, args.runs, args.steps)
    end = time.perf_counter()
    print(f"ubo: median ||grad Phi(x_T)|| {np.median(ours):.4g} ({middle - start:.1f} s); JAX: {np.median(theirs):.4g} "
          f"({end - middle:.1f} s, compile included); KS p-value {ks_2samp(ours, theirs).pvalue:.3g}")


if __name__ == "__main__":
    main()
