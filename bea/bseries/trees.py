"""Labelled rooted trees, hash-consed.

A tree ``t`` with root label ``c`` and children ``t1 … tk`` stands for the elementary
differential ``F(t) = f_c^{(k)}(F(t1), …, F(tk))`` (Butcher; Hairer–Lubich–Wanner,
*Geometric Numerical Integration*, ch. III.1). Children are unordered because
``f_c^{(k)}`` is a symmetric multilinear map, so every tree has one canonical form.

Trees are interned: each distinct tree is built once and is a small ``int`` subclass,
so trees hash and compare as integers and every tree operation can be memoized by id.
The canonical *notation* ``label[child,child]`` orders children by (order, notation),
independently of the order in which trees happened to be interned.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

__all__ = [
    "Tree",
    "tree",
    "parse",
    "graft",
    "symmetry",
    "trees_of_order",
    "relabel",
    "InvalidTreeError",
]


class InvalidTreeError(ValueError):
    """A tree string that does not follow ``label[child,child,…]``."""


class Tree(int):
    """An interned labelled rooted tree (an ``int`` id with tree accessors)."""

    __slots__ = ()

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def children(self) -> tuple["Tree", ...]:
        return _CHILDREN[self]

    @property
    def order(self) -> int:
        """Number of nodes ``|t|``."""
        return _ORDERS[self]

    def __str__(self) -> str:
        return notation(self)

    def __repr__(self) -> str:
        return f"Tree({notation(self)!r})"


_LABELS: list[str] = []
_CHILDREN: list[tuple[Tree, ...]] = []
_ORDERS: list[int] = []
_TREES: list[Tree] = []
_INDEX: dict[tuple[str, tuple[Tree, ...]], Tree] = {}


def tree(label: str, children=()) -> Tree:
    """The tree with root ``label`` and the given children (in any order)."""
    key = (label, tuple(sorted(children)))
    found = _INDEX.get(key)
    if found is not None:
        return found
    new = Tree(len(_TREES))
    _LABELS.append(label)
    _CHILDREN.append(key[1])
    _ORDERS.append(1 + sum(_ORDERS[c] for c in key[1]))
    _TREES.append(new)
    _INDEX[key] = new
    return new


@functools.cache
@functools.cache
def notation(t: Tree) -> str:
    """Canonical string ``label[child,child]``; children sorted by (order, notation)."""
    kids = _CHILDREN[t]
    if not kids:
        return _LABELS[t]
    parts = sorted(kids, key=sort_key)
    return f"{_LABELS[t]}[{','.join(notation(c) for c in parts)}]"


@functools.cache
def sort_key(t: Tree) -> tuple[int, str]:
    """Deterministic display order: by order, then notation."""
    return (_ORDERS[t], notation(t))


_TOKEN = re.compile(r"\s*([^\[\],\s]+|\[|\]|,)")


def parse(text: str) -> Tree:
    """Parse ``label[child,child]`` notation (labels: any run of characters but ``[],``)."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise InvalidTreeError(f"cannot read tree {text!r}; expected e.g. 'f[f,f[f]]'")
    pos = 0

    def node() -> Tree:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] in "[],":
            raise InvalidTreeError(f"cannot read tree {text!r}: a label is missing")
        label = tokens[pos]
        pos += 1
        kids = []
        if pos < len(tokens) and tokens[pos] == "[":
            pos += 1
            kids.append(node())
            while pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                kids.append(node())
            if pos >= len(tokens) or tokens[pos] != "]":
                raise InvalidTreeError(f"cannot read tree {text!r}: missing ']'")
            pos += 1
        return tree(label, kids)

    try:
        result = node()
    except RecursionError:
        raise InvalidTreeError(f"cannot read tree {text[:40]!r}…: nested too deeply") from None
    if pos != len(tokens):
        raise InvalidTreeError(f"cannot read tree {text!r}: text after the tree")
    return result


@functools.cache
def graft(t: Tree, u: Tree) -> tuple[tuple[Tree, int], ...]:
    """``F(t)'·F(u)`` as trees: ``u`` attached as a new child at every node of ``t``.

    Returns ``(tree, multiplicity)`` pairs; equal results from different nodes are merged.
    This is the Lie derivative of the field ``F(t)`` along ``F(u)`` (Leibniz rule on the
    multilinear maps), the basic step of B-series composition.
    """
    out: Counter = Counter()
    kids = _CHILDREN[t]
    out[tree(_LABELS[t], kids + (u,))] += 1
    for child, count in Counter(kids).items():
        rest = list(kids)
        rest.remove(child)
        for grafted, mult in graft(child, u):
            out[tree(_LABELS[t], rest + [grafted])] += count * mult
    return tuple(out.items())


@functools.cache
def symmetry(t: Tree) -> int:
    """Symmetry factor ``σ(t)``: order of the automorphism group of the labelled tree."""
    result = 1
    for child, count in Counter(_CHILDREN[t]).items():
        result *= math.factorial(count) * symmetry(child) ** count
    return result


@functools.cache
def density(t: Tree) -> int:
    """Density ``γ(t)``: product over nodes of the size of the subtree rooted there."""
    result = _ORDERS[t]
    for child in _CHILDREN[t]:
        result *= density(child)
    return result


def relabel(t: Tree, mapping) -> Tree:
    """The tree with each label ``c`` replaced by ``mapping[c]`` (labels not in it kept)."""
    return tree(mapping.get(_LABELS[t], _LABELS[t]), [relabel(c, mapping) for c in _CHILDREN[t]])


def labels_of(t: Tree) -> tuple[str, ...]:
    """Labels of all nodes, root first (depth-first)."""
    out = [_LABELS[t]]
    for c in _CHILDREN[t]:
        out.extend(labels_of(c))
    return tuple(out)


@functools.cache
def trees_of_order(n: int, labels: tuple[str, ...] = ("f",)) -> tuple[Tree, ...]:
    """All trees with ``n`` nodes whose labels are drawn from ``labels``."""
    if n < 1:
        return ()
    result = []
    for forest in _forests(n - 1, labels):
        for lab in labels:
            result.append(tree(lab, forest))
    return tuple(sorted(result, key=sort_key))


@functools.cache
def _forests(n: int, labels: tuple[str, ...]) -> tuple[tuple[Tree, ...], ...]:
    """Multisets of trees with ``n`` nodes in total (as sorted tuples)."""
    if n == 0:
        return ((),)
    pool = [t for k in range(1, n + 1) for t in trees_of_order(k, labels)]
    pool.sort()
    out = []

    def extend(start: int, remaining: int, acc: list[Tree]):
        if remaining == 0:
            out.append(tuple(acc))
            return
        for i in range(start, len(pool)):
            t = pool[i]
            if _ORDERS[t] <= remaining:
                acc.append(t)
                extend(i, remaining - _ORDERS[t], acc)
                acc.pop()

    extend(0, n, [])
    return tuple(out)
