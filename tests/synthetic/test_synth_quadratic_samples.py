"""quadratic_samples (per-sample arrays, benchopt's form) and the samplers of synthetic.finite_sum."""

import numpy as np
import pytest
import torch

from synth_checks import autograd_grad, central_difference, check_second_order_calls, close
from ubo.synthetic import finite_sum as fs
from ubo.synthetic import make_problem
from ubo.synthetic.quadratic_samples import QuadraticSamples, quadratic_samples
from ubo.synthetic.rng import CounterRNG, Draw


def rank_one_instance(n=40, dx=3, dy=4, seed=0):
    """Per-sample arrays with every block of each sample's Hessian built from one random vector (as benchopt's
    generator does), plus a per-sample x-Hessian and linear terms: a generic instance, not ubo's own."""
    rng = np.random.default_rng(seed)

    def level():
        u, w = rng.normal(size=(n, dx)), rng.normal(size=(n, dy)) @ np.diag(np.linspace(0.5, 1.5, dy))
        return {"hess_y": w[:, :, None] * w[:, None, :] + 0.1 * np.eye(dy), "hess_x": u[:, :, None] * u[:, None, :],
                "cross": 0.3 * u[:, :, None] * w[:, None, :], "linear_y": rng.normal(size=(n, dy)),
                "linear_x": rng.normal(size=(n, dx))}
    return level(), level()


def points(problem, runs=4, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(runs, problem.dim_x, generator=gen, dtype=torch.float64),
            torch.randn(runs, problem.dim_y, generator=gen, dtype=torch.float64))


def check_closed_forms(problem):
    """y* solves grad_y g = 0 (autograd of g); grad Phi = finite differences of Phi(x) = f(x, y*(x)) with y*
    solved independently; the population equals the average over all samples; the oracles are the autograd
    derivatives of the minibatch averages."""
    x, y = points(problem)
    close(problem.grad_y_g(x, y), autograd_grad(problem.g, x, y, wrt=1))
    close(problem.grad_x_g(x, y), autograd_grad(problem.g, x, y, wrt=0))
    gx, gy = problem.grad_f(x, y)
    close(gx, autograd_grad(problem.f, x, y, wrt=0))
    close(gy, autograd_grad(problem.f, x, y, wrt=1))
    every = torch.arange(problem.n_inner).expand(4, -1)
    close(problem.minibatch_g(x, y, every), problem.g(x, y))
    close(problem.minibatch_f(x, y, torch.arange(problem.n_outer).expand(4, -1)), problem.f(x, y))

    H = torch.as_tensor(problem.inner["hess_y"]).mean(0)
    C = torch.as_tensor(problem.inner["cross"]).mean(0)
    c = torch.as_tensor(problem.inner["linear_y"]).mean(0)

    def solved_y(x_):
        return torch.linalg.solve(H, -(x_ @ C + c).T).T

    close(problem.y_star(x), solved_y(x))
    assert float(problem.grad_y_g(x, problem.y_star(x)).abs().max()) < 1e-10
    close(problem.grad_phi(x), central_difference(lambda x_: problem.f(x_, solved_y(x_)), x), tol=1e-7)
    close(problem.phi(x), problem.f(x, solved_y(x)))
    # z* solves the linear system, so grad Phi = grad_x f - grad2_xy g z* at y*
    ys = problem.y_star(x)
    close(problem.grad_phi(x), problem.grad_f(x, ys)[0] - problem.jvp_xy(x, ys, problem.z_star(x)))

    draw = CounterRNG(5, torch.arange(4)).next()
    v = points(problem, seed=2)[1]
    for sampling in fs.SAMPLINGS:
        problem.sampling = sampling
        idx_f = fs.minibatch(draw, problem.n_outer, problem.batch_size, fs.SUB_UPPER, sampling).idx
        idx_g = fs.minibatch(draw, problem.n_inner, problem.batch_size, fs.SUB_LOWER, sampling).idx
        f_b = lambda x_, y_: problem.minibatch_f(x_, y_, idx_f)  # noqa: E731
        g_b = lambda x_, y_: problem.minibatch_g(x_, y_, idx_g)  # noqa: E731
        sx, sy = problem.sample_grad_f(x, y, draw)
        close(sx, autograd_grad(f_b, x, y, wrt=0))
        close(sy, autograd_grad(f_b, x, y, wrt=1))
        close(problem.sample_grad_g(x, y, draw), autograd_grad(g_b, x, y, wrt=1))
        close(problem.sample_grad_g_xy(x, y, draw)[0], autograd_grad(g_b, x, y, wrt=0))
        check_second_order_calls(problem, g_b, x, y, v, draw)
    problem.sampling = "iid"


