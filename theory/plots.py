"""Figures a reader understands without the code. Each function returns a matplotlib Figure.

    stationarity_figure   ||grad Phi(x_t)|| against oracle calls: median, 10-90% band, the P1 bound
    tracking_figure       ||y_t - y*(x_t)|| against t: median, 10-90% band, max, a.s. ceiling, RMS bound
    tails_figure          (1-delta)-quantile of sup_t ||y_t - y*_t|| against log(1/delta), exact CIs, log fit
    rates_figure          average stationarity against T (log-log), with fitted slopes
    smoothness_figure     secant and Hessian smoothness against ||grad Phi||, the line L0 + L1 G
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ubo.theory.tails import fit_tail_models  # noqa: E402


def _band(ax, x, values, color, label):
    """Median line and 10-90% band of (K, R) values over runs."""
    q10, q50, q90 = np.nanquantile(values, [0.1, 0.5, 0.9], axis=1)
    ax.plot(x, q50, color=color, label=f"{label} (median)")
    ax.fill_between(x, q10, q90, color=color, alpha=0.2, linewidth=0)


def stationarity_figure(traces: dict, p1_bounds: dict):
    """traces {name: Trace}; p1_bounds {name: bound or NaN} drawn as dashed horizontal lines."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (name, tr) in enumerate(traces.items()):
        color = f"C{i}"
        ok = ~tr.diverged.numpy()
        calls = np.nanmedian(tr.series["oracle_calls"].numpy()[:, ok], axis=1)
        _band(ax, calls, tr.series["grad_phi_norm"].numpy()[:, ok], color, name)
        b = p1_bounds.get(name, np.nan)
        if np.isfinite(b):
            ax.axhline(b, color=color, linestyle="--", linewidth=1, label=f"{name}: P1 bound on the average")
    ax.set_xlabel("oracle calls per run (median)")
    ax.set_ylabel("||grad Phi(x_t)||")
    ax.set_yscale("log")
    ax.set_title("Stationarity against oracle calls (band: 10-90% of runs)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def tracking_figure(traces: dict, ceilings: dict):
    """One panel per algorithm: y error quantiles, its max over runs, the a.s. ceiling and the RMS bound."""
    names = [n for n in traces if ceilings.get(n) is not None]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(4 * max(len(names), 1), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        tr, cb = traces[name], ceilings[name]
        ok = ~tr.diverged.numpy()
        steps = tr.step.numpy()
        err = tr.series["y_error"].numpy()[:, ok]
        _band(ax, steps, err, "C0", "||y - y*||")
        ax.plot(steps, err.max(axis=1), color="C0", linestyle=":", label="max over runs")
        ax.plot(steps, cb["ceiling"][:, ok].max(axis=1), color="C3", label="a.s. ceiling (max over runs)")
        ax.plot(steps, np.sqrt(cb["mean_sq"]), color="C2", linestyle="--", label="RMS bound")
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("iteration t")
    axes[0][0].set_ylabel("||y_t - y*(x_t)||")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Lower-level tracking error with its bounds")
    fig.tight_layout()
    return fig


def tails_figure(tables: dict, ceilings: dict | None = None, traces: dict | None = None):
    """tables {name: quantile table of sup_t ||y - y*||} (theory.tails.quantile_table); with ``ceilings``
    (theory.probes.tracking_ceilings) each method's a.s. ceiling on the sup (largest over runs) is drawn dashed."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ceilings = ceilings or {}
    for i, (name, t) in enumerate(tables.items()):
        cb = ceilings.get(name)
        if cb is not None:
            ax.axhline(float(np.nanmax(cb["sup"])), color=f"C{i}", linestyle="--", linewidth=1,
                       label=f"{name}: a.s. ceiling on sup_t (P4)")
        L = np.log(1 / t["delta"].to_numpy())
        q = t["q"].to_numpy()
        lo = np.clip(q - t["ci_low"].to_numpy(), 0, None)
        hi = np.where(np.isfinite(t["ci_high"]), t["ci_high"].to_numpy() - q, 0)
        ax.errorbar(L, q, yerr=[lo, hi], fmt="o", color=f"C{i}", capsize=3, label=f"{name} (95% CI)")
        if np.all(q > 0):
            fit = fit_tail_models(t["delta"], q).set_index("model")
            ax.plot(L, fit.loc["log", "a"] + fit.loc["log", "b"] * L, color=f"C{i}", linewidth=1,
                    label=f"{name}: a + b log(1/delta)")
    ax.set_xlabel("log(1/delta)")
    ax.set_ylabel("(1-delta)-quantile of sup_t ||y_t - y*_t||")
    ax.set_yscale("log")
    ax.set_title("Tail quantiles across runs, with the a.s. ceilings")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def rates_figure(rate_data: dict):
    """rate_data = {"steps": [...], "samples": {label: [per-T arrays]}} from theory.rates.rate_probe."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    steps = np.asarray(rate_data["steps"], dtype=float)
    for i, (label, arrays) in enumerate(rate_data["samples"].items()):
        if len(arrays) == len(steps):
            means = np.array([a.mean() for a in arrays])
            slope, icpt = np.polyfit(np.log(steps), np.log(means), 1)
            ax.plot(steps, means, "o", color=f"C{i}", label=f"{label}: slope {slope:.3f}")
            ax.plot(steps, np.exp(icpt) * steps**slope, color=f"C{i}", linewidth=1)
        else:
            ax.plot(steps[-1:], [arrays[0].mean()], "s", color=f"C{i}", label=f"{label} (largest T only)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("mean over runs of (1/T) sum_t ||grad Phi(x_t)||")
    ax.set_title("Rates: predicted slopes -1/4 (sigma > 0) and -1/2 (sigma = 0)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def smoothness_figure(data: dict):
    """data {name: theory.probes.smoothness_data(...)}: secant and Hessian norms against ||grad Phi||."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    g_max = 0.0
    for i, (name, d) in enumerate(data.items()):
        ax.scatter(d["grad_norm"], d["secant"], s=4, color=f"C{i}", alpha=0.4, label=f"{name}: secant")
        ax.scatter(d["grad_norm"], d["hessian"], s=4, color=f"C{i}", marker="x", alpha=0.4, label=f"{name}: ||Hess||")
        g_max = max(g_max, float(np.nanmax(d["grad_norm"])))
        L0, L1 = d["L0"], d["L1"]
    g = np.linspace(0, g_max, 50)
    ax.plot(g, L0 + L1 * g, color="k", label=f"certified L0 + L1 G = {L0:.3g} + {L1:.3g} G")
    ax.set_xlabel("||grad Phi(x_t)||")
    ax.set_ylabel("local smoothness")
    ax.set_title("Smoothness along trajectories")
    ax.legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    return fig
