"""Loading a user's update rule from a Python file (``--rule path.py:name``).

The target is either a :class:`bea.Rule` or a plain function ``step(theta, h, *atoms)``;
for a plain function every parameter after ``h`` is a gradient atom: one atom ``f`` gives
``f = -∇L``; several atoms ``a, b, …`` give ``f_a = -∇L_a``, ``f_b = -∇L_b``, …
The file is imported as a module (it is the user's code, run as such); the command
line string itself is never evaluated.
"""

from __future__ import annotations

import inspect

from ._loading import load_attribute
from .derive import Rule
from .tracing import Atom, RuleError

__all__ = ["load_rule", "rule_from_function"]


def rule_from_function(step, name: str | None = None) -> Rule:
    """A :class:`Rule` from ``step(theta, h, *atoms)`` (gradient atoms named after its
    parameters)."""
    params = list(inspect.signature(step).parameters)
    if len(params) < 3 or params[1] != "h":
        raise RuleError(
            f"rule {name or step.__name__!r} must have the signature (theta, h, f, …): the "
            "parameters, the learning rate h, then one argument per atom; for auxiliary "
            "state or blocks build a bea.Rule"
        )
    names = params[2:]
    if len(names) == 1:
        atoms = (Atom(names[0], "L"),)
    else:
        atoms = tuple(Atom(n, f"L_{n}") for n in names)
    return Rule(step, atoms, name=name or step.__name__, description=f"user rule {step.__name__}")


def load_rule(spec: str) -> Rule:
    """``"path/to/file.py:name"`` → the rule defined there."""
    target = load_attribute(spec, "--rule", RuleError)
    if isinstance(target, Rule):
        return target
    if callable(target):
        return rule_from_function(target, spec.rpartition(":")[2])
    raise RuleError(f"--rule: {spec} is neither a bea.Rule nor a function")
