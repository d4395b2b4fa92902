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
# # 11. Paper against released code: the named departures, one at a time
#
# **Claim checked.** ubo's algorithms follow the papers' algorithm boxes by default: BO-REP (Hao, Gong, Liu,
# ICLR 2024, Algorithm 1), SLIP (Gong, Hao, Liu, ICML 2024), AdamBO (Gong, Hao, Liu, TMLR, with Adam as in
# Li, Rakhlin, Jadbabaie, NeurIPS 2023, Algorithm 1), StocBiO (Ji, Yang, Liang, ICML 2021, with its
# Neumann-series estimator) and AccBO (Gong et al., NeurIPS 2024). The authors' released scripts
# depart from those boxes in several places; ubo offers each departure as a named option, off by default
# (the module docstrings of `algorithms/*.py` list them). The claim of this notebook is ubo's own: **each
# option changes exactly what its docstring says and nothing else**, measured against an identity or a
# closed form, and its effect on a noisy run is shown at equal iterations. The main one:
#
# * the truncated Neumann series $p_Q = \frac1C\sum_{q=0}^{Q-1}(I - A/C)^q\nabla_y f$ has bias
#   $\|p_Q - A^{-1}\nabla_y f\| = \|(I - A/C)^Q A^{-1}\nabla_y f\| \le (1 - \mu/C)^Q\,\|A^{-1}\nabla_y f\|$
#   for $C \ge \ell_{g,1}$ (Ji, Yang, Liang, ICML 2021; notebook 2); the released sum over $q = 1..Q$
#   (`neumann_drop_q0`) converges to $A^{-1}\nabla_y f - \nabla_y f / C$ instead: its bias does not vanish.
#
# Prerequisites: notebooks 2, 4 and 8. Time: 15 minutes.

# %% tags=["parameters"]
import os

mode = os.environ.get("UBO_NOTEBOOK_MODE", "ci")   # "ci": the test suite's size (< 45 s on 2 cores); "full"

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ubo import algorithms
from ubo.synthetic import make_problem
from ubo.theory.recording import record_steps
from ubo.theory.replay import neumann_p

if mode not in ("ci", "full"):
    raise ValueError(f"mode must be 'ci' or 'full', got {mode!r}")
runs = {"ci": 16, "full": 64}[mode]
steps = {"ci": 300, "full": 1500}[mode]
torch.set_num_threads(1)
noisy = make_problem("coupled", dim_x=5, dim_y=5, noise="bounded", sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.1)
quiet = make_problem("coupled", dim_x=5, dim_y=5)
c = quiet.constants
print(noisy.describe())

# %% [markdown]
# ## 1. The departures and their effect at equal iterations
#
# Same problem, same seeds, one option switched on at a time against the paper's default. "calls / step" is
# the oracle calls per outer iteration after the warm start (what the option costs); the last two columns
# are medians over the runs.

# %%
slip = dict(eta=0.05, beta=0.9, gamma=0.1, nu=0.1, warm_start=50)
borep = dict(eta=0.05, beta=0.9, gamma=0.1, nu=0.1, period=2, lower_steps=3)
adambo = dict(eta=0.03, beta=0.1, beta_sq=0.01, lam=1e-3, gamma=0.1, warm_start=50, neumann_terms=10)
accbo = dict(eta=0.05, beta=0.9, gamma=0.1, warm_start=50, neumann_terms=10)
stocbio = dict(alpha=0.01, gamma=0.1, lower_steps=3, neumann_terms=10)
CASES = [  # (method, option label, hyperparameters, what the released code does)
    ("slip", "paper", slip, ""),
    ("slip", "z_radius=inf", {**slip, "z_radius": math.inf}, "no projection of z"),
    ("slip", "z_init='random'", {**slip, "z_init": "random"}, "z_0 random"),
    ("slip", "jacobian='next'", {**slip, "jacobian": "next"}, "y first; Jacobian and grad_y f at y_{t+1}, own sample"),
    ("slip", "lower_accumulate=2", {**slip, "lower_accumulate": 2}, "2 extra lower steps, gradients summed (no zero_grad)"),
    ("slip", "task_batch=4", {**slip, "task_batch": 4}, "x steps once per 4 'tasks'"),
    ("borep", "paper", borep, ""),
    ("borep", "jacobian_new_z=True", {**borep, "jacobian_new_z": True}, "Jacobian at z_{k+1}, own sample"),
    ("borep", "lower_accumulate=True", {**borep, "lower_accumulate": True}, "refresh gradients summed"),
    ("adambo", "paper", adambo, ""),
    ("adambo", "adam='torch'", {**adambo, "adam": "torch", "weight_decay": 0.01}, "torch.optim.Adam, weight decay 0.01"),
    ("adambo", "neumann_drop_q0=True", {**adambo, "neumann_drop_q0": True}, "Neumann sum over q = 1..Q"),
    ("stocbio", "paper", stocbio, ""),
    ("stocbio", "neumann_drop_q0=True", {**stocbio, "neumann_drop_q0": True}, "Neumann sum over q = 1..Q"),
    ("accbo", "paper", accbo, ""),
    ("accbo", "momentum='released'", {**accbo, "momentum": "released"}, "'STORM' with the previous estimate"),
]


