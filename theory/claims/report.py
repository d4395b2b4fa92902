"""Write the claims report: report.md (the verdict table first, then one section per claim), one PNG
figure and one CSV table per claim, all under one output folder."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ubo.theory.claims.figures import FIGURES


def _markdown(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def write_report(results: list, output, header: str = "") -> Path:
    """Figures, CSVs and report.md for ``results`` (ClaimResult list) under ``output``; returns report.md."""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    summary, sections = [], []
    for r in results:
        figure = f"{r.key}.png"
        fig = FIGURES[r.key](r)
        fig.savefig(out / figure, dpi=110, bbox_inches="tight")
        plt.close(fig)
        r.table.to_csv(out / f"{r.key}.csv", index=False)
        for _, v in r.verdicts.iterrows():
            summary.append({"claim": r.title, "probe": r.probe.split(";")[0], "subject": v["subject"],
                            "verdict": v["verdict"], "figure": f"[{figure}]({figure})"})
        sections.append("\n\n".join([
            f"## {r.title}", f"**Statement.** {r.statement}", f"**Probe.** {r.probe}",
            f"**Verdict rule (declared before running).** {r.rule}", f"![{r.key}]({figure})",
            "**Verdicts.**\n\n" + _markdown(r.verdicts),
            f"**Measured** (also in `{r.key}.csv`).\n\n" + _markdown(r.table),
            *(f"- {n}" for n in r.notes)]))
    text = "\n\n".join(["# The papers' headline claims, measured", header,
                        _markdown(pd.DataFrame(summary)), *sections]) + "\n"
    path = out / "report.md"
    path.write_text(text)
    return path
