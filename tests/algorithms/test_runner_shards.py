"""``run(..., workers=N)``: the runs shared out over worker processes give the one-process trace.

The iterates are the same; a ground-truth series may differ in its last bits (the library's matrix products
round differently with the batch size, as between a lone run and a batch), hence the 1e-12 tolerance.
"""

from __future__ import annotations

import pytest
import torch

from ubo import algorithms
from ubo.algorithms import shards
from algo_helpers import EASY, easy_problem
from ubo.synthetic import make_problem


def noisy_coupled():
    return make_problem("coupled", dim_x=4, dim_y=3, noise="bounded", sigma_f=0.1, sigma_g1=0.1, sigma_g2=0.1)


def same(one, two) -> bool:
    """The same runs, steps, divergence and metadata; every series and summary equal to round-off."""
    strip = lambda meta: {k: v for k, v in meta.items() if k != "wall_time"}  # noqa: E731
    if not (torch.equal(one.step, two.step) and torch.equal(one.diverged_at, two.diverged_at)
            and strip(one.meta) == strip(two.meta) and one.series.keys() == two.series.keys()
            and one.summary.keys() == two.summary.keys()):
        return False
    pairs = [(one.series[k], two.series[k]) for k in one.series] + [(one.summary[k], two.summary[k]) for k in one.summary]
    try:
        for a, b in pairs:
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13, equal_nan=True)
    except AssertionError:
        return False
    return True


def both(algo, problem, **kw):
    one = algorithms.run(algo, problem, progress=False, **kw)
    two = algorithms.run(algo, problem, progress=False, workers=2, **kw)
    return one, two


def test_shared_out_runs_give_the_one_process_trace():
    problem = noisy_coupled()
    x0 = problem.x0 + 0.3 * torch.randn(5, problem.dim_x, generator=torch.Generator().manual_seed(1),
                                        dtype=torch.float64)
    one, two = both(algorithms.make("slip", eta=0.05, gamma=0.1, nu=0.1), problem, run_ids=[4, 0, 9, 2, 7],
                    steps=37, seed=3, record_every=10, x0=x0, every_step_summary=True)
    assert two.meta["run_ids"] == [4, 0, 9, 2, 7] and two.runs == 5 and two.summary
    assert same(one, two)


def test_a_run_that_diverges_in_one_shard_is_reported_in_place():
    problem = easy_problem()
    x0 = problem.x0.expand(4, -1).clone()
    x0[2] = 3000.0  # cosh overflows: run 2 (in the second shard) diverges at its first step
    one, two = both(algorithms.make("soba", **EASY["soba"]), problem, runs=4, steps=20, record_every=5, x0=x0)
    assert two.diverged.tolist() == [False, False, True, False] and two.diverged_at[2] == 1
    assert same(one, two)


class FirstRows:
    """A shard run from the first rows of ``start`` whatever its runs (picklable: the pool sends it)."""

    def __init__(self, start):
        self.start = start

    def __call__(self, algorithm, problem, run_ids, kwargs):
        return algorithms.run(algorithm, problem, run_ids=run_ids, **dict(kwargs, x0=self.start[:len(run_ids)]))


def test_the_comparison_catches_shards_joined_out_of_order(monkeypatch):
    """A planted bug: the shards' traces joined in reverse order (each shard itself correct)."""
    join = shards.join
    monkeypatch.setattr(shards, "join", lambda parts, wall: join(parts[::-1], wall))
    one, two = both(algorithms.make("soba", **EASY["soba"]), noisy_coupled(), runs=4, steps=10, record_every=5)
    assert not same(one, two)


def test_the_comparison_catches_a_shard_given_the_wrong_starts(monkeypatch):
    """A planted bug: every shard starts from the first rows of a per-run start (the forked workers inherit it)."""
    problem = noisy_coupled()
    start = problem.x0 + torch.arange(4, dtype=torch.float64)[:, None]
    monkeypatch.setattr(shards, "_run_shard", FirstRows(start))
    one, two = both(algorithms.make("soba", **EASY["soba"]), problem, runs=4, steps=10, record_every=5, x0=start)
    assert not same(one, two)


@pytest.mark.parametrize("workers", [0, -2, 1.5, True, "2", None])
def test_workers_must_be_a_positive_integer(workers):
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        algorithms.run(algorithms.make("soba"), noisy_coupled(), runs=2, steps=1, workers=workers)


def test_workers_need_a_cpu_problem():
    problem = noisy_coupled()
    problem.device = torch.device("meta")  # stands in for a GPU: the check comes before any work
    with pytest.raises(ValueError, match="workers must be 1 for a problem on meta"):
        algorithms.run(algorithms.make("soba"), problem, runs=2, steps=1, workers=2)


def test_more_workers_than_runs_use_one_process_per_run():
    problem = noisy_coupled()
    algo = algorithms.make("slip", eta=0.05, gamma=0.1, nu=0.1)
    one = algorithms.run(algo, problem, runs=2, steps=6, record_every=3, progress=False)
    many = algorithms.run(algo, problem, runs=2, steps=6, record_every=3, progress=False, workers=5)
    assert many.runs == 2 and same(one, many)
