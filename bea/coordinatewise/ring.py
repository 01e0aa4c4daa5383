"""The arithmetic of coordinate-wise expressions: a polynomial ring over their atoms.

:mod:`~bea.coordinatewise.expressions` defines what an expression *is* and its canonical
sympy form, the form a :class:`~bea.derive.Derivation` holds and every printer, check and
code generator reads. Computing in that form is slow: every sum, product and derivative
went through sympy's ``FracField``, ``factor_list`` and ``cancel`` (Adam at order 4 with
numeric β, ρ, ε: ≈ 90 s, almost all of it there). Here the same expressions are elements
of one polynomial ring over ``Q`` (python-flint ``fmpq_mpoly``, C arithmetic) whose
generators are

* the vector atoms ``θ``, ``D^k f_c[m_1 … m_k]`` (arguments: canonical vector monomials
  of this ring), frozen directions, and the scalar atoms ``Σ[m]``;
* the differentials ``D^k P(X)[m_1 … m_k]`` of an opaque smooth map at a base point
  ``X``, an element kept whole (:meth:`Ring.map`);
* the parameters (``β, ρ, ε``: symbolic parameters are generators too, so no rational-
  function field and no gcd on every operation);
* roots ``R = b^{1/q}`` (relation ``R^q = b``, reduced on the fly), ``exp``, ``log``,
  ``tanh`` of elements, symbolic powers;

over *known denominators*: an element is ``N / Π p_j^{e_j}`` with ``p_j`` monic
irreducible polynomials registered once (Adam's ``ε + f²``, ``1 − β``, ``1 − ρ``), ``N``
not divisible by any of them, and a root in a denominator cleared (``1/R = R^{q−1}/b``).
That form is unique for roots of independent bases, so zero is ``N = 0`` and sums collect.
Sums bring terms to the least common denominator with one exact division test per
factor; derivatives of generators are memoized per direction monomial (``D_w`` is linear
in ``w``), and the Taylor shift substitutes each pattern of directions once.

A vector atom's arguments are split into scalar coefficient times vector monomial
(:meth:`Ring.split`); with one vector denominator factor ``p`` the monomials are
``x^a/p^k`` with ``x^a`` reduced modulo ``p`` (its ``p``-adic expansion), a basis over the
scalars, so ``D f[·]`` is linear on the nose and atoms collect. Sympy comes in and goes
out at :mod:`~bea.coordinatewise.boundary`; the calculus is
:mod:`~bea.coordinatewise.ring_calculus`.

Why this representation (measured on Adam, whole ``bea derive`` processes,
``bench/bench_coordinatewise.py``): the sympy canonical form spent its time in
``FracField``/``factor_list``/``cancel`` on every operation, numbers or symbols alike, so
a faster coefficient field alone would not do — the *vector* algebra needed a polynomial
representation. python-flint 0.9 has no multivariate rational-function type
(``fmpz_mpoly_q``), and the denominators that occur are few and known (Adam: ``ε + f²``,
``1 − β``, ``1 − ρ``), so parameters are generators of the same ``fmpq_mpoly`` ring and
denominators are exponent vectors over registered irreducibles: no gcd, only an exact
division test per denominator factor after a sum. One run on the 2-core machine (whole
processes, medians; before = the sympy canonical form): numeric order 4 15.9 s → 2.9 s,
symbolic β, ρ, ε order 3 19.7 s → 2.1 s, order 4 233 s → 6.4 s (printing included, now
the larger part), the printed results unchanged byte for byte.
"""

from __future__ import annotations

from fractions import Fraction

import flint
import sympy


__all__ = ["Elem", "RING", "Ring", "ZERO", "ONE", "sum_", "as_elem"]


class _Gen:
    """A generator: ``kind`` and ``data`` (see the module docstring), ``vector`` whether it
    depends on the coordinate, ``deep`` the frozen generators it holds (for substitution)."""

    __slots__ = ("index", "kind", "data", "vector", "deep", "_sympy", "root")

    def __init__(self, index, kind, data, vector, deep):
        self.index, self.kind, self.data, self.vector, self.deep = index, kind, data, vector, deep
        self._sympy = None
        self.root = None  # (q, base Elem) for a root


