"""Equivalent gradient descent: the one-step map itself, as a B-series and a loss.

The modified flow (:func:`bea.derive.derive`) is the logarithm of the update map. Its
other reading keeps the map and asks which *discrete* rule it is: on the slaved
(invariant) manifold a rule with auxiliary state is a map of ``θ`` alone,

    θ⁺ = θ + h Δ_1 + h² Δ_2 + … + h^N Δ_N + O(h^{N+1}),   Δ_k = Σ_{|t|=k} a(t) F(t),

the series of one cycle that the rule's algebra traces (the velocity slaved by
:mod:`bea.bseries.slaving`); the algebras that have it declare the ``"equivalent"``
capability (:mod:`bea.algebra`). With gradient atoms each ``Δ_k`` splits like an order of a
modified flow (:func:`bea.bseries.losses.split_gradient`), so the map reads
``θ⁺ = θ − h∇L̃ + remainder``: plain gradient descent on the loss ``L̃``.

For heavy-ball momentum this is the result of Cattaneo & Shigida, *Modified Loss of
Momentum Gradient Descent: Fine-Grained Analysis* (arXiv 2509.08483, 2025): on an
exponentially attractive invariant manifold (Kovachki & Stuart, JMLR 2021) heavy ball is
exactly gradient descent with a modified loss, described to any order. Its first terms,
``L̃ = L/(1−β) + h β/(2(1−β)³) ‖∇L‖² + …``, follow from ``V = βV − h∇L(θ)`` slaved to
``θ``; bea prints every order with ``β`` symbolic.
"""

from __future__ import annotations

from .estimate import MAX_TERMS, check_work
from .registry import algebra_of
from .rule import Derivation, Rule

__all__ = ["equivalent_step", "EQUIVALENTS"]

EQUIVALENTS = ("gd",)


def equivalent_step(rule: Rule, order: int, max_terms: int | None = MAX_TERMS) -> Derivation:
    """The one-cycle map ``θ⁺ − θ = Σ_k h^k Δ_k`` of ``rule`` to order ``order``, exactly, as a
    :class:`~bea.derive.Derivation` of kind ``"step"`` (``flow[k]`` holds ``Δ_k``; its
    ``splits`` give the loss of the equivalent gradient descent)."""
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a bea.Rule, got {type(rule).__name__}")
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"order must be an integer ≥ 1, got {order!r}")
    algebra = algebra_of(rule)
    algebra.refuse_unless("equivalent", rule)
    if max_terms is not None:
        check_work(rule, order, max_terms)
    traced = algebra.trace(rule, order)
    return Derivation(rule, order, traced.field, traced.series.by_order(traced.increment, order),
                      traced.state, kind="step")
