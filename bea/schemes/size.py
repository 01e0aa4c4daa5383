"""The work estimate of a scheme: :mod:`bea.estimate`, which :func:`bea.derive` shares.

Each scheme's ``size(order, **options) -> (atoms, updates)`` gives what it traces; its
registry entry names its algebra; the typed option values give the field's cost.
"""

from __future__ import annotations

from ..estimate import (
    MAX_TERMS, Estimate, FieldCost, TooMuchWork, approx, estimate, field_cost,
)

__all__ = ["MAX_TERMS", "Estimate", "FieldCost", "TooMuchWork", "estimate", "field_cost",
           "approx"]
