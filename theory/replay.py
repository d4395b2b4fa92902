"""Probes that look at what the algorithm itself computed (P11-P13, P15), on a per-step record.

P11 estimator: the hypergradient estimate h_t the method formed (State.h) against its closed-form
    conditional mean E[h_t | x_t, y_t, z_t] from the problem's exact derivatives:
        z-form (BO-REP, SLIP, SOBA, MA-SOBA):  grad_x f(x, y) - grad2_xy g(x, y) z
        Neumann (AdamBO):  grad_x f(x, y) - grad2_xy g(x, y) p,  p = (1/C) sum_{q<Q} (I - A/C)^q grad_y f(x, y)
    (A = grad2_yy g(x, y); BO-REP evaluates at its refreshed y, which is y_{t+1}). With the noise off
    (the job's noise-free control run) h_t must equal it: an identity. With the noise on, h_t minus it is the
    oracle noise, bounded a.s. by sigma_f + sigma_g2 ||z_t|| under bounded noise (P13).
P12 update rule (noise off): each line of the method's algorithm box replayed from the recorded state,
    momentum m_{t+1}, step x_{t+1}, lower level y_{t+1}, linear system z_{t+1}; an identity up to round-off.
P13 noise: the residuals of P11 (and of the lower-level step, (y_t - gamma grad_y g(x_t, y_t) - y_{t+1}) / gamma
    = the grad_g noise) against the certified a.s. sizes (every realisation), and their mean against zero:
    the residuals are martingale differences bounded by B, so by the Azuma-Hoeffding inequality in Hilbert
    space (Pinelis 1994, Ann. Probab. 22(4), Theorem 3.5) ||mean of N|| <= B sqrt(2 log(2/delta) / N) with
    probability >= 1 - delta (delta = 1e-6 here).
P15 certified lower-level constants on the path: mu <= lambda_min(grad2_yy g(x_t, y_t)),
    ||grad2_yy g(x_t, y_t)|| <= l_g1, ||grad_y f(x_t, y*(x_t))|| <= l_f0 (assumption A2).
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from ubo.theory.probes import NORMALIZED, row, table

IDENTITY = "identity"
SANITY = "sanity"
ID_TOL = 1e-7          # relative tolerance of the replay identities (float64 arithmetic, T up to 2000)
MEAN_DELTA = 1e-6      # failure probability of the mean-zero noise test
Z_FORM = ("borep", "slip", "soba", "ma_soba")
SINGLE_SGD = ("slip", "adambo", "soba", "ma_soba")


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, t.shape[-1])


def _rel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-row ||a - b|| / max(1, ||b||)."""
    return (a - b).norm(dim=-1) / b.norm(dim=-1).clamp_min(1.0)


def _y_used(rec) -> torch.Tensor:
    """(T, R, d_y): the y at which step t's oracles were called (BO-REP: the refreshed y = y_{t+1})."""
    return rec.y[1:] if rec.algorithm == "borep" else rec.y[:-1]


def neumann_p(problem, x, y, gy, C: float, Q: int, drop_q0: bool = False) -> torch.Tensor:
    """Closed-form p = (1/C) sum_{q<Q} (I - A/C)^q grad_y f with the exact Hessian A (dense); with
    ``drop_q0`` the released code's sum over q = 1..Q."""
    A = problem.hessian_yy(x, y)
    v = gy / C
    total = torch.zeros_like(v) if drop_q0 else v
    for _ in range(Q if drop_q0 else Q - 1):
        v = v - (A @ v.unsqueeze(-1)).squeeze(-1) / C
        total = total + v
    return total


def expected_h(problem, rec) -> torch.Tensor | None:
    """(T, R, d_x) closed-form E[h_t | state] for the method's estimator, or None when not known here."""
    name, hyper = rec.algorithm, rec.hyper
    T, R = rec.steps, rec.runs
    x, y = _flat(rec.x[:-1]), _flat(_y_used(rec))
    gx, gy = problem.grad_f(x, y)
    if name in Z_FORM and rec.z is not None:
        if hyper.get("jacobian_new_z", False):
            z = _flat(rec.z[1:])
        elif hyper.get("z_update", "sgd") == "exact":
            z = torch.linalg.solve(problem.hessian_yy(x, y), gy.unsqueeze(-1)).squeeze(-1)
        else:
            z = _flat(rec.z[:-1])
        out = gx - problem.jvp_xy(x, y, z)
    elif name == "adambo":
        p = neumann_p(problem, x, y, gy, hyper["neumann_scale"], hyper["neumann_terms"],
                      hyper.get("neumann_drop_q0", False))
        out = gx - problem.jvp_xy(x, y, p)
    else:
        return None
    return out.reshape(T, R, -1)


