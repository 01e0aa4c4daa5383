"""Typed scheme options: each option is declared once, as an :class:`Option` in the registry.

An option has a *kind* that turns command-line text (or a value already of the right
type) into the typed value the scheme's ``build`` receives; the CLI generates its click
options from the same declarations. Nothing here evaluates text: numbers go through
:class:`fractions.Fraction` (or the surd parser for tableau entries), symbols must be plain
identifiers and become ``sympy.Symbol``. Every malformed value raises :class:`SchemeError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..domain import exact_number

__all__ = [
    "SchemeError", "Option", "Integer", "NumberOrSymbol", "NumberList", "IntegerList", "Choice",
    "Flag", "TaskSteps", "RESERVED_NAMES", "symbol_name", "setting",
]

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MAX_TEXT = 1000
"""Longest option text read (longer text is refused before any parsing)."""

RESERVED_NAMES = {
    "h": "the step size",
    "t": "time",
    "f": "an atom field",
    "L": "the loss",
    "C": "the mean loss",
    "g": "the gradient ∇L in the coordinate-wise notation",
    "H": "the Hessian ∇²L",
    "s": "√(g⊙g + ε) in the coordinate-wise notation",
    "q": "g/s in the coordinate-wise notation",
    "R": "the regularizer ‖∇L‖_{1,ε} and the principal flow's R(z)",
    "z": "the principal flow's variable",
    "psi": "the principal flow's ψ(z)",
    "theta": "the parameters",
    "D": "a derivative in the JSON notation",
    "Df": "a derivative in the JSON notation",
    "Sum": "a sum over coordinates in the JSON notation",
}
"""Names no parameter may take, each with what it stands for in the printed notation
(text, LaTeX, JSON: :mod:`bea.render`, :mod:`bea.render.coordinatewise`, the principal
flow): a parameter ``s`` would print ``s = √(g⊙g + s)``."""


class SchemeError(ValueError):
    """A scheme option that is missing, malformed or does not fit the scheme."""


def _text(flag: str, value) -> str:
    text = str(value)
    if len(text) > _MAX_TEXT:
        raise SchemeError(f"{flag}: value too long ({len(text)} characters)")
    return text.strip()


def symbol_name(flag: str, text: str) -> str:
    """``text`` as a parameter name: a plain identifier that is not reserved."""
    if not _IDENTIFIER.match(text):
        raise SchemeError(f"{flag}: {text!r} is not a name (letters, digits, _; a letter first)")
    if text in RESERVED_NAMES:
        raise SchemeError(f"{flag}: the name {text!r} is reserved by the printed notation "
                          f"({RESERVED_NAMES[text]}); choose another name (e.g. beta)")
    return text


@dataclass(frozen=True)
class Integer:
    """A whole number ``≥ min``."""

    min: int = 1
    metavar: str = "N"
    is_flag = False

    def parse(self, flag: str, value) -> int:
        if isinstance(value, bool):
            raise SchemeError(f"{flag} must be a whole number, got {value!r}")
        if isinstance(value, int):
            number = value
        else:
            text = _text(flag, value)
            if not re.fullmatch(r"[+-]?[0-9]{1,30}", text):
                raise SchemeError(f"{flag} must be a whole number, got {value!r}")
            number = int(text)
        if number < self.min:
            raise SchemeError(f"{flag} must be at least {self.min}, got {number}")
        return number


@dataclass(frozen=True)
class NumberOrSymbol:
    """An exact number (``2``, ``1/3``, ``0.9``) or a symbol name (``beta``), as sympy."""

    metavar: str = "X"
    is_flag = False

    def parse(self, flag: str, value) -> sympy.Expr:
        if isinstance(value, bool):
            raise SchemeError(f"{flag} must be a number or a symbol name, got {value!r}")
        if isinstance(value, sympy.Symbol):
            symbol_name(flag, value.name)
            return value
        if isinstance(value, (int, Fraction, sympy.Rational)):
            return exact_number(value)
        text = _text(flag, value)
        if _IDENTIFIER.match(text):
            return sympy.Symbol(symbol_name(flag, text), real=True)
        try:
            return exact_number(text)
        except ValueError:
            raise SchemeError(
                f"{flag} must be a number (2, 1/3, 0.9) or a symbol name (beta), got {value!r}"
            ) from None


def _parts(flag: str, value, length: int, what: str) -> list:
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = _text(flag, value).split(",")
    if len(parts) != length or any(isinstance(p, str) and not p.strip() for p in parts):
        raise SchemeError(f"{flag} takes {length} comma-separated {what}, got {value!r}")
    return parts


@dataclass(frozen=True)
class NumberList:
    """``length`` comma-separated numbers or symbol names."""

    length: int
    metavar: str = "X,Y"
    is_flag = False

    def parse(self, flag: str, value) -> tuple:
        return tuple(NumberOrSymbol().parse(flag, p) for p in _parts(flag, value, self.length, "values"))


@dataclass(frozen=True)
class IntegerList:
    """``length`` comma-separated whole numbers ``≥ min``."""

    length: int
    min: int = 1
    metavar: str = "M,K"
    is_flag = False

    def parse(self, flag: str, value) -> tuple:
        kind = Integer(self.min)
        return tuple(kind.parse(flag, p) for p in _parts(flag, value, self.length, "whole numbers"))


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of words (case-insensitive)."""

    values: tuple
    metavar: str = "WORD"
    is_flag = False

    def parse(self, flag: str, value) -> str:
        text = _text(flag, value).lower()
        if text not in self.values:
            raise SchemeError(f"{flag} must be one of {', '.join(self.values)}; got {value!r}")
        return text


