"""The one pipeline: rule → series of the update map → modified flow → modified loss.

Every scheme, built-in or written by a user, is a :class:`~bea.rule.Rule` and goes
through :func:`derive` unchanged, whatever its algebra (:mod:`bea.algebra`):

1. estimate the work (:mod:`bea.estimate`) and refuse it beyond the limit;
2. trace the rule into the series of one cycle ``Φ(θ) - θ``, slaving auxiliary state to
   the parameters first (the algebra's ``tracing``/``slaving``; random reshuffling
   averages over orderings there too);
3. take the logarithm (:func:`bea.logarithm.logarithm`, one loop for every algebra) and
   divide by the cycle length: ``θ' = f_1 + h f_2 + … + h^{N-1} f_N``;
4. where every atom is a gradient, each ``f_k`` splits into ``-∇`` of a modified-loss term
   and a remainder, on first use (:attr:`~bea.rule.Derivation.splits`).

A rule with a second small parameter (``Rule(small={"rho": M})``) goes through the same
steps with ``ρ = r·h`` to the total order ``N + M``, and the flow is regrouped by powers
of ``ρ`` (:mod:`bea.joint`).
"""

from __future__ import annotations

from typing import Callable

from .estimate import MAX_TERMS, check_work
from .joint import regrouped_flow, scaled, small_parameter
from .logarithm import logarithm
from .registry import algebra_of
from .rule import Derivation, Family, Rule

__all__ = ["Rule", "Family", "Derivation", "derive"]


def derive(rule: Rule, order: int, progress: Callable[[int], None] | None = None,
           max_terms: int | None = MAX_TERMS) -> Derivation:
    """Modified flow of ``rule`` to order ``order`` (``f_1 … f_order``), exactly.

    The work is estimated first (:mod:`bea.estimate`: trees or coordinate-wise terms,
    updates, the parameters' field) and refused beyond ``max_terms`` with
    :class:`bea.estimate.TooMuchWork` (a ``ValueError``) before any work; ``max_terms=None``
    turns the guard off.

    With a small parameter ``ρ`` declared (``Rule(small={"rho": M})``), ``f_k`` holds the
    terms ``ρ^b F_{k-1,b}``, ``b ≤ M``, of the joint expansion (:mod:`bea.joint`)."""
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a bea.Rule (or bea.rule_from_function(step)), got {type(rule).__name__}")
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"order must be an integer ≥ 1, got {order!r}")
    small = small_parameter(rule)
    traced_rule, total = (rule, order) if small is None else (scaled(rule), order + small[1])
    if max_terms is not None:
        check_work(traced_rule, total, max_terms)
    algebra = algebra_of(rule)
    traced = algebra.trace(traced_rule, total)  # a RuleError names the line of the user's code
    z = logarithm(traced.increment, total, traced.series, progress)
    flow = algebra.per_update(traced_rule, z, traced)
    if small is not None:
        flow = regrouped_flow(algebra, traced_rule, flow, small)
    return Derivation(rule, order, flow.field, flow.terms, flow.state)
