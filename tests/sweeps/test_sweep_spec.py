"""The spec: grids expand to the Cartesian product, keys follow the content, bad specs are refused."""

from pathlib import Path

import pytest

from ubo.sweeps import SweepSpec, cell_key, grid
from sweep_helpers import tiny_spec

EXAMPLE = Path(__file__).parents[2] / "examples" / "sweep_slip_noise.toml"


def test_grid_is_the_cartesian_product_of_list_values():
    cells = grid({"a": [1, 2, 3], "b": "x", "c": [True, False]})
    assert len(cells) == 6 and {"a": 2, "b": "x", "c": False} in cells
    assert grid({}) == [{}]


def test_cells_cover_problems_noises_algorithms_and_seeds_once():
    spec = SweepSpec(name="s", problems=[{"name": "coupled", "params": {"L1": [1.0, 2.0]}}, {"name": "decoupled"}],
                     noises=[{"noise": ["bounded", "gaussian"], "sigma_f": 0.1}],
                     algorithms=[{"name": "slip", "hyper": {"eta": [0.01, 0.02, 0.03]}},
                                 {"name": "borep", "theory": {"eps": 0.5}}], seeds=[0, 7])
    cells = spec.cells()
    assert len(cells) == (2 + 1) * 2 * (3 + 1) * 2
    assert len({c.key for c in cells}) == len(cells)
    assert {c.config["seed"] for c in cells} == {0, 7}


def test_key_is_a_content_hash_of_config_and_version():
    a, b = tiny_spec().cells(), tiny_spec(name="other-name").cells()
    assert [c.key for c in a] == [c.key for c in b]          # the spec's name is not part of a cell
    assert [c.key for c in tiny_spec().cells("9.9")] != [c.key for c in a]
    changed = tiny_spec(steps=13).cells()
    assert not {c.key for c in changed} & {c.key for c in a}
    config = a[0].config
    assert cell_key(config, "1") == cell_key(dict(reversed(list(config.items()))), "1")  # key order does not matter


def test_example_spec_parses():
    spec = SweepSpec.from_toml(EXAMPLE)
    assert spec.name == "slip-noise" and len(spec.cells()) == 12


@pytest.mark.parametrize("change, word", [
    ({"runs": 0}, "runs"), ({"steps": -1}, "steps"), ({"record_every": 0}, "record_every"),
    ({"seeds": [-1]}, "seeds"), ({"probes": ["nope"]}, "probes"), ({"problems": [{"name": "nope"}]}, "problem name"),
    ({"algorithms": [{"name": "nope"}]}, "algorithm name"), ({"algorithms": [{"name": "slip", "eta": 1}]}, "unknown"),
    ({"algorithms": [{"name": "slip", "hyper": {}, "theory": {"eps": 1}}]}, "not both"),
    ({"algorithms": [{"name": "slip", "theory": {}}]}, "eps"), ({"noises": [{"law": "x"}]}, "noises"),
    ({"algorithms": [{"name": "slip", "hyper": {"eta": []}}]}, "empty"),
])
def test_bad_specs_raise_value_errors_naming_the_field(change, word):
    data = {"name": "s", "problems": [{"name": "coupled"}], "algorithms": [{"name": "slip"}], **change}
    with pytest.raises(ValueError, match=word):
        SweepSpec.from_dict(data).cells()


def test_unknown_top_level_key_and_bad_toml(tmp_path):
    with pytest.raises(ValueError, match="unknown keys"):
        SweepSpec.from_dict({"name": "s", "problems": [], "algorithms": [], "step": 3})
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(ValueError, match="TOML"):
        SweepSpec.from_toml(bad)
