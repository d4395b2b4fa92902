"""The validation report folder, written atomically (built in a temporary sibling, then renamed).

    DIR/report.md        verdict table, findings, configuration, figures
    DIR/figures/*.png    the figures of theory.plots
    DIR/tables/*.csv     the verdict and every supporting table
    DIR/config.json      the exact configuration (problem, constants, hyperparameters, seeds)
    DIR/versions.json    Python, platform and package versions
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = ("ubo", "torch", "numpy", "scipy", "pandas", "matplotlib", "tqdm")


def check_output_dir(path) -> Path:
    """The output folder must not exist yet, or be an empty folder; its parent must exist."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"--output must be a new or empty folder, got {str(path)!r} (exists and is not empty)")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ValueError(f"--output's parent folder must exist, got {str(parent)!r}")
    return path


def versions() -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _cell(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}"
    return "" if value is None else str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    head = "| " + " | ".join(str(c).replace("|", "\\|") for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return str(value)


def write_report(path, verdict: pd.DataFrame, tables: dict, figures: dict, config: dict, sections: list) -> Path:
    """Write the folder atomically; ``sections`` is a list of (title, markdown text) placed after the verdict."""
    path = check_output_dir(path)
    parent = path.absolute().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    try:
        (tmp / "figures").mkdir()
        (tmp / "tables").mkdir()
        verdict.to_csv(tmp / "tables" / "verdict.csv", index=False)
        for name, frame in tables.items():
            frame.to_csv(tmp / "tables" / f"{name}.csv", index=False)
        for name, fig in figures.items():
            fig.savefig(tmp / "figures" / f"{name}.png", dpi=110)
        (tmp / "config.json").write_text(json.dumps(config, indent=2, default=_json_default))
        (tmp / "versions.json").write_text(json.dumps(versions(), indent=2))
        lines = ["# ubo validate: theory against measurement", "",
                 f"Problem `{config.get('problem')}`, noise `{config.get('noise')}` (sigma {config.get('sigma')}), "
                 f"{config.get('runs')} runs x {config.get('steps')} steps, seed {config.get('seed')}.", "",
                 "## Verdict", "",
                 "`holds` is empty where a row is not judged. `ratio` is always measured / bound (<= 1 holds). "
                 "Judged kinds: *every realisation* (a failure is a bug or wrong constants), *expectation* (mean "
                 "over runs), *probability 1-delta* (quantile or concentration over runs), *identity* (a line of "
                 "the algorithm box replayed with the noise off; exact up to round-off), *sanity* (a certified "
                 "constant checked on the path), *rate* (slope or ratio against its prediction, with its CI), "
                 "*outside assumptions* (compared although an assumption fails, e.g. heavy-tailed noise: an "
                 "exceedance is a finding, not a bug). Not judged: *report* (no bound, or one that cannot fail by "
                 "construction: the note says why), *vacuous* (the bound is above what not moving gives), "
                 "*inconclusive* (e.g. a rate the noise-free control reproduces).", "", markdown_table(verdict), ""]
        for title, text in sections:
            lines += [f"## {title}", "", text, ""]
        lines += ["## Figures", ""]
        lines += [f"![{name}](figures/{name}.png)" for name in figures]
        lines += ["", "## Files", "", "Tables: " + ", ".join(f"`tables/{n}.csv`" for n in ["verdict", *tables]),
                  "", "Configuration: `config.json`; package versions: `versions.json`.", ""]
        (tmp / "report.md").write_text("\n".join(lines))
        if path.exists():
            path.rmdir()  # empty by check_output_dir
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
