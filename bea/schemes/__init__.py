"""The scheme catalogue: each scheme is a short rule fed to :func:`bea.derive`.

The scheme contract: a scheme module defines ``build(order, **options) -> Rule`` and,
when it traces more than one atom or update, ``size(order, **options) -> (atoms,
updates)`` for the work estimate (:mod:`bea.estimate`; the registry entry names the
algebra, the typed option values the field). ``build`` and ``size``
receive every declared option as a typed value (a default where the option was not
given), never command-line text. The registry entry below declares the options once, as
typed :class:`Option` objects; the CLI generates its click options from them, and
:func:`build` parses text or typed values through them.

Adding a built-in scheme is one scheme file (``bea/schemes/NAME.py`` with ``build``)
plus one :class:`Scheme` entry in :data:`SCHEMES` here: nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy

from ..rule import Rule
from . import adaptive, continual, game, gd, momentum, multitask, muon, rk, sam, sgd
from ._options import (
    RESERVED_NAMES, Choice, Flag, Integer, IntegerList, NumberList, NumberOrSymbol, Option, Range,
    SchemeError, TaskSteps,
)
from .size import MAX_TERMS, Estimate, estimate, field_cost
from .tableaux import TABLEAUX, ButcherTableau, TableauFile, load_tableau

__all__ = [
    "Scheme", "SCHEMES", "SchemeError", "Option", "TABLEAUX", "ButcherTableau", "load_tableau",
    "build", "parse_options", "SAMPLINGS", "IID_OPTIONS", "estimate_scheme", "check_reserved", "too_large", "MAX_TERMS",
]


def _one_update(order: int, **options) -> tuple[int, int]:
    return 1, 1


@dataclass(frozen=True)
class Scheme:
    """A built-in scheme: ``build(order, **typed options)``, its declared options (by name),
    its ``size`` for the work estimate, a reference, the default order, the algebra its
    rules use (``"trees"`` or ``"coordinatewise"``) and ``check(typed)``, which refuses
    options that parse one by one but contradict each other."""

    name: str
    summary: str
    options: dict
    build: Callable[..., Rule]
    reference: str
    default_order: int = 2
    size: Callable[..., tuple[int, int]] = _one_update
    algebra: str = "trees"
    check: Callable[[dict], None] | None = None

    def example_args(self) -> list[str]:
        """Command-line arguments of a valid example of this scheme (every option that
        declares an ``example``)."""
        args = []
        for opt in self.options.values():
            if opt.example is True:
                args.append(opt.flag)
            elif opt.example is not None:
                args += [opt.flag, opt.example]
        return args


SAMPLINGS = ("epoch", "iid")
IID_OPTIONS = ("batch_size", "examples", "without_replacement")
"""sgd's options of i.i.d. sampling; with ``--sampling iid`` there is no epoch rule: the
stochastic modified equation is derived by :func:`bea.stochastic.sme`."""


class _EpochOnly:
    """sgd's epoch rule (``build``, ``size``) without the i.i.d. sampling options."""

    def __init__(self, module):
        self.module = module

    def _epoch(self, options: dict) -> dict:
        if options.get("sampling", "epoch") != "epoch":
            raise SchemeError("--sampling iid has no epoch rule: it gives a stochastic modified "
                              "equation (bea derive --scheme sgd --sampling iid, bea.stochastic.sme)")
        return {k: v for k, v in options.items() if k != "sampling" and k not in IID_OPTIONS}

    def build(self, order: int, **options) -> Rule:
        return self.module.build(order, **self._epoch(options))

    def size(self, order: int, **options) -> tuple[int, int]:
        return self.module.size(order, **self._epoch(options))


def _scheme(name, summary, options, module, reference, default_order, build=None,
            algebra="trees", check=None) -> Scheme:
    return Scheme(name, summary, {o.name: o for o in options}, build or module.build, reference, default_order,
                  getattr(module, "size", _one_update), algebra, check)