def probe_estimator(problem, rec) -> pd.DataFrame:
    """P11: max_t,r ||h_t - E[h_t | state]|| / max(1, ||E h||) on the noise-free record (identity)."""
    name = rec.algorithm
    mean = expected_h(problem, rec) if rec.h is not None else None
    if mean is None:
        return table([row("P11", name, "h_t against closed-form E[h | state]", math.nan,
                          note="no recorded h or no closed form for this estimator")])
    if not rec.noise_free:
        raise ValueError("probe_estimator needs a noise-free record (noise off); use probe_noise on noisy records")
    dev = _rel(rec.h[1:], mean)
    worst = int(dev.max(dim=1).values.argmax())
    return table([row("P11", name, "max_t ||h_t - E[h_t|x,y,z]|| (noise off, rel.)", float(dev.max()), ID_TOL,
                      IDENTITY, f"estimator vs its closed form (paper's algorithm box); worst t={worst}")])


def _adam_replay(hyper, x, m, v, h, t):
    beta, beta_sq, lam, eta = hyper["beta"], hyper["beta_sq"], hyper["lam"], hyper["eta"]
    m_new = (1 - beta) * m + beta * h
    v_new = (1 - beta_sq) * v + beta_sq * h * h
    if hyper.get("adam", "corrected") == "uncorrected":
        return x - eta * m_new / (v_new.sqrt() + lam), m_new, v_new
    if hyper.get("weight_decay", 0.0):  # "torch" with coupled L2: not replayed
        return None
    # "corrected" (Li, Rakhlin, Jadbabaie 2023, Alg. 1) and "torch" without weight decay: bias-corrected moments
    k = (t + 1).to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
    m_hat, v_hat = m_new / (1 - (1 - beta) ** k), v_new / (1 - (1 - beta_sq) ** k)
    return x - eta * m_hat / (v_hat.sqrt() + lam), m_new, v_new


def _lower_replay(problem, rec) -> torch.Tensor | None:
    """(T, R, d_y) y_{t+1} by the method's lower-level rule with exact gradients, or None."""
    name, hyper = rec.algorithm, rec.hyper
    T = rec.steps
    x, y = rec.x[:-1], rec.y[:-1]
    if name in SINGLE_SGD:
        grads = problem.grad_y_g(_flat(x), _flat(y)).reshape(y.shape)
        return y - hyper["gamma"] * grads
    if name == "borep":
        out = y.clone()
        for t in range(1, T):
            if t % hyper["period"] == 0:
                yy = y[t]
                for _ in range(hyper["lower_steps"]):
                    yy = yy - hyper["gamma"] * problem.grad_y_g(x[t], yy)
                out[t] = yy
        return out
    return None


def _project(v: torch.Tensor, radius: float) -> torch.Tensor:
    if radius == math.inf:
        return v
    norms = v.norm(dim=-1, keepdim=True)
    return v * torch.clamp(radius / norms.clamp_min(1e-300), max=1.0)


def probe_update(problem, rec) -> pd.DataFrame:
    """P12 (noise off): momentum, step, lower level and z lines of the algorithm box replayed."""
    name, hyper = rec.algorithm, rec.hyper
    if not rec.noise_free:
        raise ValueError("probe_update needs a noise-free record (noise off)")
    rows = []
    x, x1 = rec.x[:-1], rec.x[1:]
    if rec.h is not None and rec.m is not None:
        h, m_prev, m = rec.h[1:], torch.cat([torch.zeros_like(rec.m[1:2]), rec.m[1:-1]]), rec.m[1:]
        step = None
        if name in ("borep", "slip", "ma_soba"):
            beta = hyper["beta"]
            rows.append(row("P12", name, "momentum m_t = beta m_{t-1} + (1-beta) h_t", float(_rel(m, beta * m_prev
                            + (1 - beta) * h).max()), ID_TOL, IDENTITY, f"beta={beta:g} (old momentum weight)"))
        elif name == "soba":
            rows.append(row("P12", name, "direction m_t = h_t", float(_rel(m, h).max()), ID_TOL, IDENTITY))
        if name in NORMALIZED:
            step = x - hyper["eta"] * m / m.norm(dim=-1, keepdim=True).clamp_min(1e-300)
            label = "step x_{t+1} = x_t - eta m_t / ||m_t||"
        elif name in ("soba", "ma_soba"):
            step = x - hyper["alpha"] * m
            label = "step x_{t+1} = x_t - alpha m_t"
        elif name == "adambo" and rec.v is not None:
            v_prev = torch.cat([torch.zeros_like(rec.v[1:2]), rec.v[1:-1]])
            t = torch.arange(rec.steps)
            out = _adam_replay(hyper, x, m_prev, v_prev, h, t)
            if out is not None:
                step, m_new, v_new = out
                rows.append(row("P12", name, "Adam moments (m_t, v_t)", float(torch.maximum(_rel(m, m_new),
                                _rel(rec.v[1:], v_new)).max()), ID_TOL, IDENTITY, f"adam={hyper.get('adam')}"))
                label = "Adam step x_{t+1} = x_t - eta m_t / (sqrt(v_t) + lam)"
        if step is not None:
            rows.append(row("P12", name, label, float(_rel(x1, step).max()), ID_TOL, IDENTITY))
    lower = _lower_replay(problem, rec)
    if lower is not None:
        rows.append(row("P12", name, "lower level y_{t+1} (exact gradients)", float(_rel(rec.y[1:], lower).max()),
                        ID_TOL, IDENTITY, "periodic refresh" if name == "borep" else "one SGD step"))
    if name in Z_FORM and rec.z is not None and hyper.get("z_update", "sgd") == "sgd":
        xf, yf, zf = _flat(x), _flat(_y_used(rec)), _flat(rec.z[:-1])
        _, gy = problem.grad_f(xf, yf)
        z_new = _project(zf - hyper["nu"] * (problem.hvp_yy(xf, yf, zf) - gy), hyper.get("z_radius", math.inf))
        rows.append(row("P12", name, "z_{t+1} = Pi(z_t - nu (A z_t - grad_y f))",
                        float(_rel(_flat(rec.z[1:]), z_new).max()), ID_TOL, IDENTITY))
    if not rows:
        rows.append(row("P12", name, "update rule replay", math.nan, note="no replay for this method"))
    return table(rows)


