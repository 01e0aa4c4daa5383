"""Gradients of scalar potentials in the coordinate-wise ring, by two independent routes.

A *potential* is a scalar element of :mod:`~bea.coordinatewise.ring`: a function of the
totals ``Σ[u]`` (``‖g‖² = Σ[f⊙f]``, ``⟨g, Hg⟩``, …), of roots and functions of them, of
the parameters, and of the losses themselves (a :class:`LossSymbol` per loss ``L`` of a
gradient atom ``f = -sign ∇L``). Its gradient needs the one fact the ring does not know:
the derivatives of a gradient atom are symmetric, ``⟨v, D^k f[u_1 … u_k]⟩ =
⟨u_k, D^k f[u_1 … u_{k-1}, v]⟩`` (``D^k f = -sign ∇^{k+1}L``). So

* :func:`gradient` is reverse mode: ``∇P = Σ_x ∂P/∂x ∇x`` over the totals ``x = Σ[m]``,
  with ``∇Σ[m] = J_mᵀ1`` and ``J_mᵀv`` by the chain rule through elementwise products,
  roots and functions, and ``J_xᵀv = D^{k+1}f[u…, v] + Σ_i J_{u_i}ᵀ D^k f[… v (slot i) …]``
  for ``x = D^k f[u_1 … u_k]`` (:func:`vjp`);
* :func:`gradient_by_transposition` is forward mode: the ring's own directional
  derivative ``D_w P`` (:func:`~bea.coordinatewise.ring_calculus.derivative`, the Taylor
  machinery of the whole pipeline) along a frozen ``w``, then every ``Σ[c ⊙ D^k f[…, A(w)]]``
  rewritten as ``Σ[D^k f[…, c] ⊙ A(w)]`` until ``w`` stands alone: ``Σ[∇P ⊙ w]``.

The split (:mod:`.losses`) builds columns with the first and accepts a potential only when
the second agrees exactly. Non-gradient atoms and opaque maps have no such symmetry:
either route raises :class:`NotAGradient` on them.
"""

from __future__ import annotations

import sympy

from .ring import ONE, RING, Elem, sum_
from .ring_calculus import _chain, _depends, _differentiate, derivative, partial

__all__ = ["LossSymbol", "NotAGradient", "Atoms", "gradient", "gradient_by_transposition", "vjp"]


class LossSymbol(sympy.Symbol):
    """The value of a loss ``L`` in a potential (a class of its own: never a user symbol)."""


class NotAGradient(ValueError):
    """A potential or a vector that holds a non-gradient atom or an opaque map."""


_FUNCTIONS = ("root", "exp", "log", "tanh", "pow")


class Atoms:
    """The gradient atoms of a rule: ``label -> sign`` (``f = -sign ∇L``) and ``loss ->
    (label, sign)`` (the first atom of each loss); only atoms on one block."""

    def __init__(self, atoms):
        self.sign = {a.label: a.sign for a in atoms if a.loss is not None and a.block is None}
        self.of_loss: dict = {}
        for a in atoms:
            if a.label in self.sign:
                self.of_loss.setdefault(a.loss, (a.label, a.sign))

    def loss_gradient(self, symbol) -> Elem:
        """``∇L = -sign f``."""
        label, sign = self.of_loss[symbol.name]
        return RING.atom(label) * (-sign)

    def check(self, i: int) -> str:
        """The label of atom generator ``i``, which must be a gradient atom."""
        label = RING.gens[i].data[0]
        if label not in self.sign:
            raise NotAGradient(f"atom {label!r} is not the gradient of a loss")
        return label


def _base_gens(e: Elem) -> set:
    """The generators ``e`` depends on that are not roots or functions of others."""
    out = set()
    for i in e.gens():
        if RING.gens[i].kind in _FUNCTIONS:
            out |= {j for j in _depends(i) if RING.gens[j].kind not in _FUNCTIONS}
        else:
            out.add(i)
    return out


def gradient(P: Elem, atoms: Atoms) -> Elem:
    """``∇P`` of a scalar potential, in reverse mode (see the module docstring)."""
    memo: dict = {}

    def of_gen(i):
        g = RING.gens[i]
        if g.kind == "total":
            if i not in memo:
                memo[i] = vjp(RING.args[i][0], ONE(), atoms)
            return memo[i]
        if g.kind == "param":
            return atoms.loss_gradient(g.data) if isinstance(g.data, LossSymbol) else None
        if g.kind in _FUNCTIONS:
            return _chain(i, lambda e: gradient(e, atoms))
        raise NotAGradient(f"a potential is a scalar; it holds the vector generator {g.kind}")

    return _differentiate(P, of_gen)


def vjp(u: Elem, v: Elem, atoms: Atoms) -> Elem:
    """``J_uᵀ v``: the vector with ``⟨v, D_w u⟩ = ⟨J_uᵀ v, w⟩`` for every direction ``w``."""
    parts = []
    for i in _base_gens(u):
        g = RING.gens[i]
        if g.kind == "param":
            continue
        du = partial(u, i)
        if du.is_zero():
            continue
        if g.kind == "theta":
            parts.append(du * v)
        elif g.kind == "total":  # D_w Σ[m] is a scalar: ⟨v, du⟩ ∇Σ[m]
            parts.append(RING.total(du * v) * gradient(RING.var(i), atoms))
        elif g.kind == "atom":
            label, args = atoms.check(i), RING.args[i]
            w = du * v
            parts.append(RING.atom(label, args + (w,)))
            parts += [vjp(m, RING.atom(label, args[:j] + (w,) + args[j + 1:]), atoms)
                      for j, m in enumerate(args)]
        else:
            raise NotAGradient(f"no symmetric derivative for a {g.kind} generator")
    return sum_(parts)


def gradient_by_transposition(P: Elem, atoms: Atoms) -> Elem:
    """``∇P`` in forward mode: ``D_w P`` by the ring's derivative, transposed (module
    docstring); the losses' own terms ``∂P/∂L ∇L`` added by definition."""
    w = RING.frozen("\0potential-direction")
    (wi,) = w.gens()
    parts = [partial(P, i) * atoms.loss_gradient(RING.gens[i].data) for i in P.gens()
             if RING.gens[i].kind == "param" and isinstance(RING.gens[i].data, LossSymbol)]
    dP = derivative(P, w)
    for i in dP.gens():
        g = RING.gens[i]
        if wi not in g.deep:
            continue
        if g.kind != "total":
            raise NotAGradient(f"D_w P holds the direction inside a {g.kind} generator")
        parts.append(partial(dP, i) * _transpose(RING.args[i][0], ONE(), wi, atoms))
    return sum_(parts)


def _transpose(m: Elem, c: Elem, wi: int, atoms: Atoms) -> Elem:
    """The vector ``V`` with ``Σ[c ⊙ m] = Σ[V ⊙ w]``, for ``m`` linear in ``w`` (generator ``wi``)."""
    parts = []
    for i in m.gens():
        g = RING.gens[i]
        if wi not in g.deep:
            continue
        dm = partial(m, i)
        if i == wi:
            parts.append(dm * c)
        elif g.kind == "atom":
            label, args = atoms.check(i), RING.args[i]
            held = [j for j, a in enumerate(args) if wi in a.deep()]
            if len(held) != 1:
                raise NotAGradient("D_w P is not linear in the direction")
            (j,) = held
            moved = RING.atom(label, args[:j] + (dm * c,) + args[j + 1:])
            parts.append(_transpose(args[j], moved, wi, atoms))
        else:
            raise NotAGradient(f"the direction inside a {g.kind} generator")
    return sum_(parts)
