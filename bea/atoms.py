"""What every algebra shares about a rule: its atoms, and the error it raises.

An :class:`Atom` is a vector field the rule is given (``f_c``, usually ``-∇L_c``); a
:class:`RuleError` is an update rule bea cannot trace, and :func:`rule_error` turns any
exception raised while tracing a user's code into one that names the rule and the line.
"""

from __future__ import annotations

import inspect
import traceback
from dataclasses import dataclass

__all__ = ["Atom", "RuleError", "rule_error"]


class RuleError(ValueError):
    """An update rule that bea cannot trace (inconsistent, or an unsupported operation)."""


@dataclass(frozen=True)
class Atom:
    """A vector field ``f_c`` with tree label ``label``.

    Gradient atoms (``loss`` given) are ``f_c = -sign · P_block ∇L_loss``: ``block`` names
    the parameter block the field lives on (a player in a game; ``None``: all parameters),
    and ``sign = -1`` lets two atoms share one loss with opposite signs (zero-sum games).
    """

    label: str
    loss: str | None = None
    block: str | None = None
    sign: int = 1


def rule_error(rule, exc: BaseException) -> RuleError:
    """A RuleError naming the rule and the line of the user's code that failed (a step that
    is a callable object has no source file: no line; a message that cannot be printed is
    replaced by the exception's type)."""
    frames = traceback.extract_tb(exc.__traceback__)
    try:
        source = inspect.getsourcefile(rule.step)
    except TypeError:
        source = None
    where = next((f for f in reversed(frames) if f.filename == source), None)
    at = f" (line {where.lineno}: {where.line.strip()})" if where and where.line else ""
    try:
        message = str(exc) or type(exc).__name__
    except Exception:  # the user's __str__ raised
        message = f"{type(exc).__name__} (its message could not be printed)"
    return RuleError(f"rule {rule.name!r}{at}: {message}")
