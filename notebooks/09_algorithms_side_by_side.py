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
# # 9. The three algorithms and the baselines side by side: is there an unbounded-smoothness advantage?
#
# **Claim checked.** BO-REP (Hao, Gong, Liu, "Bilevel optimization under unbounded smoothness: a new
# algorithm and convergence analysis", ICLR 2024, Sec. 1), SLIP (Gong, Hao, Liu, ICML 2024) and AdamBO
# (Gong, Hao, Liu, TMLR, arXiv:2503.03908) are motivated by one argument: when $\Phi$ is
# $(L_0, L_1)$-smooth and $L_1\|\nabla\Phi\|$ dominates $L_0$, methods analysed under bounded smoothness,
# SOBA (Dagréou et al., NeurIPS 2022), MA-SOBA (Chen, Xu, Zhang, arXiv:2306.12067), StocBiO (Ji, Yang,
# Liang, ICML 2021) and TTSA (Hong et al., SIAM J. Optim. 2023), need steps of order $1/L$ with $L$ the
# largest curvature they meet, or diverge; normalized (BO-REP, SLIP) and Adam (AdamBO) upper steps do not.
# The papers state it as motivation and show it in experiments; there is no theorem to cite for the
# comparison itself. Two measurable forms:
#
# * **5 (equal budget)**: `ubo claims`' claim 5: every method gets the same number of oracle calls and its
#   best step factor from a grid (chosen on other seeds); verdict rule declared in
#   `theory/claims/advantage.py` before any run. Run here on the L1-dominated family `steep` and on the same
#   instance with $L_1 = 0$ (bounded smoothness), where the theory predicts no advantage.
# * **5' (stability)**: the classical bound for a fixed step $\alpha$ on an $L$-smooth function,
#   $\alpha < 2/L$, read locally: $\alpha\,\|\nabla^2\Phi(x_0)\| < 2$. Under $(L_0, L_1)$-smoothness
#   $\|\nabla^2\Phi(x_0)\|$ grows with $\|\nabla\Phi(x_0)\|$, so a step tuned at one start fails at a farther
#   one, while a normalized step has length $\eta$ wherever it starts.
#
# Prerequisites: notebooks 4 and 7. Time: 20 minutes.

# %% tags=["parameters"]
import os

mode = os.environ.get("UBO_NOTEBOOK_MODE", "ci")   # "ci": the test suite's size (< 45 s on 2 cores); "full"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ubo.synthetic import make_problem
from ubo.theory.claims.advantage import BASELINES, OURS, build, claim_advantage, rule
from ubo.theory.claims.measure import final_average, run_batched
from ubo.theory.claims.presets import FULL, QUICK
from ubo.theory.claims.result import NOT_REPRODUCED, REPRODUCED
from ubo.theory.phi_smoothness import certified_phi_constants
from ubo.theory.probes import hessian_norms

if mode not in ("ci", "full"):
    raise ValueError(f"mode must be 'ci' or 'full', got {mode!r}")
preset = {"ci": QUICK, "full": FULL}[mode]
starts = {"ci": (4.0, 6.0, 8.0), "full": (3.0, 4.0, 5.0, 6.0, 7.0, 8.0)}[mode]
sweep_runs = {"ci": 4, "full": 32}[mode]
torch.set_num_threads(1)


def steep(noise="bounded", sigma=1.0, **params):
    """Family F5 (`steep`): x0 = 4 R^T e_1, far out on one axis of a cosh landscape (L0 = L1 = 1)."""
    return make_problem("steep", noise=noise, sigma_f=sigma, sigma_g1=sigma, sigma_g2=sigma, **params)


def steep_bounded_smooth(noise="bounded", sigma=1.0, **params):
    """The same matrices and start with L1 = 0: U(x) = L0 ||x||^2 / 2."""
    return steep(noise, sigma, L1=0.0, **params)


# %% [markdown]
# ## 1. The two instances
#
# $\|\nabla^2\Phi(x_0)\|$ against $\Phi$'s certified $L_0$ says whether the start is in the $L_1$ regime:
# above 1, a bounded-smoothness constant valid everywhere on the path must be at least that large.

# %%
rows = []
for label, factory in (("L1-dominated", steep), ("bounded-smooth", steep_bounded_smooth)):
    p = factory()
    L0, L1 = certified_phi_constants(p.constants)
    x0 = p.x0[None]
    rows.append({"instance": label, "certified L0": L0, "certified L1": L1,
                 "||grad Phi(x0)||": float(p.grad_phi(x0).norm()),
                 "||Hess Phi(x0)||": float(hessian_norms(p, x0)[0]),
                 "||Hess Phi(x0)|| / L0": float(hessian_norms(p, x0)[0]) / L0})
