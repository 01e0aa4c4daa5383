"""Modified losses of coordinate-wise flows: which part of ``f_k`` is ``-∇`` of a potential.

For one order ``E = f_k`` (a vector of the ring) the split is ``E = -∇P + R`` with ``P`` a
combination ``Σ_j a_j P_j`` of *candidate* potentials, the weights ``a_j`` numbers or
functions of the rule's parameters, and ``R`` the remainder, computed exactly as
``E + ∇P``; the order has a modified-loss term exactly when ``R = 0``. Candidates come
from ``E`` itself:

* the loss ``L`` of each gradient atom (``-∇L = sign f``);
* the totals ``T`` that ``E``'s coefficients hold (``‖g‖² = Σ[f⊙f]`` inside ``1/‖g‖``),
  and the totals a differential of ``E`` would come from: ``D^k f[u_1 … u_k]`` is a
  term of ``∇Σ[u_i ⊙ D^{k-1}f[… without u_i]]`` (``Hg`` of ``‖g‖²``, ``∇³L(g, g)`` and
  ``H²g`` of ``⟨g, Hg⟩``);
* each ``M·T`` for ``M`` a product of totals, roots of totals and functions of them that
  occurs in a coefficient of ``E`` (``‖g‖ = (1/‖g‖)·‖g‖²`` for SAM's ``-∇‖∇L‖ = -Hg/‖g‖``),
  and ``log T`` where ``M·T`` is constant.

The weights are the least-squares solution in the basis of ``E``'s monomials (totals and
vector monomials, with coefficients in the parameters), as :mod:`bea.bseries.losses` does
in the tree basis: exact where ``E`` is a gradient of the candidates, a canonical choice
otherwise (the split is not unique). Columns are ``-∇P_j`` in reverse mode
(:func:`~.potentials.gradient`); the accepted ``P`` is then differentiated again in
forward mode (:func:`~.potentials.gradient_by_transposition`) and must give ``E - R``
exactly, else the order keeps ``R = E`` and no potential: a split is never wrong.

Not recognised: potentials outside the candidates (a norm ``‖g‖_p`` with odd ``p`` needs
``|g|``, which the ring does not have; an elementwise ``Σ_j Φ(g_j)`` other than the totals
above, such as ``‖∇L‖_{1,ε} = Σ_j √(g_j² + ε)``, which the printers name only as the
potential of a preconditioned part), and every order of a flow with an opaque map or a
non-gradient atom.
The split of a flow is computed order by order on first access (:class:`Splits`), so that
asking whether a modified loss exists stops at the first order with a remainder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from ..bseries.losses import GradientSplit
from .boundary import elem, to_canonical, to_sympy
from .expressions import monomials
from .potentials import Atoms, LossSymbol, NotAGradient, gradient, gradient_by_transposition
from .ring import ONE, RING, ZERO, Elem, sum_

__all__ = ["CoordinateSplit", "Splits", "split_order", "loss_symbol"]


def loss_symbol(name: str) -> LossSymbol:
    """The symbol of the loss ``name`` in a potential."""
    return LossSymbol(name)


@dataclass
class CoordinateSplit(GradientSplit):
    """One order ``E = -∇(Σ weights[P]·P) + remainder`` (``block`` None): ``weights`` maps a
    potential (canonical sympy, losses as :class:`~.potentials.LossSymbol`) to its sympy
    coefficient, ``remainder`` and ``gradient`` map vector monomials to coefficients."""


class Splits(Sequence):
    """``splits[k] = {None: CoordinateSplit}`` (``{}`` where ``f_k = 0``), each order split
    on first access."""

    def __init__(self, flow: list, atoms):
        self._flow = flow
        self._atoms = Atoms(atoms)
        self._done: dict = {0: {}}

    def __len__(self) -> int:
        return len(self._flow)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return (self[i] for i in range(*k.indices(len(self))))
        k = range(len(self))[k]
        if k not in self._done:
            self._done[k] = split_order(self._flow[k], self._atoms)
        return self._done[k]


def split_order(expr, atoms: Atoms) -> dict:
    """``{None: CoordinateSplit}`` of one order (a canonical expression), ``{}`` for zero."""
    if expr == 0:
        return {}
    E = elem(expr)
    weights, R = {}, E
    try:
        found = _solve(E, atoms)
    except NotAGradient:
        found = None
    if found is not None:
        terms, rest = found
        if _verified(sum_([w * P for P, w in terms]), E, rest, atoms):
            weights, R = {to_canonical(P): sympy.factor(to_sympy(w)) for P, w in terms}, rest
    remainder = expr if R is E else to_canonical(R)
    gradient_part = {m: c for c, m in monomials(sympy.expand(expr - remainder))} if weights else {}
    return {None: CoordinateSplit(None, weights, dict((m, c) for c, m in monomials(remainder)), gradient_part)}


# -- candidates ----------------------------------------------------------------------

def _candidates(E: Elem, atoms: Atoms) -> list:
    """Candidate potentials (elements), without repeats (module docstring)."""
    totals, scalars = {}, {ONE().key: ONE()}
    for c, m in RING.split(E):
        for i in _deep_gens(c):
            if RING.gens[i].kind == "total":
                totals.setdefault(RING.var(i).key, RING.var(i))
        for M in _scalar_monomials(c):
            scalars.setdefault(M.key, M)
        for i in _deep_gens(m):
            g = RING.gens[i]
            if g.kind == "atom" and g.data[0] in atoms.sign and RING.args[i]:
                label, args = g.data[0], RING.args[i]
                for j, u in enumerate(args):
                    T = RING.total(u * RING.atom(label, args[:j] + args[j + 1:]))
                    if not T.is_zero():
                        totals.setdefault(T.key, T)
    out = {}
    for name in atoms.of_loss:
        P = RING.param(loss_symbol(name))
        out[P.key] = P
    for M in scalars.values():
        for T in totals.values():
            P = M * T
            if P.is_constant() is not None:
                P = RING.function("log", T)
            out.setdefault(P.key, P)
    return list(out.values())


def _deep_gens(e: Elem) -> set:
    """Every generator ``e`` holds, inside atoms' arguments, totals, roots and functions."""
    seen, todo = set(), list(e.gens())
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        g = RING.gens[i]
        inner = [g.root[1]] if g.kind == "root" else [a for a in RING.args.get(i, ()) if isinstance(a, Elem)]
        for a in inner:
            todo += a.gens()
    return seen


