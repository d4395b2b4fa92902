"""Probes P1-P10: a trace or a per-step record, its problem -> a tidy table (P11-P15: theory.replay).

Every probe returns a DataFrame with the columns of ``COLUMNS``:
    probe, algorithm, quantity, measured, bound, ratio (= measured / bound), holds, kind, note
``holds`` is True / False where a bound applies, None where the row only reports. ``kind`` says how to
read a failure: "every realisation" -> a bug (or wrong constants); "expectation" -> the measured value is
a mean over runs; "probability 1-delta" -> a quantile over runs; "identity" -> a line of the algorithm box
replayed (exact up to round-off); "sanity" -> a certified constant checked on the path; "outside
assumptions" -> the bound is compared although an assumption fails (e.g. heavy-tailed noise): an
exceedance is a finding, not a bug. Rows with ``holds`` None: "report" (no bound stated, or the bound
cannot fail by construction: the note says why), "vacuous" (the bound is above what not moving at all
gives), "inconclusive". ``ratio`` is always measured / bound: <= 1 holds.

Trace probes (all runs, ``algorithms.run(..., every_step_summary=True)``): P1 stationarity, P4 tracking,
P5 z error, P10 tails. Step probes (a small sub-batch recorded at every step of the horizon, theory.recording):
P2 descent, P3 step and drift, P6 conditional bias, P7 momentum error, P8 smoothness. P9 (rates) is
``theory.rates.rate_probe`` because it runs its own sweeps.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ubo.theory import bounds
from ubo.theory.phi_smoothness import certified_phi_constants, looseness, phi_smoothness
from ubo.theory.recording import check_problem, check_trace
from ubo.theory.smoothness import frontier, secant_ceiling, secant_smoothness
from ubo.theory.tails import heavy_tail_flag, quantile_ci, quantile_table

COLUMNS = ("probe", "algorithm", "quantity", "measured", "bound", "ratio", "holds", "kind", "note")
NORMALIZED = ("borep", "slip", "accbo")        # x_{t+1} = x_t - eta m / ||m||
PLAIN_MOMENTUM = ("borep", "slip")             # m_t = beta m_{t-1} + (1 - beta) h_t
SINGLE_SGD = ("slip", "adambo", "soba", "ma_soba")              # one lower SGD step per iteration with step gamma
Z_METHODS = ("borep", "slip", "soba", "ma_soba")               # SOBA-style z recursion with step nu
OUTSIDE = "outside assumptions"                # a bound compared although its assumptions fail (finding, not bug)
RTOL = 1e-9                                    # round-off allowance for per-realisation bounds
UNJUDGED = ("report", "vacuous", "inconclusive")  # kinds whose rows never get a verdict


def row(probe, algorithm, quantity, measured, bound=math.nan, kind="report", note="", holds=None) -> dict:
    """One table row; ``holds`` defaults to measured <= bound (with round-off slack) when a bound is given."""
    measured, bound = float(measured), float(bound)
    ratio = measured / bound if math.isfinite(bound) and bound != 0 else math.nan
    if holds is None and math.isfinite(bound) and kind not in UNJUDGED:
        holds = bool(measured <= bound * (1 + RTOL) + RTOL * 1e-3)
    return {"probe": probe, "algorithm": algorithm, "quantity": quantity, "measured": measured, "bound": bound,
            "ratio": ratio, "holds": holds, "kind": kind, "note": note}


def table(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def _drift_lipschitz(problem) -> float:
    """Lipschitz constant of y*: the family's exact ||J|| when it has one, else kappa."""
    return float(getattr(problem, "drift_lipschitz", problem.constants.kappa))


def _batched(fn, *tensors):
    """Apply an (N, d) -> (N, ...) function to (T, R, d) tensors."""
    T, R = tensors[0].shape[:2]
    out = fn(*(t.reshape(T * R, -1) for t in tensors))
    return out.reshape(T, R, *out.shape[1:])


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _delta_phi(problem) -> float:
    c = problem.constants
    return float(problem.phi(problem.x0[None])[0]) - (c.phi_inf if c.phi_inf is not None else math.nan)


