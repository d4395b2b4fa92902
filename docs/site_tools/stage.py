"""Lay out the sources of the documentation site in build/docs-src and write build/mkdocs.yml.

mkdocs reads one folder, while ubo's pages live in three (README.md, docs/, notebooks/). This step copies
them into build/docs-src with the layout of the site and writes the navigation, picking pages up by
glob so that a new notebook or docs page appears without editing a list:

    index.md                      README.md (the home page)
    NAME.md                       docs/NAME.md, every page
    course/index.md               notebooks/README.md (the syllabus); links to NN_name.py -> the rendered page
    course/NN_name.ipynb          build/notebooks/NN_name.ipynb, executed (docs/site_tools/notebooks.py)
    course/solutions/NAME.md      notebooks/solutions/NAME.md
    api/NAME.md                   one mkdocstrings page per package of API_PACKAGES
    assets/mathjax/               MathJax 3 (npm package `mathjax`, installed at build time: no CDN)

It also lays out build/api-src/ubo: links that give mkdocstrings the installed package layout
(`ubo.algorithms` is the folder algorithms/, ...), read from pyproject's package-dir mapping.

    python -m docs.site_tools.stage --mathjax PATH_TO_node_modules/mathjax
"""

import argparse
import json
import re
import shutil
import tomllib
from pathlib import Path

import nbformat

from docs.site_tools.notebooks import ROOT, executed_path, is_current, notebook_sources

BUILD = ROOT / "build"
SRC = BUILD / "docs-src"
API_SRC = BUILD / "api-src"
HERE = Path(__file__).resolve().parent
API_PACKAGES = ("ubo.algorithms", "ubo.synthetic", "ubo.theory", "ubo.theory.claims", "ubo.tasks", "ubo.sweeps")
DOCS_ORDER = ("theory", "claims", "ARCHITECTURE", "background", "bad-inputs", "references", "site")
NOTEBOOK_LINK = re.compile(r"\]\(((?:\.\./)?\d\d_\w+)\.py(#[^)]*)?\)")


def notebook_links_to_pages(text: str) -> str:
    """Links that suit the repository, made to suit the site: `[label](NN_name.py)` ->
    `[label](NN_name.ipynb)` (the rendered notebook) and `[label](solutions/)` -> `solutions/index.md`."""
    text = NOTEBOOK_LINK.sub(lambda m: f"]({m.group(1)}.ipynb{m.group(2) or ''})", text)
    return text.replace("](solutions/)", "](solutions/index.md)")


def first_heading(text: str) -> str | None:
    match = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "kappa": "κ",
         "lambda": "λ", "mu": "μ", "nu": "ν", "sigma": "σ", "Phi": "Φ", "nabla": "∇"}


def plain_title(title: str) -> str:
    """A heading's TeX as plain text for the navigation, which is not typeset: `$\\Phi$ ... $(L_0, L_1)$`
    -> `Φ ... (L0, L1)`, `$\\epsilon^{-4}$` -> `ε^-4`."""
    title = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK.get(m.group(1), m.group(1)), title)
    return re.sub(r"[$_{}]", "", title)


