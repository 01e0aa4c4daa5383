"""Coordinate-wise update rules traced into h-series of expressions.

A rule is ordinary Python (``theta - h*m/sqrt(v + eps)``); bea calls it once with
*traced* values: truncated power series ``Σ_{n≤N} h^n c_n`` whose coefficients are
coordinate-wise expressions, elements of the ring of :mod:`bea.coordinatewise.ring`. Vectors
and scalars are the same kind of value (a scalar is an expression without vector atoms,
broadcast over the coordinates), so ``*``, ``/`` and ``**`` act elementwise, and an
analytic function acts on a series by its Taylor expansion around the ``h^0`` part:
``φ(c_0 + ε) = Σ_k φ^{(k)}(c_0) ε^k / k!`` (:func:`sqrt`, :func:`exp`, :func:`log`,
:func:`tanh`; :func:`dot` and :func:`norm` through the scalar atom ``Σ``). The same
functions run on numbers and JAX arrays, so one rule serves tracing and simulation.

An atom called at a point ``θ + δ`` (``δ = O(h)``: consistency) returns its Taylor
shift (:func:`bea.coordinatewise.ring_calculus.taylor_shift`). Non-analytic operations (``abs``,
comparisons, a function singular at the ``h^0`` value) are refused with a reason.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import flint
import sympy

from ..domain import exact_number
from ..atoms import RuleError
from ..bseries.tracing import NonSmoothRefusals
from .boundary import elem, from_sympy, rational_power, to_canonical
from .ring import ONE, RING, ZERO, Elem, sum_
from .ring_calculus import partial, taylor_shift

__all__ = ["Traced", "Tracer", "sqrt", "exp", "log", "tanh", "dot", "norm"]


class Traced(NonSmoothRefusals):
    """A truncated h-series ``Σ_{n≤N} h^n c_n`` of coordinate-wise expressions (elements
    of :mod:`~bea.coordinatewise.ring`)."""

    __slots__ = ("tracer", "coeffs")
    _op_priority = 100.0  # sympy defers to our operators (beta * m)
    __array_priority__ = 1000

    def __init__(self, tracer, coeffs):
        self.tracer = tracer
        self.coeffs = tuple(elem(c) for c in coeffs)

    # -- arithmetic ---------------------------------------------------------------
    def _lift(self, other) -> "Traced":
        if isinstance(other, Traced):
            return other
        return self.tracer.constant(self.tracer.number(other))

    def __add__(self, other):
        o = self._lift(other)
        return Traced(self.tracer, [a + b for a, b in zip(self.coeffs, o.coeffs)])

    __radd__ = __add__

    def __neg__(self):
        return Traced(self.tracer, [-a for a in self.coeffs])

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) + (-self)

    def __mul__(self, other):
        o = self._lift(other)
        a, b = self.coeffs, o.coeffs
        return Traced(self.tracer, [
            sum_([a[i] * b[k - i] for i in range(k + 1) if not a[i].is_zero() and not b[k - i].is_zero()])
            for k in range(len(a))])

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * self._lift(other).apply("power", "1/x", sympy.Integer(-1))

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __pow__(self, exponent):
        if isinstance(exponent, Traced):
            return exp(exponent * log(self))
        p = self.tracer.number(exponent)
        return self.apply("power", f"x**{p}", p)

    def __rpow__(self, base):
        return exp(self * log(self._lift(base)))

    def apply(self, kind: str, name: str, p=None) -> "Traced":
        """``φ`` applied elementwise (``kind``: ``power`` with exponent ``p``, ``exp``,
        ``log``, ``tanh``): Taylor expansion around the ``h^0`` coefficient,
        ``φ(c_0 + ε) = Σ_k φ^{(k)}(c_0) ε^k / k!``."""
        c0, rest = self.coeffs[0], Traced(self.tracer, (0,) + self.coeffs[1:])
        values = _derivatives(kind, c0, p, name)
        out = [ZERO() for _ in self.coeffs]
        power = self.tracer.constant(1)
        for k in range(len(self.coeffs)):
            if k:
                power = power * rest
                if all(c.is_zero() for c in power.coeffs):
                    break
            value = next(values) * flint.fmpq(1, math.factorial(k))
            for n, c in enumerate(power.coeffs):
                if not c.is_zero():
                    out[n] = out[n] + value * c
        return Traced(self.tracer, out)

    # -- refusals (abs, comparisons, branches, rounding: NonSmoothRefusals) ---------
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuleError(
            f"'{name}' is not available on a traced value: a rule may use +, -, *, /, **, "
            "bea.coordinatewise.sqrt/exp/log/tanh/dot/norm and atom calls")

    def __repr__(self):
        return "Traced(" + " + ".join(f"h^{n}·({c.to_sympy()})" for n, c in enumerate(self.coeffs)
                                      if not c.is_zero()) + ")"


_X = sympy.Dummy("x")


def _derivatives(kind: str, c0: Elem, p, name: str):
    """``φ^{(k)}(c_0)`` for ``k = 0, 1, …`` (a generator): roots and powers through
    :func:`~bea.coordinatewise.ring._rational_power`, ``exp``/``log``/``tanh`` of ``c_0``
    as generators; at a number ``c_0``, sympy's exact values (refused where infinite)."""
    value = c0.is_constant()
    if value is not None:
        x0 = sympy.Rational(int(value.p), int(value.q))
        expr = _X**p if kind == "power" else getattr(sympy, kind)(_X)
        while True:
            v = expr.xreplace({_X: x0})
            if v.has(sympy.zoo, sympy.oo, sympy.nan, sympy.S.ComplexInfinity):
                raise RuleError(f"{name} is not analytic at the value {x0} the rule gives it")
            yield from_sympy(v)
            expr = sympy.diff(expr, _X)
    if kind == "power":
        if p.is_Rational:
            r, falling = Fraction(int(p.p), int(p.q)), Fraction(1)
            for k in range(10**9):
                yield rational_power(c0, r - k) * flint.fmpq(falling.numerator, falling.denominator)
                falling *= r - k
        power, falling, inverse = RING.power(c0, p), ONE(), c0.inverse()
        for k in range(10**9):
            yield falling * power * inverse**k
            falling = falling * from_sympy(p - k)
    fn = RING.function(kind, c0)
    if kind == "exp":
        while True:
            yield fn
    if kind == "log":
        yield fn
        inverse, value = c0.inverse(), ONE()
        for k in range(1, 10**9):
            value = value * inverse * (-(k - 1) if k > 1 else 1)
            yield value
    t = fn.gens()[0]  # tanh: φ^{(k+1)} = dφ^{(k)}/dT · (1 - T²)
    value = fn
    while True:
        yield value
        value = partial(value, t) * (ONE() - fn * fn)


