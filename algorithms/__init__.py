"""Bilevel algorithms (BO-REP, SLIP, AdamBO and baselines), their shared parts, the batched runner and traces."""

from ubo.algorithms.accbo import AccBO
from ubo.algorithms.adambo import AdamBO
from ubo.algorithms.base import Algorithm
from ubo.algorithms.borep import BOREP
from ubo.algorithms.f2sa import F2SA
from ubo.algorithms.registry import get, list_algorithms, make, register
from ubo.algorithms.runner import run
from ubo.algorithms.slip import SLIP
from ubo.algorithms.soba import MASOBA, SOBA
from ubo.algorithms.state import State
from ubo.algorithms.stocbio import StocBiO
from ubo.algorithms.trace import Trace
from ubo.algorithms.ttsa import TTSA

register(BOREP, "BO-REP (ICLR 2024): Epoch-SGD refinement, N SGD steps every I iterations, "
         "normalized momentum on x, z by SGD")
register(SLIP, "SLIP (ICML 2024): warm start, then normalized momentum on x, one SGD step on y and on z")
register(AdamBO, "AdamBO (TMLR): warm start, bias-corrected Adam on x with a Neumann hypergradient, "
         "one SGD step on y")
register(StocBiO, "StocBiO (ICML 2021): D warm-started SGD steps on y, Neumann hypergradient, SGD on x")
register(TTSA, "TTSA (SIOPT 2023): one SGD step on y, Neumann hypergradient at y_{k+1}, SGD on x")
register(SOBA, "SOBA (NeurIPS 2022): single-loop SGD on y, z and x")
register(MASOBA, "MA-SOBA (2023): SOBA with a moving-average hypergradient and optional z projection")
register(F2SA, "F2SA (ICML 2023): penalty method with two lower copies and growing lambda")
register(AccBO, "AccBO (NeurIPS 2024): normalized STORM momentum on x (one sample at two points), "
         "Nesterov with averaging on y")

__all__ = ["AccBO", "AdamBO", "Algorithm", "BOREP", "F2SA", "MASOBA", "SLIP", "SOBA", "State", "StocBiO",
           "TTSA", "Trace", "get", "list_algorithms", "make", "register", "run"]
