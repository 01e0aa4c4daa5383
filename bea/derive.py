"""The one pipeline: rule → series of the update map → modified flow → modified loss.

Every scheme, built-in or written by a user, is a :class:`Rule` and goes through
:func:`derive` unchanged:

1. trace the rule (:mod:`bea.tracing`) into the B-series of one cycle ``Φ(θ) - θ``,
   slaving auxiliary state to the parameters first when the rule has some;
2. average over orderings of the atoms when the rule is a random reshuffling;
3. take the logarithm (:func:`bea.logarithm.logarithm`) and divide by the cycle length:
   ``θ' = f_1 + h f_2 + … + h^{N-1} f_N``;
4. with gradient atoms, split each ``f_k`` into ``-∇`` of a modified-loss term and a
   remainder (:func:`bea.losses.split_gradient`).
"""

from __future__ import annotations

import functools
import inspect
import traceback
from dataclasses import dataclass, field as dc_field
from typing import Callable, Mapping

import sympy

from . import coordinatewise
from .estimate import MAX_TERMS, check_work
from .logarithm import average_over_orderings, logarithm
from .slaving import slaved_velocity
from .domain import exact_number, field_for
from .losses import split_gradient
from .tracing import Atom, RuleError, Tracer, Vec
from .trees import parse

__all__ = ["Rule", "Family", "Derivation", "derive"]


@dataclass(frozen=True)
class Family:
    """Atoms ``f_1 … f_m`` of one indexed family (minibatches), for ``Σ_k`` display.

    ``ordered``: coefficients depend on the relative order of indices (``Σ_{j<k}``);
    otherwise only on which indices coincide (``Σ_{j≠k}``). ``size`` is the number of
    members (an int, or a sympy symbol when the derivation is symbolic in it; then the
    rule is traced with as many members as the order, which realizes every pattern).
    """

    labels: tuple[str, ...]
    losses: tuple[str, ...]
    ordered: bool
    size: object


@dataclass(frozen=True)
class Rule:
    """An update rule: ``step(theta, *aux, h, *atoms, **params)``.

    ``step`` returns the new parameters (and the new auxiliary state when ``n_aux > 0``).
    ``atoms`` are the fields in the order ``step`` takes them. ``blocks`` names the
    parameter blocks when ``theta`` is a tuple (players). ``cycle`` is the number of
    updates of length ``h`` one call of ``step`` stands for. ``shuffle``: average the map
    over all orderings of the atoms (random reshuffling). ``params`` values are numbers,
    sympy symbols or nested tuples of them (a tableau); they choose the coefficient field.
    ``algebra``: ``"trees"`` (affine rules, B-series) or ``"coordinatewise"`` (rules with
    elementwise products, roots, norms: adaptive optimizers, :mod:`bea.coordinatewise`).
    """

    step: Callable
    atoms: tuple[Atom, ...]
    name: str = "custom"
    blocks: tuple = (None,)
    n_aux: int = 0
    params: Mapping = dc_field(default_factory=dict)
    cycle: object = 1
    shuffle: bool = False
    family: Family | None = None
    options: Mapping = dc_field(default_factory=dict)
    description: str = ""
    algebra: str = "trees"

    def __post_init__(self):
        """Refuse malformed fields before any work: ``TypeError`` or ``ValueError`` naming
        the argument (a cycle of 0 would divide by zero, ``h`` is the step size)."""
        if not callable(self.step):
            raise TypeError(f"Rule: step must be a function step(theta, h, *atoms), got {type(self.step).__name__}")
        if not isinstance(self.atoms, (tuple, list)) or not all(isinstance(a, Atom) for a in self.atoms):
            raise TypeError("Rule: atoms must be a tuple of bea.Atom, e.g. (bea.Atom('f', 'L'),)")
        object.__setattr__(self, "atoms", tuple(self.atoms))
        if not isinstance(self.name, str):
            raise TypeError(f"Rule: name must be text, got {type(self.name).__name__}")
        if isinstance(self.n_aux, bool) or not isinstance(self.n_aux, int) or self.n_aux < 0:
            raise ValueError(f"Rule: n_aux must be a whole number ≥ 0, got {self.n_aux!r}")
        if not isinstance(self.params, Mapping) or not all(isinstance(k, str) for k in self.params):
            raise TypeError("Rule: params must be a mapping from parameter names (text) to values")
        for key, value in self.params.items():
            if "h" in {s.name for s in _symbols(value)}:
                raise ValueError(f"Rule: params[{key!r}] uses the symbol h, which is the step size; "
                                 "choose another name")
        _check_cycle(self.cycle)
        if self.algebra not in ("trees", "coordinatewise"):
            raise ValueError(f"Rule: algebra must be 'trees' or 'coordinatewise', got {self.algebra!r}")


def _symbols(value) -> set:
    if isinstance(value, (tuple, list)):
        return set().union(*(_symbols(v) for v in value)) if value else set()
    return value.free_symbols if isinstance(value, sympy.Basic) else set()


def _check_cycle(cycle) -> None:
    """``cycle`` is a positive number of updates, or a symbol not known to be ``≤ 0``."""
    if isinstance(cycle, bool) or not isinstance(cycle, (int, sympy.Basic)):
        raise TypeError(f"Rule: cycle must be a whole number ≥ 1 or a sympy symbol, got {cycle!r}")
    value = sympy.sympify(cycle)
    if value.is_positive is False or (value.is_number and not value.is_positive):
        raise ValueError(f"Rule: cycle must be positive (the number of updates one call stands for), "
                         f"got {cycle!r}")