def _check_sampling(typed: dict) -> None:
    """i.i.d. sampling prints "minibatches of B from n examples": a batch size named ``n``
    or an example count named ``B`` (swapped options) would print a wrong diffusion, and
    a numeric batch larger than the examples is a swap too. Two distinct symbol names
    are taken as given: which is which cannot be decided."""
    if typed.get("sampling") != "iid":
        return
    batch, examples = typed["batch_size"], typed["examples"]
    if batch == examples and isinstance(batch, sympy.Symbol):
        raise SchemeError(f"--batch-size and --examples are both {batch}; give them different names")
    for value, flag, other in ((batch, "--batch-size", "n, the number of examples"),
                               (examples, "--examples", "B, the batch size")):
        if isinstance(value, sympy.Symbol) and value.name == other[0]:
            raise SchemeError(f"{flag} {value}: the printed notation uses {other} (swapped options?); "
                              "choose another name")
    if batch.is_Number and examples.is_Number and batch > examples:
        raise SchemeError(f"--batch-size {batch} is larger than --examples {examples} (swapped options?): "
                          "a batch is drawn from the examples")


def _symbol_or_number(name: str, help_text: str, example: str, ranges: Range) -> Option:
    return Option(name, NumberOrSymbol("X"), help_text + " (number or symbol name; default symbolic)",
                  sympy.Symbol(name, real=True), example, (ranges,))


_ADAM_REFERENCE = "Cattaneo, Klusowski & Shigida, On the Implicit Bias of Adam, ICML 2024"
_DECAY = {"low": 0, "high": 1}
"""A decay rate's range ``0 ≤ x < 1`` (at 1 the state never updates and cannot be slaved)."""
_B1 = _symbol_or_number("b1", "first-moment decay β", "1/2", Range("b1", **_DECAY))
_B2 = _symbol_or_number("b2", "second-moment decay ρ", "7/10", Range("b2", **_DECAY))
_EPS = _symbol_or_number("eps", "ε, inside the square root", "1/10", Range("eps", 0, low_open=True))
_RHO_ORDER = Option("rho_order", Integer(0), "order M in the radius ρ of the joint expansion in h and ρ "
                    "(terms h^a ρ^b, a < N, b ≤ M)", 1, "1")
_SAM_REFERENCE = "Foret et al., ICLR 2021; Compagnoni et al., An SDE for modeling SAM, ICML 2023"


