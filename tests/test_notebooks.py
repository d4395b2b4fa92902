"""Every notebook in notebooks/ (jupytext py:percent) executes top to bottom; their asserts are the checks.

Each executed notebook is saved to build/notebooks/ (docs/site_tools/notebooks.py), where `make docs`
renders it instead of executing it a second time.
"""

from pathlib import Path

import pytest

from docs.site_tools.notebooks import errors, execute, save_executed

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.py"))


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    notebook = execute(path, tmp_path)
    assert not errors(notebook)
    save_executed(notebook, path)
