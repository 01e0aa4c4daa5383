"""Continual learning: ``n_A`` steps on task A, then ``n_B`` on B, … (Dherin, arXiv 2311.00235).

The conflict term is the Lie bracket ``[∇L_A, ∇L_B]`` of the task gradients, which is not
a gradient: it appears as the remainder of the modified loss.
"""

import re

from ..derive import Rule
from ..tracing import Atom
from ._options import SchemeError, integer

_TASK = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def parse_steps(text: str) -> list[tuple[str, int]]:
    """``"A:2,B:3"`` → ``[("A", 2), ("B", 3)]``."""
    out = []
    for part in str(text).split(","):
        name, sep, count = part.partition(":")
        name = name.strip()
        if not sep or not _TASK.match(name):
            raise SchemeError(f"--steps must look like A:2,B:3 (task:count, …); got {text!r}")
        out.append((name, integer(f"--steps count of task {name}", count)))
    if len(out) < 1:
        raise SchemeError("--steps needs at least one task")
    return out


def build(steps="A:1,B:1") -> Rule:
    plan = parse_steps(steps)
    tasks = list(dict.fromkeys(name for name, _ in plan))
    atoms = tuple(Atom(f"f{t}", f"L{t}") for t in tasks)
    index = {t: i for i, t in enumerate(tasks)}

    def step(theta, h, *fields):
        for name, count in plan:
            for _ in range(count):
                theta = theta + h * fields[index[name]](theta)
        return theta

    total = sum(c for _, c in plan)
    return Rule(step, atoms, name="continual", cycle=total,
                options={"steps": ",".join(f"{n}:{c}" for n, c in plan)},
                description="continual learning: " + ", then ".join(f"{c} steps on {n}" for n, c in plan))
