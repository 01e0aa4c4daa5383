"""The one JAX evaluator of atom fields, elementary differentials ``F(t)`` and loss
scalars ``S(s)``, on pytrees (the README's *Conventions*).

* **Atom fields** ``f_c = ∓P_block ∇L`` (:func:`_atom`): the gradient of a scalar loss,
  negated for descent, restricted to the player's own block for games.
* **Elementary differentials** ``F(•_c) = f_c``, ``F([t_1…t_k]_c) = f_c^{(k)}(F(t_1), …,
  F(t_k))``: the k-th directional derivative of ``f_c`` by ``k`` nested ``jax.jvp``
  (:func:`_d`; forward-over-reverse Hessian-vector products for gradient atoms). No
  Hessian is formed, and :func:`elementary_differentials` computes each ``F(t)`` once and
  shares it between every tree containing it. :func:`planned_sum` evaluates a sum of them
  as :mod:`bea.bseries.plan` factors it, a host and its rider in one jvp (:func:`_slot`).
* **Loss scalars** ``S(s)`` of an unrooted tree ``s`` (a node of degree ``d`` is ``∇^d L``,
  an edge a contraction over a block; labels ``"L"`` at the root, ``"L|block"`` below,
  :func:`bea.bseries.losses.scalar_label`): from the canonical root ``r`` with sorted children
  ``c_1 … c_k``, ``S(s) = ⟨D^{k-1}∇L_r[v_1, …, v_{k-1}], v_k⟩`` with child vectors
  ``v_i = P_b D^j∇L[…]`` (:func:`scalar_value`). The last contraction is a dot product
  with a vector computed anyway, so ``‖∇L‖²`` costs one gradient.

The functions named in :data:`RUNTIME` are the runtime of generated code: :mod:`bea.codegen`
writes their source (``inspect.getsource``) into every module it emits, and unrolls
:func:`elementary_differentials` / :func:`scalar_value` into one line per shared
quantity. Verification (:mod:`bea.check`) calls the same functions, so generated code
and ``bea check`` run the same arithmetic.
"""

from __future__ import annotations

import inspect
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .losses import split_scalar_label
from .plan import Merged, Single, plan, rest_and_last, root_label
from .trees import Tree, sort_key

__all__ = ["RUNTIME", "runtime_source", "elementary_differentials", "planned_sum", "fields_from_losses",
           "scalar_value", "combine"]


def _d(fn, theta, *directions):
    """D^k fn(theta)[v_1, …, v_k] by k nested jax.jvp (fn(theta) when k = 0)."""
    for v in directions:
        fn = _along(fn, v)
    return fn(theta)


def _along(fn, v):
    return lambda x: jax.jvp(fn, (x,), (v,))[1]


def _slot(fn, theta, before, q, after, v, w):
    """D^{k+1} fn(theta)[before…, q, after…, v] + D^k fn(theta)[before…, w, after…] in one jvp:
    the derivative of (x, s) -> D^k fn(x)[before…, s, after…] at (theta, q) along (v, w)."""
    return jax.jvp(lambda x, s: _d(fn, x, *before, s, *after), (theta, q), (v, w))[1]


def _grad(loss, batch, merge=None):
    """theta -> ∇loss(theta, *batch); with ``merge`` (from :func:`_filter`) the loss sees
    merge(theta), the model with its static leaves put back."""
    if merge is None:
        return jax.grad(lambda theta: loss(theta, *batch))
    return jax.grad(lambda theta: loss(merge(theta), *batch))


def _filter(theta):
    """(params, merge): theta with every leaf that is not an inexact array replaced by None
    (as eqx.filter(theta, eqx.is_inexact_array) and eqx.filter_grad's gradients have it),
    and merge(params) -> theta with those leaves back. Equinox modules, flax NNX state
    and linen param dicts are differentiated in their floating-point arrays only; a
    pytree of such arrays is returned as it is, with merge None."""
    leaves, treedef = jax.tree_util.tree_flatten(theta)
    mask = [hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.inexact) for x in leaves]
    if all(mask):
        return theta, None
    params = jax.tree_util.tree_unflatten(treedef, [x if m else None for x, m in zip(leaves, mask)])

    def merge(p):
        arrays = iter(jax.tree_util.tree_leaves(p))
        return jax.tree_util.tree_unflatten(treedef, [next(arrays) if m else x for x, m in zip(leaves, mask)])

    return params, merge


