"""The modified flow of a scheduled rule: trace on ``(θ, t)``, then collapse the clock.

:func:`derive_scheduled` traces :func:`bea.schedule.scheduled` with the B-series engine
(averaging a random reshuffling over orderings of the ``g_c`` only), takes the logarithm
and divides by the cycle, exactly as :func:`bea.derive` does. The result is a B-series in
the atoms ``g_c = η(t) f_c`` and the clock ``u = 1``, and every tree is a product of
derivatives of ``η`` and one elementary differential of the ``f_c``
(:func:`collapse`):

* a node ``g_c`` with ``j`` children that are clock leaves is ``η^{(j)}(t)`` times
  ``f_c^{(k-j)}`` of its other children (``f_c`` does not depend on ``t``, so the
  ``t``-derivatives fall on ``η``);
* a clock node with children is zero (``u' = 0``).

Mapping each tree to its ``f``-tree and the monomial in ``η, η', η'', …`` gives the flow
over ``Q(params, η, η', …)`` (:mod:`bea.coefficients`): the order ``k`` collects the
``f``-trees of ``k - j`` nodes times monomials with ``j`` derivatives in all (``h`` counts
nodes, clock leaves included). The time block's flow must come out ``t' = 1`` exactly,
which is asserted; it is the check that the rule's clock advances ``h`` per update.
The result is a :class:`~bea.Derivation` of the original rule (options gain
``schedule``), so the modified loss is the usual split (``η``'s are scalars at fixed
``t``) and every printer reads it.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from ..algebra import Traced
from ..atoms import RuleError
from ..bseries.pipeline import average_over_orderings, trace_map
from ..bseries.series import TreeSeries
from ..bseries.trees import Tree, tree
from ..domain import exact_number, field_for, flatten
from ..estimate import MAX_TERMS, check_work
from ..logarithm import logarithm
from ..registry import algebra_of
from ..rule import Derivation, Rule
from .coordinatewise import derive_clocked
from .symbols import LEGEND, eta_symbols
from .transform import CLOCK, scheduled

__all__ = ["derive_scheduled", "scheduled_state", "time_is_a_block", "collapse", "collapse_terms"]


def derive_scheduled(rule: Rule, order: int, clock: str | None = None,
                     progress: Callable[[int], None] | None = None,
                     max_terms: int | None = MAX_TERMS, schedule: str = "generic") -> Derivation:
    """The modified flow ``θ' = f_1(θ, t) + h f_2(θ, t) + …`` of ``rule`` with step ``h·η(t)``.

    ``clock``: where the rule reads the time (:func:`bea.schedule.scheduled`). The
    coefficients are rational functions of the rule's parameters and of ``η, η', …``
    (:func:`bea.schedule.eta_symbols`) at the current time ``t``. ``schedule`` is the name
    recorded in the derivation's options. The slaved auxiliary state is not kept on the
    derivation (its trees no longer say their power of ``h``): :func:`scheduled_state`.
    A rule of an algebra without parameter blocks carries the time in its own tracer
    (:func:`bea.schedule.coordinatewise.derive_clocked`; its state stays on the derivation).
    """
    if rule.small:
        raise RuleError(f"rule {rule.name!r}: a schedule is not derived for a joint expansion in h and "
                        f"{', '.join(rule.small)} (small=…) yet; drop one of them")
    if not time_is_a_block(rule):
        return derive_clocked(rule, order, clock, progress, max_terms, schedule)
    flow, _, field = _derive(rule, order, clock, progress, max_terms)
    options = {**rule.options, "schedule": schedule}
    # in a fixed order, update k of an epoch sees η(t + (k-1)h): a coefficient depends on
    # the members' positions, not only on the pattern of indices, so no Σ_k grouping
    family = None if rule.family is not None and rule.family.ordered else rule.family
    shown = dataclasses.replace(rule, options=options, family=family,
                                description=f"{rule.description or rule.name}, step h·η(t)\n{LEGEND}")
    return Derivation(shown, order, field, flow, None)


def time_is_a_block(rule: Rule) -> bool:
    """Whether the time of ``rule``'s schedule is a parameter block of the B-series engine
    (its algebra has blocks) or a coordinate its own tracer carries."""
    return "blocks" in algebra_of(rule).capabilities


def scheduled_state(rule: Rule, order: int, clock: str | None = None) -> tuple[list | None, object]:
    """The slaved auxiliary state ``V(θ, t) = Σ_n h^n V_n``: per state variable, ``V_n`` as
    ``{f-tree: coefficient}`` for ``n = 0 … order`` (``None`` without state), and the field."""
    _, state, field = _derive(rule, order, clock, None, MAX_TERMS)
    return state, field


def _derive(rule, order, clock, progress, max_terms):
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"order must be an integer ≥ 1, got {order!r}")
    timed = scheduled(rule, clock)
    if max_terms is not None:
        check_work(timed, order, max_terms)
    field = field_for(rule.params.values())
    increment, velocity = trace_map(timed, order, field)
    if rule.shuffle:
        increment = average_over_orderings(increment, tuple(a.label for a in rule.atoms), field)
    z = logarithm(increment, order, TreeSeries(field), progress)
    flow = algebra_of(rule).per_update(rule, z, Traced(increment, velocity, None, field))
    symbols = eta_symbols(order)
    clash = {s.name for s in symbols} & {str(s) for v in flatten(rule.params.values())
                                         for s in exact_number(v).free_symbols}
    if clash:
        raise RuleError(f"rule {rule.name!r}: the parameter name(s) {sorted(clash)} are the schedule's symbols")
    target = field_for([*rule.params.values(), rule.cycle, *symbols])
    powers = [target.from_sympy(s) for s in symbols]
    terms = [collapse_terms(zk, flow.field, target, powers) for zk in flow.terms]
    _assert_clock(terms, rule, target)
    theta_terms = [{t: c for t, c in zk.items() if t.label != CLOCK} for zk in terms]
    state = None
    if flow.state is not None:
        state = []
        for v in flow.state:
            by_order = [{} for _ in range(order + 1)]
            for t, c in v.items():
                if t.order <= order:
                    for f_tree, value in collapse_terms({t: c}, flow.field, target, powers).items():
                        by_order[t.order][f_tree] = by_order[t.order].get(f_tree, target.zero) + value
            state.append(by_order)
    return theta_terms, state, target


def collapse_terms(terms: dict, source, target, powers: list) -> dict:
    """``{f-tree (or the clock leaf): coefficient}`` over ``target`` of a term dict over
    ``(g, u)``-trees with coefficients in ``source``."""
    out: dict = {}
    for t, c in terms.items():
        found = collapse(t)
        if found is None or not c:
            continue
        f_tree, exponents = found
        value = target.convert_from(c, source)
        for p, e in zip(powers, exponents):
            if e:
                value = value * p**e
        out[f_tree] = out.get(f_tree, target.zero) + value
    return {t: c for t, c in out.items() if c}


def collapse(t: Tree) -> tuple[Tree, tuple[int, ...]] | None:
    """``(f-tree, exponents of η, η', η'', …)`` of a ``(g, u)``-tree, or ``None`` where it is
    zero (a clock node with children). The clock leaf maps to itself, exponents ``()``."""
    if t.label == CLOCK:
        return None if t.children else (t, ())
    exponents: list[int] = []
    kids = []
    derivatives = 0
    for child in t.children:
        if child.label == CLOCK:
            if child.children:
                return None
            derivatives += 1
            continue
        found = collapse(child)
        if found is None:
            return None
        kids.append(found[0])
        _add(exponents, found[1])
    _add(exponents, tuple(1 if i == derivatives else 0 for i in range(derivatives + 1)))
    return tree(t.label, kids), tuple(exponents)


def _add(total: list, exponents: tuple) -> None:
    total.extend([0] * (len(exponents) - len(total)))
    for i, e in enumerate(exponents):
        total[i] += e


def _assert_clock(terms: list, rule: Rule, field) -> None:
    """The time block's flow is exactly ``t' = 1`` (the clock leaf at order 1, nothing else)."""
    leaf = tree(CLOCK)
    found = [(k, zk.get(leaf, field.zero)) for k, zk in enumerate(terms) if k]
    if any(c != (field.one if k == 1 else field.zero) for k, c in found):
        speed = " + ".join(f"{field.to_sympy(c)}" + (f"·h^{k - 1}" if k > 1 else "") for k, c in found if c)
        raise RuleError(f"rule {rule.name!r}: its clock does not advance t by h per update "
                        f"(t' = {speed or 0}); a schedule needs t' = 1")
