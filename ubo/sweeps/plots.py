"""The standard figures of a sweep store.

    bands_PROBLEM.png   per cell: median over runs of SERIES (default ||grad Phi||) against the median
                        cumulative oracle calls, with the q..1-q quantile band over runs (one panel per problem)
    verdicts.png        per cell and probe quantity: bound holds / fails / reported only, and the share
                        of diverged runs
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ubo.sweeps.store import Store  # noqa: E402


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


def plot_bands(store: Store, out: Path, series: str = "grad_phi_norm", q: float = 0.1) -> list[Path]:
    frame, cells = store.frame(), store.cells()
    if frame.empty:
        return []
    bands = quantile_bands(frame, series, q).merge(cells[["cell", "problem", "label"]], on="cell")
    paths = []
    for problem, group in bands.groupby("problem"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, curve in group.groupby("label"):
            ax.plot(curve["calls"], curve["median"], label=label, lw=1.2)
            ax.fill_between(curve["calls"], curve["low"], curve["high"], alpha=0.2)
        ax.set(xlabel="oracle calls (median over runs)", ylabel=f"{series} (median, {q:.0%}-{1 - q:.0%} band)",
               yscale="log", title=f"{problem}: {series} over oracle calls")
        ax.legend(fontsize=6, loc="best")
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
    probes = probes.merge(cells[["cell", "label", "n_diverged", "runs"]], on="cell")
    probes["column"] = probes["probe"] + " " + probes["quantity"]
    code = probes["holds"].map({True: 1.0, False: 0.0}).astype(float)  # NaN = reported only
    matrix = code.groupby([probes["label"], probes["column"]]).min().unstack()
    fig, ax = plt.subplots(figsize=(2 + 1.2 * matrix.shape[1], 1 + 0.35 * matrix.shape[0]))
    ax.imshow(np.ma.masked_invalid(matrix.to_numpy()), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix.to_numpy()):
        ax.text(j, i, {1.0: "holds", 0.0: "FAILS"}.get(value, "report"), ha="center", va="center", fontsize=7)
    diverged = probes.groupby("label")[["n_diverged", "runs"]].first().loc[matrix.index]
    ax.set_yticks(range(len(matrix.index)),
                  [f"{lab}  ({int(d)}/{int(r)} diverged)" for lab, (d, r) in zip(matrix.index, diverged.to_numpy())],
                  fontsize=6)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=30, ha="right", fontsize=7)
    ax.set_title("per-cell probe verdicts")
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