def notebook_title(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (title := first_heading(cell.source)):
            return plain_title(title)
    return path.stem


def resolve_carriage_returns(text: str) -> str:
    """Each line as a terminal shows it: the text after its last carriage return (tqdm's redraws)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def coalesce_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Merge each cell's consecutive stdout / stderr outputs and apply their carriage returns, as Jupyter
    shows them: a progress bar is its last state, not one output per redraw (a bar that cleared itself
    leaves nothing)."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if out.output_type == "stream" and merged and merged[-1].output_type == "stream" \
                    and merged[-1].name == out.name:
                merged[-1].text += out.text
            else:
                merged.append(out)
        for out in merged:
            if out.output_type == "stream":
                out.text = resolve_carriage_returns(out.text)
        cell.outputs = [out for out in merged if out.output_type != "stream" or out.text.strip()]
    return notebook


def docs_pages() -> list[Path]:
    pages = sorted((ROOT / "docs").glob("*.md"))
    rank = {name: i for i, name in enumerate(DOCS_ORDER)}
    return sorted(pages, key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def stage_api() -> list[dict]:
    """build/api-src/ubo mirrors the installed layout; one page per package in API_PACKAGES."""
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(API_SRC, ignore_errors=True)
    (API_SRC / "ubo").mkdir(parents=True)
    for module in (ROOT / package_dir["ubo"]).glob("*.py"):
        (API_SRC / "ubo" / module.name).symlink_to(module)
    for name, folder in sorted(package_dir.items()):
        parts = name.split(".")
        if len(parts) != 2:          # nested packages (ubo.theory.claims) come with their parent's folder
            continue
        target = API_SRC / "ubo" / parts[1]
        target.unlink(missing_ok=True)
        target.symlink_to(ROOT / folder, target_is_directory=True)
    nav = []
    for package in API_PACKAGES:
        page = f"api/{package}.md"
        (SRC / page).write_text(api_page(package))
        nav.append({package: page})
    return nav


def api_page(package: str) -> str:
    """The mkdocstrings page of one package: its modules (show_submodules), less any subpackage that has a
    page of its own in API_PACKAGES (ubo.theory leaves out ubo.theory.claims), so nothing appears twice."""
    own = [p.rsplit(".", 1)[1] for p in API_PACKAGES if p.rsplit(".", 1)[0] == package]
    if not own:
        return f"# `{package}`\n\n::: {package}\n"
    filters = ", ".join(['"!^_[^_]"'] + [f'"!^{name}$"' for name in own])
    return f"# `{package}`\n\n::: {package}\n    options:\n      filters: [{filters}]\n"


def stage_course() -> list:
    (SRC / "course" / "solutions").mkdir(parents=True)
    syllabus = (ROOT / "notebooks" / "README.md").read_text()
    (SRC / "course" / "index.md").write_text(notebook_links_to_pages(syllabus))
    nav: list = [{"Syllabus and exercises": "course/index.md"}]
    for source in notebook_sources():
        executed = executed_path(source)
        if not is_current(source):
            raise SystemExit(f"{executed} is missing or stale: run `python -m docs.site_tools.notebooks`")
        notebook = coalesce_streams(nbformat.read(executed, as_version=4))
        nbformat.write(notebook, SRC / "course" / executed.name)
        nav.append({notebook_title(executed): f"course/{executed.name}"})
    solutions = []
    for page in sorted((ROOT / "notebooks" / "solutions").glob("*.md")):
        text = page.read_text()
        (SRC / "course" / "solutions" / page.name).write_text(notebook_links_to_pages(text))
        solutions.append({first_heading(text) or page.stem: f"course/solutions/{page.name}"})
    if solutions:
        index = "# Solutions\n\n" + "".join(f"- [{t}]({Path(p).name})\n" for item in solutions for t, p in item.items())
        (SRC / "course" / "solutions" / "index.md").write_text(index)
        nav.append({"Solutions": [{"Solutions": "course/solutions/index.md"}, *solutions]})
    return nav


def stage(mathjax: Path) -> None:
    if not (mathjax / "es5" / "tex-chtml.js").exists():
        raise SystemExit(f"--mathjax {mathjax}: not the npm package mathjax (no es5/tex-chtml.js)")
    shutil.rmtree(SRC, ignore_errors=True)
    (SRC / "api").mkdir(parents=True)
    shutil.copy(ROOT / "README.md", SRC / "index.md")
    guide = []
    for page in docs_pages():
        shutil.copy(page, SRC / page.name)
        guide.append(page.name)
    shutil.copytree(mathjax / "es5", SRC / "assets" / "mathjax")
    shutil.copytree(HERE / "assets", SRC / "assets", dirs_exist_ok=True)
    nav = [{"Home": "index.md"}, {"Course": stage_course()}, {"Guide": guide}, {"API reference": stage_api()}]
    config = "\n".join([
        "# Written by docs/site_tools/stage.py (`make docs`); edit mkdocs.yml at the repository root instead.",
        "INHERIT: ../mkdocs.yml",
        "docs_dir: docs-src",
        "site_dir: ../site",
        f"nav: {json.dumps(nav, ensure_ascii=False)}",
        "",
    ])
    (BUILD / "mkdocs.yml").write_text(config)
    print(f"staged {len(guide)} docs pages, {len(notebook_sources())} notebooks and {len(API_PACKAGES)} API pages in {SRC}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mathjax", type=Path, required=True, help="the npm package folder node_modules/mathjax")
    stage(parser.parse_args(argv).mathjax)


if __name__ == "__main__":
    main()
