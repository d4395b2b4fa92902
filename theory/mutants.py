"""A catalogue of realistic planted bugs, applied as named wrappers (never by editing the source).

Each ``Mutant`` wraps the algorithms it ``targets`` (a subclass of the method overriding ``step`` or
``init``, or an oracle proxy handed to the unchanged ``step``) or the problem (an oracle-noise or a
constants bug), so it survives changes to the algorithm files. ``ubo validate --mutants`` runs every
mutant through the quick job on its target methods and prints the detection matrix (mutant x the rows
that caught it); tests/theory/test_mutants.py asserts that every mutant is caught while the correct code
passes every judged row.

    category     mutants
    estimator    jacobian_dropped, jacobian_flipped, z_sign, neumann_unscaled, neumann_drop_q0
    update rule  momentum_convention, step_along_h, adam_no_sqrt, adam_convention, upper_frozen
    lower level  lower_frozen, lower_at_x0, refresh_discarded, stale_lower
    oracle       noise_biased, noise_doubled
    constants    L0_halved, L1_halved, L1_zero, mu_doubled, sigma_halved
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch

from ubo.algorithms.state import State
from ubo.synthetic.oracle import Oracle


# ---- proxies -----------------------------------------------------------------------------
class OracleProxy:
    """The oracle an algorithm sees, with some calls replaced; counts and noise stay the real oracle's."""

    def __init__(self, oracle, **overrides: Callable):
        self._oracle = oracle
        for name, fn in overrides.items():
            setattr(self, name, fn)

    def __getattr__(self, name):
        return getattr(self._oracle, name)


class ProblemProxy:
    """A problem with its constants or its stochastic realisations replaced (everything else delegated)."""

    def __init__(self, problem, constants=None, noise_map: Callable | None = None):
        self._problem = problem
        self.constants = problem.constants if constants is None else constants
        self._noise_map = noise_map

    def __getattr__(self, name):
        return getattr(self._problem, name)

    def oracle(self, runs: int = 1, seed: int = 0, run_ids=None):
        return Oracle(self, runs=runs, seed=seed, run_ids=run_ids)

    def _map(self, sample, exact):
        return exact + self._noise_map(sample - exact) if self._noise_map is not None else sample

    def sample_grad_f(self, x, y, draw):
        gx, gy = self._problem.sample_grad_f(x, y, draw)
        ex, ey = self._problem.grad_f(x, y)
        return self._map(gx, ex), self._map(gy, ey)

    def sample_grad_g(self, x, y, draw):
        return self._map(self._problem.sample_grad_g(x, y, draw), self._problem.grad_y_g(x, y))

    def sample_hvp(self, x, y, v, draw):
        return self._map(self._problem.sample_hvp(x, y, v, draw), self._problem.hvp_yy(x, y, v))

    def sample_jvp(self, x, y, v, draw):
        return self._map(self._problem.sample_jvp(x, y, v, draw), self._problem.jvp_xy(x, y, v))

    def sample_hvp_jvp(self, x, y, v, draw):
        hv, jv = self._problem.sample_hvp_jvp(x, y, v, draw)
        return self._map(hv, self._problem.hvp_yy(x, y, v)), self._map(jv, self._problem.jvp_xy(x, y, v))


def _subclass(algo, label: str, step=None, init=None):
    """An instance of a one-off subclass of type(algo) (same hyperparameters, same ``name``)."""
    body = {}
    if step is not None:
        body["step"] = step
    if init is not None:
        body["init"] = init
    cls = dataclass(frozen=True)(type(f"{type(algo).__name__}_{label}", (type(algo),), body))
    return cls(**algo.hyper())


def _with_oracle(algo, label: str, proxy: Callable):
    """Mutant whose ``step`` calls the parent's step with ``proxy(oracle, state)``."""
    parent = type(algo)

    def step(self, oracle, s):
        return parent.step(self, proxy(oracle, s), s)

    return _subclass(algo, label, step=step)


def _after_step(algo, label: str, fix: Callable):
    """Mutant whose ``step`` post-processes the parent's new state: fix(self, old, new) -> State."""
    parent = type(algo)

    def step(self, oracle, s):
        return fix(self, s, parent.step(self, oracle, s))

    return _subclass(algo, label, step=step)


# ---- the bugs ------------------------------------------------------------------------------
def _jacobian(scale: float):
    def proxy(oracle, s):
        def hvp_jvp(x, y, v):
            hv, jv = oracle.hvp_jvp(x, y, v)
            return hv, scale * jv
        return OracleProxy(oracle, hvp_jvp=hvp_jvp, jvp=lambda x, y, v: scale * oracle.jvp(x, y, v))
    return proxy


def _z_sign(oracle, s):
    """grad_y f enters the z update with the wrong sign: z -> -z*."""
    def grad_f(x, y):
        gx, gy = oracle.grad_f(x, y)
        return gx, -gy
    return OracleProxy(oracle, grad_f=grad_f)


