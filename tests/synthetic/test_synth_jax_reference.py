"""The JAX reference of benchmarks/jax_reference.py does ubo's work: the same iterates to rounding (slow; needs jax)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("jax")

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "jax_reference.py"


def load_reference():
    spec = importlib.util.spec_from_file_location("jax_reference", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("method", ["soba", "slip"])
def test_jax_reference_reproduces_ubo_iterates(method):
    """200 noisy steps on 8 runs: the two agree to 1e-12 (jnp.log and log_pos differ by an ulp at times)."""
    assert load_reference().check(method) < 1e-12
