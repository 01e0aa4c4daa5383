"""Butcher tableaux: validated data, and the named methods of the catalogue.

A tableau ``(A, b, c)`` defines the stages ``k_i = f(θ + h Σ_j a_ij k_j)`` and the update
``θ + h Σ_i b_i k_i`` (Butcher 2016; HLW II.1). Entries are exact sympy numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sympy
from sympy import Rational as R, sqrt

from ..domain import exact_number
from ._options import SchemeError

__all__ = ["ButcherTableau", "TABLEAUX", "load_tableau"]


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


def load_tableau(path: str) -> ButcherTableau:
    """Read ``{"A": [[…]], "b": […]}`` from a JSON file; entries exact (ints, ``"p/q"``,
    decimals). Nothing in the file is evaluated."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise SchemeError(f"cannot read tableau file {path!r}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SchemeError(f"tableau file {path!r} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or "A" not in data or "b" not in data:
        raise SchemeError(f'tableau file {path!r} must hold an object {{"A": [[...]], "b": [...]}}')
    a, b = data["A"], data["b"]
    if not isinstance(a, list) or not all(isinstance(r, list) for r in a) or not isinstance(b, list):
        raise SchemeError(f"tableau file {path!r}: A must be a list of rows and b a list")

    def entry(x, where):
        if isinstance(x, (bool, type(None))) or not isinstance(x, (int, float, str)):
            raise SchemeError(f"tableau file {path!r}: entry {where} = {x!r} is not a number")
        try:
            return exact_number(x)
        except ValueError:
            raise SchemeError(
                f"tableau file {path!r}: entry {where} = {x!r} is not a number "
                "(use integers, fractions like \"1/3\", or decimals)"
            ) from None

    rows = tuple(tuple(entry(x, f"A[{i}][{j}]") for j, x in enumerate(r)) for i, r in enumerate(a))
    weights = tuple(entry(x, f"b[{i}]") for i, x in enumerate(b))
    return ButcherTableau(rows, weights, name=str(data.get("name", path)))
