"""Opaque smooth maps: ``P`` applied to a whole expression (Muon's orthogonalization).

A rule ``θ⁺ = θ − h P(X)`` with a smooth ``P: R^d → R^d`` that mixes coordinates (Muon's
``O(X) = NS^5(X/‖X‖_F)``, an exact polar factor, a smooth clip) is not elementwise, but
its backward error analysis only needs ``P``'s derivatives as multilinear maps:
``P(X_0 + ε) = Σ_k (1/k!) D^kP(X_0)[ε, …, ε]``. :func:`opaque` makes ``P`` a traceable
callable: on a traced series ``X = Σ_n h^n X_n`` it returns the h-series whose
coefficients are the generators ``D^kP(X_0)[X_{n_1}, …, X_{n_k}]`` of
:meth:`~bea.coordinatewise.ring.Ring.map` (differentiated by
``D_w D^kP(X)[u…] = D^{k+1}P(X)[u…, D_w X] + Σ_i D^kP(X)[… D_w u_i …]``); on an array it
calls the numeric ``P``. The algebra never looks inside ``P``: the printed flow reads
``O(X)``, ``O'(X)[E]``, ``O''(X)[E, F]``, and the checks and generated code evaluate them
by nested ``jax.jvp`` of the numeric ``P`` (:mod:`~bea.coordinatewise.evaluate`).

Parameters stay flat vectors in the algebra (a matrix is its flattening); the numeric
``P`` is a function of the matrix, and :func:`matrix_shape` tells it the shape while a
check or a simulation runs on flat coordinates.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import Callable

import flint

from ..atoms import RuleError
from .ring import RING, ZERO
from .tracing import Traced

__all__ = ["Map", "opaque", "MAPS", "matrix_shape", "numeric_map"]

MAPS: dict = {}
"""The opaque maps by name (the latest definition of a name is the one evaluated)."""

_SHAPE: list = [None]


@contextlib.contextmanager
def matrix_shape(shape):
    """While active, a numeric map called on a flat vector reshapes it to ``shape`` and
    flattens its result (the checks run on flat coordinates)."""
    previous, _SHAPE[0] = _SHAPE[0], (tuple(shape) if shape is not None else None)
    try:
        yield
    finally:
        _SHAPE[0] = previous


class Map:
    """An opaque smooth map ``P`` named ``name`` with numeric ``fn`` (a JAX function of an
    array, shape in = shape out); ``legend`` (``legend_tex`` in LaTeX) says what it is in
    printed output."""

    def __init__(self, name: str, fn: Callable | None = None, legend: str = "", legend_tex: str = ""):
        if not name.isidentifier():
            raise ValueError(f"a map name must be an identifier, got {name!r}")
        self.name, self.fn, self.legend, self.legend_tex = name, fn, legend, legend_tex

    def __call__(self, x):
        if isinstance(x, Traced):
            return _traced(self.name, x)
        return self.numeric(x)

    def numeric(self, x):
        """``P(x)`` on an array; a flat ``x`` is reshaped to :func:`matrix_shape`'s shape."""
        if self.fn is None:
            raise ValueError(f"map {self.name} has no numeric function: give opaque({self.name!r}, fn)")
        shape = _SHAPE[0]
        if shape is not None and getattr(x, "ndim", None) == 1 and len(shape) != 1:
            return self.fn(x.reshape(shape)).reshape(-1)
        return self.fn(x)

    def __repr__(self):
        return f"<map {self.name}>"


def opaque(name: str, fn: Callable | None = None, legend: str = "", legend_tex: str = "") -> Map:
    """The traceable opaque smooth map ``name`` (registered in :data:`MAPS`)."""
    found = Map(name, fn, legend, legend_tex)
    MAPS[name] = found
    return found


def numeric_map(name: str) -> Callable:
    """The numeric function of the registered map ``name``."""
    if name not in MAPS:
        raise ValueError(f"no opaque map named {name} is defined (bea.coordinatewise.opaque)")
    return MAPS[name].numeric


def _traced(name: str, x: Traced) -> Traced:
    """``P(X_0 + ε)`` with ``ε = Σ_{n≥1} h^n X_n``: each multiset ``{n_1 ≤ … ≤ n_k}`` with
    ``Σ n_i ≤ N`` gives ``D^kP(X_0)[X_{n_1} …]`` weighted ``1/Π(multiplicity!)`` (Taylor's
    ``1/k!`` times the number of orderings)."""
    coeffs = x.coeffs
    if not coeffs[0].is_vector():
        raise RuleError(f"map {name} is applied to a value without vector atoms at leading order "
                        "(a constant): its expansion needs a base point that depends on θ")
    n = len(coeffs) - 1
    out = [ZERO() for _ in coeffs]
    out[0] = RING.map(name, coeffs[0])
    orders = [i for i in range(1, n + 1) if not coeffs[i].is_zero()]
    for k in range(1, n // orders[0] + 1 if orders else 0):
        for chosen in itertools.combinations_with_replacement(orders, k):
            power = sum(chosen)
            if power > n:
                continue
            weight = math.prod(math.factorial(chosen.count(i)) for i in set(chosen))
            value = RING.map(name, coeffs[0], [coeffs[i] for i in chosen])
            out[power] = out[power] + (value * flint.fmpq(1, weight) if weight != 1 else value)
    return Traced(x.tracer, out)
