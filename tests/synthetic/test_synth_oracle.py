"""Counted oracles: per-kind, per-run counts; determinism; run r of a batch equals run r alone."""

import pytest
import torch

from ubo.synthetic import KINDS, make_problem

NOISY = {
    "coupled": dict(dim_x=3, dim_y=2, noise="student_t", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.3, nu=3.0),
    "decoupled": dict(dim_x=3, dim_y=2, noise={"grad_f": "bounded", "hvp": "gaussian"}, sigma_f=0.5, sigma_g2=0.2),
    "quadratic": dict(dim_x=3, dim_y=2, n=40, batch_size=5, noise="gaussian", sigma_g1=0.1),
    "curvature": dict(dim_x=3, dim_y=2, n=30, n_val=20, batch_size=4, noise={"jvp": "student_t"}, sigma_g2=0.2),
}


def call_sequence(oracle, x, y):
    """A fixed sequence of every call kind; returns all outputs."""
    v = y + 1.0
    out = list(oracle.grad_f(x, y))
    out.append(oracle.grad_g(x, y))
    out.append(oracle.hvp(x, y, v))
    out.append(oracle.jvp(x, y, v))
    out.extend(oracle.hvp_jvp(x, y, v))
    out.append(oracle.grad_g(x, y))
    return out


def start(problem, runs):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(runs, problem.dim_x, generator=gen, dtype=torch.float64)
    y = torch.randn(runs, problem.dim_y, generator=gen, dtype=torch.float64)
    return x, y


def test_counts_per_kind_and_per_run():
    problem = make_problem("quadratic", dim_x=2, dim_y=2, n=16, batch_size=2)
    oracle = problem.oracle(runs=3, seed=1)
    x, y = start(problem, 3)
    v = torch.ones_like(y)
    oracle.grad_f(x, y)
    oracle.grad_g(x, y)
    oracle.grad_g(x, y)
    oracle.active[1] = False  # a diverged run stops counting
    oracle.hvp_jvp(x, y, v)
    oracle.jvp(x, y, v)
    assert KINDS == ("grad_f", "grad_g", "hvp", "jvp")
    assert oracle.counts.tolist() == [[1, 2, 1, 2], [1, 2, 0, 0], [1, 2, 1, 2]]
    assert oracle.total_calls.tolist() == [6, 3, 6]
    assert oracle.count_dict()["jvp"].tolist() == [2, 0, 2]


@pytest.mark.parametrize("name", sorted(NOISY))
def test_same_seed_same_numbers_other_seed_other_numbers(name):
    problem = make_problem(name, **NOISY[name])
    x, y = start(problem, 4)
    first = call_sequence(problem.oracle(runs=4, seed=7), x, y)
    again = call_sequence(problem.oracle(runs=4, seed=7), x, y)
    other = call_sequence(problem.oracle(runs=4, seed=8), x, y)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert any(not torch.equal(a, b) for a, b in zip(first, other))
    # runs of one batch at the same point see different samples
    same = call_sequence(problem.oracle(runs=2, seed=7), x[:1].repeat(2, 1), y[:1].repeat(2, 1))
    assert any(not torch.equal(a[0], a[1]) for a in same)


@pytest.mark.parametrize("name", sorted(NOISY))
def test_run_of_batch_equals_run_alone(name):
    """Noise and minibatches depend only on (seed, run id, call): compare to 1e-12 (BLAS rounding may differ)."""
    problem = make_problem(name, **NOISY[name])
    x, y = start(problem, 5)
    batched = call_sequence(problem.oracle(runs=5, seed=3), x, y)
    for r in (0, 3):
        alone = call_sequence(problem.oracle(seed=3, run_ids=[r]), x[r:r + 1], y[r:r + 1])
        for b, a in zip(batched, alone):
            torch.testing.assert_close(b[r:r + 1], a, rtol=1e-12, atol=1e-12)


def test_noiseless_families_are_identical_across_seeds():
    problem = make_problem("coupled", dim_x=3, dim_y=2)
    x, y = start(problem, 2)
    a = call_sequence(problem.oracle(runs=2, seed=0), x, y)
    b = call_sequence(problem.oracle(runs=2, seed=99), x, y)
    assert all(torch.equal(p, q) for p, q in zip(a, b))


@pytest.mark.parametrize("kwargs, name", [({"runs": 0}, "runs"), ({"runs": 2.5}, "runs"),
                                          ({"run_ids": [-1, 2]}, "run_ids"), ({"run_ids": []}, "run_ids"),
                                          ({"seed": -3}, "seed")])
def test_invalid_oracle_arguments(kwargs, name):
    problem = make_problem("decoupled", dim_x=2, dim_y=2)
    with pytest.raises(ValueError, match=name):
        problem.oracle(**kwargs)
