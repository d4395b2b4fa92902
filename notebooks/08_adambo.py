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
# # 8. AdamBO: the theory's $\beta$ and $\lambda$ against the defaults people use; bias correction; Neumann truncation
#
# **Claims checked** (AdamBO: Gong, Hao, Liu, "On the convergence of Adam-type algorithm for bilevel
# optimization under unbounded smoothness", TMLR, arXiv:2503.03908; in the notation of Li, Rakhlin,
# Jadbabaie, NeurIPS 2023, where $\beta = 1-\beta_1$ weighs the *new* gradient and $\lambda$ is Adam's
# epsilon outside the root):
#
# * **4a** the complexity grows polynomially in $1/\lambda$, so a tiny $\lambda$ (the usual $10^{-8}$) should hurt;
# * **4b** the theorem's $\beta = \tilde\Theta(\epsilon^2) \le O(\lambda)$ should beat the common defaults
#   ($\beta_1 = 0.9$, $\beta_2 = 0.999$, $\lambda = 10^{-8}$) at the same step size;
# * **4c** the Neumann hypergradient with $Q$ terms has truncation bias at most
#   $\ell_{g,1}(1-\mu/C)^Q\ell_{f,0}/\mu$ (Ji, Yang, Liang, ICML 2021; notebook 2), so noise-free runs
#   should plateau at a level that falls with $Q$ and stays under that bound.
#
# Measured with `ubo claims`' claim 4 (verdict rules declared in `theory/claims/adambo_theory.py` before
# any run), then a look at **bias correction**: Li et al.'s Algorithm 1 corrects both moments; without
# correction the first steps are shorter by about $\sqrt{\beta_{sq}}/\beta$ (docstring of `algorithms/adambo.py`).
#
# Prerequisites: notebooks 2, 4 and 7; Adam. Time: 15 minutes.

# %% tags=["parameters"]
import os

mode = os.environ.get("UBO_NOTEBOOK_MODE", "ci")   # "ci": the test suite's size (< 60 s on 2 cores); "full"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ubo import algorithms
from ubo.theory.claims.adambo_theory import claim_adambo
from ubo.theory.claims.instances import l1_instance
from ubo.theory.claims.presets import FULL, QUICK
from ubo.theory.claims.result import REPRODUCED
from ubo.theory.recording import record_steps

if mode not in ("ci", "full"):
    raise ValueError(f"mode must be 'ci' or 'full', got {mode!r}")
preset = {"ci": QUICK, "full": FULL}[mode]
torch.set_num_threads(1)

# %% [markdown]
# ## 1. $\lambda$, $\beta$ and $Q$: claim 4 of `ubo claims`

# %%
result = claim_adambo(preset, progress=False)
print(result.verdicts.to_string(index=False), "\n")
print("\n".join(result.notes))
result.table

# %%
table = result.table
lam = table[table["probe"] == "4a"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].errorbar(result.plot["lambdas"], lam["mean_S"], yerr=[lam["mean_S"] - lam["ci_low"], lam["ci_high"] - lam["mean_S"]],
                 fmt="o-", capsize=2, label=r"theorem's $\beta$, varying $\lambda$")
d = table[table["probe"] == "4b"].iloc[0]
axes[0].axhline(d["mean_S"], color="r", ls="--", label=r"defaults $\beta_1=0.9, \beta_2=0.999, \lambda=10^{-8}$")
axes[0].set_xscale("log"); axes[0].set_xlabel(r"$\lambda$"); axes[0].set_ylabel("mean stationarity average S")
axes[0].legend(fontsize=7)
axes[1].semilogy(result.plot["qs"], result.plot["plateaus"], "o-", label="noise-free plateau of $\\|\\nabla\\Phi\\|$")
axes[1].semilogy(result.plot["qs"], result.plot["bounds"], "k--", label="truncation bound")
axes[1].set_xlabel("Neumann terms Q"); axes[1].legend(fontsize=7)
plt.show()

# %%
verdicts = result.verdicts.set_index("subject")["verdict"]
for subject, verdict in verdicts.items():
    print(f"{subject}: {verdict.upper()}")
assert verdicts["4c: Neumann truncation"] == REPRODUCED
assert verdicts["4b: beta ~ eps^2 vs defaults"] == REPRODUCED

# %% [markdown]
# ## 2. Bias correction: the first steps
#
# With $\beta = \beta_{sq} = 10^{-3}$ the uncorrected moments start near zero: $m_1 = \beta h_1$,
# $v_1 = \beta_{sq} h_1^2$, so the first step is about $\eta\,\beta/\sqrt{\beta_{sq}} = 0.03\,\eta$ per
# coordinate instead of $\eta$. We record both forms on the same seeds.

# %%
problem = l1_instance(noise="bounded", sigma=1.0)
lengths = {}
for form in ("corrected", "uncorrected"):
    algo = algorithms.make("adambo", eta=0.01, beta=1e-3, beta_sq=1e-3, lam=1e-8, adam=form)
    rec = record_steps(algo, problem, runs=4, steps=200, seed=5)
    lengths[form] = (rec.x[1:] - rec.x[:-1]).norm(dim=-1).median(dim=1).values.numpy()
steps_table = pd.DataFrame({form: [v[0], v[9], v[99], v[-1]] for form, v in lengths.items()}, index=["t=1", "t=10", "t=100", "t=200"])
steps_table["uncorrected / corrected"] = steps_table["uncorrected"] / steps_table["corrected"]
print(steps_table.to_string())
assert steps_table.loc["t=1", "uncorrected / corrected"] < 0.1

fig, ax = plt.subplots(figsize=(5, 3.2))
for form, v in lengths.items():
    ax.semilogy(np.arange(1, len(v) + 1), v, label=form)
ax.set_xlabel("step t"); ax.set_ylabel(r"median $\|x_{t} - x_{t-1}\|$"); ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## What was observed (CI mode: `--quick` preset, $\epsilon = 1.2$, 8 runs)
#
# * **4a not reproduced**: at a fixed step size, $\lambda = 10^{-8}$ did *not* hurt; the mean stationarity
#   average was the same from $10^{-8}$ to $10^{-2}$ and worse at $\lambda = 1$ (Adam becomes a small
#   SGD step). The $1/\lambda$ polynomial of the theorem comes with the coupling $\eta \le O(\lambda^{1.5}\beta)$;
#   at a fixed $\eta$ nothing in the run needs a large $\lambda$, and the bound is a worst case.
# * **4b reproduced, but it does not test $\beta$ in CI mode**: at $\epsilon = 1.2$ the schedule's
#   $\beta = \Theta(\epsilon^2)$ is capped at 0.1, the default's value too, and its $\beta_{sq}$ is 0.1
#   against the default 0.001. The schedule's lower $S$ (separated CIs) therefore comes from $\beta_{sq}$,
#   not from $\lambda$ (4a shows $\lambda$ alone changes little) nor from $\beta$. The full preset's
#   smaller $\epsilon$ is needed before $\beta$ itself differs.
# * **4c reproduced**: the noise-free plateau falls with $Q$ and stays under the truncation bound plus the
#   step-size floor; at $Q = 30$ the plateau is the floor of the step size, not the truncation.
# * Without bias correction the first step is about 30 times shorter ($\beta/\sqrt{\beta_{sq}} = 0.03$),
#   and the gap closes slowly, over about $1/\beta_{sq} = 1000$ steps (ratio 0.1 at $t = 10$, 0.5 at $t = 200$).
