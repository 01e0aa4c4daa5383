"""The registry of algebras: the one place that knows which algebras exist.

A :class:`bea.Rule` names its algebra (``algebra="trees"``, the default, or
``"coordinatewise"``); :func:`algebra_of` gives the :class:`~bea.algebra.Algebra` object
the pipeline, the printers, the code generator and the checks ask. A new algebra is a
package with an ``algebra.py`` (see the README's *Adding an algebra*) and one entry in
:data:`ALGEBRAS`; the order of :data:`ALGEBRAS` is the order in which a plain function's
algebra is tried (:func:`bea.rule_from_function`).
"""

from __future__ import annotations

from .algebra import Algebra
from .bseries.algebra import BSeries
from .coordinatewise.algebra import Coordinatewise

__all__ = ["ALGEBRAS", "algebra_named", "algebra_of"]

ALGEBRAS: dict[str, Algebra] = {a.name: a for a in (BSeries(), Coordinatewise())}


def algebra_named(name: str) -> Algebra:
    """The registered algebra called ``name`` (``ValueError`` naming the registered ones)."""
    try:
        return ALGEBRAS[name]
    except (KeyError, TypeError):
        names = " or ".join(repr(n) for n in ALGEBRAS)
        raise ValueError(f"Rule: algebra must be {names}, got {name!r}") from None


def algebra_of(rule) -> Algebra:
    """The algebra of ``rule`` (a :class:`bea.Rule`)."""
    return algebra_named(rule.algebra)
