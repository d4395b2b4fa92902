"""``ubo tasks`` writes curves, a report and a loadable trace."""

import pytest

from ubo.algorithms import Trace
from ubo.cli import main


def test_ubo_tasks_writes_curves_report_and_trace(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["tasks", "--task", "transformer_fewshot", "--algorithm", "adambo", "--steps", "6", "--runs", "2",
                 "--set", "data='grammar'", "--set", "per_class=20", "--smoothness", "3", "--output", str(out)])
    assert code == 0
    report = (out / "report.md").read_text()
    assert "adambo on transformer_fewshot" in report and "upper_loss" in report and "Spearman" in report
    assert (out / "curves.png").stat().st_size > 10_000
    trace = Trace.load(out / "trace.pt")
    assert trace.series["upper_loss"].shape == (7, 2)
    main(["tasks", "--list"])
    assert "deep_auc" in capsys.readouterr().out


def test_ubo_tasks_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="--set expects KEY=VALUE"):
        main(["tasks", "--task", "deep_auc", "--algorithm", "slip", "--set", "hidden", "--output", str(tmp_path)])
    with pytest.raises(ValueError, match="algorithm must be one of"):
        main(["tasks", "--task", "deep_auc", "--algorithm", "sgd", "--output", str(tmp_path)])