def _noise_rows(name, label, resid: torch.Tensor, ceiling: torch.Tensor, bounded: bool, what: str) -> list:
    """A.s. ceiling row and mean-zero row for residuals (N, d) with per-sample bounds (N,); reported only
    (not judged) when the noise law is not a.s. bounded, where neither bound is a theorem."""
    ratio = resid.norm(dim=-1) / ceiling.clamp_min(1e-300)
    n = resid.shape[0]
    B = float(ceiling.max())
    mean_bound = B * math.sqrt(2 * math.log(2 / MEAN_DELTA) / n)
    note = "" if bounded else "; noise not a.s. bounded: reported, not judged"
    return [row("P13", name, f"max ||{label}|| / certified a.s. size", float(ratio.max()), 1.0,
                "every realisation" if bounded else "report",
                f"{what}; {n} samples; tight by construction (the bounded law has ||xi|| = sigma){note}"),
            row("P13", name, f"||mean of {label}|| (unbiased oracle)", float(resid.mean(dim=0).norm()), mean_bound,
                "probability 1-delta" if bounded else "report",
                f"Azuma-Hoeffding, delta={MEAN_DELTA:g}, B={B:.3g}, N={n}{note}")]


def probe_noise(problem, rec) -> pd.DataFrame:
    """P13 on a noisy record: residual of h against E[h | state], and of the lower-level SGD step."""
    name, c = rec.algorithm, problem.constants
    if rec.noise_free:
        raise ValueError("probe_noise needs a noisy record")
    rows = []
    mean = expected_h(problem, rec) if (rec.h is not None and name in Z_FORM) else None
    if mean is not None:
        z = rec.z[1:] if rec.hyper.get("jacobian_new_z", False) else rec.z[:-1]
        ceiling = c.sigma_f + c.sigma_g2 * z.norm(dim=-1)
        rows += _noise_rows(name, "h_t - E[h_t|x,y,z]", _flat(rec.h[1:] - mean), ceiling.reshape(-1),
                            c.noise_bounded, "sigma_f + sigma_g2 ||z_t||")
    if name in SINGLE_SGD and c.sigma_g1 > 0:
        x, y = _flat(rec.x[:-1]), _flat(rec.y[:-1])
        gamma = rec.hyper["gamma"]
        resid = (y - gamma * problem.grad_y_g(x, y) - _flat(rec.y[1:])) / gamma
        rows += _noise_rows(name, "grad_g noise", resid, torch.full((resid.shape[0],), c.sigma_g1,
                            dtype=resid.dtype), c.noise_bounded, "sigma_g1")
    if not rows:
        rows.append(row("P13", name, "oracle noise residuals", math.nan, note="no closed form for this estimator"))
    return table(rows)


def probe_lower_constants(problem, rec) -> pd.DataFrame:
    """P15: certified mu, l_g1 and l_f0 against the lower-level Hessian and grad_y f on the path."""
    name, c = rec.algorithm, problem.constants
    x, y = _flat(rec.x), _flat(rec.y)
    eig = torch.linalg.eigvalsh(problem.hessian_yy(x, y))
    ystar = problem.y_star(x)
    _, gy = problem.grad_f(x, ystar)
    return table([row("P15", name, "mu / min_t lambda_min(grad2_yy g)", c.mu / float(eig[:, 0].min()), 1.0, SANITY,
                      "strong convexity on the path (A2)"),
                  row("P15", name, "max_t ||grad2_yy g|| / l_g1", float(eig[:, -1].max()) / c.l_g1, 1.0, SANITY),
                  row("P15", name, "max_t ||grad_y f(x, y*)|| / l_f0", float(gy.norm(dim=-1).max()) / c.l_f0, 1.0,
                      SANITY)])
