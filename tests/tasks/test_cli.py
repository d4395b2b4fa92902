"""``ubo tasks`` writes curves, a report, a loadable trace, config.json and versions.json; bad arguments
end with one line and status 2; an existing report is never overwritten without --force."""

import json

import pytest

from ubo.algorithms import Trace
from ubo.cli import main

GRAMMAR_TRANSFORMER = ["--task", "transformer_fewshot", "--set", "data='grammar'", "--set", "per_class=20"]


def test_ubo_tasks_writes_curves_report_trace_and_config(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["tasks", *GRAMMAR_TRANSFORMER, "--algorithm", "adambo", "--steps", "6", "--runs", "2",
                 "--smoothness", "3", "--output", str(out)])
    assert code == 0
    report = (out / "report.md").read_text()
    assert "adambo on transformer_fewshot" in report and "upper_loss" in report and "Spearman" in report
    assert "generated negation grammar" in report and "make_task('transformer_fewshot'" in report
    assert (out / "curves.png").stat().st_size > 10_000
    trace = Trace.load(out / "trace.pt")
    assert trace.series["upper_loss"].shape == (7, 2)
    config = json.loads((out / "config.json").read_text())
    assert config["hyper"]["lam"] == 1e-8 and "grammar" in config["data"]
    assert "torch" in json.loads((out / "versions.json").read_text())
    main(["tasks", "--list"])
    assert "deep_auc" in capsys.readouterr().out
    main(["tasks", "--task", "deep_auc", "--params"])
    assert "imratio" in capsys.readouterr().out


def test_an_existing_report_is_kept_without_force(tmp_path, capsys):
    (tmp_path / "report.md").write_text("mine")
    args = ["tasks", *GRAMMAR_TRANSFORMER, "--algorithm", "slip", "--steps", "1", "--runs", "1",
            "--output", str(tmp_path)]
    assert main(args) == 2
    assert (tmp_path / "report.md").read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    assert "slip on transformer_fewshot" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("extra, message", [
    (["--task", "nope", "--algorithm", "slip"], "--task must be one of"),
    (["--task", "deep_auc", "--algorithm", "nope"], "algorithm must be one of"),
    (["--task", "deep_auc", "--algorithm", "slip", "--hyper", "eta=-1"], "eta"),
    (["--task", "deep_auc", "--algorithm", "slip", "--hyper", "eta=abc"], "eta"),
    (["--task", "deep_auc", "--algorithm", "slip", "--hyper", "foo=1"], "foo"),
    (["--task", "deep_auc", "--algorithm", "slip", "--hyper", "eta"], "--hyper expects KEY=VALUE"),
    (["--task", "deep_auc", "--algorithm", "slip", "--set", "hidden=-4"], "hidden must be"),
    (["--task", "deep_auc", "--algorithm", "slip", "--set", "nope=1"], "has no parameter"),
    (["--task", "deep_auc", "--algorithm", "slip", "--eta", "0"], "--eta must be > 0"),
    (["--task", "deep_auc", "--algorithm", "slip", "--runs", "0"], "--runs must be"),
    (["--task", "deep_auc", "--algorithm", "slip", "--threads", "0"], "--threads must be"),
    (["--task", "deep_auc", "--algorithm", "slip", "--smoothness", "-1"], "--smoothness must be"),
    (["--task", "deep_auc"], "are required"),
])
def test_bad_arguments_end_with_one_line(tmp_path, capsys, extra, message):
    assert main(["tasks", *extra, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ubo tasks: error:") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "report.md").exists()


def test_output_that_is_a_file_is_rejected(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["tasks", "--task", "deep_auc", "--algorithm", "slip", "--output", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_paper_size_on_cpu_warns_with_an_estimate():
    from ubo.tasks import task_parameters
    from ubo.tasks.cli import paper_cost_warning

    warning = paper_cost_warning("hyper_cleaning", task_parameters("hyper_cleaning", "paper"), "cpu")
    assert warning is not None and " h on CPU" in warning
    assert paper_cost_warning("hyper_cleaning", task_parameters("hyper_cleaning", "paper"), "cuda") is None
    assert paper_cost_warning("hyper_cleaning", task_parameters("hyper_cleaning", "small"), "cpu") is None


def test_compare_writes_a_table_with_intervals_and_baselines(tmp_path):
    out = tmp_path / "cmp"
    code = main(["tasks", "--compare", "--task", "hyper_cleaning", "--set", "limit=200", "--set", "hidden=8",
                 "--set", "pretrain_steps=20", "--methods", "slip,ma_soba", "--grid", "0.3,1", "--runs", "2",
                 "--steps", "5", "--output", str(out)])
    assert code == 0
    table = (out / "table.md").read_text()
    for word in ("slip", "ma_soba", "majority", "upper head at x0", "joint head at x0 (all training data)",
                 "95 % interval", "Does a method of the papers"):
        assert word in table
    assert (out / "comparison.png").stat().st_size > 10_000
    assert len((out / "grid.csv").read_text().splitlines()) == 1 + 2 * 2 * 2
