"""Run every claim with one preset and write the report: ``run_claims("quick", "claims-report")``.

Each claim is also a function of its own (claims.claim_complexity, ...), taking the preset dict and an
``instance`` factory (noise=..., sigma=...) -> problem, so a notebook can run one claim on any instance.
"""

from __future__ import annotations

import platform
import time

import torch

from ubo.theory.claims import schedules
from ubo.theory.claims.adambo_theory import claim_adambo
from ubo.theory.claims.advantage import claim_advantage
from ubo.theory.claims.complexity import claim_complexity
from ubo.theory.claims.high_probability import claim_high_probability
from ubo.theory.claims.instances import L1_DEFAULTS, SMOOTH_DEFAULTS, l1_instance, smooth_instance
from ubo.theory.claims.presets import PRESETS
from ubo.theory.claims.report import write_report
from ubo.theory.claims.tracking import claim_tracking

CLAIMS = {"complexity": claim_complexity, "high_probability": claim_high_probability, "tracking": claim_tracking,
          "adambo": claim_adambo, "advantage": claim_advantage}


def run_claims(preset: str = "quick", output="claims-report", only=None, seed: int = 0, progress: bool = True,
               instance=l1_instance, contrast=smooth_instance):
    """Run the claims named in ``only`` (default all) with PRESETS[preset]; write the report; return (results, path)."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    names = list(CLAIMS) if only is None else list(only)
    unknown = set(names) - set(CLAIMS)
    if unknown:
        raise ValueError(f"claims must be among {sorted(CLAIMS)}, got {sorted(unknown)}")
    torch.set_num_threads(1)  # small tensors: one thread is fastest on a shared machine
    config, start, results = PRESETS[preset], time.perf_counter(), []
    for name in names:
        kw = {"contrast": contrast} if name == "advantage" else {}
        began = time.perf_counter()
        results.append(CLAIMS[name](config, instance=instance, seed=seed, progress=progress, **kw))
        results[-1].notes.append(f"wall time {time.perf_counter() - began:.0f} s")
    constants = {k: getattr(schedules, k) for k in dir(schedules) if k.startswith("C_") or k == "ADAM_LAMBDA"}
    header = (f"Preset `{preset}` ({config}), seed {seed}; wall time {time.perf_counter() - start:.0f} s on "
              f"{platform.machine()} with torch {torch.__version__}.\n\nInstance (L1-dominated): `coupled` {L1_DEFAULTS}; "
              f"contrast (bounded-smooth): {SMOOTH_DEFAULTS}. Schedule constants (calibrated once, "
              f"claims.schedules): {constants}.")
    return results, write_report(results, output, header)
