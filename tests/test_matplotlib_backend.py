"""Importing ubo never changes matplotlib's backend.

A module that calls `matplotlib.use("Agg")` on import switches a Jupyter kernel off its inline backend:
every later `plt.show()` in the notebook draws nothing, silently (it did so for six of the course's
notebooks through ubo.theory.claims). Figure code creates figures and saves them; it leaves the backend
to the user.
"""

import importlib
import os
import pkgutil
import subprocess
import sys

INLINE = "module://matplotlib_inline.backend_inline"
PACKAGES = ("ubo", "ubo.algorithms", "ubo.synthetic", "ubo.theory", "ubo.theory.claims", "ubo.tasks", "ubo.sweeps")


def backend_after_importing(modules: list[str], env_backend: str = INLINE, path: str = "") -> str:
    """matplotlib's backend in a fresh interpreter started with MPLBACKEND=env_backend, after the imports."""
    code = ("import importlib, sys, matplotlib\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "for name in sys.argv[2:]: importlib.import_module(name)\n"
            "print(matplotlib.get_backend())")
    env = {**os.environ, "MPLBACKEND": env_backend}
    out = subprocess.run([sys.executable, "-c", code, path, *modules], capture_output=True, text=True, check=True,
                         env=env)
    return out.stdout.strip().splitlines()[-1]


def all_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names += [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules(module.__path__) if not m.ispkg]
    return sorted(set(names))


def test_importing_every_module_keeps_the_inline_backend():
    assert backend_after_importing(all_modules()) == INLINE


def test_the_check_sees_a_module_that_switches_the_backend(tmp_path):
    """Planted: a module with the offending line fails the same check."""
    (tmp_path / "switches_backend.py").write_text('import matplotlib\nmatplotlib.use("Agg")\n')
    assert backend_after_importing(["switches_backend"], path=str(tmp_path)) != INLINE
