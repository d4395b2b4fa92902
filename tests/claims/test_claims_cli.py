"""``ubo claims``: bad options exit 2 before any work; the quick preset writes the full report (slow)."""

import pytest

from ubo.cli import main
from ubo.theory.claims import run_claims
from ubo.theory.claims.result import VERDICTS


def test_unknown_claim_exits_2(tmp_path, capsys):
    assert main(["claims", "--only", "complexity,nope", "--output", str(tmp_path)]) == 2
    assert "--only must name claims among" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_run_claims_rejects_an_unknown_preset(tmp_path):
    with pytest.raises(ValueError, match="preset must be one of"):
        run_claims("huge", tmp_path)


@pytest.mark.slow
def test_quick_preset_writes_every_claim(tmp_path):
    results, path = run_claims("quick", tmp_path, progress=False)
    text = path.read_text()
    assert [r.key for r in results] == ["complexity", "high_probability", "tracking", "adambo", "advantage"]
    for r in results:
        assert (tmp_path / f"{r.key}.png").exists() and (tmp_path / f"{r.key}.csv").exists()
        assert r.title in text and set(r.verdicts["verdict"]) <= set(VERDICTS)
    assert text.index("| claim | probe | subject | verdict | figure |") < text.index("## Claim 1")


def test_bad_jobs_exits_2(tmp_path, capsys):
    assert main(["claims", "--jobs", "0", "--output", str(tmp_path)]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err
