"""Unbounded smoothness: the recurrent-weight scan and the trajectory probe on a task."""

import numpy as np

from ubo import algorithms
from ubo import tasks
from ubo.tasks.smoothness import recurrent_scan, spearman, trajectory_smoothness
from ubo.tasks.tuning import suggested_hyper


def test_recurrent_scan_smoothness_grows_with_gradient_norm():
    scan = recurrent_scan(hidden=16, steps=30, batch=64)
    g, L = scan["grad_norm"], scan["smoothness"]
    assert scan["log_pearson"] > 0.9                       # log-log correlation across the scan
    assert np.all(np.diff(L) > 0)                          # smoothness rises with the recurrent radius
    assert L[np.argmax(g)] > 100 * L[np.argmin(g)]         # the largest gradient comes with far larger L_hat
    assert g.max() > 10 * g.min()


def test_spearman_handles_nan_and_ties():
    assert spearman([1, 2, 3, np.nan], [2, 4, 6, 1]) == 1.0
    assert np.isnan(spearman([1, 2], [1, 2]))


def test_trajectory_probe_on_a_task_records_finite_pairs():
    task = tasks.make_task("hyper_representation", hidden=8, embed_dim=4, per_domain=60)
    algo = algorithms.make("slip", **suggested_hyper(task, "slip"))
    out = trajectory_smoothness(task, algo, steps=6, runs=2)
    assert out["grad_norm"].shape == (6, 2) and out["phi_smoothness"].shape == (6, 2)
    assert np.isfinite(out["smoothness"]).all() and (out["smoothness"] > 0).all()
    assert -1 <= out["spearman"] <= 1
