"""The B-series algebra as a plug-in of the one pipeline (:class:`bea.algebra.Algebra`).

Series are term dicts ``{tree: coefficient}`` over the parameters' field
(:mod:`bea.domain`, :mod:`bea.coefficients`); the steps are :mod:`.pipeline` (tracing,
slaving, reshuffling), :class:`.series.TreeSeries` (the logarithm's operations),
:mod:`.modifying`, :mod:`.losses` (the modified loss) and :mod:`.estimate` (the size).
"""

from __future__ import annotations

import sympy

from ..algebra import Algebra, Flow, Traced
from ..domain import exact_number, field_for, flatten
from . import estimate
from .losses import split_gradient
from .modifying import modifying_field
from .pipeline import trace_map
from .series import TreeSeries
from .trees import parse

__all__ = ["BSeries"]


class BSeries(Algebra):
    """B-series over labelled rooted trees: affine rules (gd, sgd, games, Runge–Kutta,
    momentum, affine user rules)."""

    name = "trees"
    title = "B-series"
    capabilities = frozenset({"loss", "modifying", "modifying-target", "principal", "equivalent",
                              "blocks", "shuffle", "check-modifying", "schedule"})
    parts = {"render": "bea.render.sections", "codegen": "bea.codegen.elementary",
             "check": "bea.check.bseries"}
    work = estimate.WORK

    def trace(self, rule, order: int) -> Traced:
        field = field_for(rule.params.values())
        increment, velocity = trace_map(rule, order, field)
        return Traced(increment, velocity, TreeSeries(field), field)

    def per_update(self, rule, z: list, traced: Traced) -> Flow:
        # The series work happens over the parameters' field; a symbolic cycle length
        # (SGD's m) only divides the result, so it joins the field at the end.
        field = traced.field
        flow_field = field_for([*rule.params.values(), rule.cycle])
        inverse_cycle = flow_field.one / flow_field.from_sympy(exact_number(rule.cycle))
        flow = [{t: flow_field.convert_from(c, field) * inverse_cycle for t, c in zk.items()} for zk in z]
        velocity = traced.state
        if velocity is not None:
            velocity = [{t: flow_field.convert_from(c, field) for t, c in v.items()} for v in velocity]
        return Flow(flow, flow_field, velocity)

    def modifying(self, rule, order: int, target, progress) -> Flow:
        return modifying_field(rule, order, target, progress)

    def splits(self, derivation) -> list | None:
        if not all(a.loss is not None for a in derivation.atoms):
            return None
        return [dict()] + [split_gradient(derivation.flow[k], derivation.atoms, derivation.field)
                           for k in range(1, derivation.order + 1)]

    def free_symbols(self, derivation) -> set[str]:
        field = derivation.field
        exprs = [field.to_sympy(c) for terms in derivation.flow for c in terms.values()]
        exprs += [field.to_sympy(c) for v in derivation.velocity or [] for c in v.values()]
        exprs += list(flatten(derivation.rule.params.values())) + [derivation.rule.cycle]
        return {str(s) for e in exprs if isinstance(e, sympy.Basic) for s in e.free_symbols}

    def coefficient(self, derivation, term):
        """The coefficient of tree ``term`` (a Tree or its notation) as a sympy expression."""
        t = parse(term) if isinstance(term, str) else term
        if t.order > derivation.order:
            raise ValueError(f"tree {t} has order {t.order} > derivation order {derivation.order}")
        return derivation.field.to_sympy(derivation.flow[t.order].get(t, derivation.field.zero))
