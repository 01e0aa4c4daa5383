"""Numerical evaluation of coordinate-wise expressions with JAX, on pytrees.

A vector atom ``D^k f_c[u_1, …, u_k]`` is ``k`` nested ``jax.jvp`` of the field ``f_c``
along the evaluated arguments (forward-over-reverse Hessian-vector products for
gradient atoms: no Hessian is formed), each computed once per call and shared; ``θ`` is
the point; an opaque map's ``D^kP(X)[u_1 … u_k]`` is ``k`` nested ``jax.jvp`` of its
numeric ``P`` (``fields[name]`` if given, else the registered map) at the evaluated ``X``;
``Σ[u]`` sums ``u`` over every coordinate of every leaf. The elementwise
algebra (products, quotients, roots, ``exp``, ``log``, ``tanh``) is the expression
itself, lambdified to ``jax.numpy`` and mapped over the leaves; scalars broadcast.
Everything is jittable and differentiable.
"""

from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import sympy

from ..bseries.evaluate import _d
from .expressions import THETA, FrozenSymbol, MapLabel, TotalSymbol, VectorSymbol, info
from .maps import numeric_map

__all__ = ["evaluate", "flow_function", "state_function"]

_LAMBDAS: dict = {}


def evaluate(exprs, fields: Mapping[str, Callable], theta, values: Mapping | None = None) -> list:
    """The values at ``θ`` of ``exprs`` (a list of expressions), sharing every atom.

    ``fields`` maps atom labels to functions of the parameters (pytrees in, pytrees out),
    and may map an opaque map's name to its numeric function;
    ``values`` maps parameter names to numbers.
    """
    values = {str(k): v for k, v in (values or {}).items()}
    memo: dict = {}

    def atom_value(x):
        found = memo.get(x)
        if found is None:
            if x == THETA:
                found = theta
            elif isinstance(x, TotalSymbol):
                found = sum(jnp.sum(leaf) for leaf in jax.tree_util.tree_leaves(value(info(x))))
            else:
                label, args = info(x)
                if isinstance(label, MapLabel):  # D^kP(X)[u…]: nested jvp of P at the point X
                    fn = fields[label.name] if label.name in fields else numeric_map(label.name)
                    found = _d(fn, value(label.point), *[value(u) for u in args])
                else:
                    found = _d(fields[label], theta, *[value(u) for u in args])
            memo[x] = found
        return found

    def value(expr):
        symbols = sorted(expr.free_symbols, key=sympy.default_sort_key)
        vectors, scalars = [], []
        for s in symbols:
            if isinstance(s, VectorSymbol):
                vectors.append(s)
            elif isinstance(s, FrozenSymbol):
                raise ValueError(f"cannot evaluate the frozen direction {s}")
            else:
                scalars.append(s)
        fn = _lambda(expr, tuple(vectors), tuple(scalars))
        scalar_values = [atom_value(s) if isinstance(s, TotalSymbol) else _parameter(s, values)
                         for s in scalars]
        if not vectors:
            scalar = fn(*scalar_values)
            return jax.tree_util.tree_map(lambda leaf: jnp.broadcast_to(scalar, leaf.shape).astype(leaf.dtype), theta)
        return jax.tree_util.tree_map(lambda *leaves: fn(*leaves, *scalar_values),
                                      *[atom_value(v) for v in vectors])

    return [value(sympy.sympify(e)) for e in exprs]


def _parameter(symbol, values):
    if str(symbol) not in values:
        raise ValueError(f"give a numeric value for {symbol}")
    return values[str(symbol)]


def _lambda(expr, vectors, scalars):
    key = (expr, vectors, scalars)
    fn = _LAMBDAS.get(key)
    if fn is None:
        names = [sympy.Dummy(f"a{i}") for i in range(len(vectors) + len(scalars))]
        body = expr.xreplace(dict(zip(vectors + scalars, names)))
        # exact integers beyond 64 bits (1/ε with ε = 1e-8, squared) enter as floats
        body = body.xreplace({n: sympy.Float(n, 17) for n in body.atoms(sympy.Integer) if abs(n) > 2**53})
        fn = sympy.lambdify(names, body, modules="jax")
        _LAMBDAS[key] = fn
    return fn


def _series_value(values, h):
    """``Σ_k h^k values[k]`` on pytrees (``h`` may be a traced JAX value)."""
    total = values[0]
    for k, v in enumerate(values[1:], start=1):
        total = jax.tree_util.tree_map(lambda a, b, w=h**k: a + w * b, total, v)
    return total


def flow_function(derivation, fields: Mapping[str, Callable], h, upto: int | None = None,
                  values: Mapping | None = None) -> Callable:
    """``θ ↦ f_1(θ) + h f_2(θ) + … + h^{upto-1} f_upto(θ)`` for a coordinate-wise derivation."""
    upto = derivation.order if upto is None else upto
    exprs = [derivation.flow[k] for k in range(1, upto + 1)]

    def field(theta):
        return _series_value(evaluate(exprs, fields, theta, values), h)

    return field


def state_function(derivation, fields: Mapping[str, Callable], h,
                   values: Mapping | None = None) -> Callable:
    """``θ ↦ (S_1(θ), …)``: the slaved auxiliary state ``Σ_i h^i S_i(θ)`` (Adam's ``m, v``)."""
    series = derivation.velocity or []

    def state(theta):
        return tuple(_series_value(evaluate(s, fields, theta, values), h) for s in series)

    return state
