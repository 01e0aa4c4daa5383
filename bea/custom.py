"""Loading a user's update rule from a Python file (``--rule path.py:name``).

The target is either a :class:`bea.Rule` or a plain function ``step(theta, h, *atoms)``;
for a plain function every parameter after ``h`` is a gradient atom: one atom ``f`` gives
``f = -∇L``; several atoms ``a, b, …`` give ``f_a = -∇L_a``, ``f_b = -∇L_b``, …
A plain function's algebra is the first registered one (:mod:`bea.registry`: B-series,
then coordinate-wise) that traces it to order 1: one that uses elementwise operations the
B-series tracer refuses (``bea.sqrt``, ``bea.tanh``, ``bea.norm``, products of vectors)
becomes ``algebra="coordinatewise"``. A rule with auxiliary state is a :class:`bea.Rule`
and names its algebra itself.
The file is imported as a module (it is the user's code, run as such); the command
line string itself is never evaluated.
"""

from __future__ import annotations

import dataclasses
import inspect

from ._loading import load_attribute
from .rule import Rule
from .registry import ALGEBRAS
from .atoms import Atom, RuleError
from .bseries.tracing import ForeignOperation

__all__ = ["load_rule", "rule_from_function"]


def rule_from_function(step, name: str | None = None) -> Rule:
    """A :class:`Rule` from ``step(theta, h, *atoms)`` (gradient atoms named after its
    parameters); ``step`` may be a function or any callable object."""
    if not callable(step):
        raise TypeError(f"step must be a function step(theta, h, *atoms), got {type(step).__name__}")
    called = getattr(step, "__name__", type(step).__name__)  # a callable object has no __name__
    try:
        params = list(inspect.signature(step).parameters)
    except (TypeError, ValueError):  # a builtin or an object whose signature cannot be read
        params = []
    if len(params) < 3 or params[1] != "h":
        raise RuleError(
            f"rule {name or called!r} must have the signature (theta, h, f, …): the "
            "parameters, the learning rate h, then one argument per atom; for auxiliary "
            "state or blocks build a bea.Rule"
        )
    names = params[2:]
    if len(names) == 1:
        atoms = (Atom(names[0], "L"),)
    else:
        atoms = tuple(Atom(n, f"L_{n}") for n in names)
    rule = Rule(step, atoms, name=name or called, description=f"user rule {called}")
    return _with_algebra(rule)


def _with_algebra(rule: Rule) -> Rule:
    """``rule`` in the first registered algebra that traces it to order 1. If none does, in
    the first algebra whose refusal concerns the rule itself, not an operation that belongs
    to another algebra (:class:`~bea.bseries.tracing.ForeignOperation`: ``bea.norm`` on the
    B-series tracer): ``derive`` then reports that algebra's error, naming the line."""
    refused = []
    for name, algebra in ALGEBRAS.items():
        candidate = dataclasses.replace(rule, algebra=name)
        try:
            algebra.trace(candidate, 1)
            return candidate
        except KeyboardInterrupt:
            raise
        except SystemExit as exc:
            raise RuleError(f"rule {rule.name!r} called exit ({exc.code!r}) while being traced") from None
        except BaseException as exc:  # the user's code, or this algebra's tracer, refused it
            if not _foreign(exc):
                refused.append(candidate)
    return refused[0] if refused else rule


def _foreign(exc: BaseException) -> bool:
    """Whether ``exc``, or the exception it was raised from (:func:`bea.atoms.rule_error`
    re-raises ``from None``, keeping it as the context), is a :class:`ForeignOperation`."""
    return isinstance(exc, ForeignOperation) or isinstance(exc.__context__, ForeignOperation)


def load_rule(spec: str) -> Rule:
    """``"path/to/file.py:name"`` → the rule defined there."""
    target = load_attribute(spec, "--rule", RuleError)
    if isinstance(target, Rule):
        return target
    if callable(target):
        return rule_from_function(target, spec.rpartition(":")[2])
    raise RuleError(f"--rule: {spec} is neither a bea.Rule nor a function")
