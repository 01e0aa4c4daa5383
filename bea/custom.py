"""Loading a user's update rule from a Python file (``--rule path.py:name``).

The target is either a :class:`bea.Rule` or a plain function ``step(theta, h, *atoms)``;
for a plain function every parameter after ``h`` is a gradient atom: one atom ``f`` gives
``f = -∇L``; several atoms ``a, b, …`` give ``f_a = -∇L_a``, ``f_b = -∇L_b``, …
The file is imported as a module (it is the user's code, run as such); the command
line string itself is never evaluated.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

from .derive import Rule
from .rules import Atom, RuleError

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
    path_text, sep, attr = spec.rpartition(":")
    if not sep or not path_text or not attr.isidentifier():
        raise RuleError(f"--rule must look like path/to/file.py:function, got {spec!r}")
    path = Path(path_text)
    if not path.is_file():
        raise RuleError(f"--rule: no such file {path_text!r}")
    module_spec = importlib.util.spec_from_file_location(f"bea_user_rule_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's file failed to import
        raise RuleError(f"--rule: importing {path_text} failed: {type(exc).__name__}: {exc}") from None
    target = getattr(module, attr, None)
    if target is None:
        raise RuleError(f"--rule: {path_text} defines no {attr!r}")
    if isinstance(target, Rule):
        return target
    if callable(target):
        return rule_from_function(target, attr)
    raise RuleError(f"--rule: {path_text}:{attr} is neither a bea.Rule nor a function")
