"""ubo's SOBA and the JAX reference of benchmarks/jax_quadratic.py give the same law of ||grad Phi(x_T)|| on one
per-sample quadratic instance, with the same sampler and schedule (slow; needs jax).

The two draw their minibatches from different generators (ubo's counter-based streams, jax.random), so they
agree in distribution only. Test: two-sample Kolmogorov-Smirnov on ||grad Phi(x_T)|| over 400 runs per side,
level 0.01 (the test fails when p < 0.01). Its power is shown on planted differences: a constant step where
the schedule is 1/sqrt(t + 1), and the shuffle sampler's blocks indexed by the shared call counter instead of
each level's own (a finer difference of the joint law of the minibatches, same law per batch).
"""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("jax")
pytest.importorskip("scipy")

from scipy.stats import ks_2samp  # noqa: E402

from ubo import algorithms  # noqa: E402
from ubo.synthetic import make_problem  # noqa: E402
from ubo.synthetic.quadratic_samples import quadratic_samples  # noqa: E402

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "jax_quadratic.py"
LEVEL, RUNS, STEPS = 0.01, 400, 100


def reference():
    spec = importlib.util.spec_from_file_location("jax_quadratic", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def instance(sampling):
    q = make_problem("quadratic", dim_x=5, dim_y=5, n=256, batch_size=16)
    return quadratic_samples(*q.samples(), batch_size=16, sampling=sampling, x0=q.x0)


def p_value(problem, ubo_algorithm=None, **jax_soba):
    algo = ubo_algorithm or algorithms.make("soba", schedule="inv_sqrt")
    ours = algorithms.run(algo, problem, runs=RUNS, steps=STEPS, record_every=STEPS, seed=3,
                          progress=False).series["grad_phi_norm"][-1].numpy()
    theirs = reference().final_grad_norms(problem, RUNS, STEPS, seed=3, **jax_soba)
    return ks_2samp(ours, theirs).pvalue


@pytest.mark.slow
@pytest.mark.parametrize("sampling", ["iid", "shuffle"])
def test_same_law_of_the_hypergradient_norm(sampling):
    assert p_value(instance(sampling)) >= LEVEL


@pytest.mark.slow
def test_a_wrong_schedule_is_detected():
    assert p_value(instance("shuffle"), schedule="constant") < LEVEL


@pytest.mark.slow
def test_shuffle_blocks_on_the_shared_counter_are_detected():
    """Planted: the Oracle's per-level counter dropped (blocks follow the global call counter)."""
    problem = instance("shuffle")
    original = problem.sample_grad_f, problem.sample_grad_g, problem.sample_hvp_jvp

    def forget(method):
        def call(*args):
            args[-1].level_call = None
            return method(*args)
        return call

    problem.sample_grad_f, problem.sample_grad_g, problem.sample_hvp_jvp = (forget(m) for m in original)
    assert p_value(problem) < LEVEL
