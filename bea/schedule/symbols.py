"""The symbols ``η, η', η'', …`` of a schedule's value and derivatives at the time ``t``.

Named ``eta``, ``etaprime``, ``etaprimeprime``, …: sympy's LaTeX printer reads the
``prime`` suffix as a prime (``{\\eta}'``), and :data:`bea.render.readable.GREEK` prints
them ``η``, ``η'``, ``η''`` in text.
"""

from __future__ import annotations

import sympy

__all__ = ["eta_symbols", "eta_name", "LEGEND"]

LEGEND = "η = η(t), the schedule; η', η'' its derivatives in t"
"""The line printed under the header of a scheduled derivation."""


def eta_name(j: int) -> str:
    """The symbol name of ``η^{(j)}``."""
    return "eta" + "prime" * j


def eta_symbols(order: int) -> list[sympy.Symbol]:
    """``[η, η', …, η^{(order-1)}]``: the derivatives an order-``order`` flow can hold."""
    return [sympy.Symbol(eta_name(j)) for j in range(order)]
