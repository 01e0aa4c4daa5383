"""Numbers for symbols: the one place where a derivation's symbols become values.

A derivation's coefficients are exact expressions in ``QQ`` or ``QQ(β, …)``; the rule's
parameters are numbers or symbols. :func:`substitute` puts exact numbers in for the named
symbols (code generation keeps the rest symbolic); :func:`to_float` needs every symbol
set and refuses a pole (``1/(1-β)`` at ``β = 1``); :func:`resolve_values` fills the
symbols the caller left unset from :data:`DEFAULT_VALUES` and says so in ``notes``.
No text is evaluated: values are numbers, parsed by :func:`bea.domain.exact_number`.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import sympy

from ..domain import exact_number

__all__ = ["DEFAULT_VALUES", "exact_values", "substitute", "to_float", "free_symbols", "resolve_values",
           "numeric_rule", "numeric_parameters", "numeric_coefficients"]

DEFAULT_VALUES = {"beta": 0.5, "alpha": 1.0, "lam": 0.5, "lambda": 0.5,
                  "b1": 0.5, "b2": 0.7, "eps": 0.1, "weight_decay": 0.2}
"""Numbers used for symbolic parameters that the caller does not set (``--set``). The
adaptive schemes' are not optax's ``0.9, 0.999, 1e-8``: their coefficients grow like
``1/(1 - ρ)^k`` and ``1/s^k`` with ``s ≥ √ε``, so the asymptotic regime would start far below
measurable h (and the truncated slaved ``v`` can turn negative where a gradient coordinate
vanishes)."""


def exact_values(values: Mapping | None) -> dict:
    """``{name: exact sympy number}`` from numbers keyed by names or symbols."""
    return {str(k): exact_number(v) for k, v in (values or {}).items()}


def substitute(expr, values: Mapping | None) -> sympy.Expr:
    """``expr`` (a number or sympy expression) with the symbols named in ``values``
    replaced by exact numbers; the other symbols stay."""
    expr = exact_number(expr)
    exact = exact_values(values)
    given = {s: exact[str(s)] for s in expr.free_symbols if str(s) in exact}
    return expr.subs(given) if given else expr


def to_float(expr, values: Mapping | None) -> float:
    """``expr`` as a float with every symbol set from ``values``; ValueError when a symbol
    has no value or the value is a pole of ``expr``."""
    number = substitute(expr, values)
    if number.free_symbols:
        raise ValueError(f"give numeric values for {', '.join(sorted(map(str, number.free_symbols)))}")
    if number.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        names = {str(s) for s in exact_number(expr).free_symbols}
        at = ", ".join(f"{k} = {v}" for k, v in sorted(exact_values(values).items()) if k in names)
        raise ValueError(f"the derivation has no finite value at {at} (a pole of {exact_number(expr)}); "
                         "choose another value")
    value = complex(sympy.N(number, 30))
    if value.imag:
        raise ValueError(f"{exact_number(expr)} is not real at the given values")
    return value.real


def _leaves(value):
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def free_symbols(derivation) -> set[str]:
    """Names of the free symbols of the flow, velocity and rule parameters, as the
    derivation's algebra finds them (:meth:`bea.algebra.Algebra.free_symbols`)."""
    return derivation.algebra.free_symbols(derivation)


def resolve_values(derivation, values: Mapping | None, notes: list | None = None) -> dict:
    """Numbers for every free symbol: ``values``, else :data:`DEFAULT_VALUES` (each default
    used is reported in ``notes``); a symbol with neither raises ValueError."""
    given = {str(k): float(v) for k, v in (values or {}).items()}
    for name in sorted(free_symbols(derivation)):
        if name not in given:
            if name not in DEFAULT_VALUES:
                raise ValueError(f"give a numeric value for the symbol {name}")
            given[name] = DEFAULT_VALUES[name]
            if notes is not None:
                notes.append(f"{name} not given: using {name} = {DEFAULT_VALUES[name]}")
    return given


def numeric_rule(rule, values: Mapping | None, notes: list | None = None):
    """``rule`` with its symbolic parameters set to exact numbers (``values``, else
    :data:`DEFAULT_VALUES`, each default used reported in ``notes`` as
    :func:`resolve_values` does), so that a check derives with numbers instead of
    substituting them afterwards: a coordinate-wise derivation with symbolic ``β, ρ, ε``
    spends its time in rational-function arithmetic (Adam at order 3: 7.0 s symbolic,
    2.1 s numeric; AdamW at order 4, what ``bea check --order 3`` derives: over 5 min
    symbolic). A symbol with no value is left for :func:`resolve_values` to report."""
    names = sorted({str(s) for v in _leaves(rule.params) if isinstance(v, sympy.Basic) for s in v.free_symbols})
    given = {str(k): v for k, v in (values or {}).items()}
    chosen = {}
    for name in names:
        if name in given:
            chosen[name] = given[name]
        elif name in DEFAULT_VALUES:
            chosen[name] = DEFAULT_VALUES[name]
            if notes is not None:
                notes.append(f"{name} not given: using {name} = {DEFAULT_VALUES[name]}")
    if not chosen:
        return rule
    params = _substituted(rule.params, chosen)
    options = {k: str(params[k]) if k in chosen and k in params else v for k, v in rule.options.items()}
    return dataclasses.replace(rule, params=params, options=options)


def _substituted(value, values: Mapping):
    if isinstance(value, Mapping):
        return {k: _substituted(v, values) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_substituted(v, values) for v in value)
    if isinstance(value, sympy.Basic):
        return substitute(value, values)
    return value


def numeric_parameters(params, values: Mapping):
    """``rule.params`` with every number and symbol replaced by a float (tuples kept)."""
    if isinstance(params, Mapping):
        return {k: numeric_parameters(v, values) for k, v in params.items()}
    if isinstance(params, (tuple, list)):
        return tuple(numeric_parameters(v, values) for v in params)
    if isinstance(params, bool):
        return params
    return to_float(params, values)


def numeric_coefficients(derivation, values: Mapping | None = None, upto: int | None = None) -> list:
    """Flow coefficients as floats, ``[{tree: float}]`` per order (index 0 empty)."""
    upto = derivation.order if upto is None else upto
    return [{}] + [
        {t: to_float(derivation.field.to_sympy(c), values) for t, c in derivation.flow[k].items()}
        for k in range(1, upto + 1)
    ]