def _neumann_unscaled_for(algo):
    C = algo.hyper()["neumann_scale"]

    def proxy(oracle, s):  # v_0 = grad_y f instead of grad_y f / C: p is C times too large
        def grad_f(x, y):
            gx, gy = oracle.grad_f(x, y)
            return gx, C * gy
        return OracleProxy(oracle, grad_f=grad_f)
    return _with_oracle(algo, "neumann_unscaled", proxy)


def _stale(oracle, s):
    """BO-REP's upper-level oracles at the pre-refresh y_k (the refresh still runs on grad_g)."""
    return OracleProxy(oracle, grad_f=lambda x, y: oracle.grad_f(x, s.y),
                       hvp_jvp=lambda x, y, v: oracle.hvp_jvp(x, s.y, v),
                       jvp=lambda x, y, v: oracle.jvp(x, s.y, v))


def _lower_frozen(oracle, s):
    return OracleProxy(oracle, grad_g=lambda x, y: 0.0 * oracle.grad_g(x, y))


def _lower_at_x0(algo):
    """The lower level keeps minimising g(x_0, .): grad_g at the initial x."""
    parent = type(algo)

    def init(self, oracle, x0, y0):
        state = parent.init(self, oracle, x0, y0)
        return dataclasses.replace(state, aux={**state.aux, "_x0": x0})

    def step(self, oracle, s):
        x0 = s.aux["_x0"]
        proxy = OracleProxy(oracle, grad_g=lambda x, y: oracle.grad_g(x0, y))
        new = parent.step(self, proxy, dataclasses.replace(s, aux={k: v for k, v in s.aux.items() if k != "_x0"}))
        return dataclasses.replace(new, aux={**new.aux, "_x0": x0})

    return _subclass(algo, "lower_at_x0", step=step, init=init)


def _drop_q0(algo):
    released = dataclasses.replace(algo, neumann_drop_q0=True)
    parent = type(algo)
    return _subclass(algo, "drop_q0", step=lambda self, oracle, s: parent.step(released, oracle, s))


def _step_along_h(self, old, new):
    return dataclasses.replace(new, x=old.x - self.eta * new.h / new.h.norm(dim=1, keepdim=True).clamp_min(1e-300))


def _adam_no_sqrt(self, old, new):
    return dataclasses.replace(new, x=old.x - self.eta * new.m / (new.aux["v"] + self.lam))


def _swap_beta(algo, label: str):
    """The other momentum convention (m <- (1-beta) m + beta h for BO-REP/SLIP) behind the same declared beta."""
    swapped = dataclasses.replace(algo, beta=1.0 - algo.hyper()["beta"])
    parent = type(algo)
    return _subclass(algo, label, step=lambda self, oracle, s: parent.step(swapped, oracle, s))


def _constants(**scale):
    def wrap(problem):
        c = problem.constants
        changes = {k: getattr(c, k) * f for k, f in scale.items() if getattr(c, k) is not None}
        return ProblemProxy(problem, constants=dataclasses.replace(c, **changes))
    return wrap


@dataclass(frozen=True)
class Mutant:
    name: str
    category: str
    targets: tuple
    description: str
    algorithm: Callable | None = None       # algo -> mutated algo
    problem: Callable | None = None         # problem -> mutated problem

    def wrap_algorithm(self, algo):
        return self.algorithm(algo) if self.algorithm is not None else algo

    def wrap_problem(self, problem):
        return self.problem(problem) if self.problem is not None else problem


