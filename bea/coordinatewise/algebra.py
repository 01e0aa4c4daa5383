"""The coordinate-wise algebra as a plug-in of the one pipeline (:class:`bea.algebra.Algebra`).

Series are elements of the polynomial ring of :mod:`.ring` while they are computed and
canonical sympy expressions (:mod:`.expressions`) once derived; the steps are
:mod:`.pipeline` (tracing, slaving), :class:`.calculus.CoordinateSeries` (the logarithm's
operations), :mod:`.modifying`, :mod:`.losses` (each order split into ``-∇`` of a
potential, norm potentials such as SAM's ``‖∇L‖`` included, and a remainder) and
:mod:`.estimate` (the size). Learning-rate schedules
carry the time as a scalar coordinate of the tracer (:mod:`.clock`), for any
coordinate-wise rule. What it does not have —
principal flows, blocks, reshuffling, the equivalent one-step map —
is refused with the reasons below.
"""

from __future__ import annotations

import sympy

from ..algebra import Algebra, Flow, Traced, Unsupported
from ..atoms import rule_error
from ..domain import exact_number, flatten
from . import estimate
from .calculus import CoordinateSeries
from .clock import Clocked, ClockedSeries
from .expressions import TotalSymbol, VectorSymbol
from .boundary import to_canonical
from .losses import Splits
from .modifying import modifying_field
from .pipeline import trace_map

__all__ = ["Coordinatewise"]


class Coordinatewise(Algebra):
    """Elementwise products, roots, quotients and norms: Adam, RMSProp, normalized steps,
    user rules with :func:`bea.sqrt` or :func:`bea.norm`."""

    name = "coordinatewise"
    title = "coordinate-wise"
    capabilities = frozenset({"loss", "modifying", "schedule"})
    numbers_first = True
    parts = {"render": "bea.render.coordinatewise", "codegen": "bea.codegen.coordinatewise",
             "check": "bea.check.coordinatewise"}
    work = estimate.WORK
    refusals = {
        "principal": "rule {rule!r} is coordinate-wise (square roots, norms or elementwise products of "
                     "gradients): the principal flow needs a rule that is linear on linear fields (gd, "
                     "sgd, rk, momentum, multitask or an affine --rule)",
        "equivalent": "the equivalent gradient descent is derived for rules of the tree algebra (gd, sgd, "
                      "momentum, games, RK, affine user rules); {rule!r} is coordinate-wise",
        "modifying-target": "coordinate-wise rules are corrected toward their own first-order flow only",
        "check-modifying": "--modifying checks tree rules only, not the coordinate-wise {rule}; its "
                           "modifying field (bea derive --modifying) is verified by slope in bea's test suite",
    }

    def trace(self, rule, order: int) -> Traced:
        try:
            increment, state = trace_map(rule, order)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a RuleError, or the user's code raised: name the line
            raise rule_error(rule, exc) from None
        clock = rule.step.clock if isinstance(rule.step, Clocked) else None
        return Traced(increment, state, CoordinateSeries() if clock is None else ClockedSeries(clock), None)

    def per_update(self, rule, z: list, traced: Traced) -> Flow:
        if isinstance(traced.series, ClockedSeries):  # a scheduled rule: t' = 1 checked, θ kept
            z = traced.series.theta_part(z, rule.name)
        cycle = exact_number(rule.cycle)
        return Flow([to_canonical(zk / cycle) for zk in z], None, traced.state)

    def modifying(self, rule, order: int, target, progress) -> Flow:
        return modifying_field(rule, order, progress)

    def splits(self, derivation) -> Splits | None:
        """Per order, ``{None: split}`` into ``-∇`` of a potential and a remainder, each order
        on first access (:class:`.losses.Splits`); None unless every atom is a gradient."""
        if any(a.loss is None or a.block is not None for a in derivation.atoms):
            return None
        return Splits(derivation.flow, derivation.atoms)

    def free_symbols(self, derivation) -> set[str]:
        """The scalar symbols (not the vector atoms ``θ``, ``D^k f[…]`` and totals)."""
        exprs = list(derivation.flow[1:]) + [c for s in derivation.velocity or [] for c in s]
        exprs += [sympy.sympify(v) for v in flatten(derivation.rule.params.values())]
        return {s.name for e in exprs for s in sympy.sympify(e).free_symbols
                if not isinstance(s, (VectorSymbol, TotalSymbol))}

    def coefficient(self, derivation, term):
        raise Unsupported(f"{derivation.rule.name} is coordinate-wise: it has no tree coefficients; "
                          "its order-k term is derivation.flow[k]")
