"""Kill a sweep with SIGKILL mid-way, resume it, and find the store of an uninterrupted sweep, bit for bit."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ubo.sweeps import Store, run_sweep
from ubo.sweeps.compare import differences
from sweep_helpers import tiny_spec

HERE = Path(__file__).parent
SPEC = dict(name="resume", etas=(0.01, 0.02, 0.03, 0.04), steps=60)   # 8 cells
SCRIPT = ("import sys; from sweep_helpers import tiny_spec; from ubo.sweeps import run_sweep; "
          f"run_sweep(tiny_spec(**{SPEC!r}), sys.argv[1], threads=1, progress=False)")


class TrustingStore(Store):
    """Planted bug: trusts every running marker, even one left by a killed process."""

    def running(self, key):
        path = self.root / "running" / f"{key}.json"
        return {"stale": True} if path.exists() else None


def kill_mid_sweep(root: Path) -> int:
    """Start the sweep in a subprocess, SIGKILL it while it computes a cell; return the cells it finished."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(root)], env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            done = len(list((root / "cells").glob("*"))) if (root / "cells").exists() else 0
            if done >= 2 and any((root / "running").glob("*.json")):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return done
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    pytest.fail("the sweep ended (or stalled) before it could be killed mid-way")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    run_sweep(tiny_spec(**SPEC), root, threads=1, progress=False)
    return Store(root)


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """A store left by a sweep killed mid-way, and how many cells it had finished (each test copies it)."""
    root = tmp_path_factory.mktemp("killed")
    finished = kill_mid_sweep(root)
    return root, finished


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_killed_sweep_resumes_to_the_uninterrupted_store(killed, reference, tmp_path):
    root, finished = killed
    root = _copy(root, tmp_path / "store")
    store = Store(root)
    assert 2 <= finished < 8 and len(store.keys()) < 8   # it really was killed mid-way
    status = run_sweep(tiny_spec(**SPEC), store, threads=1, progress=False)
    assert list(status.state) == ["done"] * 8
    assert differences(store, reference) == []
    assert not list((root / "tmp").iterdir()) and not list((root / "running").iterdir())


def test_planted_trusting_store_loses_the_killed_cell(killed, reference, tmp_path):
    root = _copy(killed[0], tmp_path / "store")
    store = TrustingStore(root)
    status = run_sweep(tiny_spec(**SPEC), store, threads=1, progress=False)
    assert (status.state != "done").sum() == 1           # the cell being computed at the kill is never redone
    assert differences(Store(root), reference)
