"""Runge–Kutta methods from a Butcher tableau, explicit or implicit.

Stages ``k_i = f(θ + h Σ_j a_ij k_j)`` and update ``θ + h Σ_i b_i k_i``. Explicit
tableaux are evaluated stage by stage; implicit ones solve the stage equations as a
formal series with :func:`bea.rules.fixed_point`.
"""

from ..derive import Rule
from ..rules import Atom, fixed_point
from ._options import SchemeError
from .tableaux import TABLEAUX, ButcherTableau, load_tableau


def runge_kutta_step(tableau: ButcherTableau):
    """The update rule of ``tableau`` as a function ``(theta, h, f) -> theta_new``."""
    a, b, s = tableau.a, tableau.b, tableau.stages

    def stage_points(theta, h, stages):
        return [theta + h * sum((a[i][j] * stages[j] for j in range(s) if a[i][j] != 0), 0)
                for i in range(s)]

    def step(theta, h, f):
        if tableau.explicit:
            stages = []
            for i in range(s):
                point = theta + h * sum((a[i][j] * stages[j] for j in range(i) if a[i][j] != 0), 0)
                stages.append(f(point))
        else:
            guess = tuple(f(theta) for _ in range(s))
            stages = fixed_point(lambda k: tuple(f(p) for p in stage_points(theta, h, k)), guess)
        return theta + h * sum((b[i] * stages[i] for i in range(s) if b[i] != 0), 0)

    return step


def build(method: str | None = None, tableau: str | None = None) -> Rule:
    if (method is None) == (tableau is None):
        raise SchemeError("rk needs exactly one of --method NAME or --tableau FILE.json "
                          f"(methods: {', '.join(TABLEAUX)})")
    if method is not None:
        key = method.strip().lower()
        if key not in TABLEAUX:
            raise SchemeError(f"unknown method {method!r}; choose one of {', '.join(TABLEAUX)}")
        tab = TABLEAUX[key]
    else:
        tab = load_tableau(tableau)
    return Rule(runge_kutta_step(tab), (Atom("f", "L"),), name="rk",
                constants=tab.entries, options={"method": tab.name},
                description=f"Runge–Kutta method {tab.name} ({tab.stages} stages)")
