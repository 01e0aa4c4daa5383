"""The work estimate of a scheme: :mod:`bea.estimate`, which :func:`bea.derive` shares.

Each scheme's ``size(order, **options) -> (atoms, updates)`` gives what it traces; its
registry entry names its algebra; the typed option values give the field's cost.
"""

from __future__ import annotations

from ..estimate import (
    MAX_TERMS, Estimate, FieldCost, TooMuchWork, approx, estimate, field_cost, labelled_trees,
)

__all__ = ["MAX_TERMS", "labelled_trees", "Estimate", "FieldCost", "TooMuchWork", "estimate", "field_cost",
           "approx"]
