"""The validation report folder, written atomically (built in a temporary sibling, then renamed).

    DIR/report.md        verdict table, findings, configuration, figures
    DIR/figures/*.png    the figures of theory.plots
    DIR/tables/*.csv     the verdict and every supporting table
    DIR/config.json      the exact configuration (problem, constants, hyperparameters, seeds)
    DIR/versions.json    Python, platform and package versions, the git commit (from a checkout), command, threads

The folder is checked (new or empty, parent writable, MIN_FREE_BYTES free) before any work; if another
run takes the name meanwhile, the results go to the first free ``NAME-k`` beside it (with a warning)
rather than being lost. The folder is readable by the group and others (umask permitting).
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = ("ubo-bilevel", "torch", "numpy", "scipy", "pandas", "matplotlib", "tqdm")


MIN_FREE_BYTES = 50 * 2**20  # a report is a few MB at most


def check_output_dir(path) -> Path:
    """The output folder must not exist yet, or be an empty folder; its parent must exist, be writable
    and have MIN_FREE_BYTES free. Checked before the work starts (a test folder is created and removed)."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        why = "a folder that is not empty" if path.is_dir() else "an existing file"
        raise ValueError(f"--output must be a new or empty folder, got {str(path)!r} ({why})")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ValueError(f"--output's parent folder must exist, got {str(parent)!r}")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{path.name}.check.", dir=parent))
    except OSError as err:
        raise ValueError(f"--output's parent folder {str(parent)!r} is not writable ({err.strerror})") from None
    free = shutil.disk_usage(parent).free
    if free < MIN_FREE_BYTES:
        raise ValueError(f"--output's parent folder {str(parent)!r} has {free / 2**20:.1f} MiB free, "
                         f"need {MIN_FREE_BYTES / 2**20:.0f} MiB")
    return path


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def versions() -> dict:
    """Python, platform, package versions; the git commit and dirty flag when ubo runs from a checkout."""
    import torch

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    out.update(git_commit=commit, git_dirty=None if status is None else bool(status),
               command=" ".join(sys.argv), torch_threads=torch.get_num_threads())
    return out


def _free_name(path: Path) -> Path:
    k = 2
    while (candidate := path.with_name(f"{path.name}-{k}")).exists():
        k += 1
    return candidate


def _group_readable(folder: Path) -> None:
    """mkdtemp makes 0700 folders: give them the permissions a plain mkdir would (0777 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)


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
    _group_readable(tmp)
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
        if path.exists() and path.is_dir() and not any(path.iterdir()):
            path.rmdir()  # empty, as checked before the work
        if path.exists():  # another run took the name meanwhile: keep the results beside it
            taken, path = path, _free_name(path)
            warnings.warn(f"{str(taken)!r} was taken while ubo worked; the report is in {str(path)!r}", stacklevel=2)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
