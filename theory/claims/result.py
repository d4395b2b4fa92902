"""What every claim returns: a ClaimResult with its verdict rows, the measured table and plot data.

Verdicts are one of VERDICTS and always come from a rule written in the claim's module docstring
before any number was seen; ``rule`` repeats that rule next to the verdict in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


@dataclass
class ClaimResult:
    key: str                 # "complexity", "high_probability", ...
    title: str
    statement: str           # the paper's claim and the theorem it comes from
    probe: str               # what was measured
    rule: str                # the pre-declared verdict rule
    verdicts: pd.DataFrame   # rows: subject (method / setting), verdict, evidence
    table: pd.DataFrame      # the measured numbers
    plot: dict = field(default_factory=dict)   # data for the figure (report.py draws it)
    notes: list = field(default_factory=list)  # calibration, instance facts, caveats

    def __post_init__(self):
        bad = set(self.verdicts["verdict"]) - set(VERDICTS)
        if bad:
            raise ValueError(f"verdicts must be among {VERDICTS}, got {sorted(bad)}")


def verdict_row(subject: str, verdict: str, evidence: str) -> dict:
    return {"subject": subject, "verdict": verdict, "evidence": evidence}