def test_closed_forms_and_oracles_of_a_generic_instance():
    check_closed_forms(quadratic_samples(*rank_one_instance(), batch_size=5))


def test_a_wrong_closed_form_is_caught():
    """Planted: y*(x) with the sign of its x-part flipped; the checks above must fail."""
    class WrongJ(QuadraticSamples):
        def y_star(self, x):
            return -x @ self.J + self.y_c

    with pytest.raises(AssertionError):
        check_closed_forms(WrongJ(*rank_one_instance(), batch_size=5))


def test_quadratic_exports_the_same_instance():
    """quadratic's samples() rebuilt as quadratic_samples: the same closed forms, constants and oracles."""
    q = make_problem("quadratic", dim_x=4, dim_y=3, n=64, batch_size=8, instance_seed=3)
    p = quadratic_samples(*q.samples(), batch_size=8, x0=q.x0)
    x, y = points(q)
    v = points(q, seed=3)[1]
    for name in ("y_star", "z_star", "phi", "grad_phi"):
        close(getattr(p, name)(x), getattr(q, name)(x), tol=1e-12)
    for name in ("f", "g", "grad_y_g"):
        close(getattr(p, name)(x, y), getattr(q, name)(x, y), tol=1e-12)
    assert p.constants.mu == pytest.approx(q.constants.mu, rel=1e-12)
    assert p.constants.phi_L0 == pytest.approx(q.constants.phi_L0, rel=1e-12)
    assert p.constants.sigma_g2 <= q.constants.sigma_g2 * (1 + 1e-12)  # exact deviations <= quadratic's bounds
    for sampling in fs.SAMPLINGS:
        q.sampling = p.sampling = sampling
        draw = CounterRNG(9, torch.arange(4)).next()
        for a, b in zip(p.sample_grad_f(x, y, draw) + p.sample_hvp_jvp(x, y, v, draw),
                        q.sample_grad_f(x, y, draw) + q.sample_hvp_jvp(x, y, v, draw)):
            close(a, b, tol=1e-12)
        close(p.sample_grad_g(x, y, draw), q.sample_grad_g(x, y, draw), tol=1e-12)


def shuffle_indices(sampler, calls, n=20, b=6, runs=3, seed=4, run_ids=None):
    rng = CounterRNG(seed, torch.arange(runs) if run_ids is None else run_ids)
    return torch.stack([sampler(rng.next(), n, b, fs.SUB_LOWER, "shuffle").idx for _ in range(calls)], dim=1)


