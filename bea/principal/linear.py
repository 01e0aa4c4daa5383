"""An update rule traced on commuting linear fields: its one-step matrix ``M(z)``.

**Assumption (commuting Hessians).** Every atom is linear, ``f_c(θ) = -A_c θ``, and the
``A_c`` share one orthonormal eigenbasis ``u_i``: ``A_c = Σ_i λ_{c,i} u_i u_iᵀ``. A rule
built from the atoms, ``h``, numbers and its parameters then acts on each
eigencomponent ``θ_i = u_iᵀθ`` by multiplication with the same function of the
``z_c = hλ_{c,i}``. That function is read off by running the rule's own ``step`` (the
function every other part of bea traces) on sympy scalars: ``θ = 1`` (or a unit vector
of the state ``(θ, v, …)`` when the rule carries auxiliary state), ``f_c(x) = -λ_c x``
and a symbol ``h``; substituting ``λ_c = z_c/h`` must leave no ``h`` (consistency). Implicit
stages go through :func:`bea.bseries.tracing.fixed_point`, which solves linear equations in
closed form, so implicit Runge–Kutta methods give rational functions.

The result is the matrix ``M(z)`` of ``(θ, v, …) ↦ (θ', v', …)`` per eigendirection:
``1×1`` (the stability function ``R(z)`` itself) for rules without auxiliary state.
Random reshuffling (``Rule.shuffle``) is applied later, to ``R``, by averaging over
orderings (:mod:`bea.principal.flow`).
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import sympy

from ..domain import exact_number
from ..atoms import RuleError
from ..registry import algebra_of

__all__ = ["COMMUTING_HESSIANS", "PrincipalError", "linear_step", "require_linear", "variables_for"]

COMMUTING_HESSIANS = (
    "commuting Hessians: each atom is linear, f_c(θ) = -A_c θ, and the A_c share one "
    "eigenbasis u_i (A_c = Σ_i λ_{c,i} u_i u_iᵀ); z_c = hλ_{c,i} per eigendirection"
)

_H = sympy.Symbol("h", positive=True)


def variables_for(atoms) -> tuple[sympy.Symbol, ...]:
    """``(z,)`` for one atom; ``z1, z2, …`` for atoms ``f1, f2, …``; ``z_A`` for atom ``A``."""
    if len(atoms) == 1:
        return (sympy.Symbol("z"),)
    names = []
    for a in atoms:
        label = a.label
        suffix = label[1:] if label.startswith("f") and label[1:].isdigit() else "_" + label
        names.append("z" + suffix)
    return tuple(sympy.Symbol(n) for n in names)


def _scalar(value) -> sympy.Expr:
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, (numbers.Integral, Fraction, float)) and not isinstance(value, bool):
        return exact_number(value)
    raise PrincipalError(f"the rule returned {value!r} on a linear field; expected a scalar expression")


class PrincipalError(RuleError):
    """A rule whose principal flow is not defined here (a ``ValueError``; the CLI prints it
    as one line, exit status 2)."""


def require_linear(rule) -> None:
    """Refuse, before any work, a rule whose principal flow is not defined here.

    :class:`PrincipalError` for a rule whose algebra lacks the ``"principal"`` capability
    (coordinate-wise rules — Adam, RMSProp, normalized steps, rules with ``sqrt`` or norms —
    are not linear on linear fields, so they have no ``R(z)``), parameter blocks (games,
    whose players' fields do not share an eigenbasis) and a symbolic number of minibatches.
    """
    algebra_of(rule).refuse_unless("principal", rule, PrincipalError)
    if tuple(rule.blocks) != (None,):
        raise PrincipalError(f"rule {rule.name!r} has parameter blocks {rule.blocks}; the principal "
                         "flow needs one parameter vector shared by commuting fields")
    if rule.family is not None and not isinstance(rule.family.size, int):
        raise PrincipalError(f"rule {rule.name!r} has a symbolic number of minibatches; give the "
                         "number of batches (e.g. --batches 2) for the principal flow")


def linear_step(rule) -> tuple[tuple[sympy.Symbol, ...], sympy.Matrix]:
    """The variables ``z_c`` and the matrix ``M(z)`` of one call of ``rule.step``.

    Raises :class:`PrincipalError` for the rules :func:`require_linear` refuses, a step that is not
    a rational function of the ``z_c`` on linear fields, and a rule in which ``h`` appears
    apart from the products ``hλ_c``.
    """
    require_linear(rule)
    variables = variables_for(rule.atoms)
    lams = [sympy.Dummy(f"lambda_{i}", positive=True) for i in range(len(rule.atoms))]
    fields = [(lambda x, lam=lam: -lam * x) for lam in lams]
    to_z = {lam: z / _H for lam, z in zip(lams, variables)}
    n = 1 + rule.n_aux
    columns = []
    for j in range(n):
        state = [sympy.Integer(1 if i == j else 0) for i in range(n)]
        if rule.n_aux:
            out = rule.step(state[0], *state[1:], _H, *fields, **rule.params)
            if not isinstance(out, (tuple, list)) or len(out) != n:
                raise PrincipalError(f"rule {rule.name!r} must return {n} values (θ' and its state)")
        else:
            out = (rule.step(state[0], _H, *fields, **rule.params),)
        columns.append([sympy.cancel(_scalar(x).subs(to_z)) for x in out])
    matrix = sympy.Matrix(n, n, lambda i, j: columns[j][i])
    if _H in matrix.free_symbols:
        raise PrincipalError(f"rule {rule.name!r} is not a function of hλ on a linear field: "
                         "h appears apart from the atom values")
    if not all(entry.is_rational_function(*variables) for entry in matrix):
        raise PrincipalError(f"rule {rule.name!r} is not linear on linear fields (its step is not a "
                         "rational function of hλ): no principal flow")
    return variables, matrix
