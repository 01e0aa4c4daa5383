"""Runge–Kutta methods from a Butcher tableau, explicit or implicit.

Stages ``k_i = f(θ + h Σ_j a_ij k_j)`` and update ``θ + h Σ_i b_i k_i``. Explicit
tableaux are evaluated stage by stage; implicit ones solve the stage equations as a
formal series with :func:`bea.bseries.tracing.fixed_point`. The tableau entries are the rule's
parameters ``a`` and ``b`` (exact, or floats when the rule runs numerically).
"""

from ..rule import Rule
from ..atoms import Atom
from ..bseries.tracing import fixed_point
from ._options import SchemeError
from .tableaux import TABLEAUX, ButcherTableau


def _combination(weights, vectors):
    return sum((w * v for w, v in zip(weights, vectors) if w != 0), 0)


def runge_kutta(theta, h, f, a, b):
    """One step of the Runge–Kutta method ``(a, b)``."""
    s = len(b)
    explicit = all(a[i][j] == 0 for i in range(s) for j in range(i, s))
    if explicit:
        stages = []
        for i in range(s):
            stages.append(f(theta + h * _combination(a[i][:i], stages)))
    else:
        def sweep(k):
            return tuple(f(theta + h * _combination(a[i], k)) for i in range(s))

        stages = fixed_point(sweep, tuple(f(theta) for _ in range(s)))
    return theta + h * _combination(b, stages)


def size(order: int, method: str | None, tableau: ButcherTableau | None, field: str = "ode") -> tuple[int, int]:
    """Atoms and updates traced: one per stage, ``order`` sweeps of the stages if implicit."""
    tab = TABLEAUX[method] if method is not None else tableau
    if tab is None:
        return 1, 1
    return 1, tab.stages * (1 if tab.explicit else order)


def build(order: int, method: str | None, tableau: ButcherTableau | None, field: str = "ode") -> Rule:
    """``method``: a name in :data:`TABLEAUX`; or ``tableau``, one read from a file.

    ``field``: ``"ode"`` presents ``f`` as a general vector field (the modified flow alone:
    a tableau integrates any ODE); ``"gradient"`` as ``f = -∇L``, with the modified loss.
    The derivation is the same; the atom carries its loss either way, so checks and
    generated code can run the method on gradient fields."""
    if (method is None) == (tableau is None):
        raise SchemeError("rk needs exactly one of --method NAME or --tableau FILE.json "
                          f"(methods: {', '.join(TABLEAUX)})")
    tab = TABLEAUX[method] if method is not None else tableau
    return Rule(runge_kutta, (Atom("f", "L"),), name="rk", params={"a": tab.a, "b": tab.b},
                options={"method": tab.name, "field": field},
                description=f"Runge–Kutta method {tab.name} ({tab.stages} stages)")
