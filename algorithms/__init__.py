"""Bilevel algorithms (BO-REP, SLIP, AdamBO and baselines), their shared parts, the batched runner and traces."""

from algorithms.accbo import AccBO
from algorithms.adambo import AdamBO
from algorithms.base import Algorithm
from algorithms.borep import BOREP
from algorithms.f2sa import F2SA
from algorithms.registry import get, list_algorithms, make, register
from algorithms.runner import run
from algorithms.slip import SLIP
from algorithms.soba import MASOBA, SOBA
from algorithms.state import State
from algorithms.stocbio import StocBiO
from algorithms.trace import Trace
from algorithms.ttsa import TTSA

register(BOREP, "BO-REP (ICLR 2024): Epoch-SGD refinement, N SGD steps every I iterations, "
         "normalized momentum on x, z by SGD")
register(SLIP, "SLIP (ICML 2024): warm start, then normalized momentum on x, one SGD step on y and on z")
register(AdamBO, "AdamBO (TMLR): warm start, Adam on x with a Neumann hypergradient, one SGD step on y")
register(StocBiO, "StocBiO (ICML 2021): D warm-started SGD steps on y, Neumann hypergradient, SGD on x")
register(TTSA, "TTSA (SIOPT 2023): one SGD step on y, Neumann hypergradient at y_{k+1}, SGD on x")
register(SOBA, "SOBA (NeurIPS 2022): single-loop SGD on y, z and x")
register(MASOBA, "MA-SOBA (2023): SOBA with a moving-average hypergradient and optional z projection")
register(F2SA, "F2SA (ICML 2023): penalty method with two lower copies and growing lambda")
register(AccBO, "AccBO (NeurIPS 2024): normalized recursive momentum on x, Nesterov with averaging on y")

__all__ = ["AccBO", "AdamBO", "Algorithm", "BOREP", "F2SA", "MASOBA", "SLIP", "SOBA", "State", "StocBiO",
           "TTSA", "Trace", "get", "list_algorithms", "make", "register", "run"]
