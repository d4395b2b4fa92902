"""Synthetic bilevel problems with certified constants, counted stochastic oracles and noise laws."""

from ubo.synthetic import curvature, logcosh_bilevel, quadratic, steep
from ubo.synthetic.constants import Constants
from ubo.synthetic.noise import LAWS, NoiseLaw
from ubo.synthetic.oracle import KINDS, Oracle
from ubo.synthetic.problem import BilevelProblem
from ubo.synthetic.logcosh_bilevel import make_phi_problem
from ubo.synthetic.registry import list_problems, make_problem, problem_parameters, register
from ubo.synthetic.zoo import list_functions, make_function

register("coupled", "F3: (L0,L1) cosh landscape + c*logcosh(y - Kx - t) over a quadratic lower level "
         "(grad_x f depends on y)")(logcosh_bilevel.coupled)
register("curvature", "F4: ridge lower level with x-dependent curvature lam*sigmoid(Wx) (l_g2 > 0) under a cosh "
         "landscape + validation least squares; minibatch data noise")(curvature.curvature)
register("decoupled", "F2: (L0,L1) cosh landscape + c*logcosh(y - t) over a quadratic lower level "
         "(exact drift ||J|| eta)")(logcosh_bilevel.decoupled)
register("steep", "F5: F3 started far out on one cosh axis (||grad2 Phi|| grows with ||grad Phi||: L1 matters); "
         "the default of ubo validate")(steep.steep)
register("quadratic", "bounded-smooth (L1 = 0) finite sum of n random quadratics, minibatch noise "
         "(benchopt-like simulated quadratic)")(quadratic.quadratic)

__all__ = ["BilevelProblem", "Constants", "KINDS", "LAWS", "NoiseLaw", "Oracle", "list_functions",
           "list_problems", "make_function", "make_phi_problem", "make_problem", "problem_parameters", "register"]
