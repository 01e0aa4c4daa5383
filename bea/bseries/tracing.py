"""Update rules written as ordinary Python, traced into B-series.

A rule is a Python function of the parameters, the learning rate ``h`` and the atoms.
bea calls it once with *traced* values: the parameters become the symbolic point ``θ``,
``h`` a grading marker, and each atom a callable that returns the Taylor expansion of
``f_c`` at the point it is given (:func:`bea.bseries.series.shift`). Arithmetic on traced values
builds the series of the update map, truncated at the requested order. So ``θ + h*f(θ)``
or a Runge–Kutta stage loop *is* the scheme::

    def heun(theta, h, f):
        k1 = f(theta)
        k2 = f(theta + h * k1)
        return theta + h / 2 * (k1 + k2)

Grading: a traced vector is ``Σ_b w_b θ_b + Σ_t a(t) h^{|t|-d} F(t)`` with one integer
*deficit* ``d`` for all its trees. An atom value has ``d = 1``; multiplying by ``h``
lowers ``d`` by one. A point where an atom is evaluated, and the rule's result, must have
``d = 0`` and the base ``θ`` with weight one: that is the consistency of the rule, and a
rule that breaks it gets a :class:`RuleError` naming the operation.

A B-series is a Taylor expansion, so non-smooth operations on traced values (``abs``,
comparisons and so ``min``/``max``/``np.sign``/clipping, branches, rounding) are refused
with the smooth variant to write (:class:`NonSmoothRefusals`, shared with the coordinate-wise
tracer); elementwise operations (products of vectors, ``bea.sqrt``, ``bea.norm``) raise
:class:`ForeignOperation`, which names ``algebra="coordinatewise"``.

Implicit relations are solved as formal series by :func:`fixed_point` (each sweep gains
at least one order in h). Auxiliary state (a velocity) is slaved to the parameters by
:func:`bea.bseries.slaving.slaved_velocity` through the invariant-manifold expansion.
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import sympy
from sympy.solvers.solveset import NonlinearError

from ..atoms import Atom, RuleError
from ..domain import exact_number
from .series import add_into, scale, shift
from .trees import tree

__all__ = ["Atom", "RuleError", "ForeignOperation", "Vec", "Scalar", "fixed_point", "Tracer",
           "not_smooth", "NonSmoothRefusals", "SMOOTH_VARIANTS"]

SMOOTH_VARIANTS = ("bea.sqrt(g*g + eps) for |g|, g/bea.sqrt(g*g + eps) for sign(g), "
                   "g/bea.sqrt(1 + (bea.norm(g)/c)**2) for clipping g·min(1, c/‖g‖)")
"""The smooth variants a refusal of a non-smooth operation suggests (both tracers)."""

_COORDINATEWISE = ('the coordinate-wise algebra: build the rule as bea.Rule(..., algebra="coordinatewise") '
                   "(a plain function gets it automatically, a bea.Rule does not)")


class ForeignOperation(RuleError):
    """The rule uses an operation of another algebra (an elementwise product, a root, a
    norm): a plain function is then given to the next registered algebra
    (:func:`bea.custom.rule_from_function`), whose refusal, if any, is the one reported."""


def not_smooth(what: str) -> RuleError:
    """The refusal of a non-smooth operation on a traced value: a B-series (or an h-series)
    is a Taylor expansion, so the rule must be smooth in its arguments."""
    return RuleError(f"{what} is not smooth, and backward error analysis needs a smooth rule "
                     f"(an expansion in h); use {SMOOTH_VARIANTS}")


class NonSmoothRefusals:
    """Refusals of the non-smooth operations Python and numpy apply to a traced value
    (``abs``, comparisons inside ``min``/``max``/``np.sign``/``np.maximum``, a branch,
    rounding): a mixin of every tracer's values (also :mod:`bea.coordinatewise.tracing`)."""

    __slots__ = ()

    def __abs__(self):
        raise not_smooth("abs(…) of a traced value")

    def _compare(self, other):
        raise not_smooth("comparing a traced value (<, >, min, max, sign, np.maximum, clipping)")

    __lt__ = __le__ = __gt__ = __ge__ = _compare

    def __bool__(self):
        raise not_smooth("branching on a traced value (if, while, and, or)")

    def __round__(self, ndigits=None):
        raise not_smooth("rounding a traced value")

    def __floor__(self):
        raise not_smooth("floor of a traced value")

    def __ceil__(self):
        raise not_smooth("ceil of a traced value")

    def __trunc__(self):
        raise not_smooth("trunc of a traced value")

    def clip(self, *bounds, **options):  # what np.clip calls on an object
        raise not_smooth("clipping a traced value (np.clip)")