def _fd(fn, theta, v, f0):
    """(fn(theta + ε v) - f0)/ε with f0 = fn(theta): D fn(theta)[v] by a forward difference,
    ε = sqrt(eps)/‖v‖ in theta's dtype (a move of sqrt(eps) in θ; see the factories' hvp)."""
    leaves = jax.tree_util.tree_leaves(theta)
    eps = jnp.sqrt(jnp.finfo(leaves[0].dtype).eps)
    norm = jnp.sqrt(_dot(v, v))
    step = eps / jnp.where(norm > 0, norm, 1)
    moved = jax.tree_util.tree_map(lambda x, d: x + (step * d).astype(x.dtype), theta, v)
    return jax.tree_util.tree_map(lambda a, b: ((a - b) / step).astype(a.dtype), fn(moved), f0)


def _negative(v):
    """-v on a pytree."""
    return jax.tree_util.tree_map(jnp.negative, v)


def _exact(hvp):
    """True for hvp="exact", False for "finite-difference"; anything else is an error."""
    if hvp not in ("exact", "finite-difference"):
        raise ValueError(f"hvp must be 'exact' or 'finite-difference', got {hvp!r}")
    return hvp == "exact"


def _project(v, block):
    """P_block v: the player's own part of a tuple of pytrees, zeros elsewhere."""
    return tuple(part if i == block else jax.tree_util.tree_map(jnp.zeros_like, part)
                 for i, part in enumerate(v))


def _atom(loss, batch, negate, block, merge=None):
    """The atom field theta -> ∓P_block ∇loss(theta, *batch) (block None: all parameters)."""
    grad = _grad(loss, batch, merge)

    def field(theta):
        g = grad(theta)
        if negate:
            g = jax.tree_util.tree_map(jnp.negative, g)
        return g if block is None else _project(g, block)

    return field


