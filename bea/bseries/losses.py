"""Modified losses: which part of a modified field is a gradient, exactly.

With gradient atoms ``f_c = -sign_c P_{B(c)} ∇L_{ℓ(c)}``, a scalar built from loss
derivatives is an *unrooted* tree: a node of degree ``d`` is ``∇^d L_ℓ``, an edge a
contraction over one parameter block. Its gradient with respect to block ``β`` is the sum
of its rootings (the README's *Conventions*): rooting at node ``v`` gives the rooted tree whose root is
the atom ``(ℓ(v), β)`` and whose other nodes are the atoms ``(ℓ(w), block of the edge
towards the root)``. Since ``F(t) = Π_nodes(-sign_c) · (loss-derivative network)``,

    -∇_β S(s) = -Σ_v Π_{nodes}(-sign)^{-1} F(root(s, v, β)).

Each rooted tree comes from exactly one scalar, so the gradient columns of different
scalars have disjoint supports in the tree basis, and exact least squares splits into a
one-dimensional projection per scalar: ``w_s = ⟨c, v_s⟩ / ⟨v_s, v_s⟩``. The gradient part
is ``Σ w_s v_s`` and the **remainder** ``c - Σ w_s v_s`` is orthogonal to every gradient
in the tree basis. That is bea's canonical split (the split is not unique: e.g. plain GD at
order 3 could also be written ``-(1/12)∇(gᵀHg) - (1/6)H²g``; least squares gives
``-(3/20)∇(gᵀHg)`` plus the remainder ``-(1/15)T(g,g) + (1/30)H²g`` in ``f``-trees).
When a scalar has a rooting that is not an atom tree (no atom for that loss and block),
its column leaves the atom-tree space and it is not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from .trees import Tree, labels_of, tree

__all__ = ["GradientSplit", "split_gradient", "scalar_of", "scalar_label", "split_scalar_label", "with_loss"]


def scalar_label(loss: str, block: str | None, root: bool = False) -> str:
    """The label of a scalar-tree node: ``"L"`` at the root, ``"L|block"`` below it (the
    block of the edge towards the root; ``"L|"`` for a rule on one parameter block)."""
    return loss if root else f"{loss}|{'' if block is None else block}"


def split_scalar_label(label: str) -> tuple[str, str | None]:
    """``(loss, block)`` of a label made by :func:`scalar_label` (block ``None`` at the
    root and for a rule on one parameter block)."""
    loss, _, block = label.partition("|")
    return loss, block or None


def with_loss(label: str, loss: str) -> str:
    """The scalar-tree label ``label`` with its loss replaced by ``loss`` (block kept)."""
    _, bar, block = label.partition("|")
    return f"{loss}{bar}{block}"


@dataclass
class GradientSplit:
    """One order of a modified field for one block: ``c = -∇_β(Σ w_s S(s)) + remainder``."""

    block: str | None
    weights: dict  # canonical scalar (rooted Tree over "loss" / "loss|block" labels) -> coeff
    remainder: dict  # atom tree -> coeff
    gradient: dict = dc_field(default_factory=dict)  # atom tree -> coeff of the gradient part


def _edges(t: Tree, atom_of: dict):
    """Nodes ``[(loss)]`` and edges ``[(parent, child, block)]`` of an atom tree."""
    nodes: list[str] = []
    edges: list[tuple[int, int, str | None]] = []

    def walk(s: Tree, parent):
        a = atom_of[s.label]
        index = len(nodes)
        nodes.append(a.loss)
        if parent is not None:
            edges.append((parent, index, a.block))
        for c in s.children:
            walk(c, index)

    walk(t, None)
    return nodes, edges


def _adjacency(nodes, edges):
    adj = [[] for _ in nodes]
    for p, c, b in edges:
        adj[p].append((c, b))
        adj[c].append((p, b))
    return adj


def _scalar_rooted(v, adj, nodes, parent=None, block=None) -> Tree:
    label = scalar_label(nodes[v], block, root=parent is None)
    kids = [_scalar_rooted(w, adj, nodes, v, b) for w, b in adj[v] if w != parent]
    return tree(label, kids)


def _atom_rooted(v, adj, nodes, atom_for, out_block, parent=None):
    label = atom_for.get((nodes[v], out_block))
    if label is None:
        return None
    kids = []
    for w, b in adj[v]:
        if w != parent:
            k = _atom_rooted(w, adj, nodes, atom_for, b, v)
            if k is None:
                return None
            kids.append(k)
    return tree(label, kids)


def scalar_of(t: Tree, atom_of: dict) -> Tree:
    """Canonical form of the unrooted scalar behind atom tree ``t``: its least rooting
    (by notation) at a centre of the tree (root label ``loss``, other labels
    ``loss|edge block``). A tree has one or two centres, so at most two rootings are built."""
    nodes, edges = _edges(t, atom_of)
    adj = _adjacency(nodes, edges)
    return min((_scalar_rooted(v, adj, nodes) for v in _centres(adj)), key=str)


def _centres(adj) -> list[int]:
    """The one or two nodes left after stripping leaves layer by layer."""
    degree = [len(a) for a in adj]
    remaining = len(adj)
    layer = [v for v, d in enumerate(degree) if d <= 1]
    while remaining > 2:
        remaining -= len(layer)
        nxt = []
        for v in layer:
            for w, _ in adj[v]:
                degree[w] -= 1
                if degree[w] == 1:
                    nxt.append(w)
        layer = nxt
    return layer


def _column(t: Tree, atom_of: dict, atom_for: dict, block, field):
    """``-∇_block S(s)`` for the scalar ``s`` behind ``t``, as ``{atom tree: coeff}``."""
    nodes, edges = _edges(t, atom_of)
    adj = _adjacency(nodes, edges)
    column: dict = {}
    for v in range(len(nodes)):
        rooted = _atom_rooted(v, adj, nodes, atom_for, block)
        if rooted is None:
            return None
        sign = -1
        for lab in labels_of(rooted):
            sign *= -atom_of[lab].sign
        column[rooted] = column.get(rooted, 0) + sign
    return {r: field(c) for r, c in column.items() if c}


def split_gradient(terms: dict, atoms, field) -> dict:
    """Split ``f_k = Σ c(t) F(t)`` per block into gradient part and remainder.

    Returns ``{block: GradientSplit}`` for every block that has trees in ``terms``; a
    block's modified loss exists at this order exactly when its remainder is empty.
    """
    atom_of = {a.label: a for a in atoms}
    atom_for: dict = {}
    for a in atoms:
        atom_for.setdefault((a.loss, a.block), a.label)
    by_block: dict = {}
    for t, c in terms.items():
        by_block.setdefault(atom_of[t.label].block, {})[t] = c
    result = {}
    for block, cs in by_block.items():
        classes: dict = {}
        for t in cs:
            classes.setdefault(scalar_of(t, atom_of), []).append(t)
        weights, gradient, remainder = {}, {}, {}
        for s, members in classes.items():
            column = _column(members[0], atom_of, atom_for, block, field)
            if column is None:
                for t in members:
                    remainder[t] = cs[t]
                continue
            num = sum((cs.get(t, field.zero) * v for t, v in column.items()), field.zero)
            den = sum((v * v for v in column.values()), field.zero)
            w = num / den
            if w:
                weights[s] = w
            for t in set(column) | set(members):
                g = w * column.get(t, field.zero)
                if g:
                    gradient[t] = g
                r = cs.get(t, field.zero) - g
                if r:
                    remainder[t] = r
        result[block] = GradientSplit(block, weights, remainder, gradient)
    return result
