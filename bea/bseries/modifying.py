"""Modifying integrators: the field a scheme must be given to follow a chosen flow.

A scheme ``Φ_h`` applied to the atoms ``f_c`` follows its modified flow, not the flow of
the atoms. The **modifying field** ``f̃_c = f_c + h c_{c,2} + h² c_{c,3} + …`` is the one
for which the same scheme, run on ``f̃``, has a chosen target flow as its exact modified
flow (Chartier, Hairer & Vilmart, Found. Comput. Math. 2010; BSeries.jl
``modifying_integrator``, kauri ``preprocessed_integrator``). For explicit Euler
``f̃ = (φ_h − id)/h`` with ``φ_h`` the flow of ``f``: ``c_2 = ½ f'f``,
``c_3 = ⅙ (f''(f,f) + f'f'f)``. The target is by default the scheme's own first-order
flow ``f_1`` (the plain gradient flow for gd and every Runge–Kutta method, the flow of the
mean loss for an SGD epoch, ``f/(1−β)`` for momentum); any derived flow may be given.

It is solved order by order through the one pipeline (trace → logarithm), reusing the
engine instead of a separate substitution law. A correction ``c_{c,n}`` of order ``n``
changes the cycle's modified field ``Z`` first at order ``n``, and there by ``w_c c_{c,n}``
with ``w_c`` the atom's weight in ``Z``'s first order (1 for gd, ``α`` for a player with
rate ``α``, ``1/(1−β)`` per update for momentum). So, with ``c_2 … c_{n−1}`` in place,
the rule is traced on the corrected fields, the logarithm taken to order ``n``, and

    c_n = (target_n − z_n) / w.

Each tree of the needed correction is given to the update whose atom is its root: a
player's correction lives on its own block, an SGD update's correction is rooted at its
own minibatch's field, and the corrections of a random reshuffling stay equivariant
under relabeling, so the mean over orderings of the corrected epoch is still the
average the logarithm sees.
"""

from __future__ import annotations

from typing import Callable

from ..algebra import Flow
from ..atoms import RuleError
from ..domain import exact_number, field_for
from ..logarithm import logarithm
from .pipeline import trace_map
from .series import TreeSeries, add_into
from .trees import tree

__all__ = ["modifying_field"]


def modifying_field(rule, order: int, target=None, progress: Callable[[int], None] | None = None) -> Flow:
    """The modifying fields ``f̃_c`` of ``rule`` to order ``order``, exactly.

    Returns the :class:`~bea.algebra.Flow` of a derivation of kind ``"modifying"``
    (:func:`bea.modifying.modifying_field`): ``terms[k]`` holds the order-``k`` corrections of every atom (trees rooted at that atom; ``flow[1]`` is the
    atoms themselves), i.e. ``f̃_c = Σ_k h^{k-1} Σ_{root(t)=c} flow[k][t] F(t)``.
    ``target``: a derivation over the same atoms whose flow the corrected scheme must
    follow (default: the scheme's own first-order flow, higher orders cancelled).
    ``state``: for rules with auxiliary state, the corrected rule's slaved state.
    """
    if target is not None:
        _check_target(rule, order, target)
    extra = [] if target is None else [*target.rule.params.values(), target.rule.cycle]
    field = field_for([*rule.params.values(), rule.cycle, *extra])
    cycle = field.from_sympy(exact_number(rule.cycle))
    labels = [a.label for a in rule.atoms]
    fields = {c: {tree(c): field.one} for c in labels}
    series = TreeSeries(field)
    first = logarithm(trace_map(rule, 1, field, fields)[0], 1, series)[1]
    weight = {c: first.get(tree(c), field.zero) for c in labels}
    if target is not None:
        wanted = {t: field.convert_from(c, target.field) * cycle for t, c in target.flow[1].items()}
        if wanted != {t: c for t, c in first.items() if c}:
            raise ValueError("the target flow's first order differs from the scheme's: no "
                             "correction of order h or higher can reach it")
    flow = [dict(), {tree(c): field.one for c in labels}]
    if progress is not None:
        progress(1)
    for n in range(2, order + 1):
        z = logarithm(trace_map(rule, n, field, fields)[0], n, series)[n]
        needed = {t: -c for t, c in z.items()}
        if target is not None:
            wanted = {t: field.convert_from(c, target.field) * cycle for t, c in target.flow[n].items()}
            add_into(needed, wanted)
        correction = {}
        for t, c in needed.items():
            w = weight.get(t.label)
            if not w:
                raise RuleError(
                    f"cannot correct the term {t}: its root atom {t.label} has no first-order "
                    "effect in this scheme"
                )
            correction[t] = c / w
            fields[t.label][t] = c / w
        flow.append(correction)
        if progress is not None:
            progress(n)
    # the corrected rule's own slaved state (momentum's velocity), for starting it on its manifold
    velocity = trace_map(rule, order, field, fields)[1] if rule.n_aux else None
    return Flow(flow, field, velocity)


def _check_target(rule, order: int, target) -> None:
    if target.order < order:
        raise ValueError(f"the target flow has order {target.order} < {order}")
    if {a.label for a in target.atoms} - {a.label for a in rule.atoms}:
        raise ValueError("the target flow uses atoms the rule does not have")