@dataclass(frozen=True)
class Flag:
    """An on/off switch (``--zero-sum``)."""

    metavar: str = ""
    is_flag = True

    def parse(self, flag: str, value) -> bool:
        if not isinstance(value, bool):
            raise SchemeError(f"{flag} is a switch and takes no value, got {value!r}")
        return value


_TASK = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class TaskSteps:
    """``A:2,B:3``: task names (letters and digits) with step counts, as ``(("A", 2), ("B", 3))``."""

    metavar: str = "A:2,B:3"
    is_flag = False

    def parse(self, flag: str, value) -> tuple:
        if isinstance(value, (list, tuple)):
            pairs = [(str(n), c) for n, c in value]
        else:
            pairs = [tuple(part.partition(":")[::2]) if ":" in part else (part, None)
                     for part in _text(flag, value).split(",")]
        out = []
        for name, count in pairs:
            name = name.strip()
            if count is None or not _TASK.match(name):
                raise SchemeError(f"{flag} must look like A:2,B:3 (task:count, …); got {value!r}")
            out.append((name, Integer().parse(f"{flag} count of task {name}", count)))
        return tuple(out)


def setting(text: str) -> tuple[str, sympy.Expr]:
    """``NAME=VALUE`` (``--set beta=0.9``) as ``(name, exact number)``."""
    name, sep, value = _text("--set", text).partition("=")
    name = name.strip()
    if not sep or not name:
        raise SchemeError(f"--set takes NAME=VALUE (e.g. beta=0.9), got {text!r}")
    symbol_name("--set", name)
    try:
        return name, exact_number(value.strip())
    except ValueError:
        raise SchemeError(f"--set {name}: {value.strip()[:40]!r} is not a number (use 0.9, 1/3, 2)") from None


@dataclass(frozen=True)
class Option:
    """One option of a scheme: its name (``per_task`` → ``--per-task``), kind, help, default,
    and an ``example`` value (text as typed on the command line, ``True`` for a switch,
    ``None`` when the scheme's example leaves it out)."""

    name: str
    kind: object
    help: str
    default: object = None
    example: object = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, value):
        """The typed value of ``value`` (text or typed); ``None`` gives the default."""
        if value is None:
            return self.default
        return self.kind.parse(self.flag, value)
