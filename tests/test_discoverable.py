"""Discoverable API: help(make_problem) lists parameters, repr rebuilds a problem, make_phi_problem hits
Phi's pair, frames carry the algorithm, the README's examples run as printed, the CLI basics."""

from __future__ import annotations

import contextlib
import io
import pydoc
import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from hypothesis import given, settings

from ubo import algorithms
from ubo.cli import build_parser, main as ubo_main
from ubo.synthetic import list_problems, make_phi_problem, make_problem, problem_parameters
from ubo.synthetic.strategies import problems

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_help_lists_every_family_and_its_parameters():
    text = pydoc.render_doc(make_problem, renderer=pydoc.plaintext)
    for name in list_problems():
        assert re.search(rf"^\s*{name}: ", text, re.M)
        for key, default in problem_parameters(name).items():
            assert f"{key}={default!r}" in text
    assert "phi_L0" in text and "make_phi_problem" in text


def _rebuilt(problem):
    return eval(repr(problem), {"make_problem": make_problem})  # noqa: S307 - the point of the repr


def _same(a, b) -> bool:
    x = a.x0[None]
    return (a.constants == b.constants and a.params == b.params
            and torch.equal(a.grad_phi(x), b.grad_phi(x)) and torch.equal(a.x0, b.x0))


@settings(max_examples=15)
@given(problem=problems())
def test_repr_rebuilds_any_drawn_problem(problem):
    assert repr(problem).startswith(f"make_problem({problem.name!r}")
    assert _same(_rebuilt(problem), problem)


def test_a_repr_missing_a_parameter_is_caught():
    """Planted: a repr that drops one argument rebuilds another instance, and the comparison sees it."""
    problem = make_problem("coupled", dim_x=3, instance_seed=5, noise="bounded", sigma_f=0.5)
    broken = repr(problem).replace(", instance_seed=5", "")
    assert broken != repr(problem)
    assert not _same(eval(broken, {"make_problem": make_problem}), problem)  # noqa: S307


@pytest.mark.parametrize("name, phi_L0, phi_L1, params", [
    ("coupled", 40.0, 2.0, dict(mu=0.2)),
    ("decoupled", 12.0, 0.5, dict(dim_x=3, dim_y=2, rotate=False)),
    ("coupled", 25.0, 0.0, dict(dim_x=2, dim_y=3, omega=3.0)),
])
def test_make_phi_problem_certifies_the_asked_pair(name, phi_L0, phi_L1, params):
    problem = make_phi_problem(name, phi_L0, phi_L1, **params)
    assert problem.constants.phi_L0 == pytest.approx(phi_L0, rel=1e-12)
    assert problem.constants.phi_L1 == phi_L1
    # the pair is a valid certificate: ||Hess Phi|| <= phi_L0 + phi_L1 ||grad Phi|| at points around x0
    gen = torch.Generator().manual_seed(0)
    xs = problem.x0 * torch.rand(40, 1, generator=gen, dtype=torch.float64) * 1.5 \
        + torch.randn(40, problem.dim_x, generator=gen, dtype=torch.float64)
    hess = torch.stack([torch.autograd.functional.jacobian(lambda v: problem.grad_phi(v[None])[0], x) for x in xs])
    bound = phi_L0 + phi_L1 * problem.grad_phi(xs).norm(dim=1)
    assert bool((torch.linalg.matrix_norm(hess, ord=2) <= bound * (1 + 1e-9)).all())


def test_naive_l0_l1_is_not_phis_pair():
    """Planted: passing the wanted pair as the landscape's (L0, L1) gives another Phi pair, which the
    equality check of test_make_phi_problem_certifies_the_asked_pair would catch."""
    naive = make_problem("coupled", L0=40.0, L1=2.0, mu=0.2)
    assert naive.constants.phi_L0 != pytest.approx(40.0, rel=1e-12)


def test_frames_of_several_algorithms_concatenate():
    problem = make_problem("coupled", dim_x=2, dim_y=2)
    frames = [algorithms.run(algorithms.make(name), problem, runs=2, steps=3).to_frame() for name in ("soba", "ttsa")]
    both = pd.concat(frames, ignore_index=True)
    assert both.groupby("algorithm").size().to_dict() == {"soba": 8, "ttsa": 8}


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_phi_example_runs():
    block = next(b for b in _python_blocks() if "make_phi_problem" in b)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(block, {})  # noqa: S102 - the README example, exactly as printed
    first, second = out.getvalue().splitlines()
    assert float(first.split()[0]) == pytest.approx(31.8, abs=0.05) and float(first.split()[1]) == 2.0
    assert second.startswith("40.0 make_problem('coupled'")


def test_readme_hypothesis_example_runs_as_printed():
    block = next(b for b in _python_blocks() if "@given" in b)
    assert "deadline=None" in block
    namespace = {}
    exec(block, namespace)  # noqa: S102 - the README example, exactly as printed
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 1
    tests[0]()


def test_a_tiny_momentum_moves_x_by_at_most_eta():
    """The falsifying example the README's property test found (a momentum of ~1e-301), pinned."""
    problem = make_problem("coupled", dim_x=2, dim_y=1, L1=0.0, alpha=0.0, omega=0.0, mu=1.0, L_g=1.0, cross=0.0,
                           coupling=1e-300, rotate=False)
    slip = algorithms.make("slip", eta=0.01, beta=0.9, gamma=0.1, nu=0.1, warm_start=5)
    trace = algorithms.run(slip, problem, runs=1, steps=3, x0=torch.zeros(2), y0=torch.zeros(1))
    assert float(trace.series["step_length"][1:].max()) <= 0.01 * (1 + 1e-12)


def _run_cli(*argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            rc = ubo_main(list(argv))
        except SystemExit as done:
            rc = done.code
    return rc, out.getvalue()


def test_cli_version_and_bare_command():
    import ubo

    rc, text = _run_cli("--version")
    assert rc == 0 and ubo.__version__ in text
    rc, text = _run_cli()
    assert rc == 0 and "usage: ubo" in text and "validate" in text


@pytest.mark.parametrize("command", [None, "validate", "demo", "problems"])
def test_cli_help_has_no_rest_markup(command):
    parser = build_parser()
    if command is not None:
        parser = next(a for a in parser._subparsers._group_actions if hasattr(a, "choices")).choices[command]
    assert "``" not in parser.format_help()
