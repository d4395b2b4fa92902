"""Synthetic bilevel problems with certified constants, counted stochastic oracles and noise laws."""

from synthetic import logcosh_bilevel
from synthetic.constants import Constants
from synthetic.noise import LAWS, NoiseLaw
from synthetic.oracle import KINDS, Oracle
from synthetic.problem import BilevelProblem
from synthetic.registry import list_problems, make_problem, register

register("coupled", "F3: (L0,L1) cosh landscape + c*logcosh(y - Kx - t) over a quadratic lower level "
         "(grad_x f depends on y)")(logcosh_bilevel.coupled)
register("decoupled", "F2: (L0,L1) cosh landscape + c*logcosh(y - t) over a quadratic lower level "
         "(exact drift ||J|| eta)")(logcosh_bilevel.decoupled)

__all__ = ["BilevelProblem", "Constants", "KINDS", "LAWS", "NoiseLaw", "Oracle", "list_problems",
           "make_problem", "register"]