def calls_per_step(trace) -> float:
    calls = trace.series["oracle_calls"][:, 0].numpy()
    return float((calls[-1] - calls[1]) / (trace.step[-1] - trace.step[1]).item())


rows = []
for name, label, hyper, released in CASES:
    trace = algorithms.run(algorithms.make(name, **hyper), noisy, runs=runs, steps=steps, seed=0,
                           record_every=steps // 10, every_step_summary=True, progress=False)
    rows.append({"method": name, "option": label, "released code": released, "calls / step": calls_per_step(trace),
                 "final ||grad Phi||": float(trace.final("grad_phi_norm").median()),
                 "max_t ||y - y*||": float(trace.summary["max_y_error"].median())})
effects = pd.DataFrame(rows)
paper = effects[effects["option"] == "paper"].set_index("method")
effects["final / paper's"] = effects["final ||grad Phi||"] / effects["method"].map(paper["final ||grad Phi||"])
print(effects.to_string(index=False, float_format="%.4g"))

# %%
changed = effects[effects["option"] != "paper"]
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.barh(changed["method"] + ": " + changed["option"], changed["final / paper's"], color="C0")
ax.axvline(1.0, color="k", lw=0.8)
ax.set_xscale("log"); ax.set_xlabel("median final ||grad Phi||, relative to the paper's default (same seeds)")
ax.invert_yaxis(); plt.tight_layout(); plt.show()

# %% [markdown]
# ## 2. The Neumann off-by-one against its closed form
#
# At a point $(x, y^*(x))$ of the noise-free problem, $p_Q$ of both sums (exact Hessian, `replay.neumann_p`)
# against $z^* = A^{-1}\nabla_y f$, beside the paper's bound $(1 - \mu/C)^Q\|z^*\|$ and the released sum's
# limit $\|\nabla_y f\|/C$.

# %%
C = c.l_g1
x = quiet.x0[None] + 0.3
y = quiet.y_star(x)
_, gy = quiet.grad_f(x, y)
z_star = torch.linalg.solve(quiet.hessian_yy(x, y), gy.unsqueeze(-1)).squeeze(-1)
Qs = [1, 2, 5, 10, 20, 40, 80, 160]
neumann = pd.DataFrame({
    "Q": Qs,
    "paper error": [float((neumann_p(quiet, x, y, gy, C, q) - z_star).norm()) for q in Qs],
    "paper bound": [(1 - c.mu / C) ** q * float(z_star.norm()) for q in Qs],
    "released error": [float((neumann_p(quiet, x, y, gy, C, q, drop_q0=True) - z_star).norm()) for q in Qs]})
limit = float(gy.norm()) / C
print(neumann.to_string(index=False, float_format="%.3e"), f"\nreleased limit ||grad_y f|| / C = {limit:.4e}")

fig, ax = plt.subplots(figsize=(5, 3.4))
ax.semilogy(neumann["Q"], neumann["paper error"], "o-", label="paper: q = 0..Q-1")
ax.semilogy(neumann["Q"], neumann["paper bound"], "k--", label=r"$(1-\mu/C)^Q\|z^*\|$")
ax.semilogy(neumann["Q"], neumann["released error"], "s-", label="released: q = 1..Q")
ax.axhline(limit, color="C1", ls=":", label=r"$\|\nabla_y f\|/C$")
ax.set_xlabel("Q"); ax.set_ylabel(r"$\|p_Q - z^*\|$"); ax.legend(fontsize=7); plt.show()

# %%
def within_truncation_bound(errors, bound) -> None:
    worst = np.max(np.asarray(errors) / np.asarray(bound))
    assert worst <= 1 + 1e-9, f"error / bound reaches {worst:.3g}"


within_truncation_bound(neumann["paper error"], neumann["paper bound"])
assert abs(neumann["released error"].iloc[-1] - limit) < 1e-6 * max(limit, 1.0)   # the released limit, as derived
try:  # planted: the released sum against the paper's bound
    within_truncation_bound(neumann["released error"], neumann["paper bound"])
    raise RuntimeError("the released sum passed the paper's truncation bound")
except AssertionError as err:
    print("released sum fails the paper's bound, as it should:", err)

# %% [markdown]
# ## 3. What the other options must and must not change
#
# Each check compares two runs on the same seeds; each is an identity (up to round-off) that holds when the
# option does only what its docstring says. Each is shown failing on a run where it must fail.
#
# * **`z_radius=inf`**: the projection on $\|z\| \le \ell_{f,0}/\mu$ is the only difference, so while no
#   $z_t$ reaches the radius the two runs are identical.
# * **AccBO `momentum='released'`**: $m_t = \beta m_{t-1} + (1-\beta)h_t + \beta(h_t - h_{t-1})$ with
#   $m_{-1} = h_{-1} = 0$ gives $m_t = h_t$ by induction: the released "STORM" is normalized SGD.
# * **`adam='torch'`**: `torch.optim.Adam` is the bias-corrected Adam of Li et al. plus coupled weight decay,
#   so with `weight_decay=0` it must equal `adam='corrected'`.
# * **SLIP `task_batch=K`**: $K$ times the oracle calls of one outer step.

# %%
def same_path(a, b, what: str) -> None:
    gap = float((a.x - b.x).abs().max())
    assert gap <= 1e-12, f"{what}: the paths differ by {gap:.3g}"


rec = {}
for key, name, hyper in [("slip", "slip", slip), ("slip inf", "slip", {**slip, "z_radius": math.inf}),
                         ("slip R=0.05", "slip", {**slip, "z_radius": 0.05}),
                         ("adam corrected", "adambo", adambo), ("adam torch wd 0", "adambo", {**adambo, "adam": "torch"}),
                         ("adam torch wd 0.01", "adambo", {**adambo, "adam": "torch", "weight_decay": 0.01}),
                         ("accbo released", "accbo", {**accbo, "momentum": "released"}), ("accbo storm", "accbo", accbo)]:
    rec[key] = record_steps(algorithms.make(name, **hyper), noisy, runs=4, steps=100, seed=3)

R = c.l_f0 / c.mu
print(f"max_t ||z_t|| = {float(rec['slip'].z.norm(dim=-1).max()):.3g} against the radius l_f0 / mu = {R:.3g}")
same_path(rec["slip"], rec["slip inf"], "z_radius=inf")
same_path(rec["adam corrected"], rec["adam torch wd 0"], "adam='torch', weight_decay=0")
released_gap = float((rec["accbo released"].m[1:] - rec["accbo released"].h[1:]).norm(dim=-1).max())
assert released_gap <= 1e-12, released_gap
storm_gap = float((rec["accbo storm"].m[2:] - rec["accbo storm"].h[2:]).norm(dim=-1).max())
print(f"AccBO max_t ||m_t - h_t||: released {released_gap:.2e}, STORM {storm_gap:.3g}")
slip_calls = effects.set_index(["method", "option"])["calls / step"]
assert slip_calls[("slip", "task_batch=4")] == 4 * slip_calls[("slip", "paper")]

for a, b, what in [("slip", "slip R=0.05", "a radius that binds (planted)"),
                   ("adam corrected", "adam torch wd 0.01", "weight_decay=0.01 (planted)")]:
    try:
        same_path(rec[a], rec[b], what)
        raise RuntimeError(f"{what}: identical paths")
    except AssertionError as err:
        print("fails where it must:", err)
assert storm_gap > 1e-3  # the same identity fails for AccBO's STORM momentum

# %% [markdown]
# ## What was observed (CI mode: 16 runs, 300 steps, `coupled` with $d_x = d_y = 5$)
#
# * The paper's Neumann sum stayed under its truncation bound at every $Q$ and its error fell to round-off
#   by $Q = 160$ (1.7e-7); the released sum's error fell to $\|\nabla_y f\|/C = 0.367$ and stopped there, as
#   derived, above the paper's error at every $Q$. **The paper's bound fails for the released sum** (the
#   planted check above), so a released-code run is not covered by the truncation lemma. In a run the
#   difference shows for StocBiO ($Q = 10$): the released sum doubled its median final $\|\nabla\Phi\|$
#   (0.28 against 0.14); for AdamBO at the same $Q$ it changed it by under 1%.
# * Identities held: `z_radius=inf` left SLIP's path unchanged here (the projection never bound:
#   $\max_t\|z_t\| = 2.8$ against $\ell_{f,0}/\mu = 4.5$); `adam='torch'` without weight decay is the
#   bias-corrected Adam; AccBO's released momentum is exactly $m_t = h_t$ (to 6e-15), i.e. normalized SGD
#   without variance reduction, which here did as well as STORM at half the calls per step (0.37 against 0.41).
#   Each check failed on its planted contrast (a binding radius; weight decay 0.01; STORM).
# * At equal *iterations* (not equal calls), the options that spend more lower-level work per step lowered
#   SLIP's final gradient norm: `task_batch=4` to 0.32 of the paper's at exactly 4 times the calls per
#   step, `lower_accumulate=2` to 0.73 at 1.5 times, with a smaller worst $y$ error (0.56 against 1.58: at
#   $\eta = 0.05$ one SGD step per iteration lets $y$ lag). `jacobian='next'` made SLIP *worse* (1.44 times
#   the paper's final gradient norm) at the same count of calls; BO-REP's `jacobian_new_z` made it better
#   (0.53 times). A random $z_0$ was forgotten within the horizon (ratio 1.000). None of these is a bug fix;
#   each makes a run comparable with a released script, and none is covered by the paper's analysis as stated.
#
# Next: notebook 12, property tests and validating your own algorithm.
