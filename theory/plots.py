"""Figures a reader understands without the code. Each function returns a matplotlib Figure.

    stationarity_figure   ||grad Phi(x_t)|| against t (median, 10-90% band) and its running average with the P1 bound
    tracking_figure       ||y_t - y*(x_t)|| against t: median, 10-90% band, max, a.s. ceiling, RMS bound
    tails_figure          (1-delta)-quantile of sup_t ||y_t - y*_t|| against log(1/delta), exact CIs, log fit, a.s. ceilings
    rates_figure          average stationarity against T (log-log), with fitted slopes
    smoothness_figure     per method: secant and Hessian norms against ||grad Phi||, the lines L0 + L1 G and L0
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ubo.theory.tails import fit_tail_models


def _band(ax, x, values, color, label):
    """Median line and 10-90% band of (K, R) values over runs."""
    q10, q50, q90 = np.nanquantile(values, [0.1, 0.5, 0.9], axis=1)
    ax.plot(x, q50, color=color, label=f"{label} (median)")
    ax.fill_between(x, q10, q90, color=color, alpha=0.2, linewidth=0)


STYLES = ("-", "--", "-.", ":")


def stationarity_figure(traces: dict, p1_bounds: dict):
    """Left: per-iterate ||grad Phi(x_t)|| (median, 10-90% band) against t; right: the running average
    (1/t) sum_s ||grad Phi(x_s)|| (median over runs, from the recorded samples), which is what P1 bounds,
    with the P1 bound where it applies. Line styles differ so that overlapping methods stay visible."""
    fig, (ax, ax_avg) = plt.subplots(1, 2, figsize=(11, 4.5))
    for i, (name, tr) in enumerate(traces.items()):
        color, style = f"C{i}", STYLES[i % len(STYLES)]
        ok = ~tr.diverged.numpy()
        steps = tr.step.numpy()
        g = tr.series["grad_phi_norm"].numpy()[:, ok]
        q10, q50, q90 = np.nanquantile(g, [0.1, 0.5, 0.9], axis=1)
        ax.plot(steps, q50, color=color, linestyle=style, linewidth=1.6, label=f"{name} (median)")
        ax.fill_between(steps, q10, q90, color=color, alpha=0.15, linewidth=0)
        running = np.cumsum(g, axis=0) / np.arange(1, len(steps) + 1)[:, None]
        ax_avg.plot(steps, np.nanmedian(running, axis=1), color=color, linestyle=style, linewidth=1.6, label=name)
        b = p1_bounds.get(name, np.nan)
        if b is not None and np.isfinite(b):
            ax_avg.axhline(b, color=color, linestyle=style, linewidth=0.8, alpha=0.7, label=f"{name}: P1 bound")
    for a in (ax, ax_avg):
        a.set_xlabel("iteration t")
        a.set_yscale("log")
        a.legend(fontsize=7)
    ax.set_ylabel("||grad Phi(x_t)||")
    ax.set_title("Stationarity per iterate (band: 10-90% of runs)")
    ax_avg.set_ylabel("running average of ||grad Phi||")
    ax_avg.set_title("Running average (what P1 bounds)")
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
    """data {name: theory.probes.smoothness_data(...)}: one panel per method, Hessian and secant smoothness
    against ||grad Phi|| (log-log), the certified line L0 + L1 G and the bounded-smooth line L0 (L1 = 0)."""
    names = list(data)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.6 * max(len(names), 1), 3.8), squeeze=False,
                             sharey=True)
    for i, (ax, name) in enumerate(zip(axes[0], names)):
        d = data[name]
        keep = d["length"] > 0
        ax.scatter(d["grad_norm"][keep], d["secant"][keep], s=3, color="C0", alpha=0.25, label="secant")
        ax.scatter(d["grad_norm"], d["hessian"], s=3, color="C1", alpha=0.25, label="||Hess Phi||")
        L0, L1 = d["L0"], d["L1"]
        g = np.logspace(np.log10(max(np.nanmin(d["grad_norm"]), 1e-4)), np.log10(np.nanmax(d["grad_norm"]) * 1.2), 60)
        ax.plot(g, L0 + L1 * g, color="k", label=f"certified {L0:.3g} + {L1:.3g} G")
        ax.axhline(L0, color="k", linestyle=":", label="L0 alone (bounded smooth)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("||grad Phi(x_t)||")
        if i == 0:
            ax.set_ylabel("local smoothness")
            ax.legend(fontsize=7, markerscale=3)
    fig.suptitle("Smoothness along trajectories against the certified (L0, L1) line")
    fig.tight_layout()
    return fig