def _hyper_noise(problem, z_max: float) -> float:
    """Size of the hypergradient noise: sqrt(sigma_f^2 + sigma_g2^2 ||z||^2) (independent samples)."""
    c = problem.constants
    return math.sqrt(c.sigma_f**2 + (c.sigma_g2 * z_max) ** 2)


# ---- step probes --------------------------------------------------------------------------
def conditional_bias(problem, rec) -> torch.Tensor | None:
    """(T, R) ||E[h_t | x_t, y_t, z_t] - grad Phi(x_t)|| of the z-form estimator, t = 0..T-1 (None without z)."""
    if rec.z is None:
        return None
    x, y, z = rec.x[:-1], rec.y[:-1], rec.z[:-1]
    mean = _batched(lambda a, b, c: problem.grad_f(a, b)[0] - problem.jvp_xy(a, b, c), x, y, z)
    return (mean - _batched(problem.grad_phi, x)).norm(dim=-1)


def probe_descent(problem, rec) -> pd.DataFrame:
    """P2: per step, Phi(x_{t+1}) - Phi(x_t) + (eta/6) G_t - (8 eta/3)||eps_t|| <= (e/2) L0 eta^2 (C4)."""
    name = rec.algorithm
    if name not in NORMALIZED or rec.m is None:
        return table([row("P2", name, "descent inequality (C4)", math.nan, note="not a normalized step")])
    L0, L1 = certified_phi_constants(problem.constants)
    eta = rec.hyper["eta"]
    if not bounds.descent_applies(eta, L1):
        return table([row("P2", name, "descent inequality (C4)", math.nan,
                          note=f"eta={eta:.3g} > 1/(3e L1)={1 / (3 * math.e * L1):.3g}: (C4) not applicable")])
    phi = _batched(problem.phi, rec.x)
    grad = _batched(problem.grad_phi, rec.x[:-1])
    eps = (rec.m[1:] - grad).norm(dim=-1)
    lhs = phi[1:] - phi[:-1] + eta / 6 * grad.norm(dim=-1) - 8 * eta / 3 * eps
    rhs = bounds.descent_bound(eta, L0)
    worst = float(lhs.max())
    count = int((lhs > rhs * (1 + RTOL)).sum())
    return table([row("P2", name, "max_t,r descent lhs", worst, rhs, bounds.EVERY,
                      note=f"{count} of {lhs.numel()} steps above the bound; certified (L0, L1)=({L0:.3g}, {L1:.3g})")])


def probe_step_drift(problem, rec) -> pd.DataFrame:
    """P3: ||x_{t+1} - x_t|| = eta for normalized steps; ||y*(x_{t+1}) - y*(x_t)|| <= Lip(y*) ||x_{t+1} - x_t||."""
    name = rec.algorithm
    step = (rec.x[1:] - rec.x[:-1]).norm(dim=-1)
    ystar = _batched(problem.y_star, rec.x)
    drift = (ystar[1:] - ystar[:-1]).norm(dim=-1)
    lip = _drift_lipschitz(problem)
    rows = []
    if name in NORMALIZED:
        eta = rec.hyper["eta"]
        dev = float(((step - eta).abs() / eta).max())
        rows.append(row("P3", name, "max_t,r |step - eta| / eta", dev, 1e-9, bounds.EVERY, "drift identity"))
    elif name == "adambo" and rec.hyper.get("adam") in ("corrected", "uncorrected"):
        from ubo.algorithms.upper import adam_step_bound

        per = adam_step_bound(rec.hyper["eta"], rec.hyper["beta"], rec.hyper["beta_sq"],
                              bias_correction=rec.hyper["adam"] == "corrected") * math.sqrt(problem.dim_x)
        rows.append(row("P3", name, "max_t,r step length", float(step.max()), per, bounds.EVERY,
                        "Adam step <= eta * adam_step_bound * sqrt(d_x)"))
    else:
        rows.append(row("P3", name, "max_t,r step length", float(step.max())))
    ratio = drift / (lip * step).clamp_min(1e-300)
    moved = step > 0
    rows.append(row("P3", name, "max_t,r drift / (Lip(y*) step)", float(ratio[moved].max()) if moved.any() else math.nan,
                    1.0, "report", f"tautology (||J|| is the Lipschitz constant of y* = Jx), not judged; "
                    f"Lip(y*)={lip:.4g}, kappa={problem.constants.kappa:.4g}"))
    return table(rows)


