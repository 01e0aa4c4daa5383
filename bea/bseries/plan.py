"""Evaluation plan of a linear combination of elementary differentials ``Σ_i c_i F(t_i)``.

Two facts make a sum of elementary differentials cheaper than its terms:

* **Linearity.** ``f^{(k)}`` is linear in each argument, so terms with the same root and
  the same children but one share one derivative:
  ``Σ_i c_i f^{(k)}(F(p_1), …, F(p_{k-1}), F(u_i)) = f^{(k)}(F(p_1), …, F(p_{k-1}), V)``
  with ``V = Σ_i c_i F(u_i)``, itself a combination planned the same way. With ``k = 1``
  this is Horner's rule for the tall trees: ``c_2 f'f + c_3 f'f'f = f'(c_2 f + c_3 f'f)``.
* **Shared channels.** ``k`` nested ``jax.jvp`` of ``f`` along ``d_1 … d_k`` compute the
  derivative of ``f`` along every sub-multiset of the directions (a *channel*), and XLA
  computes an equal channel once however many derivatives need it. A channel costs
  about one Hessian-vector product (1.8–2.5 gradients on the bench's MLP,
  ``bench/bench_codegen.py``); a new direction costs at least one channel.

So a tree evaluated on its own makes its children directions whose channels other
terms may reuse (``f''(f, f'f)`` brings ``f'(f'f)`` for free), while merging saves a
channel per term whose own channels are not shared. :func:`merge` chooses which trees
to evaluate on their own by local search on the number of distinct channels.

A third fact saves flops, not channels:

* **Riders.** ``D^{k-1} f(x)[r_1, …, r_{k-1}]`` is linear in each ``r_i``, so one jvp in
  ``(x, r_j)`` along ``(V, W)`` gives a *host* and a *rider* of one degree less together
  (a Taylor coefficient along the curve ``(θ + εV, r_j + εW)``)::

      ∂_ε D^{k-1} f(θ + εV)[…, r_j + εW, …] = D^k f[r_1, …, r_{k-1}, V] + D^{k-1} f[…, W, …]

  Evaluated apart, the rider repeats the linear part of the host's tangent pass; together
  it costs about one gradient less (``bench/bench_codegen.py``: gd order 5, 26.9 → 23.9
  gradients). Host and rider must be terms of one sum used nowhere else. :func:`pair`
  matches them (a maximum matching; degrees k and k-1 alternate in parity, so the graph
  is bipartite). A host that is a single tree scales the rider by ``1/c_host``, so it
  needs a coefficient known to be a nonzero number (``hostable``).
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass

from .trees import Tree, sort_key

__all__ = ["Single", "Merged", "Paired", "plan", "merge", "pair", "channel_count", "rest_and_last", "root_label", "exact_anyway",
           "PAIR_SEARCH_LIMIT"]

PAIR_SEARCH_LIMIT = 40
"""Pairs of flips are tried only up to this many candidate trees (their number grows as
its square): gd to order 6, sgd with two batches to order 3."""


@dataclass(frozen=True)
class Single:
    """``c_index · F(tree)``: term ``index`` of the planned sum, the tree evaluated on its
    own (its subtrees too)."""

    index: int
    tree: Tree


@dataclass(frozen=True)
class Merged:
    """``f_label^{(k)}(F(p_1), …, F(p_{k-1}), V)``: the terms of one root and prefix, whose
    last children sum to the combination ``V = terms`` (each with its term's coefficient)."""

    label: str
    prefix: tuple[Tree, ...]
    terms: tuple


@dataclass(frozen=True)
class Paired:
    """``host + rider`` in one jvp: the host's directions but its last (:func:`rest_and_last`)
    with ``rest[slot]`` carrying the rider's last argument ``W`` as a tangent. ``free`` is the
    index of the child of a single-tree rider that becomes ``W`` (None for a merged rider,
    whose ``W`` is its combination)."""

    host: Single | Merged
    rider: Single | Merged
    slot: int
    free: int | None


def rest_and_last(item) -> tuple[tuple, object]:
    """``(directions but the last, last)`` of a host: a tree's sorted children, or a merged
    group's prefix and its combination (the item itself stands for it)."""
    if isinstance(item, Single):
        kids = _children(item.tree)
        return tuple(kids[:-1]), kids[-1]
    return item.prefix, item


def _children(t: Tree) -> list[Tree]:
    return sorted(t.children, key=sort_key)


def _build(terms, alone: frozenset) -> tuple:
    """Items of ``terms = [(index, tree)]`` with the trees in ``alone`` evaluated on their own."""
    items, groups = [], {}
    for index, t in terms:
        if not t.children or t in alone:
            items.append(Single(index, t))
            continue
        kids = _children(t)
        groups.setdefault((t.label, tuple(kids[:-1])), []).append((index, t, kids[-1]))
    for (label, prefix), members in groups.items():
        if len(members) == 1:
            index, t, _ = members[0]
            items.append(Single(index, t))
        else:
            items.append(Merged(label, prefix, _build([(i, u) for i, _, u in members], alone)))
    return tuple(items)


def _submultisets(directions: tuple) -> set:
    return {combo for r in range(len(directions) + 1) for combo in itertools.combinations(directions, r)}


def _tree_channels(t: Tree, out: set) -> None:
    kids = _children(t)
    for k in kids:
        _tree_channels(k, out)
    out.update((t.label, s) for s in _submultisets(tuple(kids)))


def _channels(items: tuple, out: set) -> None:
    for item in items:
        if isinstance(item, Paired):
            _channels((item.host,), out)
            rider = item.rider
            if isinstance(rider, Merged):
                _channels((rider,), out)
                continue
            kids = _children(rider.tree)
            for k in kids:
                _tree_channels(k, out)
            # the rider's last direction W is a new one, identified by its item
            out.update((rider.tree.label, s) for s in _submultisets(tuple(_without(tuple(kids), item.free)) + (item,)))
            continue
        if isinstance(item, Single):
            _tree_channels(item.tree, out)
            continue
        for p in item.prefix:
            _tree_channels(p, out)
        _channels(item.terms, out)
        # the combination V is a new direction, identified by its item
        out.update((item.label, s) for s in _submultisets(item.prefix + (item,)))


def channel_count(items: tuple) -> int:
    """Distinct channels (atom, multiset of directions) that evaluating ``items`` computes."""
    out: set = set()
    _channels(items, out)
    return len(out)


def _subtrees(t: Tree, out: set) -> None:
    if t.children and t not in out:
        out.add(t)
        for k in t.children:
            _subtrees(k, out)


@functools.lru_cache(maxsize=256)
def plan(trees: tuple[Tree, ...], hostable: frozenset = frozenset()) -> tuple:
    """Items whose sum is ``Σ_i c_i F(trees[i])`` (distinct trees), with few distinct channels
    (:func:`merge`) and hosts and riders paired (:func:`pair`; ``hostable``: the indices of
    terms whose coefficient is a nonzero number)."""
    return pair(merge(trees), hostable)


@functools.lru_cache(maxsize=256)
def merge(trees: tuple[Tree, ...]) -> tuple:
    """Items whose sum is ``Σ_i c_i F(trees[i])`` (distinct trees), with few distinct channels.

    Local search over the set of trees evaluated on their own: starting from none (every
    group merged) and from all (no merging), flip one tree, or two where no single flip
    helps, while the channel count drops; the better of the two ends wins (ties: fewer
    merges). Depends on the trees only, not on the coefficients; deterministic
    (candidates visited in :func:`bea.bseries.trees.sort_key` order)."""
    terms = list(enumerate(trees))
    candidates: set = set()
    for t in trees:
        _subtrees(t, candidates)
    ordered = sorted(candidates, key=sort_key)
    results = [_descend(terms, ordered, frozenset(start)) for start in (ordered, ())]
    return min(results, key=lambda r: (channel_count(r), sum(isinstance(i, Merged) for i in r)))


def _descend(terms, candidates: list, alone: frozenset) -> tuple:
    cost = channel_count(_build(terms, alone))
    pairs = len(candidates) <= PAIR_SEARCH_LIMIT
    while True:
        moves = [frozenset({c}) for c in candidates]
        found = _first_improvement(terms, alone, moves, cost)
        if found is None and pairs:
            found = _first_improvement(terms, alone, [frozenset(p) for p in itertools.combinations(candidates, 2)],
                                       cost)
        if found is None:
            return _build(terms, alone)
        alone, cost = found


def _first_improvement(terms, alone: frozenset, moves, cost: int):
    """``(alone ^ move, its channel count)`` for the first move that lowers ``cost``, or None."""
    for move in moves:
        trial = alone ^ move
        c = channel_count(_build(terms, trial))
        if c < cost:
            return trial, c
    return None


def _degree(item) -> int:
    return len(item.tree.children) if isinstance(item, Single) else len(item.prefix) + 1


def root_label(item) -> str:
    """The atom at the root of a single tree or a merged group."""
    return item.tree.label if isinstance(item, Single) else item.label


def _without(trees: tuple, i: int) -> list:
    """``trees`` but the ``i``-th, sorted."""
    return sorted(trees[:i] + trees[i + 1:], key=sort_key)


def _fit(host, rider) -> tuple[int, int | None] | None:
    """``(slot, free)`` where ``rider`` rides on ``host`` (:class:`Paired`), or None."""
    if root_label(host) != root_label(rider) or _degree(host) < 2 or _degree(rider) != _degree(host) - 1:
        return None
    rest, _ = rest_and_last(host)
    if isinstance(rider, Merged):
        wanted = [sorted(rider.prefix, key=sort_key)]
        frees = [None]
    else:
        kids = tuple(_children(rider.tree))
        wanted = [_without(kids, i) for i in range(len(kids))]
        frees = list(range(len(kids)))
    for slot in range(len(rest)):
        others = _without(rest, slot)
        for free, want in zip(frees, wanted):
            if others == want:
                return slot, free
    return None


def _counts(items: tuple, uses: dict, children: set, producers: Counter) -> None:
    """How often each tree is a term (``uses``), every tree needed as a direction, and how
    many terms compute each channel (``producers``)."""
    for item in items:
        found: set = set()
        if isinstance(item, Single):
            uses[item.tree] = uses.get(item.tree, 0) + 1
            for k in item.tree.children:
                _subtrees(k, children)
                children.add(k)
            _tree_channels(item.tree, found)
        else:
            for p in item.prefix:
                _subtrees(p, children)
                children.add(p)
                _tree_channels(p, found)
            found.update((item.label, s) for s in _submultisets(item.prefix + (item,)))
            _counts(item.terms, uses, children, producers)
        producers.update(found)


def _saves(rider, free: int | None, producers: Counter) -> bool:
    """Whether riding costs no new channel: a merged rider's combination is a new direction
    either way; a single tree's last child scaled by ``c_rider/c_host`` is a new direction,
    worth it only if the channels it replaces are computed by this term alone."""
    if isinstance(rider, Merged):
        return True
    kids = tuple(_children(rider.tree))
    label = rider.tree.label
    others = _submultisets(tuple(_without(kids, free)))
    gone = sum(producers[(label, tuple(sorted(s + (kids[free],), key=sort_key)))] == 1 for s in others)
    return gone >= len(others)


def pair(items: tuple, hostable: frozenset = frozenset()) -> tuple:
    """``items`` with hosts and riders of each sum (the top level, and every merged
    combination) joined as :class:`Paired`, as many pairs as a maximum matching gives.
    A single tree takes part only if it is a term once and no other term's direction; as
    a host, only if its index is in ``hostable``. Deterministic: candidates in item order."""
    uses: dict = {}
    children: set = set()
    producers: Counter = Counter()
    _counts(items, uses, children, producers)

    def free(item) -> bool:
        return isinstance(item, Merged) or (uses[item.tree] == 1 and item.tree not in children)

    def can_host(item) -> bool:
        return isinstance(item, Merged) or item.index in hostable

    def walk(level: tuple) -> tuple:
        level = tuple(Merged(i.label, i.prefix, walk(i.terms)) if isinstance(i, Merged) else i for i in level)
        fits = {}
        for a, host in enumerate(level):
            if not (free(host) and can_host(host)):
                continue
            for b, rider in enumerate(level):
                if a != b and free(rider) and (found := _fit(host, rider)) is not None \
                        and _saves(rider, found[1], producers):
                    fits[a, b] = found
        pairs = {min(a, b): (a, b) for a, b in _matching(level, fits)}
        taken = {i for ab in pairs.values() for i in ab}
        out = []
        for i, item in enumerate(level):
            if i in pairs:
                a, b = pairs[i]
                out.append(Paired(level[a], level[b], *fits[a, b]))
            elif i not in taken:
                out.append(item)
        return tuple(out)

    return walk(items)


def _matching(level: tuple, fits: dict) -> list[tuple[int, int]]:
    """A maximum set of disjoint ``(host, rider)`` pairs among ``fits`` (Kuhn's augmenting
    paths from the items of even degree; every pair joins an even and an odd degree)."""
    neighbours: dict = {}
    for a, b in fits:
        even, odd = (a, b) if _degree(level[a]) % 2 == 0 else (b, a)
        neighbours.setdefault(even, []).append(odd)
    mate: dict = {}  # odd -> even

    def augment(u: int, seen: set) -> bool:
        for v in neighbours[u]:
            if v not in seen:
                seen.add(v)
                if v not in mate or augment(mate[v], seen):
                    mate[v] = u
                    return True
        return False

    for u in sorted(neighbours):
        augment(u, set())
    return sorted((u, v) if (u, v) in fits else (v, u) for v, u in mate.items())


def exact_anyway(items: tuple) -> set:
    """``(label, u)`` for every first-order derivative ``f_label'(F(u))`` that a
    derivative of degree ≥ 2 of the plan computes anyway (a nested jvp computes every
    sub-multiset of its directions): evaluating it on its own by a finite difference would
    cost a gradient more, not less."""
    out: set = set()

    def tree_dirs(t: Tree) -> None:
        if len(t.children) >= 2:
            out.update((t.label, c) for c in t.children)
        for c in t.children:
            tree_dirs(c)

    def walk(items: tuple) -> None:
        for item in items:
            if isinstance(item, Paired):
                # the jvp computes the host's directions; the rider adds only its W (a new one)
                walk((item.host,))
                if isinstance(item.rider, Merged):
                    walk(item.rider.terms)
                else:
                    for c in item.rider.tree.children:
                        tree_dirs(c)
            elif isinstance(item, Single):
                tree_dirs(item.tree)
            else:
                if item.prefix:
                    out.update((item.label, p) for p in item.prefix)
                for p in item.prefix:
                    tree_dirs(p)
                walk(item.terms)

    walk(items)
    return out
