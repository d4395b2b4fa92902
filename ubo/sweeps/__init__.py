"""Sweeps: grids of batched runs, cached in a Parquet store, resumable, on local workers or Ray.

    spec = SweepSpec.from_toml("examples/sweep_slip_noise.toml")     # or SweepSpec(...) in Python
    run_sweep(spec, "ubo-sweeps/slip-noise", workers=2)             # computes only missing cells
    frame = Store("ubo-sweeps/slip-noise").frame()                  # one row per (cell, step, run)
"""

from ubo.sweeps.execute import BACKENDS, run_cell, run_sweep
from ubo.sweeps.spec import PROBES, Cell, SweepSpec, cell_key, grid
from ubo.sweeps.store import Store, load

__all__ = ["BACKENDS", "PROBES", "Cell", "Store", "SweepSpec", "cell_key", "grid", "load", "run_cell", "run_sweep"]
