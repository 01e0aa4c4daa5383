"""Continual learning: ``n_A`` steps on task A, then ``n_B`` on B, … (Dherin, arXiv 2311.00235).

The conflict term is the Lie bracket ``[∇L_A, ∇L_B]`` of the task gradients, which is not
a gradient: it appears as the remainder of the modified loss.
"""

from ..rule import Rule
from ..atoms import Atom


def size(order: int, steps: tuple) -> tuple[int, int]:
    """Atoms (distinct tasks) and updates (total steps) traced."""
    return len({name for name, _ in steps}), sum(count for _, count in steps)


def build(order: int, steps: tuple) -> Rule:
    """``steps``: ``(("A", 2), ("B", 3))``, the tasks in training order with their step counts."""
    tasks = list(dict.fromkeys(name for name, _ in steps))
    atoms = tuple(Atom(f"f{t}", f"L{t}") for t in tasks)
    index = {t: i for i, t in enumerate(tasks)}

    def step(theta, h, *fields):
        for name, count in steps:
            for _ in range(count):
                theta = theta + h * fields[index[name]](theta)
        return theta

    total = sum(c for _, c in steps)
    return Rule(step, atoms, name="continual", cycle=total,
                options={"steps": ",".join(f"{n}:{c}" for n, c in steps)},
                description="continual learning: " + ", then ".join(f"{c} steps on {n}" for n, c in steps))
