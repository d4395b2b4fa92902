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
# # 5. Lower-level tracking: SLIP's drift view and BO-REP's periodic sawtooth
#
# **Claims checked.** The upper iterate moves, so the lower level chases a moving target $y^*(x_t)$,
# which moves by at most $\|J\|\eta$ per normalized step ($y^*$ is Lipschitz: Ghadimi and Wang,
# arXiv:1802.02246, Lemma 2.2). With one SGD step of size $\gamma \le 1/\ell_{g,1}$ per iteration (SLIP,
# Gong, Hao, Liu, ICML 2024; the drift argument of Cutler, Drusvyatskiy, Harchaoui, JMLR 2023;
# derived in docs/theory.md §3), with drift $D = \|J\|\eta$:
#
# * in mean square: $\mathbb E\|y_t - y^*_t\|^2 \le (1-\gamma\mu)^t e_0 + 2\gamma\sigma^2/\mu + 2D^2/(\gamma\mu)^2$;
# * almost surely, under noise bounded by $\sigma$:
#   $\|y_t - y^*_t\| \le (1-\gamma\mu)^t\|y_0 - y^*_0\| + \sigma/\mu + D/(\gamma\mu)$.
#
# BO-REP (Hao, Gong, Liu, ICLR 2024) instead refreshes $y$ with $N$ SGD steps every $I$ iterations and
# leaves it alone in between: the error grows by at most $D$ per step and is contracted at each
# refresh, a **sawtooth** whose envelope `periodic_tracking_bound` computes (docs/theory.md §3).
#
# Prerequisites: notebooks 2 and 4. Time: 15 minutes.

# %% tags=["parameters"]
import os

mode = os.environ.get("UBO_NOTEBOOK_MODE", "ci")   # "ci": the test suite's size (< 60 s on 2 cores); "full"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ubo import algorithms
from ubo.theory.bounds import tracking_ceiling
from ubo.theory.claims.instances import l1_instance
from ubo.theory.probes import tracking_ceilings

if mode not in ("ci", "full"):
    raise ValueError(f"mode must be 'ci' or 'full', got {mode!r}")
runs = {"ci": 64, "full": 1024}[mode]
steps = {"ci": 400, "full": 3000}[mode]
torch.set_num_threads(1)
sigma = 0.2
problem = l1_instance(noise="bounded", sigma=sigma)     # noise uniform on the sphere of radius sigma: bounded a.s.
c = problem.constants
print(problem.describe(), f"\ny* is {problem.drift_lipschitz:.3g}-Lipschitz")

# %% [markdown]
# ## 1. SLIP under its mean-square bound and its almost-sure ceiling

# %%
eta = 0.05
configs = {"SLIP": ("slip", {"eta": eta, "gamma": 0.05}),
           "BO-REP I=5": ("borep", {"eta": eta, "gamma": 0.1, "period": 5, "lower_steps": 5}),
           "BO-REP I=20": ("borep", {"eta": eta, "gamma": 0.1, "period": 20, "lower_steps": 5})}
results, rows = {}, []
for label, (name, hyper) in configs.items():
    trace = algorithms.run(algorithms.make(name, **hyper), problem, runs=runs, steps=steps, seed=4,
                           record_every=1, progress=False)
    bounds = tracking_ceilings(trace, problem)                 # per (step, run) ceiling and the mean-square bound
    err = trace.series["y_error"].numpy()                      # (steps + 1, runs)
    results[label] = (trace.step.numpy(), err, bounds)
    rows.append({"method": label, "max_t>=1 error / a.s. ceiling": float((err[1:] / bounds["ceiling"][1:]).max()),
                 "max_t>=1 mean sq. error / bound": float(((err[1:] ** 2).mean(axis=1) / bounds["mean_sq"][1:]).max()),
                 "max_t error": float(err.max()), "sup of the ceiling": float(bounds["sup"].max())})
tracking = pd.DataFrame(rows).set_index("method")
print(tracking.to_string())
assert (tracking["max_t>=1 error / a.s. ceiling"] <= 1 + 1e-9).all()
assert (tracking["max_t>=1 mean sq. error / bound"] <= 1 + 1e-9).all()

# %% [markdown]
# The check can fail: a ceiling that forgets the drift term $D/(\gamma\mu)$ (what a fixed-$x$ analysis
# of SGD would give) is crossed by SLIP's error, which settles at a lag set by the drift.

# %%
t, err, _ = results["SLIP"]
no_drift = tracking_ceiling(t[:, None], err[0][None, :], 0.05, c.mu, sigma, 0.0)
crossed = float((err > no_drift).mean())
print(f"fraction of (step, run) above the drift-free ceiling: {crossed:.2f}")
assert crossed > 0.1

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
t, err, bounds = results["SLIP"]
axes[0].fill_between(t, np.quantile(err, 0.05, axis=1), np.quantile(err, 0.95, axis=1), alpha=0.3, label="5-95% of runs")
axes[0].plot(t, err.max(axis=1), lw=0.8, label="max over runs")
axes[0].plot(t, np.sqrt(bounds["mean_sq"]), "g:", label="root of the mean-square bound")
axes[0].plot(t, bounds["ceiling"].max(axis=1), "k--", label="a.s. ceiling")
axes[0].plot(t, no_drift.max(axis=1), "r-.", lw=0.8, label="ceiling without drift (wrong)")
axes[0].set_yscale("log"); axes[0].set_title("SLIP: one SGD step per iteration", fontsize=9)
for label in ("BO-REP I=5", "BO-REP I=20"):
    t, err, bounds = results[label]
    line, = axes[1].plot(t, err.max(axis=1), lw=0.8, label=f"{label}: max over runs")
    axes[1].plot(t, bounds["ceiling"].max(axis=1), "--", color=line.get_color(), lw=0.8, label=f"{label}: a.s. envelope")
axes[1].set_xlim(0, min(200, steps)); axes[1].set_title("BO-REP: periodic refresh (first 200 steps)", fontsize=9)
for ax in axes:
    ax.set_xlabel("iteration t"); ax.set_ylabel(r"$\|y_t - y^*(x_t)\|$"); ax.legend(fontsize=6)
plt.show()

# %% [markdown]
# ## What was observed (CI mode; the full mode prints its own table above)
#
# * SLIP's lower-level error stayed under the almost-sure ceiling on every run and step, and its mean
#   square under the expectation bound; the table's first two columns give the slack. The ceiling
#   adds the noise and drift terms at full size on every step, so it is loose.
# * A ceiling without the drift term is crossed: the lag behind the moving $y^*$ is real, and it is why
#   SLIP's analysis ties $\eta$ to $\gamma$ ($\eta = \Theta(\epsilon^3)$, $\gamma = \Theta(\epsilon^2)$).
# * BO-REP's error is a sawtooth: it rises by up to $\|J\|\eta$ per step between refreshes and drops at
#   each refresh; a longer period $I$ gives a higher envelope. Both stayed under the envelope.
#   No claim of this notebook failed.