class AtomCall:
    """The traced atom ``f_c``: at ``θ + δ`` it returns the Taylor series of ``f_c`` there;
    with ``corrections = [c_2, c_3, …]`` (expressions) that of the modified atom
    ``f_c + h c_2 + h² c_3 + …`` (:mod:`bea.coordinatewise.modifying`)."""

    def __init__(self, tracer, label: str, corrections=()):
        self.tracer = tracer
        self.label = label
        self.corrections = tuple(corrections)

    def __call__(self, point):
        tr = self.tracer
        if not isinstance(point, Traced):
            raise RuleError(f"atom {self.label} must be called at the parameters")
        if not (point.coeffs[0] - RING.theta()).is_zero():
            raise RuleError(f"atom {self.label} is evaluated at a point that is not θ + O(h) "
                            f"(its h^0 part is {to_canonical(point.coeffs[0])}): a move of fixed "
                            "size, such as SAM's θ + ρ·g/‖g‖ with a fixed radius ρ, has no "
                            "expansion in h alone; declare ρ a second small parameter, "
                            "Rule(..., small={'rho': M}), for the joint expansion in h and ρ "
                            "(bea derive --scheme sam --rho-order M)")
        delta = [ZERO()] + list(point.coeffs[1:])
        series = taylor_shift(RING.atom(self.label), delta, tr.max_order)
        for power, c in enumerate(self.corrections, start=1):  # h^power c_{power+1}
            if power > tr.max_order:
                break
            for n, e in enumerate(taylor_shift(elem(c), delta, tr.max_order - power)):
                series[n + power] = series[n + power] + e
        return Traced(tr, series)

    def __repr__(self):
        return f"<atom {self.label}>"