class Ring:
    """The generators, the current flint context, and the registered denominators."""

    def __init__(self):
        self.gens: list[_Gen] = []
        self.by_key: dict = {}
        self.roots: list[int] = []
        self.factors: list = []      # fid -> [monic poly, vector?, sympy or None(, its gens)]
        self.factor_ids: dict = {}
        self.capacity = 0
        self.ctx = None
        self._grow(64)
        self._derivatives: dict = {}   # (gen index, direction monomial key) -> Elem
        self._split: dict = {}
        self._reordered: dict = {}
        self.args: dict = {}           # gen index -> its arguments (Elems; a power: (base, exponent))
        self.points: dict = {}         # map gen index -> its base point X (Elem)

    # -- context ------------------------------------------------------------------
    def _grow(self, capacity):
        self.capacity = capacity
        self.ctx = flint.fmpq_mpoly_ctx.get(tuple(f"x{i}" for i in range(capacity)), "lex")
        self.zero_poly = self.ctx.from_dict({})
        self.one_poly = self.ctx.constant(1)

    def lift(self, p):
        return p if p.context() is self.ctx else p.project_to_context(self.ctx)

    def gen(self, kind, data, vector, deep=frozenset()) -> int:
        key = (kind, data)
        found = self.by_key.get(key)
        if found is None:
            found = len(self.gens)
            if found >= self.capacity:
                self._grow(2 * self.capacity)
            self.gens.append(_Gen(found, kind, data, vector, frozenset(deep)))
            self.by_key[key] = found
        return found

    def var(self, index) -> "Elem":
        return Elem(self.ctx.gen(index), ())

    def const(self, q) -> "Elem":
        return Elem(self.ctx.constant(flint.fmpq(q.numerator, q.denominator) if isinstance(q, Fraction)
                                      else q), ())

    # -- generators ---------------------------------------------------------------
    def theta(self) -> "Elem":
        return self.var(self.gen("theta", None, True))

    def param(self, symbol) -> "Elem":
        return self.var(self.gen("param", symbol, False))

    def frozen(self, name) -> "Elem":
        i = self.gen("frozen", name, True)
        self.gens[i].deep = frozenset({i})
        return self.var(i)

    def atom(self, label, args=()) -> "Elem":
        """``D^k f_label[u_1 … u_k]``, multilinear over scalars (``label`` None: ``θ``)."""
        if label is None:
            if not args:
                return self.theta()
            return args[0] if len(args) == 1 else ZERO()
        out = []
        for c, ms in self._multilinear(args):
            deep = frozenset().union(*[m.deep() for m in ms])
            i = self.gen("atom", (label, tuple(m.key for m in ms)), True, deep)
            self.args.setdefault(i, ms)
            out.append(c * self.var(i))
        return sum_(out)

    def map(self, name: str, point: "Elem", args=()) -> "Elem":
        """``D^k P_name(X)[u_1 … u_k]`` of the opaque smooth map ``P_name`` at the base point
        ``X`` (an element), multilinear over scalars in the ``u_i``; ``X`` is kept whole."""
        out = []
        for c, ms in self._multilinear(args):
            deep = point.deep().union(*[m.deep() for m in ms])
            i = self.gen("map", (name, point.key, tuple(m.key for m in ms)), True, deep)
            self.args.setdefault(i, ms)
            self.points.setdefault(i, point)
            out.append(c * self.var(i))
        return sum_(out)

    def _multilinear(self, args) -> list:
        """``[(c, (m_1 … m_k))]``: the arguments expanded over scalars (each ``u_i = Σ c m``),
        the vector monomials of each term sorted (a symmetric multilinear map's order)."""
        terms = [(ONE(), ())]
        for u in args:
            split = self.split(u)
            terms = [(c * cu, ms + (mu,)) for c, ms in terms for cu, mu in split]
        return [(c, tuple(sorted(ms, key=lambda m: m.key))) for c, ms in terms]

    def total(self, u) -> "Elem":
        """``Σ[u]``, linear over scalars."""
        out = []
        for c, m in self.split(u):
            i = self.gen("total", m.key, False, m.deep())
            self.args.setdefault(i, (m,))
            out.append(c * self.var(i))
        return sum_(out)

    def root(self, base: "Elem", q: int) -> int:
        i = self.gen("root", (base.key, q), base.is_vector(), base.deep())
        g = self.gens[i]
        if g.root is None:
            g.root = (q, base)
            self.roots.append(i)
        return i

    def function(self, name: str, arg: "Elem") -> "Elem":
        i = self.gen(name, arg.key, arg.is_vector(), arg.deep())
        self.args.setdefault(i, (arg,))
        return self.var(i)

    def power(self, base: "Elem", exponent: sympy.Expr) -> "Elem":
        """``b^e`` with a symbolic exponent ``e`` (a free generator)."""
        i = self.gen("pow", (base.key, exponent), base.is_vector(), base.deep())
        self.args.setdefault(i, (base, exponent))
        return self.var(i)

    # -- denominators ----------------------------------------------------------------
    def factor_id(self, p) -> int:
        """The id of the monic irreducible ``p`` (registered on first sight)."""
        p = p / p.leading_coefficient()
        key = str(p)
        fid = self.factor_ids.get(key)
        if fid is None:
            fid = len(self.factors)
            degrees = p.degrees()
            vector = any(d > 0 and self.gens[i].vector for i, d in enumerate(degrees))
            self.factors.append([p, vector, None])
            self.factor_ids[key] = fid
        return fid

    def factor_gens(self, fid) -> set:
        entry = self.factors[fid]
        if len(entry) == 3:
            entry.append({i for i, d in enumerate(entry[0].degrees()) if d > 0})
        return entry[3]

    def factor_poly(self, fid):
        entry = self.factors[fid]
        entry[0] = self.lift(entry[0])
        return entry[0]

    # -- splitting into scalar coefficient times vector monomial ---------------------
    def split(self, u: "Elem") -> list:
        """``u = Σ c_i m_i`` with scalar ``c_i`` and distinct canonical vector monomials ``m_i``."""
        key = u.key
        found = self._split.get(key)
        if found is not None:
            return found
        scalar_den = tuple((f, e) for f, e in u.den if not self.factors[f][1])
        vector_den = tuple((f, e) for f, e in u.den if self.factors[f][1])
        num = u.poly
        pieces = []  # (numerator poly, vector den)
        if len(vector_den) == 1 and (var := self._main_variable(vector_den[0][0])) is not None:
            (fid, e), = vector_den
            p = self.factor_poly(fid)
            ctx2 = self._reordered_ctx(var)
            p2 = p.project_to_context(ctx2)
            rest = num.project_to_context(ctx2)
            for k in range(e, 0, -1):
                if rest.is_zero():
                    break
                rest, digit = divmod(rest, p2)
                pieces.append((digit.project_to_context(self.ctx), ((fid, k),)))
            pieces.append((rest.project_to_context(self.ctx), ()))
        else:
            pieces.append((num, vector_den))
        grouped: dict = {}
        for poly, vden in pieces:
            used = [i for i, d in enumerate(poly.degrees()) if d > 0 and self.gens[i].vector]
            for exps, c in poly.terms():
                vexp = tuple((i, exps[i]) for i in used if exps[i])
                sexp = list(exps)
                for i in used:
                    sexp[i] = 0
                grouped.setdefault((vexp, vden), {})[tuple(sexp)] = c
        out = []
        for (vexp, vden), terms in grouped.items():
            mono = self.ctx.from_dict({tuple(_exps(vexp, self.capacity)): 1})
            c = Elem(self.ctx.from_dict(terms), scalar_den)._normal()
            if not c.is_zero():
                out.append((c, Elem(mono, vden)))
        out.sort(key=lambda cm: cm[1].key)
        self._split[key] = out
        return out

    def _main_variable(self, fid):
        """The one vector generator of factor ``fid`` when its leading coefficient in that
        generator is a number (so division by it stays polynomial), else None."""
        p = self.factor_poly(fid)
        degrees = p.degrees()
        vars_ = [i for i, d in enumerate(degrees) if d > 0 and self.gens[i].vector]
        if len(vars_) != 1:
            return None
        (i,) = vars_
        d = degrees[i]
        lead = [e for e in p.monoms() if e[i] == d]
        return i if len(lead) == 1 and all(x == 0 for j, x in enumerate(lead[0]) if j != i) else None

    def _reordered_ctx(self, i):
        key = (i, self.capacity)
        ctx = self._reordered.get(key)
        if ctx is None:
            names = [f"x{i}"] + [f"x{j}" for j in range(self.capacity) if j != i]
            ctx = flint.fmpq_mpoly_ctx.get(tuple(names), "lex")
            self._reordered[key] = ctx
        return ctx


