"""Every task's oracles against finite differences and single-run autograd, on tiny float64 models."""

import pytest
import torch

from tests.tasks.conftest import TINY

NAMES = sorted(TINY)


def _point(task, runs=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = task.batch(task.x0, runs) + 0.1 * torch.randn(runs, task.dim_x, generator=gen, dtype=torch.float64)
    y = 0.3 * torch.randn(runs, task.dim_y, generator=gen, dtype=torch.float64)
    return x, y, gen


def _fd(fn, point, direction, h=1e-5):
    return (fn(point + h * direction) - fn(point - h * direction)) / (2 * h)


@pytest.mark.parametrize("name", NAMES)
def test_exact_derivatives_match_finite_differences(tiny_tasks, name):
    task = tiny_tasks[name]
    x, y, gen = _point(task)
    u = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    v = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    gx, gy = task.grad_f(x, y)
    torch.testing.assert_close((gx * u).sum(1), _fd(lambda t: task.f(t, y), x, u), rtol=1e-5, atol=1e-8)
    torch.testing.assert_close((gy * v).sum(1), _fd(lambda t: task.f(x, t), y, v), rtol=1e-5, atol=1e-8)
    torch.testing.assert_close((task.grad_y_g(x, y) * v).sum(1), _fd(lambda t: task.g(x, t), y, v),
                               rtol=1e-5, atol=1e-8)
    # grad2_yy g v = d/dt grad_y g(x, y + t v);  <grad2_xy g v, u> = d/dt <grad_y g(x + t u, y), v>
    torch.testing.assert_close(task.hvp_yy(x, y, v), _fd(lambda t: task.grad_y_g(x, t), y, v), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close((task.jvp_xy(x, y, v) * u).sum(1),
                               _fd(lambda t: (task.grad_y_g(t, y) * v).sum(1), x, u), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_sampled_products_are_one_batch_and_block_diagonal(tiny_tasks, name):
    """hvp_jvp equals hvp and jvp on the same draw, and run r of a batch equals run r alone."""
    task = tiny_tasks[name]
    x, y, gen = _point(task, runs=3)
    v = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    both = task.oracle(runs=3, seed=5)
    hvp, jvp = both.hvp_jvp(x, y, v)
    draw = task.oracle(runs=3, seed=5).rng.next()
    torch.testing.assert_close(hvp, task.sample_hvp(x, y, v, draw))
    torch.testing.assert_close(jvp, task.sample_jvp(x, y, v, draw))
    alone = task.oracle(runs=1, seed=5, run_ids=[2])
    h2, j2 = alone.hvp_jvp(x[2:], y[2:], v[2:])
    torch.testing.assert_close(h2, hvp[2:])
    torch.testing.assert_close(j2, jvp[2:])
    gx, gy = task.oracle(runs=3, seed=5).grad_f(x, y)
    gx2, gy2 = task.oracle(runs=1, seed=5, run_ids=[2]).grad_f(x[2:], y[2:])
    torch.testing.assert_close(gx2, gx[2:])
    torch.testing.assert_close(gy2, gy[2:])


@pytest.mark.parametrize("name", NAMES)
def test_minibatch_oracles_match_autograd_on_the_drawn_batch(tiny_tasks, name):
    """The sampled grad_y G is the y-gradient of the weighted loss on the drawn indices."""
    task = tiny_tasks[name]
    x, y, gen = _point(task)
    draw = task.oracle(runs=2, seed=3).rng.next()
    idx, weights = task._batch("lower", draw)
    yr = y.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(task.lower_loss(x, yr, idx, weights).sum(), yr)
    torch.testing.assert_close(task.sample_grad_g(x, y, draw), ref)
    assert not torch.equal(idx[0], idx[1])  # runs draw their own batches


@pytest.mark.parametrize("name", NAMES)
def test_ground_truth_is_stationary_and_hypergradient_matches_phi(tiny_tasks, name):
    task = tiny_tasks[name]
    assert task.has_ground_truth
    x, _, gen = _point(task)
    ys = task.y_star(x)
    assert float(task.grad_y_g(x, ys).norm(dim=1).max()) < 1e-8
    H = task.hessian_yy(x, ys)
    v = torch.randn(ys.shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(torch.bmm(H, v.unsqueeze(-1)).squeeze(-1), task.hvp_yy(x, ys, v))
    assert float(torch.linalg.eigvalsh(H).min()) >= task.constants.mu * (1 - 1e-9)
    u = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close((task.grad_phi(x) * u).sum(1), _fd(task.phi, x, u, 1e-4), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_hypergradient_estimate_is_grad_phi_at_y_star(tiny_tasks, name):
    """On whole pools and at y = y*(x) the estimate is the implicit-function hypergradient."""
    task = tiny_tasks[name]
    x, _, _ = _point(task)
    ys = task.y_star(x)
    torch.testing.assert_close(task.hypergradient_estimate(x, ys), task.grad_phi(x), rtol=1e-6, atol=1e-9)
    assert task.metrics(x, ys)["hypergrad_norm_estimate"].shape == (2,)


@pytest.mark.parametrize("name", NAMES)
def test_metrics_upper_loss_is_f_on_small_pools(tiny_tasks, name):
    task = tiny_tasks[name]
    x, y, _ = _point(task)
    torch.testing.assert_close(task.metrics(x, y)["upper_loss"], task.f(x, y))
