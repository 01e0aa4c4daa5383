"""Heavy-ball and Nesterov momentum, the velocity slaved to the parameters.

Heavy ball ``θ_{n+1} = θ_n - h∇L(θ_n) + β(θ_n - θ_{n-1})`` is the rule
``v ← βv + h f(θ)``, ``θ ← θ + v``; Nesterov evaluates ``f`` at ``θ + βv``. The velocity is
slaved on the invariant manifold ``v = V(θ)`` (Kovachki & Stuart 2021), which gives
``θ' = -(1/(1-β))∇[L + h(1+β)/(4(1-β)²)‖∇L‖²] + O(h²)`` for heavy ball
(Ghosh, Lyu, Zhang & Wang, ICLR 2023; Cattaneo & Shigida, arXiv 2509.08483).
"""

from ..rule import Rule
from ..atoms import Atom


def heavy_ball(theta, v, h, f, beta):
    v = beta * v + h * f(theta)
    return theta + v, v


def nesterov_momentum(theta, v, h, f, beta):
    v = beta * v + h * f(theta + beta * v)
    return theta + v, v


def build(order: int, beta, nesterov: bool) -> Rule:
    """``beta``: an exact number or a sympy symbol."""
    return Rule(nesterov_momentum if nesterov else heavy_ball, (Atom("f", "L"),), name="momentum",
                n_aux=1, params={"beta": beta},
                options={"beta": str(beta), "nesterov": nesterov},
                description=("Nesterov" if nesterov else "heavy-ball") + " momentum")
