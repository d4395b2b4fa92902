"""Every bad input tried against the user-facing API (the newcomer review's list, issue 8) and the clear
message it must now give; plus the numpy inputs that must now be accepted.

``python tests/test_bad_inputs.py`` prints the Markdown table of docs/bad-inputs.md from the live messages.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ubo import algorithms
from ubo.algorithms import Trace
from ubo.cli import main as ubo_main
from ubo.synthetic import make_phi_problem, make_problem
from ubo.theory.report import check_output_dir

DOC = Path(__file__).resolve().parent.parent / "docs" / "bad-inputs.md"


def _problem():
    return make_problem("coupled", dim_x=2, dim_y=2)


def _run(**kw):
    params = dict(runs=2, steps=2)
    params.update(kw)
    return algorithms.run(algorithms.make("soba"), _problem(), **params)


def _cli(*argv):
    """ubo's exit status 2 and one-line message on stderr, as a ValueError (so the table reads the same)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = ubo_main(list(argv))
    if rc != 2:
        raise AssertionError(f"expected exit status 2, got {rc}")
    raise ValueError(err.getvalue().strip())


def _trace_file(tmp: Path, kind: str) -> Path:
    path = tmp / f"{kind}.pt"
    good = tmp / "good.pt"
    if not good.exists():
        _run().save(good)
    raw = good.read_bytes()
    if kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a trace\n")
    elif kind == "list":
        torch.save([1, 2], path)
    elif kind == "wrong-keys":
        torch.save({"steps": torch.zeros(3)}, path)
    elif kind == "tampered-shape":
        data = torch.load(good, weights_only=True)
        data["series"]["phi"] = data["series"]["phi"][:1]
        torch.save(data, path)
    return path


# (input as a user would write it, call, regular expression the ValueError message must match)
CASES = [
    ('make_problem("coupled", sigma_f=0.5)', lambda t: make_problem("coupled", sigma_f=0.5),
     r"sigma_f=0.5 would be ignored: noise='none' leaves grad_f exact"),
    ('make_problem("quadratic", sigma_g2=0.3)', lambda t: make_problem("quadratic", sigma_g2=0.3),
     r"sigma_g2=0.3 would be ignored"),
    ('make_problem("coupled", noise={"grad_f": "bounded"}, sigma_f=1, sigma_g1=1)',
     lambda t: make_problem("coupled", noise={"grad_f": "bounded"}, sigma_f=1, sigma_g1=1),
     r"sigma_g1=1.0 would be ignored"),
    ('make_problem("coupled", noise="gaussian")', lambda t: make_problem("coupled", noise="gaussian"),
     r"noise='gaussian' needs a size: pass sigma_f"),
    ('make_problem("coupled", noise="cauchy", sigma_f=1)', lambda t: make_problem("coupled", noise="cauchy", sigma_f=1),
     r"noise law must be one of"),
    ('make_problem("coupled", L1=1e300)', lambda t: make_problem("coupled", L1=1e300),
     r"L1 must be a number in \[0, 1e\+100\], got 1e\+300"),
    ('make_problem("coupled", coupling=1e300)', lambda t: make_problem("coupled", coupling=1e300),
     r"coupling must be a number in \[0, 1e\+100\]"),
    ('make_problem("coupled", omega=1e300)', lambda t: make_problem("coupled", omega=1e300), r"omega must be"),
    ('make_problem("coupled", mu=1e300)', lambda t: make_problem("coupled", mu=1e300), r"mu must be a number in \(0"),
    ('make_problem("curvature", lam=1e300)', lambda t: make_problem("curvature", lam=1e300), r"lam must be"),
    ('make_problem("coupled", L1=1000)', lambda t: make_problem("coupled", L1=1000),
     r"L1 must keep U finite at the start x0: L1=1000 gives L1 max\|t\| = 2500 > 709"),
    ('make_problem("coupled", instance_seed=2**64)', lambda t: make_problem("coupled", instance_seed=2**64),
     r"instance_seed must be an int in \[0, 2\*\*64\)"),
    ('make_problem("coupled", foo=1)', lambda t: make_problem("coupled", foo=1),
     r"unknown parameter\(s\) \['foo'\] for problem 'coupled'; allowed: dim_x, dim_y, L0, L1"),
    ('make_problem("quadratic", batch=0)', lambda t: make_problem("quadratic", batch=0),
     r"unknown parameter\(s\) \['batch'\] .* batch_size"),
    ("problem.oracle(seed=2**64)", lambda t: _problem().oracle(seed=2**64), r"seed must be an int in \[0, 2\*\*64\)"),
    ("problem.oracle(seed=-1)", lambda t: _problem().oracle(seed=-1), r"seed must be an int in \[0, 2\*\*64\)"),
    ("run(..., seed=2**64)", lambda t: _run(seed=2**64), r"seed must be an int in \[0, 2\*\*64\)"),
    ("run(..., seed=2**70 + 5)", lambda t: _run(seed=2**70 + 5), r"seed must be an int in \[0, 2\*\*64\)"),
    ('run(..., x0="0, 0")', lambda t: _run(x0="0, 0"), r"x0 must be a torch tensor, numpy array or list"),
    ("run(..., x0=np.full(2, np.nan))", lambda t: _run(x0=np.full(2, np.nan)), r"x0 must be finite"),
    ("run(..., x0=torch.zeros(2, dtype=torch.complex128))",
     lambda t: _run(x0=torch.zeros(2, dtype=torch.complex128)), r"x0 must be real"),
    ("run(..., y0=np.zeros(5))", lambda t: _run(y0=np.zeros(5)), r"x0, y0 must have shapes"),
    ("run(..., run_ids=[3, 3])", lambda t: _run(runs=1, run_ids=[3, 3]), r"run_ids must be distinct"),
    ("run(..., runs=4, run_ids=[0, 1])", lambda t: _run(runs=4, run_ids=[0, 1]),
     r"runs=4 contradicts run_ids \(2 ids\)"),
    ("run(..., workers=0)", lambda t: _run(workers=0), r"workers must be an integer >= 1, got 0"),
    ("run(..., runs=10**9, steps=10**6)", lambda t: _run(runs=10**9, steps=10**6),
     r"runs=1000000000 x steps=1000000 .* needs about .* GiB .* available"),
    ("Trace.load(truncated file)", lambda t: Trace.load(_trace_file(t, "truncated")),
     r"truncated.pt' is not a readable ubo trace file"),
    ("Trace.load(empty file)", lambda t: Trace.load(_trace_file(t, "empty")), r"empty.pt' is not a readable ubo trace"),
    ("Trace.load(text file)", lambda t: Trace.load(_trace_file(t, "text")), r"text.pt' is not a readable ubo trace"),
    ("Trace.load(torch file holding a list)", lambda t: Trace.load(_trace_file(t, "list")),
     r"list.pt' is not a ubo trace file: it holds a list"),
    ("Trace.load(torch dict with other keys)", lambda t: Trace.load(_trace_file(t, "wrong-keys")),
     r"wrong-keys.pt' is not a ubo trace file: missing \['step'"),
    ("Trace.load(series of a tampered shape)", lambda t: Trace.load(_trace_file(t, "tampered-shape")),
     r"tampered-shape.pt' is not a ubo trace file: series 'phi' has shape \(1, 2\), expected \(3, 2\)"),
    ('make_phi_problem("coupled", phi_L0=1, phi_L1=1)', lambda t: make_phi_problem("coupled", 1, 1),
     r"phi_L0 must be > 8.72\d* for these parameters"),
    ('make_phi_problem("quadratic", 1, 0)', lambda t: make_phi_problem("quadratic", 1, 0),
     r"make_phi_problem supports 'coupled' and 'decoupled'"),
    ('make_phi_problem("coupled", 20, 1, L0=2)', lambda t: make_phi_problem("coupled", 20, 1, L0=2),
     r"pass phi_L0 and phi_L1 instead of L0"),
    ("ubo validate --noise none --sigma 3", lambda t: _cli("validate", "--noise", "none", "--sigma", "3"),
     r"^ubo validate: error: --sigma 3.0 would be ignored with --noise none"),
    ("ubo validate --algorithms slip,slip", lambda t: _cli("validate", "--algorithms", "slip,slip"),
     r"^ubo validate: error: --algorithms must name each algorithm once, got \['slip'\]"),
    ("ubo validate --runs 100000000", lambda t: _cli("validate", "--runs", "100000000"),
     r"^ubo validate: error: runs=100000000 x steps=2000 .* needs about .* GiB"),
    ("ubo validate --output /proc/ubo-x", lambda t: _cli("validate", "--output", "/proc/ubo-x"),
     r"^ubo validate: error: --output's parent folder '/proc' is not writable"),
    ("ubo validate --output FILE", lambda t: _cli("validate", "--output", __file__),
     r"--output must be a new or empty folder"),
    ("check_output_dir(a file)", lambda t: check_output_dir(__file__), r"must be a new or empty folder"),
]


