"""Tasks by name: ``make_task(name, size='small' | 'paper', device=..., **params)`` and ``list_tasks()``."""

from __future__ import annotations

import sys

from ubo.tasks.base import TextBilevelTask
from ubo.tasks.deep_auc import DeepAUC
from ubo.tasks.hyper_cleaning import hyper_cleaning
from ubo.tasks.hyper_representation import HyperRepresentation
from ubo.tasks.hyperparam_opt import hyperparam_opt
from ubo.tasks.transformer_fewshot import TransformerFewShot

_TASKS = {
    "hyper_representation": (HyperRepresentation, "meta-learning: x = RNN/LSTM encoder, y = shared linear head "
                             "(mu/2||y||^2), tasks from multi-domain sentiment sets"),
    "hyperparam_opt": (hyperparam_opt, "x = per-feature L2 penalties, y = linear classifier on fixed RNN features, "
                       "f on a validation split (lower='rnn': y = the whole RNN classifier, no ground truth)"),
    "hyper_cleaning": (hyper_cleaning, "x = per-example weights of a noisy training split, y = linear classifier, "
                       "f on a clean validation split (lower='rnn': y = the whole RNN classifier, no ground truth)"),
    "deep_auc": (DeepAUC, "AUC-margin min-max as bilevel: x = RNN scorer, y = dual alpha (strongly concave), "
                 "SMS spam with a controllable imbalance"),
    "transformer_fewshot": (TransformerFewShot, "AdamBO's check: random-init transformer encoder (x), linear head "
                            "(y), 2-way TREC few-shot tasks"),
}
SIZES = ("small", "paper")


def list_tasks() -> dict[str, str]:
    """{name: one-line summary} of every task."""
    return {name: summary for name, (_, summary) in _TASKS.items()}


def task_parameters(name: str, size: str = "small") -> dict:
    """The preset parameters of a task at ``size``: every key ``make_task(name, size, **params)`` accepts."""
    if name not in _TASKS:
        raise ValueError(f"task name must be one of {sorted(_TASKS)}, got {name!r}")
    presets = sys.modules[_TASKS[name][0].__module__].PRESETS
    if size not in presets:
        raise ValueError(f"size must be one of {sorted(presets)}, got {size!r}")
    return dict(presets[size])


def make_task(name: str, size: str = "small", device="cpu", **params) -> TextBilevelTask:
    """Build a task as a problem of the shared protocol; bad names, sizes or parameters raise ValueError.

    size='small' runs on CPU in seconds (hidden 16-32, a few hundred examples); size='paper' uses
    the papers' sizes (hidden 2048-4096, batch 512 for hyper-cleaning) and is meant for a GPU.
    """
    if name not in _TASKS:
        raise ValueError(f"task name must be one of {sorted(_TASKS)}, got {name!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    return _TASKS[name][0](size=size, device=device, **params)