def probe_bias(problem, rec) -> pd.DataFrame:
    """P6: conditional bias of the z-form estimator against the A1-A2 bound (every realisation):

        ||E h - grad Phi|| <= (L_x0/L_x1 + ||grad_x f(x, y*)||)(e^{L_x1 d} - 1) + l_g1 ||z - z*|| + l_g2 l_f0 d / mu.
    """
    name = rec.algorithm
    bias = conditional_bias(problem, rec)
    if bias is None:
        return table([row("P6", name, "conditional hypergradient bias", math.nan, note="no z variable")])
    c = problem.constants
    x, y, z = rec.x[:-1], rec.y[:-1], rec.z[:-1]
    ystar = _batched(problem.y_star, x)
    d = (y - ystar).norm(dim=-1)
    ez = (z - _batched(problem.z_star, x)).norm(dim=-1)
    gx_star = _batched(lambda a, b: problem.grad_f(a, b)[0], x, ystar).norm(dim=-1)
    if c.L_x1 > 0:
        y_part = (c.L_x0 / c.L_x1 + gx_star) * torch.expm1(c.L_x1 * d)
    else:
        y_part = c.L_x0 * d
    bound = y_part + c.l_g1 * ez + c.l_g2 * c.l_f0 * d / c.mu
    ratio = bias / bound.clamp_min(1e-300)
    return table([row("P6", name, "max_t,r bias / bound", float(ratio.max()), 1.0, "report",
                      f"problem property (E[h] rebuilt from the problem, algorithm-blind; P11 checks the "
                      f"algorithm's h), not judged; mean bias {float(bias.mean()):.3g}"),
                  row("P6", name, "mean_t,r conditional bias", float(bias.mean()))])


def probe_momentum(problem, rec) -> pd.DataFrame:
    """P7: mean over runs of ||m_t - grad Phi(x_t)|| against the mean of the per-run bound (expectation)."""
    name = rec.algorithm
    if name not in PLAIN_MOMENTUM or rec.m is None:
        return table([row("P7", name, "momentum error", math.nan, note="not plain normalized momentum")])
    L0, L1 = certified_phi_constants(problem.constants)
    eta, beta = rec.hyper["eta"], rec.hyper["beta"]
    if L1 > 0 and eta > 1 / L1:
        return table([row("P7", name, "momentum error", math.nan, note="eta > 1/L1: (C2) factor e-1 not valid")])
    grad = _batched(problem.grad_phi, rec.x[:-1])
    eps = (rec.m[1:] - grad).norm(dim=-1)  # (T, R): eps_t for t = 0..T-1
    bias = conditional_bias(problem, rec)
    z_max = float(rec.z.norm(dim=-1).max()) if rec.z is not None else 0.0
    sigma = _hyper_noise(problem, z_max)
    G = _np(grad.norm(dim=-1))
    eps_np = _np(eps)
    bound = np.stack([bounds.momentum_error_bound(beta, eps_np[0, r], sigma, eta, L0, L1, G[:, r],
                                                  float(bias[:, r].max()) if bias is not None else 0.0)
                      for r in range(rec.runs)], axis=1)
    mean_eps, mean_bound = eps_np.mean(axis=1), bound.mean(axis=1)
    k = 1 + int(np.argmax(mean_eps[1:] / mean_bound[1:]))  # t = 0: the bound contains the measured eps_0
    return table([row("P7", name, "max_{t>=1} mean_r ||m_t - grad Phi|| / bound", mean_eps[k] / mean_bound[k], 1.0,
                      bounds.EXPECTATION, f"worst t={k}; sigma_h={sigma:.3g}")])


def hessian_norms(problem, x: torch.Tensor) -> torch.Tensor:
    """(N,) spectral norms of grad^2 Phi at the rows of x, by autograd through grad_phi."""
    x = x.detach().clone().requires_grad_(True)
    g = problem.grad_phi(x)
    rows = [torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(x.shape[1])]
    hess = torch.stack(rows, dim=1)
    return torch.linalg.matrix_norm(0.5 * (hess + hess.transpose(1, 2)), ord=2).detach()