class Scalar(NonSmoothRefusals):
    """A coefficient times ``h^power``; ``h`` itself is ``Scalar(1, 1)``."""

    __slots__ = ("tracer", "coeff", "power")
    _op_priority = 100.0  # sympy defers to our operators (beta * h)

    def __init__(self, tracer, coeff, power: int):
        self.tracer = tracer
        self.coeff = coeff
        self.power = power

    def _lift(self, other):
        if isinstance(other, Scalar):
            return other
        return Scalar(self.tracer, self.tracer.number(other), 0)

    def __mul__(self, other):
        if isinstance(other, Vec):
            return other * self
        if not isinstance(other, Scalar) and _is_zero(other):
            return 0  # h * (empty sum) is the zero vector, which adds to anything
        o = self._lift(other)
        return Scalar(self.tracer, self.coeff * o.coeff, self.power + o.power)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Vec):
            return other.__rtruediv__(self)
        o = self._lift(other)
        if not o.coeff:
            raise RuleError("division by zero in the rule")
        return Scalar(self.tracer, self.coeff / o.coeff, self.power - o.power)

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __pow__(self, n):
        if not isinstance(n, int):
            raise RuleError(f"h may only be raised to integer powers, not {n!r}")
        return Scalar(self.tracer, self.coeff**n, self.power * n)

    def __neg__(self):
        return Scalar(self.tracer, -self.coeff, self.power)

    def __add__(self, other):
        o = self._lift(other)
        if o.coeff and self.coeff and o.power != self.power:
            raise RuleError(
                "adding terms with different powers of h (e.g. 1 + h) is not a consistent "
                "scalar in an update rule; multiply vectors by h instead"
            )
        power = self.power if self.coeff else o.power
        return Scalar(self.tracer, self.coeff + o.coeff, power)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) + (-self)

    def __getattr__(self, name):
        if name in _ARRAY_ATTRIBUTES:  # jax.numpy (bea.sqrt(h), …) took it for an array
            raise ForeignOperation(f"bea.sqrt and other elementwise functions of h need {_COORDINATEWISE}")
        raise AttributeError(name)

    def __repr__(self):
        return f"Scalar({self.coeff}, h^{self.power})"


def _is_zero(value) -> bool:
    return isinstance(value, (numbers.Number, sympy.Basic)) and value == 0