def check_epochs(idx, n=20, b=6):
    """Each batch has b distinct samples; the B = n // b calls of one epoch window never share a sample."""
    blocks = n // b
    for r in range(idx.shape[0]):
        for e in range(idx.shape[1] // blocks):
            window = idx[r, e * blocks:(e + 1) * blocks].reshape(-1)
            assert window.unique().numel() == window.numel() == blocks * b
            assert int(window.min()) >= 0 and int(window.max()) < n


def test_shuffle_sampler_draws_without_replacement_per_epoch():
    idx = shuffle_indices(fs.minibatch, calls=12)
    check_epochs(idx)
    # epochs are reshuffled: two epochs' first blocks differ (for some run)
    assert not torch.equal(idx[:, 0], idx[:, 3])


def test_a_sampler_with_replacement_fails_the_epoch_check():
    """Planted: i.i.d. draws passed off as the shuffle sampler; the epoch check must fail."""
    def iid(draw, n, b, sub, sampling):
        return fs.minibatch(draw, n, b, sub, "iid")

    with pytest.raises(AssertionError):
        check_epochs(shuffle_indices(iid, calls=12))


def lower_level_indices(problem, iterations, level_call=True):
    """The lower-level minibatches of SOBA's call pattern (grad_f, hvp_jvp, grad_g per iteration) through an Oracle."""
    oracle = problem.oracle(runs=3, seed=1)
    x, y = problem.batch(problem.x0, 3), problem.batch(problem.y0, 3)
    with oracle.recording() as tape:
        for _ in range(iterations):
            oracle.grad_f(x, y), oracle.hvp_jvp(x, y, y), oracle.grad_g(x, y)
    lower = [draw for call, draw in tape if call != "grad_f"]
    if not level_call:
        for draw in lower:
            draw.level_call = None
    return torch.stack([fs.minibatch(d, problem.n, problem.batch_size, fs.SUB_LOWER, "shuffle").idx for d in lower], 1)


def test_shuffle_epochs_are_counted_per_level():
    """Through an Oracle, the lower level's own calls walk through its epochs (benchopt's per-level counter)."""
    problem = make_problem("quadratic", dim_x=2, dim_y=2, n=20, batch_size=6, sampling="shuffle")
    check_epochs(lower_level_indices(problem, 9))
    with pytest.raises(AssertionError):  # planted: blocks indexed by the shared call counter
        check_epochs(lower_level_indices(problem, 9, level_call=False))


def test_shuffle_sampler_is_a_pure_function_of_seed_run_and_call():
    together = shuffle_indices(fs.minibatch, calls=9, runs=5)
    alone = shuffle_indices(fs.minibatch, calls=9, run_ids=torch.tensor([3]))
    assert torch.equal(together[3], alone[0])                       # run r alone == inside a batch
    assert torch.equal(together, shuffle_indices(fs.minibatch, calls=9, runs=5))   # same seed, same indices
    assert not torch.equal(together, shuffle_indices(fs.minibatch, calls=9, runs=5, seed=5))
    # a call's minibatch depends on (seed, run, call) only: asked out of order, the cache gives the same answer
    rng = CounterRNG(4, torch.arange(5))
    draws = [rng.next() for _ in range(9)]
    backwards = [fs.minibatch(d, 20, 6, fs.SUB_LOWER, "shuffle").idx for d in reversed(draws)]
    assert torch.equal(torch.stack(backwards[::-1], dim=1), together)
    fresh = Draw(rng.keys.clone(), 7, torch.float64)                 # another generator object, same keys
    assert torch.equal(fs.minibatch(fresh, 20, 6, fs.SUB_LOWER, "shuffle").idx, together[:, 7])


def test_shuffle_runs_and_replays_through_an_algorithm():
    """A whole run with the shuffle sampler: run 2 alone equals run 2 of a batch, AccBO's replays work."""
    from ubo import algorithms

    problem = make_problem("quadratic", dim_x=3, dim_y=3, n=32, batch_size=4, sampling="shuffle")
    for name in ("soba", "accbo"):
        algo = algorithms.make(name)
        batch = algorithms.run(algo, problem, runs=3, steps=12, record_every=4, seed=2)
        alone = algorithms.run(algo, problem, run_ids=[2], steps=12, record_every=4, seed=2)
        close(alone.series["grad_phi_norm"][:, 0], batch.series["grad_phi_norm"][:, 2], tol=1e-12)


@pytest.mark.parametrize("change, message", [
    (lambda i, o: i.update(extra=i["linear_y"]), "keys"),
    (lambda i, o: i.pop("cross"), "missing"),
    (lambda i, o: i.update(linear_y=i["linear_y"][:, :2]), "shapes"),
    (lambda i, o: o.update(cross=o["cross"][:, :2], hess_x=o["hess_x"][:, :2, :2], linear_x=o["linear_x"][:, :2]),
     "same dim_x"),
    (lambda i, o: i.update(hess_y=i["hess_y"] + np.triu(np.ones((4, 4)), 1)), "symmetric"),
    (lambda i, o: i.update(hess_y=-i["hess_y"]), "positive definite"),
    (lambda i, o: o.update(linear_x=o["linear_x"] * np.nan), "finite"),
    (lambda i, o: i.update(cross=i["cross"].astype(complex)), "real"),
])
def test_bad_arrays_are_refused_with_a_clear_error(change, message):
    inner, outer = rank_one_instance()
    change(inner, outer)
    with pytest.raises(ValueError, match=message):
        quadratic_samples(inner, outer, batch_size=5)


def test_bad_options_are_refused():
    inner, outer = rank_one_instance()
    with pytest.raises(ValueError, match="sampling must be one of"):
        quadratic_samples(inner, outer, sampling="cyclic")
    with pytest.raises(ValueError, match="batch_size must be <= n"):
        quadratic_samples(inner, outer, batch_size=41, sampling="shuffle")
    with pytest.raises(ValueError, match="x0 must be"):
        quadratic_samples(inner, outer, x0=[1.0, 2.0])
    with pytest.raises(ValueError, match="inner must be a dict"):
        quadratic_samples([1, 2], outer)
    with pytest.raises(ValueError, match="sampling must be one of"):
        make_problem("quadratic", sampling="without")