def smoothness_data(problem, rec) -> dict:
    """Secant smoothness of every step, its (C2) ceiling, gradient norms, Hessian norms on the path."""
    L0, L1 = certified_phi_constants(problem.constants)
    x_now, x_next = rec.x[:-1].reshape(-1, problem.dim_x), rec.x[1:].reshape(-1, problem.dim_x)
    sec = secant_smoothness(problem.grad_phi, x_now, x_next)
    G = problem.grad_phi(x_now).norm(dim=1)
    length = (x_next - x_now).norm(dim=1)
    return {"secant": _np(sec), "grad_norm": _np(G), "length": _np(length),
            "ceiling": secant_ceiling(L0, L1, _np(G), _np(length)),
            "hessian": _np(hessian_norms(problem, x_now)), "L0": L0, "L1": L1}


def probe_smoothness(problem, rec, data: dict | None = None) -> pd.DataFrame:
    """P8: secant and Hessian smoothness along the trajectory against the certified (L0, L1)."""
    name = rec.algorithm
    data = smoothness_data(problem, rec) if data is None else data
    L0, L1 = data["L0"], data["L1"]
    keep = np.isfinite(data["secant"]) & (data["length"] > 0)
    if keep.any():
        secant = row("P8", name, "max secant / (C2) ceiling", float(np.max(data["secant"][keep] / data["ceiling"][keep])),
                     1.0, bounds.EVERY, "certified constants")
    else:
        secant = row("P8", name, "max secant / (C2) ceiling", math.nan, kind="inconclusive",
                     note="the method never moved: no secant")
    hess_max = float(np.max(data["hessian"]))
    rows = [secant,
            row("P8", name, "max_t Hessian norm / certified L0 (L1 matters if > 1)", hess_max / L0,
                note="report: > 1 means the path left the bounded-smooth regime (frontier at L1 = 0 exceeds L0)"),
            row("P8", name, "max ||Hess Phi|| / (L0 + L1 G)", float(np.max(data["hessian"] / (L0 + L1 * data["grad_norm"]))),
                1.0, bounds.EVERY, "Hessian form on the path"),
            row("P8", name, "frontier L0*(L1_cert) (Hessian)", float(frontier(data["hessian"], data["grad_norm"], L1)[0]),
                L0, bounds.EVERY, "max_t (||Hess|| - L1 G) <= L0")]
    lemma = phi_smoothness(problem.constants)
    loose = looseness(problem.constants)
    rows.append(row("P8", name, "lemma L0 / certified L0", loose["L0_ratio"], note=f"lemma L0={lemma.L0:.4g}"))
    rows.append(row("P8", name, "lemma L1 / certified L1", loose["L1_ratio"], note=f"lemma L1={lemma.L1:.4g}, "
                    f"radius={lemma.radius:.3g}"))
    return table(rows)


def step_probes(problem, rec) -> pd.DataFrame:
    """P2, P3, P6, P7, P8 on one per-step record (ValueError if the record's problem is not ``problem``)."""
    check_problem(rec.problem, problem)
    return pd.concat([probe_descent(problem, rec), probe_step_drift(problem, rec), probe_bias(problem, rec),
                      probe_momentum(problem, rec), probe_smoothness(problem, rec)], ignore_index=True)


# ---- trace probes -------------------------------------------------------------------------
def _summary(trace, name: str) -> np.ndarray:
    if name not in trace.summary:
        raise ValueError(f"trace.summary lacks {name!r}: run algorithms.run(..., every_step_summary=True)")
    return _np(trace.summary[name])


def _ok(trace) -> np.ndarray:
    return ~_np(trace.diverged)