instances = pd.DataFrame(rows).set_index("instance")
print(instances.to_string(float_format="%.3g"))
assert instances.loc["L1-dominated", "||Hess Phi(x0)|| / L0"] > 10     # the start is deep in the L1 regime
assert instances.loc["bounded-smooth", "||Hess Phi(x0)|| / L0"] <= 1 + 1e-9  # and the contrast never leaves L0

# %% [markdown]
# ## 2. Claim 5 at an equal oracle budget

# %%
result = claim_advantage(preset, instance=steep, contrast=steep_bounded_smooth, progress=False)
print(result.verdicts.to_string(index=False), "\n")
print("\n".join(result.notes))
table = result.table
table[table["setting"] == "best"].pivot(index="method", columns="instance", values=["factor", "steps", "mean_S"])

# %%
best = table[table["setting"] == "best"]
fig, ax = plt.subplots(figsize=(8, 3.4))
methods = list(OURS + BASELINES)
for k, (label, colour) in enumerate((("L1-dominated", "C0"), ("bounded-smooth", "C1"))):
    b = best[best["instance"] == label].set_index("method").loc[methods]
    pos = np.arange(len(methods)) + (k - 0.5) * 0.35
    ax.bar(pos, b["mean_S"], width=0.35, color=colour, label=label,
           yerr=[b["mean_S"] - b["ci_low"], b["ci_high"] - b["mean_S"]], capsize=2)
ax.axvline(len(OURS) - 0.5, color="k", lw=0.8)
ax.set_xticks(np.arange(len(methods)), methods)
ax.set_ylabel(f"mean stationarity average S\n(budget {preset['budget']} calls, best factor)")
ax.legend(fontsize=7); plt.show()

# %% [markdown]
# **The verdict follows the declared rule.** The check below recomputes each verdict from the table (best of
# BO-REP/SLIP/AdamBO against the best baseline, by their 95% CIs). It can fail: a result whose verdict was
# written by hand against its own numbers (planted below) is refused.

# %%
def check_verdicts(result) -> None:
    tab, verdicts = result.table, result.verdicts.set_index("subject")["verdict"]
    for label, group in tab[tab["setting"] == "best"].groupby("instance"):
        cis = {r.method: (r.mean_S, r.ci_low, r.ci_high) for r in group.itertuples()}
        ours = min(OURS, key=lambda m: cis[m][0])
        base = min(BASELINES, key=lambda m: cis[m][0])
        expected = rule(cis[ours], cis[base])
        assert verdicts[label] == expected, f"{label}: verdict {verdicts[label]!r}, the rule gives {expected!r}"


check_verdicts(result)
planted = result.verdicts.copy()
planted["verdict"] = REPRODUCED  # the verdict the papers lead one to expect, written over the numbers
try:
    check_verdicts(type(result)(**{**vars(result), "verdicts": planted}))
    raise RuntimeError("the planted verdict was not caught")
except AssertionError as err:
    print("planted verdict caught:", err)
verdicts = result.verdicts.set_index("subject")["verdict"]

# %% [markdown]
# ## 3. Claim 5': the same tuned steps from farther starts
#
# Each method keeps its best factor of section 2 (chosen at $s = 4$) and its number of steps; only the start
# $x_0 = s\,R^\top e_1$ moves out. A run *diverges* when an iterate becomes non-finite (flagged per run).

# %%
chosen = best[best["instance"] == "L1-dominated"].set_index("method")
rows, curves = [], {}
for s in starts:
    p = steep(x0_scale=s)
    H0 = float(hessian_norms(p, p.x0[None])[0])
    for name in OURS + BASELINES:
        algo = build(name, p, preset["tail_eps"], float(chosen.loc[name, "factor"]))
        trace = run_batched(algo, p, sweep_runs, int(chosen.loc[name, "steps"]), seed=7)
        step = algo.hyper().get("alpha", algo.hyper().get("eta"))
        final = trace.final("grad_phi_norm").numpy()
        rows.append({"start s": s, "||Hess Phi(x0)||": H0, "method": name,
                     "step (alpha or eta)": step, "alpha ||Hess Phi(x0)||": step * H0 if name in BASELINES else np.nan,
                     "diverged": float(trace.diverged.float().mean()),
                     "mean S": float(np.nanmean(final_average(trace))) if not trace.diverged.all() else np.nan,
                     "median final ||grad Phi||": float(np.median(final)) if not trace.diverged.any() else np.nan})
