"""Multitask GD (Dherin, arXiv 2311.00235).

Joint: one step on ``Σ_i L_i``; the modified loss splits into the loss, a flatness term
``(h/4)Σ_i‖∇L_i‖²`` and a conflict term ``(h/2)Σ_{i<j}⟨∇L_i,∇L_j⟩``.
Per-task (``per_task``): one step on each task in turn, a cycle of ``n`` updates; the
conflict term becomes the Lie brackets ``[∇L_i, ∇L_j]`` of the task gradients.
"""

from ..rule import Rule
from ..atoms import Atom
from .sgd import epoch


def joint_step(theta, h, *fields):
    """One step on the sum of the task fields."""
    return theta + h * sum((f(theta) for f in fields), 0)


def size(order: int, tasks: int, per_task: bool) -> tuple[int, int]:
    """Atoms and updates traced: one atom per task; one update per task in turn."""
    return tasks, tasks if per_task else 1


def build(order: int, tasks: int, per_task: bool) -> Rule:
    """``tasks``: the number ``n`` of task losses."""
    n = tasks
    atoms = tuple(Atom(f"f{i}", f"L{i}") for i in range(1, n + 1))
    if per_task:
        return Rule(epoch, atoms, name="multitask", cycle=n, options={"tasks": n, "per_task": True},
                    description=f"one gradient step on each of {n} tasks in turn")
    return Rule(joint_step, atoms, name="multitask", options={"tasks": n},
                description=f"gradient descent on the sum of {n} task losses")