@dataclass
class Derivation:
    """A derived modified flow: ``flow[k] = {tree: coeff}`` for ``f_k``, ``k = 1..order``.

    For a coordinate-wise rule ``flow[k]`` is one canonical expression
    (:mod:`bea.coordinatewise.expressions`), ``field`` is ``None``, and ``velocity`` holds
    each slaved state variable as its h-coefficients ``[S_0, …, S_order]``.

    ``splits[k] = {block: GradientSplit}`` (modified loss and remainder of ``f_k``) is
    computed on first use, and is ``None`` unless every atom is a gradient.
    ``velocity``: the slaved auxiliary state ``V(θ)`` per aux variable, if any.
    ``kind``: ``"flow"`` for a modified flow, ``"modifying"`` for the modifying fields
    ``f̃_c`` of :func:`bea.modifying.modifying_field` (``flow[k]`` then holds the order-k
    corrections, each tree belonging to the atom at its root).
    """

    rule: Rule
    order: int
    field: object
    flow: list
    velocity: list | None = None
    kind: str = "flow"

    @functools.cached_property
    def splits(self) -> list | None:
        if self.rule.algebra != "trees" or not all(a.loss is not None for a in self.rule.atoms):
            return None
        return [dict()] + [split_gradient(self.flow[k], self.rule.atoms, self.field)
                           for k in range(1, self.order + 1)]

    @property
    def atoms(self) -> tuple[Atom, ...]:
        return self.rule.atoms

    @property
    def has_loss(self) -> bool:
        """Whether every order of every block is a gradient (a modified loss exists)."""
        return self.splits is not None and all(
            not s.remainder for split in self.splits[1:] for s in split.values()
        )

    def coefficient(self, t) -> sympy.Expr:
        """The coefficient of tree ``t`` (a Tree or its notation) as a sympy expression."""
        t = parse(t) if isinstance(t, str) else t
        if t.order > self.order:
            raise ValueError(f"tree {t} has order {t.order} > derivation order {self.order}")
        return self.field.to_sympy(self.flow[t.order].get(t, self.field.zero))


def _rule_error(rule: Rule, exc: BaseException) -> RuleError:
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


def trace_map(rule: Rule, order: int, field, fields: dict | None = None) -> tuple[dict, list | None]:
    """The B-series ``Φ(θ) - θ`` of one cycle, and the slaved auxiliary state if any.

    ``fields`` (label → term dict) runs the rule on modified atom fields instead of the
    atoms themselves (:mod:`bea.modifying`).
    """
    tracer = Tracer(field, order, rule.blocks)
    theta = tracer.parameters()
    atoms = tracer.atoms(rule.atoms, fields)
    h = tracer.h
    velocity = None
    try:
        if rule.n_aux:
            step = lambda th, *v: rule.step(th, *v, h, *atoms, **rule.params)  # noqa: E731
            velocity = slaved_velocity(step, tracer, theta, rule.n_aux, order)
            out = step(theta, *[Vec(tracer, {}, v, 0) for v in velocity])
            increment = tracer.increment(out[0], rule.atoms, "the parameter update")
        else:
            out = rule.step(theta, h, *atoms, **rule.params)
            increment = tracer.increment(out, rule.atoms)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a RuleError, or the user's code raised: name the line
        raise _rule_error(rule, exc) from None
    if rule.shuffle:
        increment = average_over_orderings(increment, tuple(a.label for a in rule.atoms), field)
    return increment, velocity


def derive(rule: Rule, order: int, progress: Callable[[int], None] | None = None,
           max_terms: int | None = MAX_TERMS) -> Derivation:
    """Modified flow of ``rule`` to order ``order`` (``f_1 … f_order``), exactly.

    The work is estimated first (:mod:`bea.estimate`: trees or coordinate-wise terms,
    updates, the parameters' field) and refused beyond ``max_terms`` with
    :class:`bea.estimate.TooMuchWork` (a ``ValueError``) before any work; ``max_terms=None``
    turns the guard off."""
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a bea.Rule (or bea.rule_from_function(step)), got {type(rule).__name__}")
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"order must be an integer ≥ 1, got {order!r}")
    if max_terms is not None:
        check_work(rule, order, max_terms)
    if rule.algebra == "coordinatewise":
        return _derive_coordinatewise(rule, order, progress)
    if rule.algebra != "trees":
        raise ValueError(f"unknown algebra {rule.algebra!r}; use 'trees' or 'coordinatewise'")
    # The series work happens over the parameters' field; a symbolic cycle length (SGD's
    # m) only divides the result, so it joins the field at the end.
    field = field_for(rule.params.values())
    increment, velocity = trace_map(rule, order, field)
    z = logarithm(increment, order, field, progress)
    flow_field = field_for([*rule.params.values(), rule.cycle])
    inverse_cycle = flow_field.one / flow_field.from_sympy(exact_number(rule.cycle))
    flow = [{t: flow_field.convert_from(c, field) * inverse_cycle for t, c in zk.items()} for zk in z]
    if velocity is not None:
        velocity = [{t: flow_field.convert_from(c, field) for t, c in v.items()} for v in velocity]
    return Derivation(rule, order, flow_field, flow, velocity)


def _derive_coordinatewise(rule: Rule, order: int, progress) -> Derivation:
    """The same pipeline over coordinate-wise expressions (:mod:`bea.coordinatewise`)."""
    try:
        increment, state = coordinatewise.trace_map(rule, order)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a RuleError, or the user's code raised: name the line
        raise _rule_error(rule, exc) from None
    z = logarithm(increment, order, None, progress, coordinatewise.CoordinateAlgebra())
    cycle = exact_number(rule.cycle)
    flow = [coordinatewise.canonical(zk / cycle) for zk in z]
    return Derivation(rule, order, None, flow, state)
