"""Typed scheme options: each option is declared once, as an :class:`Option` in the registry.

An option has a *kind* that turns command-line text (or a value already of the right
type) into the typed value the scheme's ``build`` receives; the CLI generates its click
options from the same declarations. Nothing here evaluates text: numbers go through
:class:`fractions.Fraction` (or the surd parser for tableau entries), symbols must be plain
identifiers and become ``sympy.Symbol``. Every malformed value raises :class:`SchemeError`.

An option may also declare the :class:`Range` its numeric values have in practice
(momentum ``0 ≤ β < 1``); :func:`check_ranges` refuses values outside it. The command line
applies it; the library API does not, because the mathematics holds beyond the practical
range (the principal flow of momentum at ``β = -1/4``, a game with a negative rate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..domain import exact_number

__all__ = [
    "SchemeError", "Option", "Integer", "NumberOrSymbol", "NumberList", "IntegerList", "Choice",
    "Flag", "TaskSteps", "Range", "RESERVED_NAMES", "symbol_name", "setting", "check_ranges",
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
class Range:
    """An interval ``low ≤ x < high`` (each end optional, open or closed) for a value
    printed as ``name``; symbolic values are always inside."""

    name: str
    low: object = None
    high: object = None
    low_open: bool = False
    high_open: bool = True

    def __str__(self) -> str:
        if self.high is None:  # "ε > 0" rather than "0 < ε"
            return f"{self.name} {'>' if self.low_open else '≥'} {self.low}"
        low = "" if self.low is None else f"{self.low} {'<' if self.low_open else '≤'} "
        return f"{low}{self.name} {'<' if self.high_open else '≤'} {self.high}"

    def contains(self, value) -> bool:
        """Whether a typed value (a number, or an expression with symbols) lies inside."""
        if isinstance(value, sympy.Basic) and value.free_symbols:
            return True
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or bool(value < self.high if self.high_open else value <= self.high)


@dataclass(frozen=True)
class Option:
    """One option of a scheme: its name (``per_task`` → ``--per-task``), kind, help, default,
    an ``example`` value (text as typed on the command line, ``True`` for a switch,
    ``None`` when the scheme's example leaves it out), and ``ranges``: the :class:`Range`
    of its value (one per entry for a list of values; empty: no range)."""

    name: str
    kind: object
    help: str
    default: object = None
    example: object = None
    ranges: tuple = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, value):
        """The typed value of ``value`` (text or typed); ``None`` gives the default."""
        if value is None:
            return self.default
        return self.kind.parse(self.flag, value)

    def range_text(self) -> str:
        """The declared range(s) as text (``0 ≤ β < 1``; ``α > 0, λ > 0``), or the least
        whole number of an integer kind (``≥ 1``); ``""`` when neither."""
        if self.ranges:
            return ", ".join(map(str, self.ranges))
        minimum = getattr(self.kind, "min", None)
        return "" if minimum is None else f"≥ {minimum}"

    def check_range(self, typed) -> None:
        """Refuse a typed value outside :attr:`ranges` (one line naming option, value, range)."""
        if typed is None or not self.ranges:
            return
        values = typed if isinstance(typed, tuple) else (typed,)
        for value, bounds in zip(values, self.ranges):
            if not bounds.contains(value):
                shown = ",".join(map(_short, values))
                value = _short(value)
                what = f"{self.flag} {shown}" if len(values) == 1 else f"{self.flag} {shown}: {bounds.name} = {value}"
                raise SchemeError(f"{what} is outside the range {bounds}")


def _short(value) -> str:
    """``value`` as text, a long exact number (``1e400`` has 401 digits) in 4 significant digits."""
    text = str(value)
    return text if len(text) <= 30 or not getattr(value, "is_Number", False) else str(sympy.N(value, 4))


def check_ranges(options: dict, typed: dict) -> None:
    """Refuse any typed value outside the range its :class:`Option` declares (``options``:
    name → Option, a scheme's declarations)."""
    for name, opt in options.items():
        opt.check_range(typed.get(name))