def probe_stationarity(trace, problem, bias_mean: float = 0.0, eps0_mean: float | None = None) -> pd.DataFrame:
    """P1: mean over runs of (1/T) sum_t ||grad Phi(x_t)|| against the NSGD-M bound (expectation).

    ``bias_mean`` is the averaged conditional bias b_bar and ``eps0_mean`` E||eps_0|| (both from a
    per-step record); the noise size uses ||z|| <= l_f0/mu + max z error.
    """
    name = trace.meta["algorithm"]
    avg = _summary(trace, "avg_grad_phi_norm")[_ok(trace)]
    measured = float(avg.mean())
    rows = [row("P1", name, "mean_r avg_t ||grad Phi||", measured, note=f"{avg.size} finite runs")]
    if name not in PLAIN_MOMENTUM:
        return table(rows)
    c = problem.constants
    L0, L1 = certified_phi_constants(c)
    hyper, T = trace.meta["hyper"], trace.meta["steps"]
    eta, beta = hyper["eta"], hyper["beta"]
    if not bounds.stationarity_applies(eta, beta, L1):
        rows[0]["note"] += f"; bound needs eta <= (1-beta)/(32(e-1)L1) = {(1 - beta) / (32 * (math.e - 1) * L1):.3g}"
        return table(rows)
    z_err = _summary(trace, "max_z_error")
    sigma = _hyper_noise(problem, c.l_f0 / c.mu + float(np.nanmax(z_err)))
    eps0 = float(_np(trace.series["grad_phi_norm"][0]).mean()) if eps0_mean is None else eps0_mean
    b = bounds.stationarity_bound(L0, L1, _delta_phi(problem), eta, beta, T, sigma, eps0, bias_mean)
    still = float(problem.grad_phi(problem.x0[None]).norm())
    kind = bounds.EXPECTATION if b < still else "vacuous"
    note = f"sigma_h={sigma:.3g}, b_bar={bias_mean:.3g}, Delta={_delta_phi(problem):.4g}"
    if kind == "vacuous":
        note += f"; vacuous: not moving gives ||grad Phi(x0)|| = {still:.4g} < bound"
    rows[0].update(row("P1", name, "mean_r avg_t ||grad Phi||", measured, b, kind, note))
    return table(rows)


def _lower_step(trace) -> float | None:
    name, hyper = trace.meta["algorithm"], trace.meta["hyper"]
    if name in SINGLE_SGD or name == "borep":
        return hyper["gamma"]
    return None


def tracking_ceilings(trace, problem) -> dict | None:
    """Per recorded step and run: the a.s. ceiling and the mean bound on ||y_t - y*_t|| (None if no schedule)."""
    name, hyper = trace.meta["algorithm"], trace.meta["hyper"]
    gamma = _lower_step(trace)
    if gamma is None:
        return None
    c = problem.constants
    lip = _drift_lipschitz(problem)
    steps = _np(trace.step).astype(float)
    d = _np(trace.series["y_error"])  # (K, R)
    d0 = d[0]
    if name in NORMALIZED:
        drift = np.full(d0.shape, lip * hyper["eta"])
    else:
        drift = lip * _summary(trace, "max_step_length")
    sigma = c.sigma_g1
    if name == "borep":  # the a.s. recursion is affine in (d0, drift): r_k = a_k d0 + b_k + c_k drift
        T, idx = trace.meta["steps"], steps.astype(int)
        args = (gamma, c.mu, sigma, hyper["lower_steps"], hyper["period"])
        base = bounds.periodic_tracking_bound(T, 0.0, *args, 0.0, almost_sure=True)
        a = bounds.periodic_tracking_bound(T, 1.0, *args, 0.0, almost_sure=True) - base
        cd = bounds.periodic_tracking_bound(T, 0.0, *args, 1.0, almost_sure=True) - base
        ceiling = a[idx, None] * d0[None, :] + base[idx, None] + cd[idx, None] * drift[None, :]
        full = a[:, None] * d0[None, :] + base[:, None] + cd[:, None] * drift[None, :]
        rms = bounds.periodic_tracking_bound(T, float(np.sqrt(np.mean(d0**2))), *args, float(drift.max()))
        return {"steps": steps, "ceiling": ceiling, "mean_sq": rms[idx] ** 2, "sup": full.max(axis=0)}
    ceiling = bounds.tracking_ceiling(steps[:, None], d0[None, :], gamma, c.mu, sigma, drift[None, :])
    mean_sq = bounds.tracking_mean_bound(steps, float(np.mean(d0**2)), gamma, c.mu, sigma, float(drift.max()))
    sup = d0 + sigma / c.mu + drift / (gamma * c.mu)
    return {"steps": steps, "ceiling": ceiling, "mean_sq": mean_sq, "sup": sup}


