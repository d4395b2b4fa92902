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
# # (L0, L1)-smoothness: certificates, frontiers and functions that have none
#
# A twice-differentiable f is **(L0, L1)-smooth** (Zhang, He, Sra, Jadbabaie 2020) when
#
# $$\|\nabla^2 f(x)\| \le L_0 + L_1 \|\nabla f(x)\| \quad \text{for every } x.$$
#
# The pair is not unique: the valid pairs form a trade-off curve, the **frontier**
# $L_0^*(L_1) = \sup_x \big(\|\nabla^2 f(x)\| - L_1\|\nabla f(x)\|\big)$.
# Sampling only gives a *lower* bound on the sup, so a certificate must come from a derivation;
# sampling can refute a certificate, never prove it.
#
# This notebook (1) checks each certified pair of `synthetic.zoo` against an adversarial search,
# (2) shows the exact frontier of $\|x\|^4$, and (3) shows that the negative controls have no pair.

# %% tags=["parameters"]
samples = 2000      # random points per search
L1_grid = [0.5, 1.0, 2.0, 4.0]

# %%

import matplotlib.pyplot as plt
import torch

from ubo.synthetic.zoo import frontier_growth, list_functions, make_function, search_frontier

torch.set_num_threads(1)
for name, summary in list_functions().items():
    print(f"{name:12s} {summary}")

# %% [markdown]
# ## 1. Certified pairs survive an adversarial search
#
# For each certified function, the searched gap $\max(h - L_1 g)$ at the certified $L_1$ must not
# exceed the certified $L_0$. A violation would be a wrong derivation.

# %%
rows = []
for name in ("cosh", "power", "double_well", "radial_cosh", "logistic", "logsumexp"):
    fn = make_function(name)
    L0, L1 = fn.certified
    found = search_frontier(fn, L1, scale=3.0, samples=samples)
    rows.append((name, L0, L1, found))
    print(f"{name:12s} certified (L0, L1) = ({L0:.4g}, {L1:.4g})   searched max(h - L1 g) = {found:.4g}")
    assert found <= L0 * (1 + 1e-9) + 1e-12, f"{name}: certificate violated"

# %% [markdown]
# ## 2. The exact frontier of ||x||^4
#
# For $\|x\|^4$: $\|\nabla^2\| = 12 r^2$, $\|\nabla\| = 4 r^3$, and $\max_r (12 r^2 - 4 L_1 r^3)$ is
# attained at $r = 2/L_1$, so $L_0^*(L_1) = 16/L_1^2$ exactly. The search should meet it.

# %%
quartic = make_function("power", p=4, dim=1)
searched = [search_frontier(quartic, L1, scale=10.0, samples=samples) for L1 in L1_grid]
exact = [16 / L1**2 for L1 in L1_grid]
for L1, s, e in zip(L1_grid, searched, exact):
    print(f"L1 = {L1:4}: searched {s:.6g}   exact 16/L1^2 = {e:.6g}")
    assert abs(s - e) <= 1e-6 * e

x = torch.linspace(-4, 4, 2001, dtype=torch.float64).reshape(-1, 1)
h, g = quartic.norms(x)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(g, h, s=2, label=r"$(\|\nabla f\|, \|\nabla^2 f\|)$ on a grid")
for L1 in (1.0, 2.0):
    gg = torch.linspace(0, float(g.max()), 100)
    ax.plot(gg, 16 / L1**2 + L1 * gg, label=f"certificate L1={L1}, L0=16/L1^2")
ax.set_xlabel("gradient norm"); ax.set_ylabel("Hessian norm"); ax.set_ylim(0, 200); ax.set_xlim(0, 200)
ax.legend(fontsize=7); ax.set_title(r"$\|x\|^4$: every point lies under each frontier line")
plt.show()

# %% [markdown]
# ## 3. Negative controls: the frontier grows without bound
#
# $x^2y^2$ has zero gradient on the axis $x = 0$ while $\|\nabla^2\| = 2y^2$, so no $(L_0, L_1)$
# works; $e^{t^2}$ grows faster than any exponential. The searched frontier at a fixed $L_1$ keeps
# growing with the sampling box, whereas a certified function's stays put.

# %%
scales = [1.0, 2.0, 4.0, 8.0]
for name in ("x2y2", "exp_square", "cosh"):
    fn = make_function(name)
    growth = frontier_growth(fn, 1.0, scales if name != "exp_square" else [1.0, 1.5, 2.0, 2.5], samples=samples)
    print(f"{name:12s}", " ".join(f"{v:10.4g}" for v in growth))
    if fn.negative_control:
        assert all(b > 1.5 * a for a, b in zip(growth, growth[1:])), f"{name} should grow without bound"
    else:
        assert max(growth) <= fn.certified[0] * (1 + 1e-9)

# %% [markdown]
# The cosh landscape's frontier stays at its certified $L_0$ whatever the box, while the negative
# controls' grows geometrically: no finite $L_0$ exists at $L_1 = 1$ (and the same holds at any $L_1$).
