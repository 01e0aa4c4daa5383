"""Tracing a B-series :class:`bea.Rule` into the series of one cycle.

``Φ(θ) - θ = Σ_t a(t) h^{|t|} F(t)`` as a term dict over the parameters' field: the rule
runs on traced values (:mod:`bea.bseries.tracing`), its auxiliary state slaved first
(:mod:`bea.bseries.slaving`), and a random reshuffling is averaged over the orderings of
its atoms (:func:`average_over_orderings`). :func:`bea.derive` takes the logarithm.
"""

from __future__ import annotations

import itertools

from ..atoms import rule_error
from .slaving import slaved_velocity
from .tracing import Tracer, Vec
from .trees import labels_of, relabel

__all__ = ["trace_map", "average_over_orderings"]


def trace_map(rule, order: int, field, fields: dict | None = None) -> tuple[dict, list | None]:
    """The B-series ``Φ(θ) - θ`` of one cycle, and the slaved auxiliary state if any.

    ``fields`` (label → term dict) runs the rule on modified atom fields instead of the
    atoms themselves (:mod:`bea.bseries.modifying`).
    """
    tracer = Tracer(field, order, rule.blocks)
    theta = tracer.parameters()
    atoms = tracer.atoms(rule.atoms, fields)
    h = tracer.h
    velocity = None
    try:
        if rule.n_aux:
            step = lambda th, *v: rule.step(th, *v, h, *atoms, **rule.params)  # noqa: E731
            velocity = slaved_velocity(step, tracer, theta, rule.n_aux, order)
            out = step(theta, *[Vec(tracer, {}, v, 0) for v in velocity])
            increment = tracer.increment(out[0], rule.atoms, "the parameter update")
        else:
            out = rule.step(theta, h, *atoms, **rule.params)
            increment = tracer.increment(out, rule.atoms)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a RuleError, or the user's code raised: name the line
        raise rule_error(rule, exc) from None
    if rule.shuffle:
        increment = average_over_orderings(increment, tuple(a.label for a in rule.atoms), field)
    return increment, velocity


def average_over_orderings(map_terms: dict, labels: tuple[str, ...], field) -> dict:
    """Mean of ``Φ_σ`` over all orderings ``σ`` of ``labels``.

    ``Φ_σ`` is ``Φ`` with the atoms permuted by ``σ``. The mean coefficient of a tree
    ``t`` using ``d`` distinct labels is the average of ``Φ``'s coefficient over the
    ``m!/(m-d)!`` injective relabelings of those labels (each relabeling is hit by
    ``(m-d)!`` permutations), so no ordering is ever enumerated; the work is one
    average per relabeling class (orbit) of trees. An orbit is averaged at its first
    tree; its other trees are then skipped by a set lookup, with no canonical form
    computed per tree.
    """
    label_set = set(labels)
    out: dict = {}
    seen: set = set()
    for t in list(map_terms):
        if t in seen:
            continue
        used = sorted({lab for lab in labels_of(t) if lab in label_set})
        images = [relabel(t, dict(zip(used, target))) for target in itertools.permutations(labels, len(used))]
        seen.update(images)
        mean = sum((map_terms.get(i, field.zero) for i in images), field.zero) / field(len(images))
        if mean:
            for image in images:
                out[image] = mean
    return out
