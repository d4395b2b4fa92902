"""``ubo validate --quick`` end to end, bad options, the atomic report folder, and ``ubo demo``."""

import argparse
import json

import pandas as pd
import pytest

from ubo.theory.cli import add_demo_parser, add_validate_parser
from ubo.theory.report import write_report


def _main(argv):
    parser = argparse.ArgumentParser(prog="ubo")
    sub = parser.add_subparsers(required=True)
    add_validate_parser(sub)
    add_demo_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_validate_quick_end_to_end(tmp_path, capsys):
    out = tmp_path / "report"
    assert _main(["validate", "--quick", "--no-progress", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "probe" in printed and "P10" in printed and "Report:" in printed
    verdict = pd.read_csv(out / "tables" / "verdict.csv")
    assert set(verdict["algorithm"]) == {"borep", "slip", "adambo", "soba"}
    assert {f"P{i}" for i in range(1, 11)} <= set(verdict["probe"])
    assert not (verdict["holds"].astype(str) == "False").any(), verdict[verdict["holds"].astype(str) == "False"]
    config = json.loads((out / "config.json").read_text())
    assert config["quick"] and config["hyper"]["slip"]["eta"] > 0
    assert "torch" in json.loads((out / "versions.json").read_text())
    for name in ("stationarity", "tracking", "tails", "smoothness", "rates"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    assert "## Verdict" in (out / "report.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--problem", "nope"], "--problem must be one of"),
    (["--algorithms", "slip,nope"], "algorithms must be among"),
    (["--runs", "3"], "--runs must be an int >= 20"),
    (["--noise", "cauchy"], "--noise must be one of"),
    (["--sigma", "-1"], "--sigma must be"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "report"
    assert _main(["validate", "--quick", "--no-progress", "--output", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_non_empty_output_is_refused(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert _main(["validate", "--quick", "--no-progress", "--output", str(tmp_path)]) == 2
    assert "--output must be a new or empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_report_is_atomic_when_writing_fails(tmp_path):
    class Broken:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("disk full")

    verdict = pd.DataFrame({"probe": ["P1"], "holds": [True]})
    with pytest.raises(RuntimeError):
        write_report(tmp_path / "r", verdict, {}, {"bad": Broken()}, {"problem": "x"}, [])
    assert list(tmp_path.iterdir()) == []


def test_demo_checks_the_certificate(capsys):
    assert _main(["demo", "--points", "200"]) == 0
    out = capsys.readouterr().out
    assert "phi_L0" in out and "holds" in out


@pytest.mark.slow
def test_validate_default_configuration(tmp_path):
    """The main job as shipped (1000 runs x 2000 steps, every probe): every applicable bound holds.

    Its running time is a benchmark figure (benchmarks/RESULTS.md), not asserted here.
    """
    assert _main(["validate", "--no-progress", "--output", str(tmp_path / "r")]) == 0
    verdict = pd.read_csv(tmp_path / "r" / "tables" / "verdict.csv")
    assert not (verdict["holds"].astype(str) == "False").any()


def test_exit_code_is_1_when_a_judged_row_fails(tmp_path, monkeypatch, capsys):
    """A failed judged row exits 1 (no traceback); rows that only report never change the exit code."""
    import ubo.theory.validate as job

    def fake_validate(**kwargs):
        verdict = pd.DataFrame([{"probe": "P11", "algorithm": "slip", "quantity": "q", "measured": 1.0, "bound": 0.5,
                                 "ratio": 2.0, "holds": False, "kind": "identity", "note": ""},
                                {"probe": "P1", "algorithm": "slip", "quantity": "q", "measured": 1.0, "bound": None,
                                 "ratio": None, "holds": None, "kind": "report", "note": ""}])
        return verdict, kwargs["output"]

    monkeypatch.setattr(job, "validate", fake_validate)
    assert _main(["validate", "--quick", "--no-progress", "--output", str(tmp_path / "r")]) == 1
    assert "1 judged row(s) did not hold" in capsys.readouterr().out


def test_unknown_mutant_exits_2(capsys):
    assert _main(["validate", "--quick", "--mutants", "nope"]) == 2
    assert "mutant must be one of" in capsys.readouterr().err