def _dot(a, b):
    """<a, b> summed over the leaves of two pytrees of the same structure."""
    return sum(jnp.sum(x * y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def _combine(theta, *terms):
    """Σ c_i v_i over pytrees like theta, each coefficient cast to the leaf dtype."""
    if not terms:
        return jax.tree_util.tree_map(jnp.zeros_like, theta)
    coeffs = [c for c, _ in terms]

    def leaf(*xs):
        return sum(jnp.asarray(c, x.dtype) * x for c, x in zip(coeffs, xs))

    return jax.tree_util.tree_map(leaf, *[v for _, v in terms])


def _total(theta, *terms):
    """Σ w_i S_i for scalars S_i, in the dtype of theta's leaves."""
    dtype = jax.tree_util.tree_leaves(theta)[0].dtype
    return sum((jnp.asarray(w, dtype) * s for w, s in terms), jnp.zeros((), dtype))


RUNTIME = (_d, _along, _slot, _grad, _filter, _fd, _negative, _exact, _project, _atom, _dot, _combine, _total)
"""The functions generated modules carry, in this order (their source, verbatim)."""

combine = _combine


def runtime_source() -> str:
    """The source of :data:`RUNTIME`, as generated modules contain it."""
    return "\n\n\n".join(inspect.getsource(fn).rstrip() for fn in RUNTIME)


def fields_from_losses(atoms, losses: Mapping[str, Callable], blocks=(None,)) -> dict:
    """``{label: f_c}``, ``f_c = ∓P_block ∇L`` from scalar losses of the parameters
    (:func:`_atom`); with blocks the parameters are a tuple of the blocks' pytrees."""
    return {
        a.label: _atom(losses[a.loss], (), negate=a.sign == 1,
                       block=None if a.block is None else tuple(blocks).index(a.block))
        for a in atoms
    }


def elementary_differentials(trees, fields: Mapping[str, Callable], theta) -> dict:
    """``{t: F(t)(θ)}`` for ``trees`` and all their subtrees, each computed once
    (children in :func:`bea.bseries.trees.sort_key` order, as generated code has them)."""
    memo: dict = {}
    for t in trees:
        _elementary(t, fields, theta, memo)
    return memo


def _elementary(t: Tree, fields: Mapping[str, Callable], theta, memo: dict):
    """``F(t)(θ)``, children first, each subtree once per ``memo``."""
    found = memo.get(t)
    if found is None:
        kids = [_elementary(c, fields, theta, memo) for c in sorted(t.children, key=sort_key)]
        found = memo[t] = _d(fields[t.label], theta, *kids)
    return found


def planned_sum(terms, fields: Mapping[str, Callable], theta, h=1.0):
    """``Σ_i c_i h^{|t_i|-1} F(t_i)(θ)`` over ``terms = [(c_i, t_i)]`` (distinct trees),
    evaluated as :func:`bea.bseries.plan.plan` factors it, with the operations of generated code in
    the same order (so both give the same bits). Directions are scaled by ``h``,
    ``D(t) = h^{|t|} F(t)``, so that ``h^{|t|-1} F(t) = f^{(k)}(D(t_1), …, D(t_k))`` and the
    coefficients carry no power of ``h`` (a rider's ratio ``c_rider/c_host`` stays finite as
    ``h → 0``); with the default ``h = 1`` the ``c_i`` are the whole coefficients. A term
    hosts a rider only if its coefficient is a nonzero Python or NumPy number (not traced)."""
    coefficients = [c for c, _ in terms]
    hostable = frozenset(i for i, c in enumerate(coefficients)
                         if isinstance(c, (int, float, np.integer, np.floating)) and c != 0)
    memo: dict = {}

    def value(t: Tree):
        """F(t) with h-scaled children: h^{|t|-1} F(t)."""
        found = memo.get(t)
        if found is None:
            found = memo[t] = _d(fields[t.label], theta, *[direction(c) for c in sorted(t.children, key=sort_key)])
        return found

    def direction(t: Tree):
        key = ("D", t)
        if key not in memo:
            memo[key] = _combine(theta, (h, value(t)))
        return memo[key]

    def last(host):
        _, v = rest_and_last(host)
        return direction(v) if isinstance(host, Single) else _combine(theta, *parts(host.terms, True))

    def parts(items, inner: bool):
        out = []
        for item in items:
            if isinstance(item, Single):
                out.append((coefficients[item.index], direction(item.tree) if inner else value(item.tree)))
            elif isinstance(item, Merged):
                v = _combine(theta, *parts(item.terms, True))
                out.append((h if inner else 1, _d(fields[item.label], theta, *map(direction, item.prefix), v)))
            else:
                out.append(paired(item, inner))
        return out

    def paired(item, inner: bool):
        host, rider = item.host, item.rider
        rest = [direction(r) for r in rest_and_last(host)[0]]
        c = coefficients[host.index] if isinstance(host, Single) else None
        if isinstance(rider, Single):
            kid = sorted(rider.tree.children, key=sort_key)[item.free]
            w = [(coefficients[rider.index], direction(kid))]
        else:
            w = parts(rider.terms, True)
        if c is not None:
            w = [(a / c, x) for a, x in w]
        y = _slot(fields[root_label(host)], theta,
                  tuple(rest[:item.slot]), rest[item.slot], tuple(rest[item.slot + 1:]), last(host),
                  _combine(theta, *w))
        scale = 1 if c is None else c
        return (scale * h if inner else scale, y)

    return _combine(theta, *parts(plan(tuple(t for _, t in terms), hostable), False))


def scalar_value(s: Tree, losses: Mapping[str, Callable], theta, blocks=(None,), memo=None):
    """``S(s)(θ)`` of the unrooted scalar ``s`` (module docstring); ``memo`` (a dict)
    shares gradient differentials and child vectors between scalars."""
    memo = {} if memo is None else memo
    blocks = tuple(blocks)

    def gradient(loss: str, kids: tuple):
        key = ("G", loss, kids)
        if key not in memo:
            memo[key] = _d(_grad(losses[loss], ()), theta, *[vector(k) for k in kids])
        return memo[key]

    def vector(c: Tree):
        key = ("V", c)
        if key not in memo:
            loss, block = split_scalar_label(c.label)
            g = gradient(loss, tuple(sorted(c.children, key=sort_key)))
            memo[key] = g if block is None else _project(g, blocks.index(block))
        return memo[key]

    kids = tuple(sorted(s.children, key=sort_key))
    if not kids:
        return losses[s.label](theta)
    return _dot(gradient(s.label, kids[:-1]), vector(kids[-1]))
