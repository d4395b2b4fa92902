"""Run every claim with one preset and write the report: ``run_claims("quick", "claims-report")``.

Each claim is also a function of its own (claims.claim_complexity, ...), taking the preset dict and an
``instance`` factory (noise=..., sigma=...) -> problem, so a notebook can run one claim on any instance.
"""

from __future__ import annotations

import os
import platform
import time

import torch

from ubo.theory.claims import schedules
from ubo.theory.claims.adambo_theory import claim_adambo
from ubo.theory.claims.advantage import claim_advantage
from ubo.theory.claims.complexity import claim_complexity
from ubo.theory.claims.high_probability import claim_high_probability
from ubo.theory.claims.instances import COMPLEXITY_DEFAULTS, COMPLEXITY_SIGMA, L1_DEFAULTS
from ubo.theory.claims.presets import PRESETS
from ubo.theory.claims.report import write_report
from ubo.theory.claims.tracking import claim_tracking

def _load() -> str:
    try:
        return "/".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


CLAIMS = {"complexity": claim_complexity, "high_probability": claim_high_probability, "tracking": claim_tracking,
          "adambo": claim_adambo, "advantage": claim_advantage}


def run_claims(preset: str = "quick", output="claims-report", only=None, seed: int = 0, progress: bool = True,
               instance=None, contrast=None):
    """Run the claims named in ``only`` (default all) with PRESETS[preset]; write the report; return (results, path).

    ``instance`` / ``contrast``: factories replacing every claim's own default instance (None: each claim's
    default, see claims.instances) and claim 5's bounded-smooth contrast."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    names = list(CLAIMS) if only is None else list(only)
    unknown = set(names) - set(CLAIMS)
    if unknown:
        raise ValueError(f"claims must be among {sorted(CLAIMS)}, got {sorted(unknown)}")
    torch.set_num_threads(1)  # small tensors: one thread is fastest on a shared machine
    config, start, results = PRESETS[preset], time.perf_counter(), []
    for name in names:
        kw = {"contrast": contrast} if name == "advantage" and contrast is not None else {}
        if instance is not None:
            kw["instance"] = instance
        began = time.perf_counter()
        results.append(CLAIMS[name](config, seed=seed, progress=progress, **kw))
        results[-1].notes.append(f"wall time {time.perf_counter() - began:.0f} s")
    constants = {k: getattr(schedules, k) for k in dir(schedules) if k.startswith("C_") or k == "ADAM_LAMBDA"}
    header = (f"Preset `{preset}` ({config}), seed {seed}; wall time {time.perf_counter() - start:.0f} s on "
              f"{platform.machine()} with torch {torch.__version__}, load average {_load()}.\n\nInstances "
              f"(claims.instances): claim 1 `coupled` {COMPLEXITY_DEFAULTS} with sigma = {COMPLEXITY_SIGMA}; claims "
              f"2-4 `coupled` {L1_DEFAULTS} with sigma = 1; claim 5 `steep` (defaults, sigma = 1) against `steep` "
              f"with L1 = 0" + ("" if instance is None else f"; replaced by {getattr(instance, '__name__', instance)}")
              + f". Schedule constants (claims.schedules, from the pilot stated there): {constants}.")
    return results, write_report(results, output, header)
