"""Hypothesis strategies for valid synthetic problems, points and zoo functions.

    problems(names=...)        small registered problems with drawn knobs (dims 1..max_dim, mu,
                               L_g >= mu, L0, L1, noise law and sigmas)
    points(problem, runs)      (x, y): (R, dim_x), (R, dim_y) float64 with bounded coordinates
    functions(names=...)       zoo functions with drawn parameters
    vectors(dim, runs, bound)  (R, dim) float64 tensors with coordinates in [-bound, bound]

Coordinates are bounded so that cosh(L1 t) stays far below overflow (|L1 t| <= 8 by default).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ubo.synthetic.noise import LAWS
from ubo.synthetic.registry import make_problem
from ubo.synthetic.zoo import make_function

FAMILIES = ("coupled", "decoupled", "quadratic", "curvature")
POSITIVE_FUNCTIONS = ("cosh", "power", "double_well", "radial_cosh", "logistic", "logsumexp")


def vectors(dim: int, runs: int = 1, bound: float = 3.0) -> st.SearchStrategy:
    """(runs, dim) float64 tensors with finite coordinates in [-bound, bound]."""
    elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    return arrays(np.float64, (runs, dim), elements=elements).map(torch.from_numpy)


def _noise(draw) -> dict:
    law = draw(st.sampled_from(LAWS))
    if law == "none":
        return {"noise": "none"}
    sigma = st.floats(0.0, 2.0)
    return {"noise": law, "sigma_f": draw(sigma), "sigma_g1": draw(sigma), "sigma_g2": draw(sigma),
            "nu": draw(st.floats(2.5, 10.0))}


@st.composite
def problems(draw, names=FAMILIES, max_dim: int = 6, noise: bool = True):
    """A small valid problem of one of ``names`` with drawn dimensions, curvature and noise knobs."""
    name = draw(st.sampled_from(tuple(names)))
    dim_x = draw(st.integers(1, max_dim))
    dim_y = draw(st.integers(1, max_dim))
    params = {"dim_x": dim_x, "dim_y": dim_y, "instance_seed": draw(st.integers(0, 2**16))}
    if noise:
        params.update(_noise(draw))
    if name in ("coupled", "decoupled"):
        mu = draw(st.floats(0.1, 2.0))
        params.update(mu=mu, L_g=mu * draw(st.floats(1.0, 20.0)), L0=draw(st.floats(0.1, 3.0)),
                      L1=draw(st.floats(0.0, 2.0)), alpha=draw(st.floats(0.0, 1.0)), omega=draw(st.floats(0.0, 3.0)),
                      c=draw(st.floats(0.0, 2.0)), cross=draw(st.floats(0.0, 2.0)),
                      rotate=draw(st.booleans()))
        if name == "coupled":
            params["coupling"] = draw(st.floats(0.0, 1.5))
    elif name == "quadratic":
        mu = draw(st.floats(0.05, 1.0))
        f_mu = draw(st.floats(0.05, 1.0))
        params.update(n=draw(st.integers(dim_x + dim_y, 48)), batch_size=draw(st.integers(1, 8)), mu=mu,
                      L_g=mu * draw(st.floats(1.0, 20.0)), ridge=draw(st.floats(0.1, 0.9)),
                      cross=draw(st.floats(0.0, 2.0)), f_mu=f_mu, L_f=f_mu * draw(st.floats(1.0, 20.0)),
                      offset=draw(st.floats(-2.0, 2.0)))
    else:  # curvature
        params.update(n=draw(st.integers(1, 40)), n_val=draw(st.integers(1, 40)),
                      batch_size=draw(st.integers(1, 8)),
                      mu0=draw(st.floats(0.05, 1.0)), lam=draw(st.floats(0.0, 3.0)),
                      w_norm=draw(st.floats(0.0, 2.0)), L0=draw(st.floats(0.1, 3.0)), L1=draw(st.floats(0.0, 2.0)),
                      alpha=draw(st.floats(0.0, 1.0)), omega=draw(st.floats(0.0, 3.0)), rotate=draw(st.booleans()))
    return make_problem(name, **params)


def _bound(problem, default: float) -> float:
    """Coordinate bound keeping |L1 t| <= 8 for the families with a cosh landscape."""
    landscape = getattr(problem, "U", None)
    L1 = getattr(landscape, "L1", 0.0)
    return min(default, 8.0 / (L1 * problem.dim_x ** 0.5)) if L1 > 0 else default


@st.composite
def points(draw, problem, runs: int = 1, bound: float = 3.0):
    """(x, y) batches for ``problem``: (runs, dim_x), (runs, dim_y), coordinates bounded."""
    x = draw(vectors(problem.dim_x, runs, _bound(problem, bound)))
    y = draw(vectors(problem.dim_y, runs, bound))
    return x.to(problem.device), y.to(problem.device)


@st.composite
def functions(draw, names=POSITIVE_FUNCTIONS, max_dim: int = 5):
    """A zoo function of one of ``names`` with drawn dimension and constants."""
    name = draw(st.sampled_from(tuple(names)))
    dim = draw(st.integers(1, max_dim))
    if name == "cosh":
        return make_function(name, dim=dim, L0=draw(st.floats(0.1, 3.0)), L1=draw(st.floats(0.0, 3.0)),
                             alpha=draw(st.floats(0.0, 1.0)), omega=draw(st.floats(0.0, 3.0)),
                             rotate=draw(st.booleans()), instance_seed=draw(st.integers(0, 100)))
    if name == "power":
        return make_function(name, dim=dim, p=draw(st.sampled_from((2, 4, 6))), L1=draw(st.floats(0.2, 4.0)))
    if name == "double_well":
        return make_function(name, dim=dim, L1=draw(st.floats(0.2, 5.0)))
    if name == "radial_cosh":
        return make_function(name, dim=dim, a=draw(st.floats(0.1, 3.0)), b=draw(st.floats(0.1, 3.0)))
    if name == "x2y2":
        return make_function(name)
    return make_function(name, dim=dim)
