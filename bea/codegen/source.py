"""Pieces of generated source shared by the tree generator (:mod:`.elementary`) and the
coordinate-wise one (:mod:`.coordinatewise`): coefficients printed as Python arithmetic
on exact literals, factored so they are free of cancellation in float32; memoized
statement lists; the docstrings every factory carries."""

from __future__ import annotations

import keyword

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..check.values import exact_values, substitute


class _Printer(PythonCodePrinter):
    """Python source for coefficients; surds as ``3**(1/2)`` so only ``jax`` is imported."""

    def _print_Pow(self, expr, rational=False):
        return self._hprint_Pow(expr, rational=True)


_PRINTER = _Printer({"standard": "python3"})
_RESERVED = {"losses", "fields", "h", "theta", "batch", "jax", "jnp"}


def _identifier(name: str, prefix: str, index: int) -> str:
    ident = f"{prefix}{name}"
    return ident if ident.isidentifier() and not keyword.iskeyword(ident) else f"{prefix}{index}"


class _Coefficients:
    """Exact coefficients → printed Python expressions, symbols collected as parameters."""

    def __init__(self, derivation, values):
        self.field = derivation.field
        self.values = exact_values(values)
        self.symbols: set = set()

    def expr(self, c, field=None) -> sympy.Expr:
        e = (field or self.field).to_sympy(c)
        e = sympy.cancel(substitute(e, self.values))
        self.symbols |= e.free_symbols
        return e

    def code(self, e: sympy.Expr, power: int) -> str:
        text = _PRINTER.doprint(_factored(e))
        if power == 0:
            return text
        hpow = "h" if power == 1 else f"h**{power}"
        if e == 1:
            return hpow
        return f"{text} * {hpow}" if e.is_Symbol or (e.is_Integer and e > 0) else f"({text}) * {hpow}"

    def parameters(self) -> list[str]:
        names = sorted(str(s) for s in self.symbols)
        for n in names:
            if not n.isidentifier() or keyword.iskeyword(n) or n in _RESERVED:
                raise ValueError(
                    f"symbol {n!r} cannot be a keyword argument of generated code; "
                    f"give it a number (values={{{n!r}: …}} or --set {n}=VALUE)"
                )
        return names


def _factored(e: sympy.Expr) -> sympy.Expr:
    """``e`` as a product of irreducible factors, each with a non-negative constant term,
    so that it is free of cancellation where a factor vanishes: ``(beta + 1)/(4*(1 - beta)**3)``
    rather than ``(-beta - 1)/(4*beta**3 - 12*beta**2 + 12*beta - 4)``, whose expanded
    denominator loses every digit in float32 at ``beta = 0.999`` (its terms are ~4 and
    cancel to ~4e-9). The value is the same exact number."""
    if not e.free_symbols:
        return e
    num, den = sympy.fraction(sympy.cancel(e))
    try:
        parts = [sympy.factor_list(num), sympy.factor_list(den)]
    except sympy.PolynomialError:
        return sympy.factor(e)
    coeff = parts[0][0] / parts[1][0]
    factors = []
    for (_, fs), sign in zip(parts, (1, -1)):
        for f, k in fs:
            constant = f.subs({x: 0 for x in f.free_symbols})
            if constant.is_negative:
                f, coeff = sympy.expand(-f), coeff * (-1) ** k
            factors.append(sympy.Pow(f, sign * k))
    return sympy.Mul(coeff, *factors)


class _Statements:
    """Statements of one generated function of ``(theta, *batch)``: one line per
    distinct quantity, memoized by a key so shared subexpressions are computed once
    (shared by the tree and the coordinate-wise generators)."""

    def __init__(self, gen):
        self.gen = gen
        self.setup: list[str] = []
        self.lines: list[str] = []
        self.names: dict = {}
        self.counts: dict = {}

    def var(self, key, prefix: str, expr: str, comment: str) -> str:
        found = self.names.get(key)
        if found is None:
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            found = f"{prefix}{self.counts[prefix]}"
            self.names[key] = found
            self.lines.append(f"{found} = {expr}  # {comment}")
        return found

    def helper(self, key, line: str, name: str) -> str:
        if key not in self.names:
            self.names[key] = name
            self.setup.append(line)
        return name


_HVP_DOC = """
hvp: "exact" (default) or "finite-difference". Exact: every derivative by nested jax.jvp
(forward-over-reverse). Finite-difference: each first-order directional derivative
D g(θ)[v] of a gradient g (a Hessian-vector product) that no higher derivative computes anyway
is the forward difference
(g(θ + εv) − g(θ))/ε, reusing g(θ), with ε = sqrt(eps)/‖v‖ (eps of θ's dtype): one
gradient instead of one HVP (~2-3 gradients). Its relative error is a truncation term
~c1·sqrt(eps) (the third derivatives) plus rounding ~c2·sqrt(eps)·‖θ‖ (measured on MLPs,
c1 ~ 0.1-1, c2 ~ 0.03-0.1): ~1e-8 in float64; in float32 from 1e-4 at ‖θ‖ ~ 1 to 1e-3 at
‖θ‖ ~ 100 (bench/bench_hvp_error.py). Higher derivatives, and first-order
ones that a higher one computes anyway or that ride in its jvp (bea.bseries.plan), stay exact."""

_GRADIENT_DOC = """
The returned function takes an optional gradient=∇L(theta, *batch) (a pytree like the
filtered params) and then does not recompute it."""


def _docstring(text: str, indent: int) -> list[str]:
    pad = " " * indent
    lines = text.splitlines()
    return [f'{pad}"""{lines[0]}'] + [f"{pad}{line}" if line else "" for line in lines[1:]] + [f'{pad}"""']
