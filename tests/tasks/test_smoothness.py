"""Unbounded smoothness: the recurrent-weight scan and the trajectory probe on a task."""

import numpy as np
import pytest

from ubo import algorithms
from ubo import tasks
from ubo.tasks.smoothness import recurrent_scan, spearman, task_radius_scan, trajectory_smoothness
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


def test_fit_l0_l1_recovers_a_known_line_and_rejects_a_flat_one():
    from ubo.tasks.smoothness import fit_l0_l1

    g = np.linspace(0.1, 2.0, 12)
    fit = fit_l0_l1(g, 0.5 + 3.0 * g)
    assert abs(fit["L0"] - 0.5) < 1e-9 and abs(fit["L1"] - 3.0) < 1e-9
    assert fit["L1_interval"][0] <= 3.0 <= fit["L1_interval"][1] + 1e-9
    flat = fit_l0_l1(g, np.full_like(g, 2.0))  # no growth with the gradient norm: L1 = 0, L0 = 2
    assert abs(flat["L1"]) < 1e-9 and abs(flat["L0"] - 2.0) < 1e-9


def test_task_radius_scan_separates_blocks_and_needs_an_rnn():
    task = tasks.make_task("hyper_representation", hidden=5, embed_dim=4, per_domain=24, pooling="mean",
                           tasks=2, shots=2, dtype="float64")
    out = task_radius_scan(task, scales=(0.5, 1.0, 2.0, 4.0), directions=1)
    for block in ("phi", "fy"):
        assert out[f"{block}_grad_norm"].shape == (4,) and np.isfinite(out[f"{block}_smoothness"]).all()
        assert set(out[f"{block}_fit"]) >= {"L0", "L1", "L0_interval", "L1_interval"}
    with pytest.raises(ValueError, match="recurrent matrix"):
        task_radius_scan(tasks.make_task("transformer_fewshot", data="grammar", width=4, per_class=12))
