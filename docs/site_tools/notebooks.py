"""Execute the course notebooks (jupytext py:percent) and keep the executed .ipynb for the site.

`tests/test_notebooks.py` executes every notebook in the default suite and saves the result with
`save_executed`; `make docs` then renders those files and executes only the ones that are missing or
stale, so a CI run executes each notebook once. An executed notebook records the SHA-256 of its source,
the SHA-256 of ubo's code (every .py file of the package folders) and the `UBO_NOTEBOOK_MODE` it ran in
(notebook metadata `ubo`); it is stale when any of them differs.

    python -m docs.site_tools.notebooks [--force]     # execute what is missing or stale
"""

import argparse
import hashlib
import os
import time
import tomllib
from functools import cache
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIR = ROOT / "notebooks"
EXECUTED_DIR = ROOT / "build" / "notebooks"


def notebook_sources() -> list[Path]:
    """Every course notebook, by glob: notebooks/NN_*.py in order."""
    return sorted(SOURCE_DIR.glob("[0-9][0-9]_*.py"))


def mode() -> str:
    return os.environ.get("UBO_NOTEBOOK_MODE", "ci")


@cache
def code_sha256() -> str:
    """One hash of ubo's code: the .py files of every folder in pyproject's package-dir mapping."""
    folders = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values()
    files = sorted({f for folder in folders for f in (ROOT / folder).rglob("*.py")})
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def fingerprint(source: Path) -> dict:
    return {"source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(), "code_sha256": code_sha256(),
            "mode": mode()}


def executed_path(source: Path) -> Path:
    return EXECUTED_DIR / f"{source.stem}.ipynb"


def execute(source: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel; raises on the first cell that fails.

    The kernel gets Jupyter's inline matplotlib backend explicitly (never a GUI one, whatever the
    caller's MPLBACKEND), so each `plt.show()` leaves its figure in the outputs as a PNG.
    """
    notebook = jupytext.read(source)
    notebook.metadata["ubo"] = fingerprint(source)
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        NotebookClient(notebook, timeout=240, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        if env_backend is None:
            os.environ.pop("MPLBACKEND")
        else:
            os.environ["MPLBACKEND"] = env_backend
    return notebook


def errors(notebook: nbformat.NotebookNode) -> list:
    return [out for cell in notebook.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def stderr_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells wrote to stderr (warnings print there, with the file paths of the
    machine that ran them); a course notebook writes nothing there."""
    return "".join("".join(out.get("text", "")) for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("name") == "stderr")


def save_executed(notebook: nbformat.NotebookNode, source: Path) -> Path:
    """Write an executed notebook where the site build looks for it (build/notebooks/NAME.ipynb)."""
    path = executed_path(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def is_current(source: Path) -> bool:
    path = executed_path(source)
    if not path.exists():
        return False
    return nbformat.read(path, as_version=4).metadata.get("ubo") == fingerprint(source)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="execute every notebook, current or not")
    args = parser.parse_args(argv)
    workdir = ROOT / "build" / "notebook-workdir"
    workdir.mkdir(parents=True, exist_ok=True)
    for source in notebook_sources():
        if not args.force and is_current(source):
            print(f"{source.name}: executed copy is current")
            continue
        start = time.perf_counter()
        notebook = execute(source, workdir)
        if errors(notebook):
            raise SystemExit(f"{source.name}: a cell raised; see `pytest tests/test_notebooks.py -k {source.stem}`")
        save_executed(notebook, source)
        print(f"{source.name}: executed in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