CATALOGUE = (
    Mutant("jacobian_dropped", "estimator", ("borep", "slip"), "h = grad_x F (the Jacobian term dropped)",
           algorithm=lambda a: _with_oracle(a, "jacobian_dropped", _jacobian(0.0))),
    Mutant("jacobian_flipped", "estimator", ("borep", "slip"), "h = grad_x F + grad2_xy G z (sign of the Jacobian term)",
           algorithm=lambda a: _with_oracle(a, "jacobian_flipped", _jacobian(-1.0))),
    Mutant("z_sign", "estimator", ("borep", "slip", "soba"), "z <- z - nu (H z + grad_y F): z tracks -z*",
           algorithm=lambda a: _with_oracle(a, "z_sign", _z_sign)),
    Mutant("neumann_unscaled", "estimator", ("adambo",), "Neumann series without the 1/C scaling (p is C x too large)",
           algorithm=_neumann_unscaled_for),
    Mutant("neumann_drop_q0", "estimator", ("adambo",), "the released code's Neumann off-by-one (q = 0 dropped) at "
           "the job's Q, undeclared (hyperparameters still say neumann_drop_q0=False)", algorithm=lambda a: _drop_q0(a)),
    Mutant("momentum_convention", "update rule", ("borep", "slip"), "m <- (1 - beta) m + beta h (beta weighs the "
           "new estimate)", algorithm=lambda a: _swap_beta(a, "momentum_convention")),
    Mutant("step_along_h", "update rule", ("borep", "slip"), "x <- x - eta h / ||h|| (momentum computed, unused)",
           algorithm=lambda a: _after_step(a, "step_along_h", _step_along_h)),
    Mutant("adam_no_sqrt", "update rule", ("adambo",), "x <- x - eta m / (v + lam) (no square root)",
           algorithm=lambda a: _after_step(a, "adam_no_sqrt", _adam_no_sqrt)),
    Mutant("adam_convention", "update rule", ("adambo",), "m <- beta m + (1 - beta) h in Adam (beta1 and 1 - beta1 "
           "swapped)", algorithm=lambda a: _swap_beta(a, "adam_convention")),
    Mutant("upper_frozen", "update rule", ("soba",), "x never moves (a method that does not move must give rows)",
           algorithm=lambda a: _after_step(a, "upper_frozen", lambda self, old, new: dataclasses.replace(new, x=old.x))),
    Mutant("lower_frozen", "lower level", ("slip", "adambo"), "the lower level never moves (grad_g multiplied by 0)",
           algorithm=lambda a: _with_oracle(a, "lower_frozen", _lower_frozen)),
    Mutant("lower_at_x0", "lower level", ("slip",), "the lower level minimises g(x_0, .) instead of g(x_t, .)",
           algorithm=_lower_at_x0),
    Mutant("refresh_discarded", "lower level", ("borep",), "BO-REP's periodic refresh computed, then discarded",
           algorithm=lambda a: _after_step(a, "refresh_discarded", lambda self, old, new: dataclasses.replace(new, y=old.y))),
    Mutant("stale_lower", "lower level", ("borep",), "BO-REP's oracles at the pre-refresh y (benign in effect: the "
           "estimator no longer matches the algorithm box)", algorithm=lambda a: _with_oracle(a, "stale_lower", _stale)),
    Mutant("noise_biased", "oracle", ("slip",), "every oracle's noise replaced by its absolute value (mean != 0)",
           problem=lambda p: ProblemProxy(p, noise_map=torch.abs)),
    Mutant("noise_doubled", "oracle", ("slip",), "every oracle's noise twice its certified sigma",
           problem=lambda p: ProblemProxy(p, noise_map=lambda xi: 2.0 * xi)),
    Mutant("L0_halved", "constants", ("slip",), "certified L0 of Phi (and L_x0) understated 2x",
           problem=_constants(phi_L0=0.5, L_x0=0.5)),
    Mutant("L1_halved", "constants", ("slip",), "certified L1 of Phi (and L_x1) understated 2x",
           problem=_constants(phi_L1=0.5, L_x1=0.5)),
    Mutant("L1_zero", "constants", ("slip",), "the problem declared bounded-smooth (certified L1 = 0)",
           problem=_constants(phi_L1=0.0, L_x1=0.0)),
    Mutant("mu_doubled", "constants", ("slip",), "strong convexity mu overstated 2x",
           problem=_constants(mu=2.0)),
    Mutant("sigma_halved", "constants", ("slip",), "certified noise sizes understated 2x",
           problem=_constants(sigma_f=0.5, sigma_g1=0.5, sigma_g2=0.5)),
)

UNDETECTABLE = {}  # name -> why no sound probe can catch it (none at present)


def get(name: str) -> Mutant:
    for m in CATALOGUE:
        if m.name == name:
            return m
    raise ValueError(f"mutant must be one of {[m.name for m in CATALOGUE]}, got {name!r}")


def detection_matrix(results: dict) -> "pandas.DataFrame":
    """results {mutant name: verdict DataFrame} -> one row per mutant: caught?, by which rows."""
    import pandas as pd

    from ubo.theory.validate import failed_rows

    rows = []
    for m in CATALOGUE:
        if m.name not in results:
            continue
        failed = failed_rows(results[m.name])
        caught_by = sorted({f"{r.probe} {r.algorithm}: {r.quantity}" for r in failed.itertuples()})
        rows.append({"mutant": m.name, "category": m.category, "targets": ",".join(m.targets),
                     "caught": bool(len(failed)), "rows": len(failed),
                     "probes": ",".join(sorted(set(failed["probe"]), key=lambda p: int(p[1:]))),
                     "caught by": "; ".join(caught_by)})
    return pd.DataFrame(rows)


def run_mutants(names=None, quick: bool = True, seed: int = 0, progress: bool = True) -> dict:
    """Run the job (quick or default plan, no rate sweeps) with each mutant planted on its targets only."""
    from ubo.progress import tqdm

    from ubo.theory.validate import DEFAULT_PROBLEM, FULL, QUICK, run_checks

    plan = QUICK if quick else FULL
    chosen = [get(n) for n in names] if names else list(CATALOGUE)
    out = {}
    for m in tqdm(chosen, desc="mutants", disable=not progress):
        res = run_checks(DEFAULT_PROBLEM, m.targets, plan["runs"], plan["steps"], seed=seed, plan=plan,
                         rates=False, mutant=m)
        out[m.name] = res["verdict"]
    return out


__all__ = ["CATALOGUE", "Mutant", "OracleProxy", "ProblemProxy", "UNDETECTABLE", "detection_matrix", "get",
           "run_mutants"]
