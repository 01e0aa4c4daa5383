"""Multitask GD, one step on ``Σ_i L_i`` (Dherin, arXiv 2311.00235).

The modified loss splits into the loss, a flatness term ``(h/4)Σ_i‖∇L_i‖²`` and a
conflict term ``(h/2)Σ_{i<j}⟨∇L_i,∇L_j⟩``.
"""

from ..derive import Rule
from ..rules import Atom
from ._options import integer


def build(tasks=2) -> Rule:
    n = integer("--tasks", tasks)
    atoms = tuple(Atom(f"f{i}", f"L{i}") for i in range(1, n + 1))

    def step(theta, h, *fields):
        return theta + h * sum((f(theta) for f in fields), 0)

    return Rule(step, atoms, name="multitask", options={"tasks": n},
                description=f"gradient descent on the sum of {n} task losses")