def probe_tracking(trace, problem) -> pd.DataFrame:
    """P4: lower-level tracking: a.s. ceiling at every recorded step and over every iteration (bug if
    exceeded under bounded noise), and the mean of squared errors against the expectation bound."""
    name, c = trace.meta["algorithm"], problem.constants
    gamma = _lower_step(trace)
    bounds_ = tracking_ceilings(trace, problem)
    if bounds_ is None:
        return table([row("P4", name, "tracking", math.nan, note="no single-step or periodic SGD lower level")])
    if gamma > 1.0 / c.l_g1:
        note = f"gamma={gamma:.3g} > 1/l_g1={1 / c.l_g1:.3g}: contraction not guaranteed"
    else:
        note = ""
    kind = bounds.EVERY if c.noise_bounded else OUTSIDE
    if not c.noise_bounded:
        note = (note + "; " if note else "") + "noise not a.s. bounded: the ceiling is not a theorem here"
    ok = _ok(trace)
    d = _np(trace.series["y_error"])[:, ok]
    ratio = d[1:] / bounds_["ceiling"][1:, ok]  # step 0 is the initial condition (ratio 1 by construction)
    sup_ratio = _summary(trace, "max_y_error")[ok] / bounds_["sup"][ok]
    mean_sq = (d**2).mean(axis=1)
    k = 1 + int(np.argmax(mean_sq[1:] / bounds_["mean_sq"][1:]))
    worst = int(bounds_["steps"][1 + int(np.argmax(ratio.max(axis=1)))])
    late = ratio[bounds_["steps"][1:] >= bounds_["steps"][-1] / 2]
    where = f"worst at t={worst}; over the second half of the run {float(late.max()):.3g}"
    rows = [row("P4", name, "max_k,r ||y-y*|| / a.s. ceiling", float(ratio.max()), 1.0, kind,
                f"{note}; {where}" if note else where),
            row("P4", name, "max_r sup_t ||y-y*|| / sup ceiling", float(sup_ratio.max()), 1.0, kind, note),
            row("P4", name, "mean_r ||y-y*||^2 (worst step)", float(mean_sq[k]), float(bounds_["mean_sq"][k]),
                bounds.EXPECTATION, f"step {int(bounds_['steps'][k])}")]
    return table(rows)


def probe_z(trace, problem) -> pd.DataFrame:
    """P5: z error ceiling (every realisation, bounded noise, l_g2 = L_y1 = 0), or the Neumann bias bound.

    z ceiling (derived in docs/theory.md): with D = sup_t ||y_t - y*_t||, s = max step, Z = max ||z||,
        ||z_t - z*_t|| <= (1 - nu mu)^t ||z_0 - z*_0|| + [(2 - nu mu)(L_y0/mu) D + nu (sigma_f + sigma_g2 Z)
                          + L_y0 sqrt(1 + kappa^2) s / mu] / (nu mu).
    """
    name, hyper, c = trace.meta["algorithm"], trace.meta["hyper"], problem.constants
    if name == "adambo":
        return table([neumann_row(problem, hyper)])
    if name not in Z_METHODS:
        return table([row("P5", name, "z error", math.nan, note="no z recursion")])
    nu = hyper["nu"]
    if c.l_g2 != 0 or c.L_y1 != 0 or nu > 1 / c.l_g1 or hyper.get("z_radius", math.inf) < c.l_f0 / c.mu \
            or hyper.get("jacobian_new_z", False):
        return table([row("P5", name, "z ceiling", math.nan, note="assumptions of the z ceiling not met")])
    ok = _ok(trace)
    D = _summary(trace, "max_y_error")[ok]
    s = _summary(trace, "max_step_length")[ok]
    ez = _np(trace.series["z_error"])[:, ok]
    Z = np.minimum(hyper.get("z_radius", math.inf), c.l_f0 / c.mu + _summary(trace, "max_z_error")[ok])
    rate = 1 - nu * c.mu
    steps = _np(trace.step).astype(float)[:, None]
    floor = ((2 - nu * c.mu) * c.L_y0 / c.mu * D + nu * (c.sigma_f + c.sigma_g2 * Z)
             + c.L_y0 * math.sqrt(1 + c.kappa**2) * s / c.mu) / (nu * c.mu)
    ceiling = rate**steps * ez[0][None, :] + floor[None, :]
    kind = bounds.EVERY if c.noise_bounded else OUTSIDE
    return table([row("P5", name, "max_k,r ||z-z*|| / ceiling", float((ez / ceiling).max()), 1.0, kind,
                      "loose by construction (D/(nu mu^2) term)")])


