"""Run every claim with one preset and write the report: ``run_claims("quick", "claims-report")``.

Each claim is also a function of its own (claims.claim_complexity, ...), taking the preset dict and an
``instance`` factory (noise=..., sigma=...) -> problem, so a notebook can run one claim on any instance.
"""

from __future__ import annotations

import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext

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


def _single_thread() -> None:
    torch.set_num_threads(1)


def _timed(name: str, config: dict, kw: dict):
    began = time.perf_counter()
    result = CLAIMS[name](config, **kw)
    result.notes.append(f"wall time {time.perf_counter() - began:.0f} s")
    return result


def run_claims(preset: str = "quick", output="claims-report", only=None, seed: int = 0, progress: bool = True,
               instance=None, contrast=None, jobs: int = 1):
    """Run the claims named in ``only`` (default all) with PRESETS[preset]; write the report; return (results, path).

    ``instance`` / ``contrast``: factories replacing every claim's own default instance (None: each claim's
    default, see claims.instances) and claim 5's bounded-smooth contrast. ``jobs`` > 1: claims 2-5 run in
    ``jobs - 1`` worker processes while claim 1 splits its (method, noise, eps) batches over ``jobs`` (same numbers
    as jobs = 1)."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    names = list(CLAIMS) if only is None else list(only)
    unknown = set(names) - set(CLAIMS)
    if unknown:
        raise ValueError(f"claims must be among {sorted(CLAIMS)}, got {sorted(unknown)}")
    torch.set_num_threads(1)  # small tensors: one thread is fastest on a shared machine
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}")
    config, start = PRESETS[preset], time.perf_counter()
    kws = {}
    for name in names:
        kw = {"contrast": contrast} if name == "advantage" and contrast is not None else {}
        if instance is not None:
            kw["instance"] = instance
        kws[name] = {**kw, "seed": seed, "progress": progress}
    if jobs > 1 and "complexity" in names:
        kws["complexity"]["jobs"] = jobs
    done = {}
    with ProcessPoolExecutor(max_workers=jobs - 1, initializer=_single_thread) if jobs > 1 else nullcontext() as pool:
        futures = {} if pool is None else {n: pool.submit(_timed, n, config, kws[n]) for n in names if n != "complexity"}
        for name in names:  # claim 1 (itself split over jobs processes) here, the others in the pool
            if name not in futures:
                done[name] = _timed(name, config, kws[name])
        for name, future in futures.items():
            done[name] = future.result()
    results = [done[n] for n in names]
    constants = {k: getattr(schedules, k) for k in dir(schedules) if k.startswith("C_") or k == "ADAM_LAMBDA"}
    header = (f"Preset `{preset}` ({config}), seed {seed}; wall time {time.perf_counter() - start:.0f} s on "
              f"{platform.machine()} with torch {torch.__version__}, {jobs} process(es), load average {_load()}.\n\nInstances "
              f"(claims.instances): claim 1 `coupled` {COMPLEXITY_DEFAULTS} with sigma = {COMPLEXITY_SIGMA}; claims "
              f"2-4 `coupled` {L1_DEFAULTS} with sigma = 1; claim 5 `steep` (defaults, sigma = 1) against `steep` "
              f"with L1 = 0" + ("" if instance is None else f"; replaced by {getattr(instance, '__name__', instance)}")
              + f". Schedule constants (claims.schedules, from the pilot stated there): {constants}.")
    return results, write_report(results, output, header)