SCHEMES = {
    s.name: s
    for s in [
        _scheme("gd", "gradient descent θ ← θ - h∇L", [], gd,
                "Barrett & Dherin, Implicit Gradient Regularization, ICLR 2021", 3),
        _scheme("sgd", "one epoch of SGD over m minibatches", [
            Option("batches", Integer(metavar="M"), "number of minibatches m (omit for a result symbolic in m)",
                   None, "3"),
            Option("shuffle", Choice(sgd.SHUFFLES, "ORDER"), "forward | backward | random (mean over orderings)",
                   "random", "random"),
            Option("sampling", Choice(SAMPLINGS, "HOW"), "epoch (one pass over m minibatches, the default) | "
                   "iid (i.i.d. minibatches: the stochastic modified equation, bea.stochastic)", "epoch"),
            Option("batch_size", NumberOrSymbol("B"), "iid: batch size B (number or symbol name; default B)",
                   sympy.Symbol("B", positive=True, integer=True)),
            Option("examples", NumberOrSymbol("N"), "iid: number of examples n (number or symbol name; default n)",
                   sympy.Symbol("n", positive=True, integer=True)),
            Option("without_replacement", Flag(), "iid: draw each batch without replacement", False)],
            _EpochOnly(sgd), "Smith, Dherin, Barrett & De, ICLR 2021; Dherin et al., arXiv 2502.01557", 2,
            check=_check_sampling),
        _scheme("multitask", "one GD step on the sum of task losses (or one per task)", [
            Option("tasks", Integer(), "number of tasks n", 2, "2"),
            Option("per_task", Flag(), "one step on each task in turn instead of one joint step", False)],
            multitask, "Dherin, arXiv 2311.00235", 2),
        _scheme("continual", "tasks trained in sequence", [
            Option("steps", TaskSteps(), "task:steps list, e.g. A:2,B:3", (("A", 1), ("B", 1)), "A:2,B:1")],
            continual, "Dherin, arXiv 2311.00235", 2),
        _scheme("game", "two-player game, simultaneous or alternating", [
            Option("mode", Choice(game.MODES, "MODE"), "simultaneous | alternating", "simultaneous",
                   "alternating"),
            Option("rates", NumberList(2, "A,L"), "player rates α,λ (numbers or symbol names)",
                   (sympy.Integer(1), sympy.Integer(1)), "1,1/2", (Range("α", 0, low_open=True),
                                                                  Range("λ", 0, low_open=True))),
            Option("steps", IntegerList(2), "alternating: m,k steps of x then y", None, "2,1"),
            Option("zero_sum", Flag(), "losses E and -E", False)],
            game, "Rosca, Wu, Dherin & Barrett, ICML 2021", 2),
        _scheme("rk", "Runge–Kutta method from a Butcher tableau", [
            Option("method", Choice(tuple(TABLEAUX), "NAME"), "named method: " + ", ".join(TABLEAUX),
                   None, "rk4"),
            Option("tableau", TableauFile(), "JSON file {\"A\": [[...]], \"b\": [...]} (\"c\", if given, must be "
                   "the row sums of A); entries like 1/3, 0.25, \"1/2 + sqrt(3)/6\" or \"1 - alpha\""),
            Option("field", Choice(("ode", "gradient"), "KIND"), "ode: f is any vector field, the modified "
                   "flow alone (default); gradient: f = -∇L, also the modified loss", "ode", "gradient")],
            rk, "Hairer, Lubich & Wanner, Geometric Numerical Integration, ch. IX", 3),
        _scheme("momentum", "heavy-ball or Nesterov momentum (velocity slaved to θ)", [
            Option("beta", NumberOrSymbol("B"), "momentum β (number or symbol name; default symbolic beta)",
                   sympy.Symbol("beta", real=True), "1/2", (Range("β", **_DECAY),)),
            Option("nesterov", Flag(), "Nesterov's look-ahead gradient", False)],
            momentum, "Ghosh, Lyu, Zhang & Wang, ICLR 2023; Kovachki & Stuart 2021", 2),
        _scheme("adam", "Adam without bias correction, ε inside the root (m, v slaved to θ)",
                [_B1, _B2, _EPS], adaptive, _ADAM_REFERENCE, 2, adaptive.build_adam, "coordinatewise"),
        _scheme("adamw", "AdamW: Adam with decoupled weight decay", [
            _B1, _B2, _EPS, _symbol_or_number("weight_decay", "decoupled weight decay λ", "1/5",
                                              Range("weight-decay", 0))],
            adaptive, _ADAM_REFERENCE + "; Loshchilov & Hutter, ICLR 2019", 2, adaptive.build_adamw,
            "coordinatewise"),
        _scheme("rmsprop", "RMSProp, ε inside the root (v slaved to θ)", [_B2, _EPS], adaptive,
                _ADAM_REFERENCE, 2, adaptive.build_rmsprop, "coordinatewise"),
        _scheme("normalized", "normalized gradient descent θ ← θ - h ∇L/‖∇L‖", [], adaptive,
                "coordinate-wise term algebra (bea.coordinatewise)", 2, adaptive.build_normalized,
                "coordinatewise"),
        _scheme("muon", "Muon: momentum orthogonalized by Newton–Schulz (optax.contrib.muon; M slaved to W)", [
            Option("beta", NumberOrSymbol("B"), "momentum β (number or symbol name; default symbolic beta; "
                   "0 is orthogonalized GD)", sympy.Symbol("beta", real=True), "1/2", (Range("β", **_DECAY),)),
            Option("no_nesterov", Flag(), "heavy-ball momentum X = M instead of optax's Nesterov "
                   "X = βM + (1-β)G", False),
            Option("ns_steps", Integer(metavar="K"), "Newton–Schulz steps (numeric O only)", muon.NS_STEPS,
                   "5"),
            Option("ns_coeffs", NumberList(3, "A,B,C"), "Newton–Schulz coefficients a,b,c (numeric O only)",
                   muon.NS_COEFFS, "3.4445,-4.7750,2.0315")],
            muon, "Jordan et al. 2024 (Muon); optax.contrib.muon", 2, algebra="coordinatewise",
            check=muon.check_options),
        _scheme("sam", "SAM θ ← θ - h∇L(θ + ρ∇L/‖∇L‖), joint expansion in h and ρ", [_RHO_ORDER], sam,
                _SAM_REFERENCE, 2, sam.build_sam, "coordinatewise"),
        _scheme("usam", "unnormalized SAM θ ← θ - h∇L(θ + ρ∇L), joint expansion in h and ρ", [_RHO_ORDER],
                sam, "Andriushchenko & Flammarion, ICML 2022; " + _SAM_REFERENCE, 2, sam.build_usam),
    ]
}


