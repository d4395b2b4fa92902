"""Realistic bilevel text tasks (RNN, LSTM, transformer) behind the shared problem protocol.

``make_task(name, size='small' | 'paper', device=...)`` builds one; ``list_tasks()`` names them.
Data comes from offline PyPI data packages read by path, or from generators in tasks.data.
"""

from ubo.tasks.registry import SIZES, list_tasks, make_task, task_parameters

__all__ = ["SIZES", "list_tasks", "make_task", "task_parameters"]
