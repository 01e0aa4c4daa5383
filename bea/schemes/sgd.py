"""One SGD epoch over ``m`` minibatch losses (Smith, Dherin, Barrett & De, ICLR 2021).

``forward`` applies ``θ ← θ - h∇L_k`` for ``k = 1 … m``; ``backward`` composes the same
steps in reverse, ``T_1∘…∘T_m`` (Dherin et al., arXiv 2502.01557); ``random`` is the mean
over all orderings (the mean iterate of random reshuffling). The flow is per update, so
the epoch covers time ``m h``. Without ``m`` the result is symbolic in ``m``: the rule is
traced with as many batches as the order (enough to realize every index pattern), and
coefficients, which depend only on the pattern of indices, are printed with ``Σ_k``.
"""

import sympy

from ..rule import Family, Rule
from ..atoms import Atom

SHUFFLES = ("forward", "backward", "random")


def epoch(theta, h, *fields):
    """One step on each minibatch field, in the order the fields are given."""
    for f in fields:
        theta = theta + h * f(theta)
    return theta


def size(order: int, batches: int | None, shuffle: str) -> tuple[int, int]:
    """Atoms and updates traced: ``m`` of each (``order`` of each for a symbolic ``m``)."""
    m = order if batches is None else batches
    return m, m


def build(order: int, batches: int | None, shuffle: str) -> Rule:
    """``batches``: the number ``m`` of minibatches, or ``None`` for a symbolic ``m``;
    ``shuffle`` in :data:`SHUFFLES`."""
    symbolic = batches is None
    m = order if symbolic else batches
    labels = tuple(f"f{k}" for k in range(1, m + 1))
    losses = tuple(f"L{k}" for k in range(1, m + 1))
    atoms = tuple(Atom(lab, loss) for lab, loss in zip(labels, losses))  # in update order
    if shuffle == "backward":
        atoms = atoms[::-1]
    size = sympy.Symbol("m", positive=True, integer=True) if symbolic else m
    return Rule(
        epoch, atoms, name="sgd", cycle=size, shuffle=shuffle == "random",
        family=Family(labels, losses, ordered=shuffle != "random", size=size),
        options={"batches": "m" if symbolic else m, "shuffle": shuffle},
        description=f"one SGD epoch over {'m' if symbolic else m} minibatches, {shuffle} order",
    )
