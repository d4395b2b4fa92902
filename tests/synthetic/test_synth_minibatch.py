"""Finite-sum families: minibatch oracles are the derivatives of the minibatch average, unbiased, fused."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from synth_checks import autograd_grad, check_second_order_calls, close
from ubo.synthetic import finite_sum as fs
from ubo.synthetic import fused_minibatch
from ubo.synthetic.rng import CounterRNG
from ubo.synthetic.strategies import points, problems

FINITE_SUM = ("quadratic", "curvature")


@given(problems(names=FINITE_SUM, noise=False), st.data(), st.integers(0, 100))
def test_oracles_are_derivatives_of_the_minibatch_average(problem, data, seed):
    x, y = data.draw(points(problem, runs=3))
    v = data.draw(points(problem, runs=3))[1]
    draw = CounterRNG(seed, torch.arange(3)).next()
    n_upper = problem.n_val if problem.name == "curvature" else problem.n
    idx_f = draw.integers(n_upper, problem.batch_size, fs.SUB_UPPER)
    idx_g = draw.integers(problem.n, problem.batch_size, fs.SUB_LOWER)

    def f_b(x_, y_):
        return problem.minibatch_f(x_, y_, idx_f)

    def g_b(x_, y_):
        return problem.minibatch_g(x_, y_, idx_g)

    gx, gy = problem.sample_grad_f(x, y, draw)
    close(gx, autograd_grad(f_b, x, y, wrt=0))
    close(gy, autograd_grad(f_b, x, y, wrt=1))
    close(problem.sample_grad_g(x, y, draw), autograd_grad(g_b, x, y, wrt=1))
    check_second_order_calls(problem, g_b, x, y, v, draw)


@given(problems(names=FINITE_SUM, noise=False), st.data())
def test_average_over_all_samples_is_the_population(problem, data):
    x, y = data.draw(points(problem, runs=2))
    n_upper = problem.n_val if problem.name == "curvature" else problem.n
    every_f = torch.arange(n_upper).expand(2, n_upper)
    every_g = torch.arange(problem.n).expand(2, problem.n)
    close(problem.minibatch_f(x, y, every_f), problem.f(x, y))
    close(problem.minibatch_g(x, y, every_g), problem.g(x, y))


@given(problems(names=FINITE_SUM, noise=False), st.data())
def test_every_sample_is_strongly_convex_in_y(problem, data):
    """AdamBO's A4: each g_i(x, .) has Hessian >= mu0 I (mu0 = ridge * mu for quadratic)."""
    x, y = data.draw(points(problem, runs=1))
    x, y = x.repeat(problem.n, 1), y.repeat(problem.n, 1).requires_grad_(True)
    each = torch.arange(problem.n)[:, None]  # row i is sample i alone
    grad = torch.autograd.grad(problem.minibatch_g(x, y, each).sum(), y, create_graph=True)[0]
    hess = torch.stack([torch.autograd.grad(grad[:, k].sum(), y, retain_graph=True)[0]
                        for k in range(problem.dim_y)], dim=1)
    assert float(torch.linalg.eigvalsh(hess)[:, 0].min()) >= problem.mu0 * (1 - 1e-10)


def test_oracles_are_unbiased_monte_carlo():
    """Mean of 4000 minibatch gradients equals the population gradient within 6 standard errors."""
    from ubo.synthetic import make_problem

    for problem in (make_problem("quadratic", dim_x=3, dim_y=2, n=64, batch_size=4),
                    make_problem("curvature", dim_x=3, dim_y=2, n=64, n_val=64, batch_size=4)):
        runs = 4000
        x = problem.batch(problem.x0, runs) * 0.3
        y = torch.ones(runs, problem.dim_y)
        draw = CounterRNG(1, torch.arange(runs)).next()
        for sample, exact in ((problem.sample_grad_g(x, y, draw), problem.grad_y_g(x[:1], y[:1])[0]),
                              (torch.cat(problem.sample_grad_f(x, y, draw), 1),
                               torch.cat(problem.grad_f(x[:1], y[:1]), 1)[0])):
            stderr = sample.std(dim=0) / runs**0.5
            assert bool(((sample.mean(dim=0) - exact).abs() <= 6 * stderr + 1e-12).all())


