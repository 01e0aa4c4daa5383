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
channel per term whose own channels are not shared. :func:`plan` chooses which trees
to evaluate on their own by local search on the number of distinct channels.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from .trees import Tree, sort_key

__all__ = ["Single", "Merged", "plan", "channel_count", "PAIR_SEARCH_LIMIT"]

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
def plan(trees: tuple[Tree, ...]) -> tuple:
    """Items whose sum is ``Σ_i c_i F(trees[i])`` (distinct trees), with few distinct channels.

    Local search over the set of trees evaluated on their own: starting from none (every
    group merged) and from all (no merging), flip one tree, or two where no single flip
    helps, while the channel count drops; the better of the two ends wins (ties: fewer
    merges). Depends on the trees only, not on the coefficients; deterministic
    (candidates visited in :func:`bea.trees.sort_key` order)."""
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
