"""The scheme catalogue: each scheme is a short rule fed to :func:`bea.derive`.

``SCHEMES[name].build(**options)`` returns a :class:`bea.Rule`; ``options`` maps each
option the scheme accepts to its help text (the CLI rejects any other option).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from ..derive import Rule
from . import continual, game, gd, momentum, multitask, rk, sgd
from ._options import SchemeError
from .tableaux import TABLEAUX, ButcherTableau, load_tableau

__all__ = ["Scheme", "SCHEMES", "SchemeError", "TABLEAUX", "ButcherTableau", "load_tableau", "build"]


@dataclass(frozen=True)
class Scheme:
    name: str
    summary: str
    options: dict
    build: Callable[..., Rule]
    reference: str
    default_order: int = 2


SCHEMES = {
    s.name: s
    for s in [
        Scheme("gd", "gradient descent θ ← θ - h∇L", {}, gd.build,
               "Barrett & Dherin, Implicit Gradient Regularization, ICLR 2021", 3),
        Scheme("sgd", "one epoch of SGD over m minibatches", {
            "batches": "number of minibatches m (omit for a result symbolic in m)",
            "shuffle": "forward | backward | random (mean over orderings)"},
            sgd.build, "Smith, Dherin, Barrett & De, ICLR 2021; Dherin et al., arXiv 2502.01557", 2),
        Scheme("multitask", "one GD step on the sum of task losses (or one per task)", {
            "tasks": "number of tasks n",
            "per_task": "one step on each task in turn instead of one joint step"},
               multitask.build, "Dherin, arXiv 2311.00235", 2),
        Scheme("continual", "tasks trained in sequence", {"steps": "task:steps list, e.g. A:2,B:3"},
               continual.build, "Dherin, arXiv 2311.00235", 2),
        Scheme("game", "two-player game, simultaneous or alternating", {
            "mode": "simultaneous | alternating",
            "rates": "player rates α,λ (numbers or symbol names)",
            "steps": "alternating: m,k steps of x then y",
            "zero_sum": "losses E and -E"},
            game.build, "Rosca, Wu, Dherin & Barrett, ICML 2021", 2),
        Scheme("rk", "Runge–Kutta method from a Butcher tableau", {
            "method": "named method: " + ", ".join(TABLEAUX),
            "tableau": "JSON file {\"A\": [[...]], \"b\": [...]}"},
            rk.build, "Hairer, Lubich & Wanner, Geometric Numerical Integration, ch. IX", 3),
        Scheme("momentum", "heavy-ball or Nesterov momentum (velocity slaved to θ)", {
            "beta": "momentum β (number or symbol name; default symbolic beta)",
            "nesterov": "Nesterov's look-ahead gradient"},
            momentum.build, "Ghosh, Lyu, Zhang & Wang, ICLR 2023; Kovachki & Stuart 2021", 2),
    ]
}


def build(name: str, order: int = 2, **options) -> Rule:
    """The rule of scheme ``name`` with ``options`` (as the CLI gives them: text or values)."""
    if name not in SCHEMES:
        raise SchemeError(f"unknown scheme {name!r}; choose one of {', '.join(SCHEMES)}")
    scheme = SCHEMES[name]
    stray = sorted(k for k, v in options.items() if v not in (None, False) and k not in scheme.options)
    if stray:
        accepted = ", ".join("--" + k.replace("_", "-") for k in scheme.options) or "no options"
        raise SchemeError(
            f"option {', '.join('--' + k.replace('_', '-') for k in stray)} does not apply to "
            f"scheme {name} (it takes {accepted})"
        )
    kwargs = {k: v for k, v in options.items() if v not in (None, False) and k in scheme.options}
    if "order" in inspect.signature(scheme.build).parameters:
        kwargs["order"] = order  # schemes symbolic in a size trace as many atoms as the order
    return scheme.build(**kwargs)
