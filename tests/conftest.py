"""Shared test settings: float64, one thread, derandomized hypothesis profiles."""

import os

import torch
from hypothesis import HealthCheck, settings

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "ci"))