def _scheme_named(name: str) -> Scheme:
    if name not in SCHEMES:
        raise SchemeError(f"unknown scheme {name!r}; choose one of {', '.join(SCHEMES)}")
    return SCHEMES[name]


def parse_options(name: str, **options) -> dict:
    """Every option of scheme ``name`` as a typed value: those given (text or typed; ``None``
    and ``False`` count as not given) parsed by their :class:`Option`, the rest defaults.
    An option the scheme does not declare raises :class:`SchemeError`."""
    scheme = _scheme_named(name)
    given = {k: v for k, v in options.items() if v is not None and v is not False}
    stray = sorted(k for k in given if k not in scheme.options)
    if stray:
        accepted = ", ".join(o.flag for o in scheme.options.values()) or "no options"
        raise SchemeError(
            f"option {', '.join('--' + k.replace('_', '-') for k in stray)} does not apply to "
            f"scheme {name} (it takes {accepted})"
        )
    typed = {k: opt.parse(given.get(k)) for k, opt in scheme.options.items()}
    if scheme.check is not None:
        scheme.check(typed)
    return typed


def estimate_scheme(name: str, order: int, typed: dict, modifying: bool = False) -> Estimate:
    """The work :class:`Estimate` of scheme ``name`` at ``order`` with typed options (of
    the modifying field with ``modifying``), before anything is built."""
    scheme = SCHEMES[name]
    order += typed.get("rho_order") or 0  # a joint expansion in h and ρ is traced to N + M (bea.joint)
    atoms, updates = scheme.size(order, **typed)
    # the i.i.d. sampling options (symbolic B, n by default) are not parameters of the epoch rule
    values = [v.entries if isinstance(v, ButcherTableau) else v for k, v in typed.items() if k not in IID_OPTIONS]
    return estimate(order, atoms, updates, algebra=scheme.algebra, cost=field_cost(values), modifying=modifying)


def check_reserved(rule: Rule) -> None:
    """Refuse a rule whose parameters use a name of the printed notation
    (:data:`RESERVED_NAMES`: ``h`` the step size, ``g``, ``s``, …), or a symbol of the
    cycle length (SGD's symbolic ``m``)."""
    cycle = rule.cycle.free_symbols if isinstance(rule.cycle, sympy.Basic) else set()
    reserved = {**RESERVED_NAMES, **{s.name: "the number of batches" for s in cycle}}
    for key, value in rule.params.items():
        for s in sorted(_free_symbols(value), key=str):
            if s.name in reserved:
                raise SchemeError(f"parameter {key} uses the name {s.name!r}, which is reserved "
                                  f"({reserved[s.name]}); choose another name")


def _free_symbols(value) -> set:
    if isinstance(value, (tuple, list)):
        return set().union(*(_free_symbols(v) for v in value)) if value else set()
    return value.free_symbols if isinstance(value, sympy.Basic) else set()


def build(name: str, order: int = 2, max_terms: int = MAX_TERMS, **options) -> Rule:
    """The rule of scheme ``name`` at ``order`` with ``options`` (text, as typed on the
    command line, or typed values). Refuses work estimated beyond ``max_terms``
    (:mod:`bea.schemes.size`) before building anything."""
    scheme = _scheme_named(name)
    typed = parse_options(name, **options)
    message = too_large(estimate_scheme(name, order, typed), max_terms, name, typed)
    if message is not None:
        raise SchemeError(message)
    rule = scheme.build(order, **typed)
    check_reserved(rule)
    return rule


def too_large(work: Estimate, max_terms: int, name: str | None = None, typed: dict | None = None) -> str | None:
    """One line: the estimate, the limit, and what would work (``None``: the work fits)."""
    message = work.refusal(max_terms)
    if message is None:
        return message
    if typed and typed.get("rho_order"):
        message = message.replace("; try --order ", "; try --order plus --rho-order at most ", 1)
    if name == "sgd" and typed and typed.get("batches") is not None:
        symbolic = estimate_scheme(name, work.order, {**typed, "batches": None}, work.modifying)
        if symbolic.terms <= max_terms:
            message = message.replace("; try ", "; try a symbolic m (omit --batches), or ", 1)
    return message
