"""Every notebook in notebooks/ (jupytext py:percent) executes top to bottom; their asserts are the checks.

Each executed notebook is saved to build/notebooks/ (docs/site_tools/notebooks.py), where `make docs`
renders it instead of executing it a second time.
"""

from importlib.util import find_spec
from pathlib import Path

import pytest

from docs.site_tools.notebooks import errors, execute, save_executed, stderr_text

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.py"))


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    notebook = execute(path, tmp_path)
    assert not errors(notebook)
    assert stderr_text(notebook) == ""
    save_executed(notebook, path)


@pytest.mark.parametrize("module, warns", [("tqdm.auto", True), ("ubo.progress", False)])
def test_ubo_progress_bars_print_no_warning_into_a_notebook(module, warns, tmp_path):
    """Planted: tqdm.auto in a kernel without ipywidgets prints its IProgress warning to stderr, which the
    check above catches; ubo.progress (what every ubo loop imports) prints nothing."""
    if warns and find_spec("ipywidgets") is not None:
        pytest.skip("ipywidgets is installed here: tqdm.auto has nothing to warn about")
    source = tmp_path / "bar.py"
    source.write_text(f"# %%\nfrom {module} import tqdm\nfor _ in tqdm(range(3), disable=True):\n    pass\n")
    text = stderr_text(execute(source, tmp_path))
    assert ("IProgress" in text) == warns
