"""Parsing and validation of scheme options given as text (from the command line).

Nothing here evaluates text: numbers go through :class:`fractions.Fraction`, symbols must
be plain identifiers and become ``sympy.Symbol``.
"""

from __future__ import annotations

import re

import sympy

from ..domain import exact_number

__all__ = ["SchemeError", "integer", "number_or_symbol", "choice", "number_list"]

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SchemeError(ValueError):
    """A scheme option that is missing, malformed or does not fit the scheme."""


def integer(option: str, value, minimum: int = 1) -> int:
    """A whole number ``≥ minimum``."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SchemeError(f"{option} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise SchemeError(f"{option} must be at least {minimum}, got {number}")
    return number


def number_or_symbol(option: str, value):
    """An exact number (``2``, ``1/3``, ``0.9``) or a symbol name (``beta``)."""
    if isinstance(value, (int, sympy.Basic)):
        return exact_number(value)
    text = str(value).strip()
    if _IDENTIFIER.match(text):
        return sympy.Symbol(text, real=True)
    try:
        return exact_number(text)
    except ValueError:
        raise SchemeError(
            f"{option} must be a number (2, 1/3, 0.9) or a symbol name (beta), got {value!r}"
        ) from None


def number_list(option: str, value, length: int) -> list:
    """``length`` comma-separated numbers or symbol names."""
    parts = [p for p in str(value).split(",")]
    if len(parts) != length or any(not p.strip() for p in parts):
        raise SchemeError(f"{option} takes {length} comma-separated values, got {value!r}")
    return [number_or_symbol(option, p) for p in parts]


def choice(option: str, value, allowed) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise SchemeError(f"{option} must be one of {', '.join(allowed)}; got {value!r}")
    return text
