"""The papers' headline claims as measurements with pre-declared verdicts (``ubo claims``).

    claim_complexity        oracle calls to reach eps, slope vs -4, noise-free control
    claim_high_probability  (1 - delta)-quantiles with exact CIs, log(1/delta) shape, bounded vs Student-t
    claim_tracking          SLIP's sqrt(gamma) + eta/gamma tracking error, BO-REP's a + b I eta
    claim_adambo            AdamBO's lam, beta and Neumann truncation
    claim_advantage         BO-REP / SLIP / AdamBO against SOBA, MA-SOBA, StocBiO, TTSA, L1-dominated and smooth
    run_claims              all of them with a preset, writing report.md, figures and CSVs
"""

from ubo.theory.claims.adambo_theory import claim_adambo
from ubo.theory.claims.advantage import claim_advantage
from ubo.theory.claims.complexity import claim_complexity
from ubo.theory.claims.high_probability import claim_high_probability
from ubo.theory.claims.instances import (complexity_instance, l1_dominated_fraction, l1_instance, smooth_instance,
                                         steep_instance, steep_smooth_instance)
from ubo.theory.claims.presets import FULL, MEDIUM, PRESETS, QUICK
from ubo.theory.claims.result import ClaimResult
from ubo.theory.claims.runner import CLAIMS, run_claims
from ubo.theory.claims.tracking import claim_tracking

__all__ = ["CLAIMS", "FULL", "MEDIUM", "PRESETS", "QUICK", "ClaimResult", "claim_adambo", "claim_advantage",
           "claim_complexity", "claim_high_probability", "claim_tracking", "complexity_instance", "l1_dominated_fraction",
           "l1_instance", "run_claims", "smooth_instance", "steep_instance", "steep_smooth_instance"]
