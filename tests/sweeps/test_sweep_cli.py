"""``ubo sweep``: compute, --status, --plot, exit codes; the example spec end to end on both backends (slow)."""

from pathlib import Path

import pytest

from ubo.cli import main
from ubo.sweeps import Store
from ubo.sweeps.compare import differences

EXAMPLE = Path(__file__).parents[2] / "examples" / "sweep_slip_noise.toml"
TINY = """
name = "cli"
runs = 3
steps = 8
record_every = 4
probes = ["stationarity"]

[[problems]]
name = "coupled"
params = { dim_x = 2, dim_y = 2 }

[[algorithms]]
name = "slip"
hyper = { eta = [0.01, -1.0] }
"""


def test_sweep_status_and_plot(tmp_path, capsys):
    spec = tmp_path / "cli.toml"
    spec.write_text(TINY)
    store = tmp_path / "store"
    assert main(["sweep", str(spec), "--store", str(store), "--status"]) == 0
    assert "2 cells: 0 done, 0 running, 0 failed, 2 missing" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--store", str(store)]) == 1          # one cell fails: eta = -1
    out = capsys.readouterr().out
    assert "1 done, 0 running, 1 failed, 0 missing" in out and "eta" in out
    assert main(["sweep", str(spec), "--store", str(store), "--plot"]) == 0
    figures = {Path(p).name for p in capsys.readouterr().out.split()}
    assert figures == {"bands_coupled.png", "verdicts.png"}
    assert all((store / "figures" / f).stat().st_size > 1000 for f in figures)


def test_missing_spec_file(tmp_path):
    with pytest.raises(SystemExit, match="not found"):
        main(["sweep", str(tmp_path / "nope.toml")])


@pytest.mark.slow
def test_example_spec_end_to_end_on_both_backends(tmp_path):
    """The example spec through the command line, 2 local workers and a local Ray instance: same bits."""
    pytest.importorskip("ray")
    local, ray_store = tmp_path / "local", tmp_path / "ray"
    assert main(["sweep", str(EXAMPLE), "--store", str(local), "--workers", "2"]) == 0
    assert main(["sweep", str(EXAMPLE), "--store", str(ray_store), "--backend", "ray", "--workers", "2"]) == 0
    assert len(Store(local).keys()) == 12 and differences(Store(local), Store(ray_store)) == []
    assert main(["sweep", str(EXAMPLE), "--store", str(local), "--plot"]) == 0