class Vec(NonSmoothRefusals):
    """A traced vector: ``Σ_b w_b θ_b`` plus a series of trees with one h-deficit."""

    __slots__ = ("tracer", "base", "terms", "deficit")
    __array_priority__ = 1000
    _op_priority = 100.0  # sympy defers to our operators (beta * v)

    def __init__(self, tracer, base: dict, terms: dict, deficit: int):
        self.tracer = tracer
        self.base = {b: w for b, w in base.items() if w}
        self.terms = terms
        self.deficit = deficit if terms else 0
        if self.base and self.terms and self.deficit != 0:
            raise RuleError(
                "the parameters are added to a term that is not O(h) "
                f"(it carries h^-{self.deficit} relative to its trees): multiply each atom "
                "value by h before adding it to the parameters"
            )

    # -- arithmetic ---------------------------------------------------------------
    def _coerce(self, other):
        if isinstance(other, Vec):
            return other
        if _is_zero(other):
            return Vec(self.tracer, {}, {}, 0)
        raise RuleError(
            f"cannot add a {type(other).__name__} to a vector in an update rule; "
            "only parameters, atom values and their multiples can be added"
        )

    def __add__(self, other):
        o = self._coerce(other)
        if self.terms and o.terms and self.deficit != o.deficit:
            raise RuleError(
                "adding vectors of different orders in h (e.g. f(θ) + h f(θ)); "
                "every atom value must carry the same power of h"
            )
        base = dict(self.base)
        for b, w in o.base.items():
            base[b] = base.get(b, 0) + w
        terms = add_into(dict(self.terms), o.terms)
        return Vec(self.tracer, base, terms, self.deficit if self.terms else o.deficit)

    __radd__ = __add__

    def __neg__(self):
        one = self.tracer.field.one
        return self._scaled(-one, 0)

    def __sub__(self, other):
        return self + (-self._coerce(other))

    def __rsub__(self, other):
        return self._coerce(other) + (-self)

    def _scaled(self, coeff, power):
        if power and self.base:
            raise RuleError(
                "the parameters are multiplied by a power of h; only atom values may be "
                "(write linear terms like weight decay as an atom)"
            )
        base = {b: w * coeff for b, w in self.base.items()}
        return Vec(self.tracer, base, scale(self.terms, coeff), self.deficit - power)

    def __mul__(self, other):
        if isinstance(other, Vec):
            raise ForeignOperation(f"a product of vectors (elementwise) needs {_COORDINATEWISE}")
        s = other if isinstance(other, Scalar) else Scalar(self.tracer, self.tracer.number(other), 0)
        return self._scaled(s.coeff, s.power)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Vec):
            raise ForeignOperation(f"a quotient of vectors (elementwise) needs {_COORDINATEWISE}")
        s = other if isinstance(other, Scalar) else Scalar(self.tracer, self.tracer.number(other), 0)
        if not s.coeff:
            raise RuleError("division by zero in the rule")
        return self._scaled(self.tracer.field.one / s.coeff, -s.power)

    def __rtruediv__(self, other):
        raise ForeignOperation(f"dividing by a vector (elementwise) needs {_COORDINATEWISE}")

    def __pow__(self, other):
        raise ForeignOperation(f"a power of a vector (elementwise) needs {_COORDINATEWISE}")

    def __eq__(self, other):
        return (
            isinstance(other, Vec)
            and self.base == other.base
            and self.terms == other.terms
            and (not self.terms or self.deficit == other.deficit)
        )

    __hash__ = None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _ARRAY_ATTRIBUTES:  # jax.numpy (bea.sqrt, bea.norm, …) took it for an array
            raise ForeignOperation(f"bea.sqrt, bea.norm, bea.dot and other elementwise functions need "
                                   f"{_COORDINATEWISE}")
        raise RuleError(
            f"'{name}' is not available on a traced vector: a rule may use +, -, * and / "
            "with numbers, h and parameters, atom calls, and bea.fixed_point"
        )

    def __repr__(self):
        parts = [f"{w}·θ_{b or ''}" for b, w in self.base.items()]
        parts += [f"{c}·{t}" for t, c in self.terms.items()]
        return "Vec(" + " + ".join(parts or ["0"]) + f"; h^-{self.deficit})"


_ARRAY_ATTRIBUTES = frozenset({"dtype", "shape", "ndim", "size", "aval", "weak_type"})
"""What an array function reads first from its argument."""


class AtomCall:
    """The traced atom ``f_c``: evaluated at a point, returns its Taylor series there.

    ``series`` replaces the atom by a modified field ``f_c + h c_2 + h² c_3 + …`` given as a
    term dict over trees (order ``|t|`` stands for ``h^{|t|-1} F(t)``); the default is the
    one-node tree ``f_c`` itself.
    """

    def __init__(self, tracer, atom: Atom, series: dict | None = None):
        self.tracer = tracer
        self.atom = atom
        self.leaf = series if series is not None else {tree(atom.label): tracer.field.one}

    def __call__(self, *parts):
        point = parts[0]
        for p in parts[1:]:
            point = point + p
        if not isinstance(point, Vec):
            raise RuleError(f"atom {self.atom.label} must be called with the parameters")
        tr = self.tracer
        if point.base != tr.full_base or (point.terms and point.deficit != 0):
            raise RuleError(
                f"atom {self.atom.label} is evaluated at a point that is not θ + O(h) "
                f"(weights {point.base or 0} on the parameters)"
            )
        return Vec(tr, {}, shift(self.leaf, point.terms, tr.max_order, tr.field), 1)

    def __repr__(self):
        return f"<atom {self.atom.label}>"


