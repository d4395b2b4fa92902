"""One figure per claim, drawn from ClaimResult.table / .plot (matplotlib)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def complexity_figure(result):
    t = result.table
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (method, noise), g in t.groupby(["method", "noise"]):
        ax.loglog(1 / g["eps"], g["median_calls"], "o-" if noise == "noisy" else "s--", label=f"{method} ({noise})")
    e = 1 / np.asarray(sorted(t["eps"].unique()), dtype=float)
    ref = t[t.noise == "noisy"]["median_calls"].replace(np.inf, np.nan).min()
    ax.loglog(e, ref * (e / e.min()) ** 4, "k:", label="slope 4 (reference)")
    ax.set(xlabel="1 / eps", ylabel="median oracle calls to reach eps", title=result.title)
    ax.legend(fontsize=7)
    return fig


def high_probability_figure(result):
    t = result.table
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (method, noise), g in t.groupby(["method", "noise"]):
        x = np.log(1 / g["delta"])
        err = [g["q"] - g["ci_low"], (g["ci_high"] - g["q"]).replace(np.inf, np.nan)]
        ax.errorbar(x, g["q"], yerr=err, fmt="o-" if noise == "bounded" else "s--", capsize=2, label=f"{method} ({noise})")
    ax.set(xlabel="log(1/delta)", ylabel="(1-delta)-quantile of the stationarity average", title=result.title)
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    return fig


def tracking_figure(result):
    t = result.table
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    slip, b = t[t.method == "slip"], t[t.method == "borep"]
    fit = result.plot["fits"]
    s = slip[slip.in_regime]
    axes[0].loglog(s.gamma, s.q, "o", label="SLIP measured quantile (fitted)")
    out = slip[~slip.in_regime]
    if len(out):
        axes[0].loglog(out.gamma, out.q, "x", color="gray", label="outside the lemma's regime (not fitted)")
    if fit["slip"] is not None:
        g = np.geomspace(slip.gamma.min(), slip.gamma.max(), 50)
        eta = float(slip.eta.iloc[0])
        axes[0].loglog(g, fit["slip"]["a"] * np.sqrt(g) + fit["slip"]["b"] * eta / g, "-",
                       label="a sqrt(gamma) + b eta/gamma")
    axes[0].loglog(slip.gamma, slip.ceiling, "k:", label="a.s. ceiling")
    axes[0].set(xlabel="gamma", ylabel="quantile of max_t ||y_t - y*_t||")
    axes[0].legend(fontsize=7)
    model = fit["borep"]["a"] + fit["borep"]["b"] * b.drift
    for sweep, marker in (("I", "o"), ("N", "s")):
        m = b.sweep == sweep
        axes[1].plot(model[m], b.q[m], marker, label=f"BO-REP, {sweep} swept")
    lim = [0, 1.1 * max(model.max(), b.q.max())]
    axes[1].plot(lim, lim, "k:", label="a + b I eta (1 - rho^(NK)) / (1 - rho^N)")
    axes[1].set(xlabel="fitted a + b I eta (1 - rho^(NK)) / (1 - rho^N)", ylabel="measured quantile of max_t ||y_t - y*_t||")
    axes[1].legend(fontsize=7)
    fig.suptitle(result.title)
    return fig


def adambo_figure(result):
    t = result.table
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    a = t[t.probe == "4a"]
    lam = np.asarray(result.plot["lambdas"])
    axes[0].errorbar(lam, a.mean_S, yerr=[a.mean_S - a.ci_low, a.ci_high - a.mean_S], fmt="o-", capsize=2,
                     label="lam sweep")
    d = t[t.probe == "4b"]
    axes[0].axhline(float(d.mean_S.iloc[0]), color="r", ls="--", label="Adam defaults (beta1=.9, beta2=.999, lam=1e-8)")
    axes[0].set(xscale="log", xlabel="lam", ylabel="mean stationarity average")
    axes[0].legend(fontsize=7)
    axes[1].semilogy(result.plot["qs"], result.plot["plateaus"], "o-", label="noise-free plateau of ||grad Phi||")
    axes[1].semilogy(result.plot["qs"], result.plot["bounds"], "k:", label="truncation bound")
    axes[1].set(xlabel="Neumann terms Q")
    axes[1].legend(fontsize=7)
    fig.suptitle(result.title)
    return fig


def advantage_figure(result):
    t = result.table
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (label, g) in zip(axes, t.groupby("instance", sort=False)):
        for i, setting in enumerate(("best", "paper")):
            h = g[g.setting == setting]
            mean = h.mean_S.replace(np.inf, np.nan)
            ax.errorbar(np.arange(len(h)) + 0.15 * i, mean, yerr=[mean - h.ci_low, h.ci_high - mean], fmt="o",
                        capsize=2, label=f"{setting} step")
        ax.set_xticks(np.arange(len(h)), h.method, rotation=30)
        ax.set(yscale="log", title=label, ylabel="mean stationarity average (equal calls)")
        ax.legend(fontsize=7)
    fig.suptitle(result.title)
    return fig


FIGURES = {"complexity": complexity_figure, "high_probability": high_probability_figure,
           "tracking": tracking_figure, "adambo": adambo_figure, "advantage": advantage_figure}
