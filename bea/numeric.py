"""Numerical evaluation of derived flows with JAX, on pytrees.

``F(t) = f_c^{(k)}(F(t_1), …, F(t_k))`` is the k-th directional derivative of ``f_c`` in
the directions ``F(t_i)``, computed by ``k`` nested ``jax.jvp`` (for gradient atoms
``f_c = -∇L``, forward-over-reverse Hessian-vector products): no Hessian is ever formed,
and each elementary differential is computed once per evaluation and shared.

This module is the in-memory reference used by verification; :mod:`bea.codegen`
writes the same computation out as standalone source.
"""

from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import sympy

from .trees import Tree

__all__ = [
    "directional_derivative",
    "elementary_differentials",
    "fields_from_losses",
    "numeric_coefficients",
    "flow_function",
]


def directional_derivative(f: Callable, theta, directions) -> object:
    """``D^k f(θ)[v_1, …, v_k]`` by nested ``jax.jvp`` (``k = len(directions)``)."""
    g = f
    for v in directions:
        g = _jvp_in(g, v)
    return g(theta)


def _jvp_in(g, v):
    return lambda x: jax.jvp(g, (x,), (v,))[1]


def elementary_differentials(trees, fields: Mapping[str, Callable], theta) -> dict:
    """``{t: F(t)(θ)}`` for ``trees`` and all their subtrees, each computed once."""
    memo: dict = {}

    def value(t: Tree):
        found = memo.get(t)
        if found is None:
            found = directional_derivative(fields[t.label], theta, [value(c) for c in t.children])
            memo[t] = found
        return found

    for t in trees:
        value(t)
    return memo


def fields_from_losses(atoms, losses: Mapping[str, Callable], blocks=(None,)) -> dict:
    """Atom fields ``f_c = -sign·P_block ∇L`` from scalar losses of the parameters.

    With blocks, parameters are a tuple of the blocks' pytrees and ``P_block`` keeps the
    atom's own block (zeros elsewhere).
    """
    fields = {}
    for a in atoms:
        loss = losses[a.loss]
        if a.block is None:
            fields[a.label] = _neg_grad(loss, a.sign)
        else:
            fields[a.label] = _neg_block_grad(loss, a.sign, blocks.index(a.block))
    return fields


def _neg_grad(loss, sign):
    grad = jax.grad(loss)
    return lambda theta: jax.tree_util.tree_map(lambda g: -sign * g, grad(theta))


def _neg_block_grad(loss, sign, index):
    grad = jax.grad(loss)

    def field(theta):
        g = grad(theta)
        return tuple(
            jax.tree_util.tree_map(lambda x: -sign * x if i == index else jnp.zeros_like(x), part)
            for i, part in enumerate(g)
        )

    return field


def numeric_coefficients(derivation, values: Mapping | None = None, upto: int | None = None) -> list:
    """Flow coefficients as floats: ``[{tree: float}]`` per order, symbols set from ``values``.

    ``values`` maps symbol names (or sympy symbols) to numbers; every free symbol of the
    derivation must be given one.
    """
    values = {str(k): v for k, v in (values or {}).items()}
    upto = derivation.order if upto is None else upto
    out = [dict()]
    for k in range(1, upto + 1):
        terms = {}
        for t, c in derivation.flow[k].items():
            expr = derivation.field.to_sympy(c)
            free = {s: values[str(s)] for s in expr.free_symbols if str(s) in values}
            missing = [str(s) for s in expr.free_symbols if str(s) not in values]
            if missing:
                raise ValueError(f"give numeric values for {', '.join(sorted(missing))}")
            terms[t] = float(sympy.N(expr.subs(free), 30))
        out.append(terms)
    return out


def flow_function(derivation, fields: Mapping[str, Callable], h: float, upto: int | None = None,
                  values: Mapping | None = None) -> Callable:
    """``θ ↦ f_1(θ) + h f_2(θ) + … + h^{upto-1} f_upto(θ)`` as a JAX function on pytrees."""
    coeffs = numeric_coefficients(derivation, values, upto)
    trees = [t for terms in coeffs for t in terms]

    def field(theta):
        diffs = elementary_differentials(trees, fields, theta)
        total = None
        for k, terms in enumerate(coeffs):
            for t, c in terms.items():
                scaled = jax.tree_util.tree_map(lambda x, w=c * h ** (k - 1): w * x, diffs[t])
                total = scaled if total is None else jax.tree_util.tree_map(jnp.add, total, scaled)
        return total

    return field
