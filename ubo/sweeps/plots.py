"""The standard figures of a sweep store.

    bands_PROBLEM.png   per cell: median over runs of SERIES (default ||grad Phi||) against the median
                        cumulative oracle calls, with the q..1-q quantile band over runs (one panel per problem)
    verdicts.png        per cell and probe quantity: bound holds / fails / reported only, and the share
                        of diverged runs
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ubo.sweeps.store import Store


def quantile_bands(frame: pd.DataFrame, series: str = "grad_phi_norm", q: float = 0.1) -> pd.DataFrame:
    """Per (cell, step): median oracle calls and the q, 0.5, 1-q quantiles of ``series`` over runs."""
    if not 0 < q < 0.5:
        raise ValueError(f"q must lie in (0, 0.5), got {q!r}")
    if series not in frame:
        raise ValueError(f"series must be a column of the store's frame, got {series!r}")
    grouped = frame.groupby(["cell", "step"])
    out = grouped["oracle_calls"].median().rename("calls").to_frame()
    values = grouped[series]
    out["low"], out["median"], out["high"] = values.quantile(q), values.median(), values.quantile(1 - q)
    return out.reset_index()


def short_labels(cells: pd.DataFrame) -> pd.Series:
    """Per cell: the algorithm and the settings that vary across the store's cells (the grid's axes)."""
    settings = [c for c in cells if c.split(".")[0] in ("problem", "hyper", "theory") and "." in c] + ["seed"]
    varying = [c for c in settings if cells[c].astype(str).nunique() > 1]
    return cells.apply(lambda r: " ".join([r["algorithm"]] + [f"{c.split('.')[-1]}={r[c]}" for c in varying
                                                             if not pd.isna(r[c])]), axis=1)


def plot_bands(store: Store, out: Path, series: str = "grad_phi_norm", q: float = 0.1) -> list[Path]:
    frame, cells = store.frame(), store.cells()
    if frame.empty:
        return []
    cells = cells.assign(label=short_labels(cells))
    bands = quantile_bands(frame, series, q).merge(cells[["cell", "problem", "label"]], on="cell")
    paths = []
    for problem, group in bands.groupby("problem"):
        fig, ax = plt.subplots(figsize=(10, 4.5))
        for label, curve in group.groupby("label"):
            ax.plot(curve["calls"], curve["median"], label=label, lw=1.2)
            ax.fill_between(curve["calls"], curve["low"], curve["high"], alpha=0.2)
        ax.set(xlabel="oracle calls (median over runs)", ylabel=series, yscale="log",
               title=f"{problem}: median over runs, {q:.0%}-{1 - q:.0%} quantile band")
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        path = out / f"bands_{problem}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_verdicts(store: Store, out: Path) -> Path | None:
    probes, cells = store.probes(), store.cells()
    if probes.empty:
        return None
    cells = cells[cells.state == "done"].assign(label=short_labels(cells[cells.state == "done"]))
    probes = probes.merge(cells[["cell", "label"]], on="cell")
    probes["column"] = probes["probe"] + " " + probes["quantity"]
    code = probes["holds"].map({True: 1.0, False: 0.0}).astype(float)  # NaN = reported only
    matrix = code.groupby([probes["label"], probes["column"]]).min().unstack().reindex(sorted(cells.label))
    text = {1.0: "holds", 0.0: "FAILS"}
    fig, ax = plt.subplots(figsize=(4 + 1.6 * matrix.shape[1], 1.2 + 0.35 * matrix.shape[0]))
    ax.imshow(np.ma.masked_invalid(matrix.to_numpy()), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    by_label = cells.set_index("label")
    for (i, j), value in np.ndenumerate(matrix.to_numpy()):
        missing = by_label.loc[matrix.index[i], "verdict"] == "error"
        ax.text(j, i, "probe error" if missing else text.get(value, "report"), ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(matrix.index)), [f"{lab}  ({int(by_label.loc[lab, 'n_diverged'])}/"
                                             f"{int(by_label.loc[lab, 'runs'])} diverged)" for lab in matrix.index],
                  fontsize=7)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=20, ha="right", fontsize=7)
    ax.set_title("per-cell probe verdicts (green: bound holds, red: fails, blank: reported only)", fontsize=9)
    fig.tight_layout()
    path = out / "verdicts.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_store(store: Store, series: str = "grad_phi_norm", q: float = 0.1) -> list[Path]:
    """Draw the standard figures into STORE/figures/; return their paths."""
    out = Path(store.root) / "figures"
    out.mkdir(exist_ok=True)
    paths = plot_bands(store, out, series, q)
    verdicts = plot_verdicts(store, out)
    return paths + ([verdicts] if verdicts else [])