def _exps(pairs, n):
    out = [0] * n
    for i, x in pairs:
        out[i] = x
    return out


RING = Ring()


class Elem:
    """``num / Π p_fid^e`` (``den`` a sorted tuple of ``(fid, e)``), normalised by
    :meth:`_normal`; immutable."""

    __slots__ = ("num", "den", "_key", "_gens", "_deep")

    def __init__(self, num, den=()):
        self.num = num
        self.den = den
        self._key = self._gens = self._deep = None

    @property
    def poly(self):
        """The numerator in the ring's current context (lifted once after growth)."""
        if self.num.context() is not RING.ctx:
            self.num = RING.lift(self.num)
        return self.num

    # -- normal form ----------------------------------------------------------------
    def _normal(self) -> "Elem":
        ring = RING
        num = self.poly
        if num.is_zero():
            return Elem(ring.zero_poly, ())
        den = dict(self.den)
        if ring.roots:
            degrees = num.degrees()
            for r in ring.roots:
                q, base = ring.gens[r].root
                if r < len(degrees) and degrees[r] >= q:
                    reduced = _reduce_root(num, r, q, base)
                    reduced = reduced * Elem(ring.one_poly, tuple(den.items()))
                    return reduced
        for fid in list(den):
            p = ring.factor_poly(fid)
            while den[fid]:
                quo, rem = divmod(num, p)
                if not rem.is_zero():
                    break
                num = quo
                den[fid] -= 1
        return Elem(num, tuple(sorted((f, e) for f, e in den.items() if e)))

    @property
    def key(self):
        if self._key is None:
            self._key = (str(self.poly), self.den)
        return self._key

    def is_zero(self) -> bool:
        return self.num.is_zero()

    def __eq__(self, other):
        if not isinstance(other, Elem):
            try:
                other = as_elem(other)
            except (TypeError, ValueError, sympy.SympifyError):
                return NotImplemented
        return (self - other).is_zero()

    def __hash__(self):
        return hash(self.key)

    def deep(self) -> frozenset:
        """The frozen generators this element holds, inside atoms too."""
        if self._deep is None:
            self._deep = frozenset().union(*[RING.gens[i].deep for i in self.gens()])
        return self._deep

    def gens(self) -> list[int]:
        """Indices of the generators in the numerator and the denominator factors."""
        if self._gens is None:
            out = {i for i, d in enumerate(self.poly.degrees()) if d > 0}
            for fid, _ in self.den:
                out |= RING.factor_gens(fid)
            self._gens = sorted(out)
        return self._gens

    def is_vector(self) -> bool:
        return any(RING.gens[i].vector for i in self.gens())

    def is_constant(self):
        """The rational value when this is a number, else None."""
        if self.den or not self.num.is_constant():
            return None
        return self.num.leading_coefficient() if not self.num.is_zero() else flint.fmpq(0)

    # -- arithmetic -----------------------------------------------------------------
    def __add__(self, other):
        return sum_([self, as_elem(other)])

    __radd__ = __add__

    def __neg__(self):
        return Elem(-self.num, self.den)

    def __sub__(self, other):
        return sum_([self, -as_elem(other)])

    def __rsub__(self, other):
        return sum_([as_elem(other), -self])

    def __mul__(self, other):
        if isinstance(other, (int, flint.fmpq)):
            return Elem(self.poly * other, self.den) if other else ZERO()
        if isinstance(other, Fraction):
            return self * flint.fmpq(other.numerator, other.denominator)
        other = as_elem(other)
        if not other.den and other.num.is_constant():
            return self * other.is_constant()
        if not self.den and self.num.is_constant():
            return other * self.is_constant()
        den = dict(self.den)
        for f, e in other.den:
            den[f] = den.get(f, 0) + e
        return Elem(self.poly * other.poly, tuple(sorted(den.items())))._normal()

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * as_elem(other).inverse()

    def __rtruediv__(self, other):
        return as_elem(other) * self.inverse()

    def __pow__(self, k: int):
        if k < 0:
            return self.inverse() ** (-k)
        out = ONE()
        for _ in range(k):
            out = out * self
        return out

    def inverse(self) -> "Elem":
        """``1/self``: the numerator's irreducible factors join the denominator (a root
        factor is cleared: ``1/R = R^{q-1}/b``)."""
        ring = RING
        num = self.poly
        if num.is_zero():
            raise ZeroDivisionError("division by zero")
        top = ONE()
        for f, e in self.den:
            top = top * Elem(ring.factor_poly(f) ** e, ())
        if num.is_constant():
            return top * (1 / num.leading_coefficient())
        content, factors = num.factor()
        den: dict = {}
        scale = flint.fmpq(content)
        for p, e in factors:
            e = int(e)
            scale *= p.leading_coefficient() ** e
            monic = p / p.leading_coefficient()
            degrees = monic.degrees()
            used = [i for i, d in enumerate(degrees) if d > 0]
            if len(used) == 1 and degrees[used[0]] == 1 and ring.gens[used[0]].root is not None \
                    and monic == ring.ctx.gen(used[0]):
                q, base = ring.gens[used[0]].root
                top = top * Elem(monic ** ((q - 1) * e), ()) * base.inverse() ** e
                continue
            fid = ring.factor_id(monic)
            den[fid] = den.get(fid, 0) + e
        return (top * (1 / scale)) * Elem(ring.one_poly, tuple(sorted(den.items())))

    def __repr__(self):
        return f"Elem({self.num!r}, den={self.den!r})"