@given(st.integers(1, 60), st.integers(1, 6), st.integers(1, 5), st.integers(0, 50))
def test_dense_weights_equal_gathered_rows(n, b, d, seed):
    """The two evaluations of a minibatch average (weight matrix, gathered rows) agree."""
    gen = torch.Generator().manual_seed(seed)
    data, labels = torch.randn(n, d, generator=gen), torch.randn(n, generator=gen)
    point = torch.randn(3, d, generator=gen)
    idx = CounterRNG(seed, torch.arange(3)).next().integers(n, b)
    dense, gathered = fs.Minibatch(idx, n, dense=True), fs.Minibatch(idx, n, dense=False)
    close(dense.mean(data), gathered.mean(data))
    close(dense.rank_one(data, point), gathered.rank_one(data, point))
    close(dense.rank_one(data, point, labels), gathered.rank_one(data, point, labels))
    close(gathered.mean(data), data[idx].mean(dim=1))


needs_numba = pytest.mark.skipif(not fused_minibatch.AVAILABLE, reason="numba is not installed")


@needs_numba
@given(st.integers(1, 60), st.integers(1, 6), st.integers(1, 12), st.integers(0, 50))
def test_fused_rows_equal_the_gathered_definition(n, b, d, seed):
    """On float64 the fused loops (fused_minibatch) agree with the gathered torch definition and with the weight
    matrix; run 1 alone gives the same bits as inside the batch. Planted: the labels dropped, seen."""
    gen = torch.Generator().manual_seed(seed)
    data, labels = torch.randn(n, d, generator=gen, dtype=torch.float64), torch.randn(n, generator=gen,
                                                                                      dtype=torch.float64)
    point = torch.randn(3, d, generator=gen, dtype=torch.float64)
    idx = CounterRNG(seed, torch.arange(3)).next().integers(n, b)
    rows = data[idx]
    coef = torch.einsum("rbd,rd->rb", rows, point) - labels[idx]
    definition = torch.einsum("rb,rbd->rd", coef, rows) / b
    fused = fused_minibatch.rank_one_rows(idx, data, point, labels)
    close(fused, definition)
    close(fused, fs.Minibatch(idx, n, dense=True).rank_one(data, point, labels))
    close(fused_minibatch.mean_rows(idx, data), rows.mean(dim=1))
    assert torch.equal(fused_minibatch.rank_one_rows(idx[1:2], data, point[1:2], labels)[0], fused[1])
    if float(labels[idx].abs().max()) > 1e-6 and float(rows.abs().max()) > 1e-6:
        assert not torch.allclose(fused_minibatch.rank_one_rows(idx, data, point), definition)


def sequential_rank_one(idx, data, point, labels, order=1):
    """The kernel's definition in Python floats: per run, the drawn rows taken j = 0, 1, ... (order -1: planted,
    reversed), each dot product summed k = 0, 1, ..., then the sum divided by b."""
    out = torch.zeros(idx.shape[0], data.shape[1], dtype=torch.float64)
    for r in range(idx.shape[0]):
        acc = [0.0] * data.shape[1]
        for i in [int(v) for v in idx[r]][::order]:
            coef = 0.0
            for k in range(data.shape[1]):
                coef += float(data[i, k]) * float(point[r, k])
            coef -= float(labels[i])
            for k in range(data.shape[1]):
                acc[k] += coef * float(data[i, k])
        out[r] = torch.tensor(acc, dtype=torch.float64) / idx.shape[1]
    return out


@needs_numba
@pytest.mark.parametrize("b", [3, 7, 64])
def test_fused_rank_one_is_the_sequential_definition_bit_for_bit(b):
    """Four rows at a time in the kernel, but every sum in the definition's order: the same bits (b = 3 and 7 leave
    rows over from the groups of four). The reversed order of the rows is seen."""
    gen = torch.Generator().manual_seed(b)
    data, labels = torch.randn(50, 10, generator=gen, dtype=torch.float64), torch.randn(50, generator=gen,
                                                                                        dtype=torch.float64)
    point = torch.randn(6, 10, generator=gen, dtype=torch.float64)
    idx = CounterRNG(b, torch.arange(6)).next().integers(50, b)
    fused = fused_minibatch.rank_one_rows(idx, data, point, labels)
    assert torch.equal(fused, sequential_rank_one(idx, data, point, labels))
    assert not torch.equal(fused, sequential_rank_one(idx, data, point, labels, order=-1))