def neumann_row(problem, hyper: dict) -> dict:
    """P5 for Neumann estimators: the exact truncation bias at (x0, y*(x0)) against (1-mu/C)^Q/mu ||J|| ||grad_y f||."""
    from ubo.algorithms.hypergradient import neumann

    c = problem.constants
    C, Q = hyper["neumann_scale"], hyper["neumann_terms"]
    if C < c.l_g1:
        return row("P5", "adambo", "Neumann bias", math.nan, note=f"C={C:.3g} < l_g1={c.l_g1:.3g}: bound not valid")
    x = problem.x0[None]
    y = problem.y_star(x)
    _, gy = problem.grad_f(x, y)

    class Exact:  # noise-free HVPs from the problem itself
        def hvp(self, a, b, v):
            return problem.hvp_yy(a, b, v)

    p = neumann(Exact(), x, y, gy, C, Q, hyper.get("neumann_drop_q0", False))
    bias = float((problem.jvp_xy(x, y, p) - problem.jvp_xy(x, y, problem.z_star(x))).norm())
    b = bounds.neumann_bias_bound(c.mu, C, Q, c.l_g1, float(gy.norm()))
    return row("P5", "adambo", "Neumann truncation bias at x0", bias, b, bounds.EVERY, f"C={C:.3g}, Q={Q}")


def tail_tables(trace, problem) -> dict[str, pd.DataFrame]:
    """Quantile tables (with exact CIs) of the per-run sup tracking error and average stationarity."""
    ok = _ok(trace)
    out = {"avg_grad_phi_norm": quantile_table(_summary(trace, "avg_grad_phi_norm")[ok])}
    if np.all(np.isfinite(_summary(trace, "max_y_error")[ok])):
        out["max_y_error"] = quantile_table(_summary(trace, "max_y_error")[ok])
    return out


def probe_tails(trace, problem, delta: float = 0.01) -> pd.DataFrame:
    """P10: the (1-delta)-quantile of sup_t ||y_t - y*_t|| (CI upper end against the a.s. ceiling), the
    (1-delta)-quantile of the average stationarity, and the tail shape (heavy-tail flag)."""
    name, c = trace.meta["algorithm"], problem.constants
    ok = _ok(trace)
    rows = []
    sup = _summary(trace, "max_y_error")[ok]
    q, lo, hi = quantile_ci(sup, delta)
    ceil = tracking_ceilings(trace, problem)
    bound = float(np.max(ceil["sup"][ok])) if ceil is not None else math.nan
    rows.append(row("P10", name, f"q_{1 - delta:g}(sup_t ||y-y*||)", q, bound, "report",
                    f"implied by P4's a.s. ceiling (not judged); 95% CI [{lo:.4g}, {hi:.4g}], R={sup.size}"))
    flag = heavy_tail_flag(sup)
    rows.append(row("P10", name, "tail index of sup_t ||y-y*|| (Hill)", flag["tail_index"],
                    note=f"best fit: {flag['best_model']}; heavy={flag['heavy']}"))
    avg = _summary(trace, "avg_grad_phi_norm")[ok]
    q, lo, hi = quantile_ci(avg, delta)
    rows.append(row("P10", name, f"q_{1 - delta:g}(avg_t ||grad Phi||)", q,
                    note=f"95% CI [{lo:.4g}, {hi:.4g}]; median {np.median(avg):.4g}"))
    flag = heavy_tail_flag(avg)
    rows.append(row("P10", name, "tail index of avg_t ||grad Phi|| (Hill)", flag["tail_index"],
                    note=f"best fit: {flag['best_model']}; heavy={flag['heavy']}"))
    return table(rows)


def trace_probes(trace, problem, bias_mean: float = 0.0, eps0_mean: float | None = None) -> pd.DataFrame:
    """P1, P4, P5, P10 on one trace recorded with every_step_summary=True (ValueError if the trace's problem
    is not ``problem``)."""
    check_trace(trace, problem)
    return pd.concat([probe_stationarity(trace, problem, bias_mean, eps0_mean), probe_tracking(trace, problem),
                      probe_z(trace, problem), probe_tails(trace, problem)], ignore_index=True)
