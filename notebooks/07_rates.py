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
# # 7. Rates: $\epsilon^{-4}$ from oracle counts, the deterministic control, and the bare $-1/4$ pitfall
#
# **Claims checked.**
#
# 1. BO-REP (Hao, Gong, Liu, ICLR 2024, Theorem 1), SLIP (Gong, Hao, Liu, ICML 2024, main theorem) and
#    AdamBO (TMLR 2025) reach $\tfrac1T\sum_t\|\nabla\Phi(x_t)\| \le \epsilon$ within
#    $\tilde O(\epsilon^{-4})$ stochastic oracle calls under bounded noise. Measured as `ubo claims` does
#    (docs/claims.md, claim 1): the median over runs of the calls until the running average first
#    reaches $\epsilon$, on a ladder of $\epsilon$ with the papers' parameter orders per $\epsilon$, and
#    the log-log slope with a bootstrap CI; predicted $-4$. Without noise the same orders predict $-2$ at
#    most (the control).
# 2. Normalized SGD with momentum and the $\sigma$-aware schedule has average stationarity
#    $O((\Delta L_0\sigma^2/T)^{1/4})$ (Cutkosky and Mehta, ICML 2020, Theorem 1): slope $-1/4$ in $T$,
#    $-1/2$ without noise. **The pitfall**: the schedule alone makes $\Delta/(\eta T) \sim T^{-1/4}$ even
#    with the noise switched off, so a measured $-1/4$ proves nothing unless it differs from that
#    same-schedule noise-free control (docs/theory.md §7).
#
# Prerequisites: notebooks 4-6; log-log regression. Time: 20 minutes.

# %% tags=["parameters"]
import os

mode = os.environ.get("UBO_NOTEBOOK_MODE", "ci")   # "ci": the test suite's size (< 60 s on 2 cores); "full"

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from ubo.theory.claims.complexity import claim_complexity
from ubo.theory.claims.instances import l1_instance
from ubo.theory.claims.presets import FULL, QUICK
from ubo.theory.rates import rate_probe

if mode not in ("ci", "full"):
    raise ValueError(f"mode must be 'ci' or 'full', got {mode!r}")
preset = {"ci": QUICK, "full": FULL}[mode]
methods = {"ci": ("slip",), "full": ("borep", "slip", "adambo", "soba")}[mode]
horizons = {"ci": [100, 400, 1600], "full": [100, 400, 1600, 6400]}[mode]
rate_runs = {"ci": 8, "full": 32}[mode]
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Oracle calls to reach $\epsilon$

# %%
result = claim_complexity(preset, methods=methods, progress=False)
slopes = result.plot["slopes"]
print(result.verdicts.to_string(index=False), "\n")
print(slopes.to_string(index=False))
result.table

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
eps = np.array(result.plot["eps"])
for label, med in result.plot["series"].items():
    ax.loglog(eps, med, "o-", label=label)
ref = result.plot["series"][f"{methods[0]} (noisy)"][0] * (eps / eps[0]) ** -4.0
ax.loglog(eps, ref, "k:", label=r"slope $-4$ (the claim)")
ax.set_xlabel(r"$\epsilon$"); ax.set_ylabel("median oracle calls to reach $\\epsilon$"); ax.legend(fontsize=7)
ax.invert_xaxis()
plt.show()

# %%
for method in methods:
    noisy = slopes[(slopes["method"] == method) & (slopes["noise"] == "noisy")].iloc[0]
    control = slopes[(slopes["method"] == method) & (slopes["noise"] == "noise-free")].iloc[0]
    verdict = result.verdicts.set_index("subject").loc[method, "verdict"]
    print(f"{method}: claim 1 {verdict.upper()} on this ladder (slope {noisy['slope']:.2f}, "
          f"CI [{noisy['ci_low']:.2f}, {noisy['ci_high']:.2f}], predicted -4)")
    # noise must cost more as eps shrinks: the noisy slope is steeper than the noise-free control's
    assert noisy["ci_high"] < control["ci_low"], f"{method}: noisy slope not steeper than the noise-free control"
    assert control["slope"] >= -2.0 - 0.1, f"{method}: noise-free slope steeper than the -2 the orders allow"

# %% [markdown]
# ## 2. The $-1/4$ pitfall: a slope is evidence only against its same-schedule control

# %%
problem_for_sigma = lambda s: l1_instance(noise="bounded" if s > 0 else "none", sigma=s)  # noqa: E731
rates, data = rate_probe(problem_for_sigma, 0.5, horizons, runs=rate_runs)
print(rates[["quantity", "measured", "bound", "kind", "holds"]].to_string(index=False))
for row in rates["note"]:
    print("-", row)

fig, ax = plt.subplots(figsize=(5, 3.5))
for label, values in data["samples"].items():       # the 4-sigma entry has the largest T only
    ax.loglog(data["steps"][-len(values):], [v.mean() for v in values], "o-", label=label)
T = np.array(horizons, dtype=float)
ax.loglog(T, data["samples"]["sigma=0"][0].mean() * (T / T[0]) ** -0.5, "k:", lw=0.8, label="slope -1/2")
ax.set_xlabel("horizon T"); ax.set_ylabel(r"mean of $\frac{1}{T}\sum_t\|\nabla\Phi(x_t)\|$"); ax.legend(fontsize=7)
plt.show()

# %%
deterministic = rates[rates["quantity"].str.endswith("sigma=0")].iloc[0]
assert deterministic["holds"], "the deterministic control's -1/2 slope should hold"
noisy_row = rates[rates["quantity"].str.contains("sigma=0.5")].iloc[0]
print(f"noisy slope {noisy_row['measured']:.3f} judged: {noisy_row['kind']}")

# %% [markdown]
# ## What was observed (CI mode: SLIP, $\epsilon$ from 1.4 to 0.85, 8 runs)
#
# * **Claim 1 was not reproduced on this ladder.** The median calls grow like $\epsilon^{-2.8}$ with a
#   CI that excludes $-4$, so the rule says *not reproduced*. The ladder spans a factor 1.6 in $\epsilon$
#   near the start of the run, where the iterate is still far from stationarity; the $\epsilon^{-4}$ bound
#   is an upper bound on the worst case and a flatter slope on an easy, short ladder does not contradict
#   it. Deciding needs the decade of $\epsilon$ the `full` preset approaches (docs/claims.md, known limits).
# * The noise-free control has slope about $-1$, flatter than the $-2$ the orders allow: deterministic
#   normalized descent reaches the neighbourhood of a stationary point in $O(1/\eta)$ steps and the
#   average then decays like $1/T$. The noisy slope is steeper than the control's, as it must be.
# * The $\sigma$-aware schedule gives slope $\approx -1/4$ with noise, and **the same slope without noise**
#   under the same schedule: the row is *inconclusive*, the schedule and not the noise produces it; so
#   is the $\sigma^{1/2}$ ratio. The deterministic $-1/2$ is judged and holds.