def ZERO() -> Elem:
    return Elem(RING.zero_poly, ())


def ONE() -> Elem:
    return Elem(RING.one_poly, ())


def sum_(elems) -> Elem:
    """The sum over the least common denominator, normalised once."""
    elems = [e for e in elems if not e.num.is_zero()]
    if not elems:
        return ZERO()
    if len(elems) == 1:
        return elems[0]
    ring = RING
    den: dict = {}
    for e in elems:
        for f, x in e.den:
            if x > den.get(f, 0):
                den[f] = x
    total_ = ring.zero_poly
    for e in elems:
        num = e.poly
        have = dict(e.den)
        for f, x in den.items():
            missing = x - have.get(f, 0)
            if missing:
                num = num * ring.factor_poly(f) ** missing
        total_ = total_ + num
    if not den:
        return Elem(total_, ())
    return Elem(total_, tuple(sorted(den.items())))._normal()


def as_elem(x) -> Elem:
    if isinstance(x, Elem):
        return x
    if isinstance(x, bool):
        raise TypeError("a boolean is not a value of the algebra")
    if isinstance(x, int):
        return Elem(RING.ctx.constant(x), ())
    if isinstance(x, Fraction):
        return RING.const(x)
    if isinstance(x, flint.fmpq):
        return Elem(RING.ctx.constant(x), ())
    if isinstance(x, sympy.Rational):
        return Elem(RING.ctx.constant(flint.fmpq(int(x.p), int(x.q))), ())
    raise TypeError(f"{type(x).__name__} is not a number of the ring; sympy values enter through "
                    "bea.coordinatewise.boundary.elem")


def _reduce_root(num, r, q, base) -> Elem:
    """``num`` with ``R^k`` replaced by ``b^{k//q} R^{k mod q}`` (``R`` generator ``r``)."""
    ring = RING
    by_power: dict = {}
    for exps, c in num.terms():
        k = int(exps[r])
        exps = list(exps)
        exps[r] = k % q
        by_power.setdefault(k // q, {})[tuple(exps)] = c
    parts = []
    for j, terms in by_power.items():
        poly = Elem(ring.ctx.from_dict(terms), ())
        parts.append(poly * base ** j if j else poly)
    return sum_(parts)