def _scalar_monomials(c: Elem) -> list:
    """The products of non-parameter generators (totals, their roots and functions) in
    the terms of the scalar ``c``, over its non-parameter denominators."""
    keep = [i for i in c.gens() if RING.gens[i].kind != "param"]
    den = ONE()
    for f, e in c.den:
        if RING.factor_gens(f) & set(keep):
            den = den * Elem(RING.factor_poly(f) ** e, ())
    out = {}
    for exps, _ in c.poly.terms():
        M = ONE()
        for i in keep:
            if exps[i]:
                M = M * RING.var(i) ** int(exps[i])
        M = M / den
        out[M.key] = M
    return list(out.values())


# -- least squares over the parameters ------------------------------------------------

def _coordinates(v: Elem) -> dict:
    """``v = Σ κ_μ μ`` with ``κ_μ`` in the parameters and ``μ`` a product of totals (and
    their roots) and a vector monomial: ``{μ.key: κ_μ}``."""
    out: dict = {}
    for c, m in RING.split(v):
        keep = [i for i in c.gens() if RING.gens[i].kind != "param"]
        mixed = tuple((f, e) for f, e in c.den if RING.factor_gens(f) & set(keep))
        plain = tuple((f, e) for f, e in c.den if (f, e) not in mixed)
        grouped: dict = {}
        for exps, q in c.poly.terms():
            key = tuple((i, int(exps[i])) for i in keep if exps[i])
            rest = list(exps)
            for i, _ in key:
                rest[i] = 0
            grouped.setdefault(key, {})[tuple(rest)] = q
        for key, terms in grouped.items():
            kappa = Elem(RING.ctx.from_dict(terms), plain)._normal()
            mu = Elem(RING.one_poly, mixed)
            for i, x in key:
                mu = mu * RING.var(i) ** x
            mu = mu * m
            out[mu.key] = out.get(mu.key, ZERO()) + kappa
    return {k: c for k, c in out.items() if not c.is_zero()}


def _dot(a: dict, b: dict) -> Elem:
    return sum_([c * b[k] for k, c in a.items() if k in b])


def _solve(E: Elem, atoms: Atoms):
    """``([(P_j, a_j)], R)``: the least-squares potentials and the remainder ``E + ∇P``,
    or None when no candidate's gradient meets ``E``."""
    target = _coordinates(E)
    columns = []
    for P in _candidates(E, atoms):
        try:
            col = -gradient(P, atoms)
        except NotAGradient:
            continue
        coords = _coordinates(col)
        if coords and any(k in target for k in coords):
            columns.append((P, col, coords))
    if not columns:
        return None
    gram = [[_dot(a[2], b[2]) for b in columns] for a in columns]
    rhs = [_dot(a[2], target) for a in columns]
    weights = _symmetric_solve(gram, rhs)
    chosen = [(c, w) for c, w in zip(columns, weights) if not w.is_zero()]
    if not chosen:
        return None
    return [(c[0], w) for c, w in chosen], E - sum_([w * c[1] for c, w in chosen])


def _symmetric_solve(A: list, b: list) -> list:
    """A solution of ``A x = b`` for a symmetric positive semidefinite ``A`` over the
    parameters with ``b`` in its range (a Gram system): Gauss–Jordan with exact pivots, free
    unknowns set to zero."""
    n = len(b)
    rows = [list(r) + [b[i]] for i, r in enumerate(A)]
    pivots, r = [], 0
    for col in range(n):
        p = next((i for i in range(r, n) if not rows[i][col].is_zero()), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        inv = ONE() / rows[r][col]
        rows[r] = [x * inv for x in rows[r]]
        for i in range(n):
            if i != r and not rows[i][col].is_zero():
                f = rows[i][col]
                rows[i] = [x - f * y for x, y in zip(rows[i], rows[r])]
        pivots.append((r, col))
        r += 1
    x = [ZERO()] * n
    for row, col in pivots:
        x[col] = rows[row][n]
    return x


# -- verification and the result -------------------------------------------------------

def _verified(P: Elem, E: Elem, R: Elem, atoms: Atoms) -> bool:
    """Whether ``-∇P = E - R`` holds exactly with ``∇P`` by the other route."""
    try:
        return (gradient_by_transposition(P, atoms) + E - R).is_zero()
    except NotAGradient:
        return False

