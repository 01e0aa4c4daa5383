"""Butcher tableaux: validated data, and the named methods of the catalogue.

A tableau ``(A, b, c)`` defines the stages ``k_i = f(θ + h Σ_j a_ij k_j)`` and the update
``θ + h Σ_i b_i k_i`` (Butcher 2016; HLW II.1). Entries are exact sympy numbers, or
expressions in parameters (``"1 - 1/(2*alpha)"``) read from a tableau file.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy import Rational as R, sqrt

from .._files import not_a_regular_file
from ..domain import exact_number
from ..estimate import field_cost
from ._options import SchemeError, symbol_name
from .surds import SurdError, parse_surd

__all__ = ["ButcherTableau", "TABLEAUX", "load_tableau", "TableauFile", "TableauWarning", "NEAR_FRACTION",
           "MAX_FILE_BYTES", "MAX_STAGES", "MAX_DIGITS"]


@dataclass(frozen=True)
class ButcherTableau:
    """A Runge–Kutta method; checks its shape and ``Σ b = 1`` when built.

    ``order`` is the declared classical order (checked by the tests); ``c`` defaults to
    the row sums of ``A``.
    """

    a: tuple
    b: tuple
    name: str = "custom"
    order: int | None = None
    symmetric: bool = False

    def __post_init__(self):
        s = len(self.b)
        if s == 0:
            raise SchemeError("a tableau needs at least one stage (b is empty)")
        if len(self.a) != s or any(len(row) != s for row in self.a):
            raise SchemeError(
                f"tableau {self.name!r}: A must be square with as many rows as b has entries "
                f"({s}); got rows of lengths {[len(r) for r in self.a]}"
            )
        if sympy.simplify(sum(self.b) - 1) != 0:
            raise SchemeError(f"tableau {self.name!r}: the weights b must sum to 1 (consistency)")

    @property
    def stages(self) -> int:
        return len(self.b)

    @property
    def explicit(self) -> bool:
        return all(self.a[i][j] == 0 for i in range(self.stages) for j in range(i, self.stages))

    @property
    def entries(self) -> list:
        return [x for row in self.a for x in row] + list(self.b)


def _t(a, b, name, order, symmetric=False) -> ButcherTableau:
    return ButcherTableau(
        tuple(tuple(exact_number(x) for x in row) for row in a),
        tuple(exact_number(x) for x in b),
        name,
        order,
        symmetric,
    )


_s3 = sqrt(3)
TABLEAUX = {
    t.name: t
    for t in [
        _t([[0]], [1], "euler", 1),
        _t([[0, 0], [R(1, 2), 0]], [0, 1], "midpoint", 2),
        _t([[0, 0], [1, 0]], [R(1, 2), R(1, 2)], "heun", 2),
        _t([[0, 0], [R(2, 3), 0]], [R(1, 4), R(3, 4)], "ralston", 2),
        _t([[0, 0, 0], [R(1, 2), 0, 0], [-1, 2, 0]], [R(1, 6), R(2, 3), R(1, 6)], "rk3", 3),
        _t(
            [[0, 0, 0, 0], [R(1, 2), 0, 0, 0], [0, R(1, 2), 0, 0], [0, 0, 1, 0]],
            [R(1, 6), R(1, 3), R(1, 3), R(1, 6)],
            "rk4",
            4,
        ),
        _t(
            [[0, 0, 0, 0], [R(1, 3), 0, 0, 0], [R(-1, 3), 1, 0, 0], [1, -1, 1, 0]],
            [R(1, 8), R(3, 8), R(3, 8), R(1, 8)],
            "rk38",
            4,
        ),
        _t([[1]], [1], "implicit-euler", 1),
        _t([[R(1, 2)]], [1], "implicit-midpoint", 2, symmetric=True),
        _t([[0, 0], [R(1, 2), R(1, 2)]], [R(1, 2), R(1, 2)], "trapezoid", 2, symmetric=True),
        _t(
            [[R(1, 4), R(1, 4) - _s3 / 6], [R(1, 4) + _s3 / 6, R(1, 4)]],
            [R(1, 2), R(1, 2)],
            "gauss-legendre-4",
            4,
            symmetric=True,
        ),
        _t([[R(5, 12), R(-1, 12)], [R(3, 4), R(1, 4)]], [R(3, 4), R(1, 4)], "radau-iia-3", 3),
    ]
}


MAX_FILE_BYTES = 1_000_000
"""Largest tableau file read."""
MAX_STAGES = 32
"""Most stages a tableau file may declare."""
MAX_DIGITS = 120
"""Most digits of an entry's numerator or denominator (exponents of ±100 fit): products of
entries at order ``N`` have ``N`` times as many, and the printers' integers stay far below
Python's limit on integer-to-text conversion (4 300 digits)."""


class TableauWarning(UserWarning):
    """A tableau entry read as written that looks like a rounded simple fraction."""


NEAR_FRACTION = 1e-12
"""A rational entry within this distance of a fraction with denominator ≤ 1000 (and not
equal to it) is taken for a rounded fraction: a :class:`TableauWarning` names the fraction."""


