# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. High probability: $(1-\delta)$-quantiles against $\delta$, with exact confidence intervals
#
# **Claim checked.** SLIP (Gong, Hao, Liu, ICML 2024) and AdamBO (TMLR 2025) bound the average
# stationarity $S = \tfrac1T\sum_{t<T}\|\nabla\Phi(x_t)\|$ **with probability at least $1-\delta$**, at a
# cost that grows like $\log(1/\delta)$, under almost-surely bounded noise; BO-REP (Hao, Gong, Liu,
# ICLR 2024, Theorem 1) holds with probability $\ge 1-\delta$ over its lower-level randomness.
#
# A high-probability statement is a statement about a quantile: $q(1-\delta)$ of $S$ over independent
# runs must grow at most like $a + b\log(1/\delta)$. We estimate $q(1-\delta)$ from $R$ runs with an
# **exact, distribution-free** 95% confidence interval (the number of runs below the true quantile is
# Binomial$(R, 1-\delta)$; `ubo.theory.tails.quantile_ci`) and fit three shapes: $a + b\log(1/\delta)$,
# $a + b\sqrt{\log(1/\delta)}$, and a power law $\log q = a + p\log(1/\delta)$, the heavy-tail signature.
# The verdict rule of `ubo claims` (declared in `theory/claims/high_probability.py` before any run) decides.
# Bounded noise (the assumption) is contrasted with Student-t(3) noise of the same variance (outside it).
#
# Prerequisites: notebooks 4 and 5; order statistics. Time: 15 minutes.

# %% tags=["parameters"]
import os

mode = os.environ.get("UBO_NOTEBOOK_MODE", "ci")   # "ci": the test suite's size (< 60 s on 2 cores); "full"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ubo.theory.claims.high_probability import claim_high_probability, rule
from ubo.theory.claims.presets import FULL, QUICK
from ubo.theory.claims.result import NOT_REPRODUCED
from ubo.theory.tails import fit_tail_models, quantile_table

if mode not in ("ci", "full"):
    raise ValueError(f"mode must be 'ci' or 'full', got {mode!r}")
preset = {"ci": {**QUICK, "tail_runs": 1000}, "full": FULL}[mode]
methods = {"ci": ("slip", "borep"), "full": ("slip", "borep", "adambo")}[mode]
torch.set_num_threads(1)
print(f"{preset['tail_runs']} runs per method and noise law, eps = {preset['tail_eps']}, methods {methods}")

# %% [markdown]
# ## 1. The quantiles, their confidence intervals and the fitted shapes

# %%
result = claim_high_probability(preset, methods=methods, progress=False)
print(result.verdicts.to_string(index=False))
result.table

# %%
fig, axes = plt.subplots(1, len(methods), figsize=(4.5 * len(methods), 3.5), sharey=True)
for ax, method in zip(np.atleast_1d(axes), methods):
    for noise, marker in (("bounded", "o"), ("student_t", "s")):
        t = result.table[(result.table["method"] == method) & (result.table["noise"] == noise)]
        L = np.log(1 / t["delta"].to_numpy())
        ax.errorbar(L, t["q"], yerr=[t["q"] - t["ci_low"], t["ci_high"] - t["q"]], fmt=marker, capsize=2, label=noise)
        fit = fit_tail_models(t["delta"], t["q"]).set_index("model")
        ax.plot(L, fit.loc["log", "a"] + fit.loc["log", "b"] * L, "k:", lw=0.8)
    ax.set_title(method, fontsize=9); ax.set_xlabel(r"$\log(1/\delta)$")
np.atleast_1d(axes)[0].set_ylabel(r"$(1-\delta)$-quantile of $S$ (95% exact CI)")
np.atleast_1d(axes)[0].legend(fontsize=7)
plt.show()

# %%
bounded = result.verdicts[result.verdicts["subject"].str.contains("bounded")]
assert (bounded["verdict"] != NOT_REPRODUCED).all(), "a power-law tail under bounded noise contradicts the claim"
for (method, noise), t in result.table.groupby(["method", "noise"]):
    assert (np.diff(t["q"].to_numpy()) >= 0).all()          # quantiles are monotone in delta
    assert (t["ci_low"] <= t["q"]).all() and (t["q"] <= t["ci_high"]).all()

# %% [markdown]
# ## 2. The rule can fail: a power-law tail is recognised
#
# Pareto samples with tail index 1.5 (the $(1-\delta)$-quantile grows like $\delta^{-2/3}$) and
# exponential samples (quantile $\log(1/\delta)$ exactly) go through the same table, fits and rule.

# %%
rng = np.random.default_rng(0)
R = preset["tail_runs"]
deltas = sorted({d for d in (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005) if R * d >= 5}, reverse=True)
controls = {"Pareto(1.5)": 1 + rng.pareto(1.5, R), "exponential": 0.1 + rng.exponential(1.0, R)}
control_rows = []
for name, values in controls.items():
    table = quantile_table(values, deltas)
    fits = fit_tail_models(table["delta"], table["q"]).set_index("model")
    control_rows.append({"sample": name, "verdict": rule(fits.reset_index(), table),
                         **{f"log-RMSE {m}": fits.loc[m, "log_rmse"] for m in ("log", "sqrt_log", "power")}})
controls_table = pd.DataFrame(control_rows)
print(controls_table.to_string(index=False))
assert controls_table.set_index("sample").loc["Pareto(1.5)", "verdict"] == NOT_REPRODUCED
assert controls_table.set_index("sample").loc["exponential", "verdict"] != NOT_REPRODUCED

# %% [markdown]
# ## What was observed (CI mode: SLIP and BO-REP, 1000 runs each, $\epsilon = 1.2$)
#
# * Under bounded noise the quantiles of $S$ grow slowly with $\log(1/\delta)$ (about 0.37 at
#   $\delta = 0.5$ to 0.42 at $\delta = 0.005$); a log-type shape fits best and the power law is worse,
#   so the rule says *reproduced* for both methods. The evidence is thin in absolute terms: $q$ spans
#   only about 13%, every shape fits with a log-RMSE below 0.01, and the verdict rests on the
#   $\sqrt{\log}$ fit being two to three times closer than the power law. It does not resolve the
#   constant $b$ of the bound, only the absence of a power-law tail.
# * The Student-t contrast does **not** show a heavy tail in $S$: its quantiles grow as slowly. $S$ is an
#   average over $T$ steps of normalized updates, whose length $\eta$ does not depend on the noise, so
#   single large noise draws are averaged away; a heavy-tail signature would need a statistic sensitive
#   to one step (for example $\max_t\|y_t - y^*_t\|$, claim 3) or far smaller $T$.
# * The rule is not vacuous: a Pareto sample is judged *not reproduced*, an exponential one is not.
# * Only $\delta \ge 0.005$ can be resolved with 1000 runs (at least 5 runs beyond each quantile), so
#   the $\log(1/\delta)$ shape is checked over a factor of 100 in $\delta$, not in the deep tail.