@needs_numba
@given(st.integers(1, 30), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 50))
def test_fused_matvec_equals_the_gathered_definition(n, b, p, q, seed):
    """(1/b) sum_j v_r M_{i_j} and (1/b) sum_j M_{i_j} v_r over per-sample matrices (n, p, q): the fused loop agrees
    with the gathered einsum, and run 2 alone gives the bits it gets in the batch. Planted: the minibatches of
    the runs rolled by one, seen (when the runs' samples differ)."""
    gen = torch.Generator().manual_seed(seed)
    mats = torch.randn(n, p, q, generator=gen, dtype=torch.float64)
    left, right = (torch.randn(3, k, generator=gen, dtype=torch.float64) for k in (p, q))
    idx = CounterRNG(seed, torch.arange(3)).next().integers(n, b)
    for v, transpose, spec in ((left, False, "rbpq,rp->rq"), (right, True, "rbpq,rq->rp")):
        fused = fused_minibatch.matvec_rows(idx, mats, v, transpose)
        close(fused, torch.einsum(spec, mats[idx], v) / b)
        assert torch.equal(fused_minibatch.matvec_rows(idx[2:], mats, v[2:], transpose)[0], fused[2])
        if not torch.equal(idx, idx.roll(1, 0)):
            assert not torch.allclose(fused_minibatch.matvec_rows(idx.roll(1, 0), mats, v, transpose), fused)


@needs_numba
@pytest.mark.parametrize("shift", [1, -3])
def test_fused_loops_refuse_indices_outside_the_table(shift):
    """The loops read without bounds checks, so an index outside [0, n) (one past the end, or negative, which
    numba would wrap) is refused with a ValueError naming idx, where torch's gather raises too."""
    gen = torch.Generator().manual_seed(shift)
    data = torch.randn(20, 4, generator=gen, dtype=torch.float64)
    point = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    idx = CounterRNG(5, torch.arange(3)).next().integers(20, 7)
    idx[1, 5] = 19 + shift if shift > 0 else shift
    for call in (lambda: fused_minibatch.mean_rows(idx, data), lambda: fused_minibatch.rank_one_rows(idx, data, point),
                 lambda: fused_minibatch.matvec_rows(idx, data.reshape(20, 2, 2), point[:, :2])):
        with pytest.raises(ValueError, match="idx must hold sample indices"):
            call()


@needs_numba
@pytest.mark.parametrize("n", [1, 2, 3, 64, 1000, 1024, 1025])
def test_fused_argsort_is_torchs_stable_argsort(n):
    """The bucketed insertion sort gives torch's stable argsort bit for bit: on random 64-bit keys, and on keys with
    many ties (then index order decides), negative keys included. Planted: an unstable sort differs on ties."""
    keys = CounterRNG(n, torch.arange(40)).next().bits(n)
    ties = keys % 5 - 2
    for k in (keys, ties):
        assert torch.equal(fused_minibatch.argsort_rows(k), torch.argsort(k, dim=1, stable=True))
    if n >= 64:
        assert not torch.equal(torch.argsort(ties, dim=1, descending=True).flip(1), torch.argsort(ties, dim=1,
                                                                                                stable=True))


def test_minibatch_variance_is_per_sample_variance_over_b():
    """E||(1/b) sum_j d_{i_j}||^2 = (1/b) mean_i ||d_i||^2 for sampling with replacement (finite_sum docstring)."""
    from ubo.synthetic import make_problem

    problem = make_problem("curvature", dim_x=2, dim_y=3, n=50, n_val=10, batch_size=5)
    runs = 20_000
    x, y = problem.batch(problem.x0, runs), torch.ones(runs, problem.dim_y)
    exact = problem.grad_y_g(x[:1], y[:1])
    every = torch.arange(problem.n)[:, None]
    per_sample = autograd_grad(lambda y_: problem.minibatch_g(x[:problem.n], y_, every), y[:problem.n])
    expected = float(((per_sample - exact) ** 2).sum(dim=1).mean()) / problem.batch_size
    draw = CounterRNG(2, torch.arange(runs)).next()
    observed = float(((problem.sample_grad_g(x, y, draw) - exact) ** 2).sum(dim=1).mean())
    assert abs(observed / expected - 1) < 0.05
