"""Local perturbation smoothness at the iterates (tasks.iterate_smoothness) and its (L0, L1) fit.

The estimator is checked on a function whose (L0, L1) certificate holds with equality everywhere on its
domain, so the fitted line must be the certificate; two planted wrong estimators must miss it.
"""

import numpy as np
import pytest
import torch

from ubo import algorithms, tasks
from ubo.tasks.iterate_smoothness import fit_blocks, iterate_smoothness
from ubo.tasks.smoothness import fit_l0_l1, local_smoothness
from ubo.tasks.tuning import suggested_hyper
from tests.tasks.conftest import TINY

L0, L1, DIM = 0.5, 2.0, 40


class TightRidge:
    """f(x) = (L0/L1) ((exp(L1 t) - 1)/L1 - t), t = <a, x> >= 0: grad f = (L0/L1)(e^{L1 t} - 1) a and
    grad2 f = L0 e^{L1 t} a a^T, so ||grad2 f|| = L0 + L1 ||grad f|| exactly (the (L0, L1) condition of
    Zhang, He, Sra, Jadbabaie, ICLR 2020, with equality): the certificate is the only line through the points."""

    def __init__(self, gen):
        a = torch.randn(DIM, generator=gen, dtype=torch.float64)
        self.a = a / a.norm()

    def grad(self, x):
        t = x @ self.a
        return (L0 / L1) * torch.expm1(L1 * t).unsqueeze(1) * self.a

    def points(self, gen, n=25):
        t = torch.linspace(0.05, 3.0, n, dtype=torch.float64) / L1
        side = torch.randn(n, DIM, generator=gen, dtype=torch.float64)
        side = side - (side @ self.a).unsqueeze(1) * self.a           # orthogonal to a: does not change f
        return t.unsqueeze(1) * self.a + side


def _fit(estimator):
    gen = torch.Generator().manual_seed(0)
    fn = TightRidge(gen)
    x = fn.points(gen)
    smooth = estimator(fn.grad, x, gen)
    return fit_l0_l1(fn.grad(x).norm(dim=1).numpy(), smooth.numpy(), resamples=500)


def _recovers(fit) -> bool:
    """Both constants within 1 %, and the bootstrap interval of L1 within 1 % of the truth (it describes the
    scatter of the points; the estimator's own bias, O(relative L1 ||x||), is below that here)."""
    return (abs(fit["L0"] - L0) < 0.01 * L0 and abs(fit["L1"] - L1) < 0.01 * L1
            and fit["L1_interval"][0] <= 1.01 * L1 and fit["L1_interval"][1] >= 0.99 * L1)


def test_the_estimator_recovers_a_tight_certificate():
    fit = _fit(lambda grad, x, gen: local_smoothness(grad, x, 3, 1e-4, gen))
    assert _recovers(fit), fit


@pytest.mark.parametrize("planted", ["random_directions_only", "large_perturbation"])
def test_planted_wrong_estimators_miss_the_certificate(planted):
    """Random directions alone see about 1/sqrt(d) of a ridge's curvature; a large perturbation measures a secant
    of the exponential, not the local curvature. Both fits must miss (L0, L1)."""
    if planted == "random_directions_only":
        estimator = lambda grad, x, gen: local_smoothness(grad, x, 3, 1e-4, gen, gradient_direction=False)  # noqa
    else:
        estimator = lambda grad, x, gen: local_smoothness(grad, x, 3, 0.5, gen)  # noqa: E731
    assert not _recovers(_fit(estimator))


def test_iterates_blocks_on_a_task_respect_the_certified_lower_curvature():
    """On hyper-cleaning's linear head the y-block of g is certified: l_g1 = (F + 1)/2 + mu for every x. The local
    estimates at the iterates must stay below it; f does not depend on x, so the f_x block is dropped."""
    task = tasks.make_task("hyper_cleaning", **TINY["hyper_cleaning"])
    algo = algorithms.make("slip", **suggested_hyper(task, "slip"))
    frame = iterate_smoothness(task, algo, steps=4, every=2, runs=2, progress=False)
    assert set(frame["block"]) == {"phi", "f_y", "g_y"} and len(frame) == 3 * 3 * 2
    assert np.isfinite(frame[["grad_norm", "smoothness"]].to_numpy()).all() and (frame["smoothness"] > 0).all()
    assert frame.loc[frame["block"] == "g_y", "smoothness"].max() <= task.constants.l_g1 * (1 + 1e-3)
    fits = fit_blocks(frame, resamples=100)
    assert list(fits["block"]) == ["phi", "f_y", "g_y"] and {"L0", "L1_low", "L1_high", "spearman"} <= set(fits)
    with pytest.raises(ValueError, match="blocks must be among"):
        iterate_smoothness(task, algo, steps=1, blocks=("z",))