def fixed_point(equation, guess, max_sweeps: int | None = None):
    """Solve ``x = equation(x)`` by repeated substitution.

    ``guess`` is a traced vector or a tuple of them. Each sweep fixes at least one more
    order in h (the right-hand side is ``O(h)`` in its argument), so at most
    ``max_order + 1`` sweeps are needed; iteration stops early when nothing changes.
    Implicit Euler: ``fixed_point(lambda y: theta + h*f(y), theta)``.

    The same call works when the rule runs on numbers (numerical verification): then it
    iterates ``max_sweeps`` times (default 100), a contraction for small ``h``. When the
    rule runs on sympy expressions (a linear test field, :mod:`bea.principal`), the
    equation must be affine in ``x`` and is solved exactly in closed form.
    """
    first = guess[0] if isinstance(guess, (tuple, list)) else guess
    if isinstance(first, sympy.Basic):
        return _solve_affine(equation, guess)
    traced = isinstance(first, Vec)
    sweeps = max_sweeps or (first.tracer.max_order + 2 if traced else 100)
    current = guess
    for _ in range(sweeps):
        new = equation(current)
        if isinstance(new, list):
            new = tuple(new)
        if traced and _same(new, current):
            return new
        current = new
    return current


def _solve_affine(equation, guess):
    """The exact solution of ``x = equation(x)`` for an equation affine in ``x``."""
    several = isinstance(guess, (tuple, list))
    unknowns = sympy.symbols(f"_x0:{len(guess) if several else 1}", cls=sympy.Dummy)
    image = equation(tuple(unknowns) if several else unknowns[0])
    image = tuple(image) if several else (image,)
    try:
        matrix, rhs = sympy.linear_eq_to_matrix([x - y for x, y in zip(unknowns, image)], unknowns)
    except NonlinearError:
        raise RuleError("fixed_point on sympy expressions needs an equation affine in its "
                        "unknown (a linear field)") from None
    solution = [sympy.cancel(x) for x in matrix.LUsolve(rhs)]
    return tuple(solution) if several else solution[0]


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(_same, a, b))
    return a == b


class Tracer:
    """Holds the field, the truncation order and the blocks while a rule is traced."""

    def __init__(self, field, max_order: int, blocks=(None,)):
        self.field = field
        self.max_order = max_order
        self.blocks = tuple(blocks)
        self.full_base = {b: 1 for b in self.blocks}
        self.h = Scalar(self, field.one, 1)

    def number(self, value):
        """A rule's scalar (int, Fraction, float, sympy number or declared symbol)."""
        if isinstance(value, Scalar):
            if value.power:
                raise RuleError("unexpected power of h")
            return value.coeff
        if isinstance(value, (int, Fraction, float, sympy.Basic)) and not isinstance(value, bool):
            try:
                return self.field.from_sympy(exact_number(value))
            except Exception:  # sympy raises several types for foreign symbols
                raise RuleError(
                    f"{value} uses a symbol that is not a parameter of this derivation; "
                    "declare it in the rule's params"
                ) from None
        raise RuleError(f"cannot use {value!r} ({type(value).__name__}) as a scalar in a rule")

    def parameters(self):
        """The traced parameters ``θ`` (a tuple of blocks when there are several)."""
        if self.blocks == (None,):
            return Vec(self, {None: 1}, {}, 0)
        return tuple(Vec(self, {b: 1}, {}, 0) for b in self.blocks)

    def zero(self):
        return Vec(self, {}, {}, 0)

    def atoms(self, atoms, fields: dict | None = None):
        """Traced atom callables; ``fields`` maps labels to modified-field series."""
        fields = fields or {}
        return [AtomCall(self, a, fields.get(a.label)) for a in atoms]

    def increment(self, result, atoms, what="the rule's result") -> dict:
        """``θ_new - θ`` of a traced result, checked: base weight one, trees O(h)."""
        if isinstance(result, (tuple, list)):
            if len(result) != len(self.blocks):
                raise RuleError(
                    f"{what} has {len(result)} blocks; the parameters have {len(self.blocks)}"
                )
            block_of = {a.label: a.block for a in atoms}
            total = self.zero()
            for block, part in zip(self.blocks, result):
                part = self._check_vec(part, what)
                stray = {block_of.get(t.label) for t in part.terms} - {block}
                if stray:
                    raise RuleError(
                        f"{what}: block {block} receives atoms of block(s) {sorted(map(str, stray))}"
                    )
                total = total + part
            result = total
        result = self._check_vec(result, what)
        if result.base != self.full_base:
            raise RuleError(
                f"{what} is not θ + O(h): it holds the parameters with weights "
                f"{dict(result.base) or 0}"
            )
        if result.terms and result.deficit != 0:
            raise RuleError(f"{what} is not θ + O(h): multiply the atom values by h")
        return result.terms

    def _check_vec(self, value, what):
        if not isinstance(value, Vec):
            raise RuleError(f"{what} is a {type(value).__name__}, not a traced vector")
        return value