def load_tableau(path) -> ButcherTableau:
    """Read ``{"A": [[…]], "b": […]}`` (and optionally ``"c": […]``, which must equal the
    row sums of ``A``) from a JSON file (UTF-8, at most ``MAX_FILE_BYTES``).

    Entries are JSON numbers or text: integers, fractions ``"p/q"``, decimals, surds such
    as ``"1/2 + sqrt(3)/6"``, or expressions in parameters such as ``"1 - 1/(2*alpha)"``
    (read by :func:`bea.schemes.surds.parse_surd`; names reserved by the printed notation,
    :data:`bea.schemes._options.RESERVED_NAMES`, are refused). Nothing in the file is
    evaluated; every defect raises :class:`SchemeError`. A decimal that is a simple
    fraction rounded (``0.6666666666666666``) is used as written, with a
    :class:`TableauWarning` naming the fraction to write instead (``"2/3"``).
    """
    where_file = f"tableau file {str(path)!r}"
    data = _read_json(str(path))
    if not isinstance(data, dict) or "A" not in data or "b" not in data:
        raise SchemeError(f'{where_file} must hold an object {{"A": [[...]], "b": [...]}}')
    a, b = data["A"], data["b"]
    if not isinstance(a, list) or not all(isinstance(r, list) for r in a) or not isinstance(b, list):
        raise SchemeError(f"{where_file}: A must be a list of rows and b a list")
    if len(b) > MAX_STAGES or len(a) > MAX_STAGES:
        raise SchemeError(f"{where_file}: more than {MAX_STAGES} stages")
    name = data.get("name", str(path))
    if not isinstance(name, str) or len(name) > 100 or not name.isprintable():  # printed as given
        raise SchemeError(f"{where_file}: name must be printable text of at most 100 "
                          "characters (no control characters or terminal escapes)")

    def entry(x, where):
        value = _entry(x, f"{where_file}: entry {where}")
        if field_cost([value]).digits > MAX_DIGITS:
            raise SchemeError(f"{where_file}: entry {where} has more than {MAX_DIGITS} digits")
        _warn_if_rounded(value, x, f"{where_file}: entry {where}")
        return value

    rows = tuple(tuple(entry(x, f"A[{i}][{j}]") for j, x in enumerate(r)) for i, r in enumerate(a))
    weights = tuple(entry(x, f"b[{i}]") for i, x in enumerate(b))
    tableau = ButcherTableau(rows, weights, name=name)
    if "c" in data:
        _check_nodes(data["c"], rows, entry, where_file)
    return tableau


def _entry(x, where: str) -> sympy.Expr:
    """One entry: a JSON number, or text read by :func:`parse_surd` with parameters."""
    if isinstance(x, str):
        try:
            return parse_surd(x, symbol=lambda text: sympy.Symbol(symbol_name(where, text), real=True))
        except SurdError as exc:
            raise SchemeError(f"{where} = {x[:40]!r} is not a number ({exc}; use integers, fractions like "
                              "\"1/3\", decimals, sqrt like \"1/2 + sqrt(3)/6\", or parameter names like "
                              "\"1 - alpha\")") from None
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise SchemeError(f"{where} is not a number")
    try:
        return exact_number(x)
    except ValueError:
        raise SchemeError(f"{where} = {x!r} is not a finite number") from None


def _warn_if_rounded(value: sympy.Expr, written, where: str) -> None:
    """A :class:`TableauWarning` when a rational in ``value`` (the entry, or a number inside
    an expression such as ``0.3333333333333333*alpha``) is within :data:`NEAR_FRACTION` of a
    simple fraction ``p/q`` (``q ≤ 1000``) without being it."""
    for number in sorted(value.atoms(sympy.Rational), key=abs):
        exact = Fraction(int(number.p), int(number.q))
        near = exact.limit_denominator(1000)
        if near != exact and abs(near - exact) <= NEAR_FRACTION:
            shown = written if value == number else f"{written!r} holds {float(exact)!r}, which"
            warnings.warn(TableauWarning(
                f"{where} = {shown} is {float(abs(near - exact)):.1g} away from {near} and is used as "
                f"written; write \"{near}\" for the exact fraction"), stacklevel=3)
            return


def _check_nodes(c, rows: tuple, entry, where_file: str) -> None:
    """``c`` (optional in the file) must be the row sums of ``A``: bea uses the row sums, so
    a different ``c`` would be a method other than the one meant."""
    if not isinstance(c, list) or len(c) != len(rows):
        raise SchemeError(f"{where_file}: c must be a list of {len(rows)} entries (the row sums of A), "
                          "or left out")
    for i, (x, row) in enumerate(zip(c, rows)):
        given, expected = entry(x, f"c[{i}]"), sum(row, sympy.Integer(0))
        if sympy.simplify(given - expected) != 0:
            raise SchemeError(f"{where_file}: c[{i}] = {given} but row {i} of A sums to {expected}; "
                              "c must be the row sums of A (or left out)")


def _read_json(path: str):
    """The JSON value in ``path``, read defensively (a regular file only, never a FIFO
    that would block; size, encoding, nesting)."""
    special = not_a_regular_file(path, "tableau file")
    if special is not None:
        raise SchemeError(special)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SchemeError(f"cannot read tableau file {path!r}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SchemeError(f"tableau file {path!r} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SchemeError(f"tableau file {path!r} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemeError(f"tableau file {path!r} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise SchemeError(f"tableau file {path!r} is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal with too many digits
        raise SchemeError(f"tableau file {path!r} is not valid JSON ({exc})") from None


@dataclass(frozen=True)
class TableauFile:
    """Option kind: a JSON tableau file, read into a :class:`ButcherTableau`."""

    metavar: str = "FILE.json"
    is_flag = False

    def parse(self, flag: str, value) -> ButcherTableau:
        if isinstance(value, ButcherTableau):
            return value
        return load_tableau(value)