sweep = pd.DataFrame(rows)
print(sweep.to_string(index=False, float_format="%.3g"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name in OURS + BASELINES:
    d = sweep[sweep["method"] == name]
    style = "-o" if name in OURS else "--s"
    axes[0].plot(d["start s"], d["diverged"], style, label=name)
    axes[1].semilogy(d["start s"], d["mean S"], style, label=name)
axes[0].set_ylabel("share of runs diverged"); axes[1].set_ylabel("mean S (finite runs)")
for ax in axes:
    ax.set_xlabel("start s")
axes[0].legend(fontsize=7); plt.show()

# %% [markdown]
# **Assertions.** (i) No normalized or Adam run diverges from any start: each step moves $x$ by $\eta$
# (BO-REP, SLIP) or by at most about $\eta$ per coordinate (AdamBO), whatever $\nabla\Phi$. (ii) From the
# farthest start every baseline at its tuned step diverges on at least half of its runs, where
# $\alpha\|\nabla^2\Phi(x_0)\|$ is far above 2. Both can fail, and do on the planted cases: check (i)
# applied to the baselines, and check (ii) at the first start.

# %%
def never_diverges(rows: pd.DataFrame) -> None:
    bad = rows[rows["diverged"] > 0]
    assert bad.empty, f"diverged: {bad[['method', 'start s', 'diverged']].to_dict('records')}"


def baselines_fail_at(s: float) -> None:
    d = sweep[(sweep["method"].isin(BASELINES)) & (sweep["start s"] == s)]
    assert (d["diverged"] >= 0.5).all(), f"at s = {s:g}, baselines with < 50% diverged: {d[d['diverged'] < 0.5]['method'].tolist()}"


never_diverges(sweep[sweep["method"].isin(OURS)])
baselines_fail_at(max(starts))
for planted_check, arg in ((never_diverges, sweep[sweep["method"].isin(BASELINES)]), (baselines_fail_at, min(starts))):
    try:
        planted_check(arg)
        raise RuntimeError(f"{planted_check.__name__} did not fail on its planted case")
    except AssertionError as err:
        print(f"{planted_check.__name__} fails where it should: {err}")

# %% [markdown]
# ## What was observed (CI mode: `--quick` preset, budget 500 oracle calls, 8 runs; starts 4, 6, 8 with 4 runs)
#
# * **Claim 5 not reproduced, on either instance.** At an equal budget with each method at its best step
#   factor, SOBA had the lowest mean stationarity average on `steep` (0.57 against SLIP's 1.42, the best of
#   BO-REP/SLIP/AdamBO; CIs separated) and on its $L_1 = 0$ contrast (0.51 against 0.85). The L1-dominated
#   fraction of SLIP's recorded steps was only 0.08: most of a 500-call budget is spent near the minimiser,
#   where $\Phi$ is $L_0$-smooth and SOBA's tuned step is simply larger than SLIP's short normalized steps
#   need to be. BO-REP and AdamBO spend their budget on refreshes and Neumann series (20 and 15 outer steps
#   against SOBA's 125) and finished behind at this budget.
# * **Claim 5' reproduced.** With the same tuned steps, moving the start from $s = 4$ to $s = 6$ made SOBA,
#   StocBiO and TTSA diverge on every run (MA-SOBA, whose averaged step and projected $z$ damp the first steps,
#   survived $s = 6$), and at $s = 8$ all four diverged on every run, with $\alpha\|\nabla^2\Phi(x_0)\|$ about
#   140. BO-REP, SLIP and AdamBO never diverged; their stationarity average grows with the start only
#   because the path is longer at a fixed step length. At $s = 4$, $\alpha\|\nabla^2\Phi(x_0)\| = 2.6$ did
#   not make SOBA diverge: $z_0 = 0$ and the lagging $y$ damp the first steps, so $2/L$ is a guide, not a
#   sharp threshold, for a bilevel method.
# * So the advantage the papers describe shows here as *robustness of a tuned step to where one starts*
#   (the normalized methods need no retuning), not as a faster decrease at a budget where the baselines
#   were tuned for the start they were run from. AccBO and F2SA are not in claim 5; see exercise 3.
#
# Next: notebook 10, the same algorithms on a recurrent network.
