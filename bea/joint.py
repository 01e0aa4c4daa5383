"""Two small parameters: a joint expansion in the step ``h`` and a second parameter ``ρ``.

A rule may declare a parameter small (``Rule(..., small={"rho": M})``: SAM's perturbation
radius). Its modified field is then a double series

    F(θ; h, ρ) = Σ_{a,b} h^a ρ^b F_{a,b}(θ),

and :func:`bea.derive` keeps ``a ≤ N-1`` (``N`` the order as bea counts it, ``f_1 … f_N``)
and ``b ≤ M``. It is found by the one pipeline, unchanged: the rule is traced with
``ρ = r·h`` (:func:`scaled`: the step receives ``r·h`` for ``ρ``, ``r`` the parameter's own
symbol), so the map is an ordinary series in ``h`` and its modified flow
``Σ_k h^{k-1} f_k(r)`` is derived to the total order ``K = N + M``. Each ``f_k`` is a
polynomial in ``r`` (``ρ`` only enters as ``r·h``, and the expansion in ``h`` is
polynomial) and its ``r^b`` coefficient is exactly ``F_{k-1-b, b}``: no approximation.
:func:`regroup` collects, for each power ``h^a``, the terms ``ρ^b F_{a,b}`` with ``b ≤ M``:

    θ' = f̂_1 + h f̂_2 + … + h^{N-1} f̂_N,   f̂_{a+1} = Σ_{b ≤ M} ρ^b F_{a,b},

a derivation of order ``N`` whose coefficients are polynomials in ``ρ``: every printer,
the loss split (over the parameters' field, which holds ``ρ``), the code generator and the
checks read it as they read any derivation. The error of the truncation is
``O(h^N) + O(ρ^{M+1})`` in the field; :mod:`bea.check.joint` measures both.

In the B-series algebra a tree ``t`` of ``F_{a,b}`` has ``|t| = a + b + 1`` and sits in the
row of its power of ``h``, ``f̂_{a+1}``: read a row's terms from ``derivation.flow[a + 1]``
(``Derivation.coefficient(t)`` looks in the row ``|t|`` only). What reads a flow in ``h``
alone (modifying fields, principal flows, the equivalent step, schedules, ``bea drift``)
refuses a joint expansion.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import sympy

from .algebra import Traced

__all__ = ["small_parameter", "scaled", "regroup", "regrouped_flow", "beyond_plain", "truncation_text"]


def small_parameter(rule) -> tuple[sympy.Symbol, int] | None:
    """``(ρ, M)`` for a rule that declares a small parameter, else ``None``."""
    for name, order in rule.small.items():
        return rule.params[name], order
    return None


def scaled(rule):
    """The rule with its small parameter scaled by the step: its ``step`` receives ``r·h``
    where it received ``ρ`` (``r`` the parameter's symbol), and it declares nothing small."""
    (name, _), = rule.small.items()
    index = 1 + rule.n_aux  # step(theta, *aux, h, *atoms, **params)

    @functools.wraps(rule.step)
    def step(*args, **params):
        params[name] = params[name] * args[index]
        return rule.step(*args, **params)

    return dataclasses.replace(rule, step=step, small={})


def regrouped_flow(algebra, rule, flow, small):
    """The per-update ``flow`` of the scaled rule, regrouped (:func:`regroup`) by powers of the
    small parameter ``small = (ρ, M)`` and brought back to the algebra's canonical form by its
    own per-update step over one update (its ``cycle`` was divided out already)."""
    terms = regroup(flow.terms, *small, flow.field)
    return algebra.per_update(dataclasses.replace(rule, cycle=1), terms, Traced(None, None, None, flow.field))


def regroup(series: list, symbol: sympy.Symbol, order: int, field=None) -> list:
    """``out[j] = Σ_{b ≤ order} symbol^b · [symbol^b] series[j + b]`` for the indices ``j``
    that have every ``series[j + b]`` (the module docstring: ``series[k]`` holds
    ``h^{k-1} f_k`` with ``ρ = r·h``, ``out[a+1]`` the ``h^a`` part of the double series).

    ``field`` is the coefficient field of term dicts ``{term: coefficient}`` (B-series);
    without a field (``None``) each entry is one sympy expression (coordinate-wise)."""
    return [_collect([_coefficient(series[j + b], symbol, b, field) for b in range(order + 1)], symbol, field)
            for j in range(len(series) - order)]


def _coefficient(entry, symbol, b: int, field):
    """``[symbol^b] entry``: the ``b``-th Taylor coefficient at ``symbol = 0`` (exact; the
    entry is a polynomial in ``symbol``)."""
    if field is None:
        expr = sympy.sympify(entry)
        return sympy.diff(expr, symbol, b).subs(symbol, 0) / math.factorial(b) if expr.has(symbol) else \
            (expr if b == 0 else sympy.S.Zero)
    out = {}
    for term, c in entry.items():
        value = sympy.diff(field.to_sympy(c), symbol, b).subs(symbol, 0) / math.factorial(b)
        if value != 0:
            out[term] = sympy.factor(value)
    return out


def _collect(parts: list, symbol, field):
    """``Σ_b symbol^b parts[b]``, back in the algebra's form."""
    if field is None:
        return sympy.Add(*[symbol ** b * p for b, p in enumerate(parts)])
    out: dict = {}
    for b, terms in enumerate(parts):
        for term, value in terms.items():
            out[term] = out.get(term, 0) + symbol ** b * value
    return {t: field.from_sympy(sympy.factor(v)) for t, v in out.items() if sympy.expand(v) != 0}


def beyond_plain(rule, value) -> sympy.Expr:
    """The part of a value of the first row (``f̂_1``'s coefficient, or its loss weight, as a
    sympy expression) that vanishes at ``ρ = 0``: what the second parameter adds to the plain
    flow at ``h^0``, ``ρ F_{0,1} + … + ρ^M F_{0,M}``. The implicit drift and regularizer hold
    it (USAM's ``ρ/2 ‖∇L‖²``, SAM's ``ρ‖∇L‖``); zero for a rule without a small parameter."""
    found = small_parameter(rule)
    if found is None:
        return sympy.S.Zero
    return sympy.expand(value - value.subs(found[0], 0))


def truncation_text(rule, order: int) -> str:
    """The reader's note for a joint expansion (empty for a rule without a small
    parameter): the size of what the field leaves out, ``O(h^N) + O(ρ^{M+1})``."""
    found = small_parameter(rule)
    if found is None:
        return ""
    symbol, m = found
    name = sympy.pretty(symbol, use_unicode=True)
    return f"joint expansion in h and {name} to O(h^{order}) + O({name}^{m + 1})"
