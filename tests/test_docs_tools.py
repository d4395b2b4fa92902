"""The documentation site's build steps that can go wrong silently (docs/site_tools): staleness of the
executed notebooks, link rewriting, stream coalescing, plain-text docstrings. Cheap; no build, no browser."""

import nbformat

from docs.site_tools import notebooks
from docs.site_tools.griffe_plaintext import verbatim_blocks
from docs.site_tools.stage import api_page, coalesce_streams, notebook_links_to_pages, plain_title


def test_an_executed_copy_is_stale_when_the_source_the_code_or_the_mode_changes(tmp_path, monkeypatch):
    source = tmp_path / "01_demo.py"
    source.write_text("# %%\nx = 1\n")
    monkeypatch.setattr(notebooks, "EXECUTED_DIR", tmp_path / "executed")
    assert not notebooks.is_current(source)                      # missing
    notebook = nbformat.v4.new_notebook(metadata={"ubo": notebooks.fingerprint(source)})
    notebooks.save_executed(notebook, source)
    assert notebooks.is_current(source)
    monkeypatch.setenv("UBO_NOTEBOOK_MODE", "full")
    assert not notebooks.is_current(source)                      # other mode
    monkeypatch.setenv("UBO_NOTEBOOK_MODE", "ci")
    assert notebooks.is_current(source)
    monkeypatch.setattr(notebooks, "code_sha256", lambda: "0" * 64)
    assert not notebooks.is_current(source)                      # ubo's code changed
    monkeypatch.undo()
    monkeypatch.setattr(notebooks, "EXECUTED_DIR", tmp_path / "executed")
    assert notebooks.is_current(source)
    source.write_text("# %%\nx = 2\n")
    assert not notebooks.is_current(source)                      # edited source


def test_links_to_notebook_sources_point_at_the_rendered_pages():
    text = "[01_a.py](01_a.py), [b](../02_b.py#part), [solutions/](solutions/), [x](other.py), [c](12_c.py)"
    assert notebook_links_to_pages(text) == ("[01_a.py](01_a.ipynb), [b](../02_b.ipynb#part), "
                                             "[solutions/](solutions/index.md), [x](other.py), [c](12_c.ipynb)")


def test_navigation_titles_have_no_tex():
    assert plain_title(r"3. $\Phi$ inherits $(L_0, L_1)$-smoothness") == "3. Φ inherits (L0, L1)-smoothness"
    assert plain_title(r"7. Rates: $\epsilon^{-4}$, $z^*$") == "7. Rates: ε^-4, z^*"


def test_progress_bars_show_their_last_state():
    cell = nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="\rrun:  10%|#"),
        nbformat.v4.new_output("stream", name="stderr", text="\rrun: 100%|##########|\n"),
        nbformat.v4.new_output("stream", name="stdout", text="result 1\n"),
        nbformat.v4.new_output("stream", name="stderr", text="\r      \r"),
    ])
    notebook = coalesce_streams(nbformat.v4.new_notebook(cells=[cell]))
    assert [(o.name, o.text) for o in notebook.cells[0].outputs] == [("stderr", "run: 100%|##########|\n"),
                                                                     ("stdout", "result 1\n")]


def test_indented_docstring_blocks_become_verbatim():
    doc = "Usage::\n\n  ubo tasks [--runs 2]\n            [--steps 4]\n\nprobability\n>= 1 - delta\n\n- a\n  b"
    assert verbatim_blocks(doc) == ("Usage:\n\n    ubo tasks [--runs 2]\n              [--steps 4]\n\n"
                                    "probability\n\\>= 1 - delta\n\n- a\n  b")


def test_a_subpackage_with_its_own_api_page_is_left_out_of_its_parents_page():
    assert api_page("ubo.theory").endswith('filters: ["!^_[^_]", "!^claims$"]\n')   # ubo.theory.claims has its page
    assert api_page("ubo.algorithms") == "# `ubo.algorithms`\n\n::: ubo.algorithms\n"