@pytest.mark.parametrize("label, call, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error(label, call, message, tmp_path):
    with pytest.raises(ValueError) as info:
        call(tmp_path)
    assert re.search(message, str(info.value)), str(info.value)


def test_every_case_is_in_the_docs_table():
    text = DOC.read_text()
    missing = [label for label, _, _ in CASES if f"`{label}`" not in text]
    assert missing == []


# ---- numpy inputs that must be accepted and mean the same as Python numbers -------------------------

def test_numpy_scalars_are_python_numbers():
    numpy_made = make_problem("coupled", dim_x=np.int64(3), dim_y=np.int32(2), L1=np.float32(0.5),
                              mu=np.float64(0.25), instance_seed=np.uint16(4), noise="bounded",
                              sigma_f=np.float32(0.5), sigma_g1=np.float64(0.5), sigma_g2=np.int64(0))
    plain = make_problem("coupled", dim_x=3, dim_y=2, L1=0.5, mu=0.25, instance_seed=4, noise="bounded",
                         sigma_f=0.5, sigma_g1=0.5, sigma_g2=0)
    assert numpy_made.constants == plain.constants
    assert repr(numpy_made) == repr(plain)
    algo = algorithms.make("soba")
    a = algorithms.run(algo, numpy_made, runs=np.int64(3), steps=np.int32(4), seed=np.uint64(7),
                       record_every=np.int8(2), x0=np.full(3, 0.5), y0=[0.0, 0.0])
    b = algorithms.run(algo, plain, runs=3, steps=4, seed=7, record_every=2, x0=torch.full((3,), 0.5),
                       y0=torch.zeros(2))
    assert a.equals(b)


def test_large_seed_no_longer_aliases():
    """Before: seed 2**64 ran seed 0's streams. A planted alias (seed mod 2**64) is what the check refuses."""
    with pytest.raises(ValueError, match="seed"):
        _run(seed=2**64)
    assert _run(seed=2**64 - 1).meta["seed"] == 2**64 - 1


def markdown() -> str:
    """The docs table: every case and the message it gives now."""
    import tempfile

    rows = ["| input | message now |", "|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for label, call, _ in CASES:
            try:
                call(Path(tmp))
                outcome = "(accepted)"
            except ValueError as err:
                outcome = f"exit status 2, `{err}`" if label.startswith("ubo ") else f"ValueError: {err}"
            rows.append(f"| `{label}` | {outcome.replace('|', '&#124;').replace(tmp, 'TMP')} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(markdown() + "\n")
