"""The progress bar of every long loop in ubo: tqdm's notebook widget in Jupyter where ipywidgets is
installed, its text bar everywhere else.

``tqdm.auto`` picks the same bar, but in a Jupyter kernel without ipywidgets it first prints a
TqdmWarning ("IProgress not found", with the path of tqdm's own file) into the notebook's output.
"""

from importlib.util import find_spec

if find_spec("ipywidgets") is None:
    from tqdm.std import tqdm
else:  # pragma: no cover - ipywidgets is not among ubo's dependencies
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
