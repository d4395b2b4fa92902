"""Finite-sum families: minibatch oracles are the derivatives of the minibatch average, unbiased, fused."""

import torch
from hypothesis import given
from hypothesis import strategies as st

from synth_checks import autograd_grad, check_second_order_calls, close
from ubo.synthetic import finite_sum as fs
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