class Tracer:
    """The truncation order and the declared parameters while a rule is traced; ``clock``
    the time coordinate of a scheduled rule (:class:`~bea.coordinatewise.clock.Clock`)."""

    def __init__(self, max_order: int, params=(), clock=None):
        self.max_order = max_order
        self.clock = clock
        self.allowed = {s for p in _flatten(params) for s in exact_number(p).free_symbols}
        self.h = Traced(self, [0, 1] + [0] * (max_order - 1)) if max_order else self.constant(0)

    def constant(self, value) -> Traced:
        return Traced(self, [value] + [0] * self.max_order)

    def number(self, value):
        """A rule's scalar: int, Fraction, float (taken exactly), sympy number or parameter."""
        if isinstance(value, bool) or not isinstance(value, (numbers.Number, Fraction, sympy.Basic)):
            raise RuleError(f"cannot use {value!r} ({type(value).__name__}) in a coordinate-wise rule")
        value = exact_number(value)
        stray = value.free_symbols - self.allowed
        if stray:
            raise RuleError(f"{value} uses {', '.join(sorted(map(str, stray)))}, not a parameter "
                            "of this derivation; declare it in the rule's params")
        return value

    def parameters(self) -> Traced:
        return self.constant(RING.theta())

    def atoms(self, atoms, corrections=None):
        """Traced atoms; ``corrections`` maps a label to its ``[c_2, c_3, …]``."""
        return [AtomCall(self, a.label, (corrections or {}).get(a.label, ())) for a in atoms]

    def increment(self, result, what="the rule's result") -> list:
        """``θ' - θ`` of a traced result as ``[0, a_1, …, a_N]``, checked to be ``O(h)``."""
        if not isinstance(result, Traced):
            raise RuleError(f"{what} is a {type(result).__name__}, not a traced vector")
        inc = result - self.parameters()
        if not inc.coeffs[0].is_zero():
            raise RuleError(f"{what} is not θ + O(h): its h^0 part differs from θ by "
                            f"{to_canonical(inc.coeffs[0])}")
        return list(inc.coeffs)


def _flatten(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _flatten(v)
        else:
            yield v


# -- elementwise functions: traced or numeric ----------------------------------------
def _elementwise(name: str, kind: str, p=None):
    def function(x):
        if isinstance(x, Traced):
            return x.apply(kind, name, p)
        import jax.numpy as jnp  # numeric use only: the exact core stays JAX-free

        return getattr(jnp, name)(x)

    function.__name__ = name
    function.__doc__ = f"Elementwise {name}, on traced values or arrays."
    return function


sqrt = _elementwise("sqrt", "power", sympy.S.Half)
exp = _elementwise("exp", "exp")
log = _elementwise("log", "log")
tanh = _elementwise("tanh", "tanh")


def dot(u, v):
    """``⟨u, v⟩ = Σ_j u_j v_j`` (the scalar atom ``Σ[u⊙v]``), on traced values or pytrees."""
    if isinstance(u, Traced) or isinstance(v, Traced):
        w = u * v if isinstance(u, Traced) else v * u
        return Traced(w.tracer, [RING.total(c) for c in w.coeffs])
    import jax

    return sum(jax.numpy.vdot(a, b) for a, b in zip(jax.tree_util.tree_leaves(u),
                                                    jax.tree_util.tree_leaves(v)))


def norm(u):
    """``‖u‖ = √⟨u, u⟩``."""
    return sqrt(dot(u, u))
