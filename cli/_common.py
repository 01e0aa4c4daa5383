"""Options and error handling shared by the ``bea`` commands.

Every command that takes a derivation accepts the same scheme options; each scheme
accepts only its own (anything else is bad input). Bad input ends with one line on
stderr and exit status 2.
"""

from __future__ import annotations

import functools
import sys

import click

from bea.custom import load_rule
from bea.derive import Rule, derive
from bea.domain import exact_number
from bea.tracing import RuleError
from bea.schemes import SCHEMES, SchemeError, build

__all__ = ["scheme_options", "rule_from_options", "fail", "bad_input_exits_2", "derive_with_progress",
           "parse_settings", "whole_number"]

SCHEME_OPTIONS = ("batches", "shuffle", "tasks", "per_task", "steps", "mode", "rates", "zero_sum",
                  "method", "tableau", "beta", "nesterov")


def fail(message: str) -> None:
    """One line on stderr, exit status 2."""
    click.echo(f"bea: error: {message}", err=True)
    sys.exit(2)


def bad_input_exits_2(fn):
    """Turn the library's bad-input errors into one stderr line and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (SchemeError, RuleError) as exc:
            fail(str(exc))

    return wrapper


def scheme_options(fn):
    """``--scheme/--rule``, ``--order`` and every scheme's options."""
    decorators = [
        click.option("--scheme", "-s", metavar="NAME", help="scheme from `bea schemes`"),
        click.option("--rule", metavar="FILE.py:NAME", help="a rule written in Python (instead of --scheme)"),
        click.option("--order", "-n", default=None, metavar="N",
                     help="truncation order N: the flow f_1 + h f_2 + … + h^{N-1} f_N"),
        click.option("--batches", metavar="M", help="sgd: number of minibatches (omit: symbolic m)"),
        click.option("--shuffle", metavar="ORDER", help="sgd: forward | backward | random"),
        click.option("--tasks", metavar="N", help="multitask: number of tasks"),
        click.option("--per-task", is_flag=True, default=False, help="multitask: one step per task in turn"),
        click.option("--steps", metavar="SPEC", help="continual: A:2,B:3;  game: m,k"),
        click.option("--mode", metavar="MODE", help="game: simultaneous | alternating"),
        click.option("--rates", metavar="A,L", help="game: player rates α,λ"),
        click.option("--zero-sum", is_flag=True, default=False, help="game: losses E and -E"),
        click.option("--method", metavar="NAME", help="rk: named method"),
        click.option("--tableau", metavar="FILE.json", help="rk: Butcher tableau file"),
        click.option("--beta", metavar="B", help="momentum: β (number or symbol name)"),
        click.option("--nesterov", is_flag=True, default=False, help="momentum: Nesterov"),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def whole_number(option: str, value, minimum: int = 1) -> int:
    """``value`` as a whole number ``≥ minimum``, or one line on stderr and exit 2."""
    try:
        number = int(str(value).strip())
    except ValueError:
        fail(f"{option} must be a whole number, got {value!r}")
    if number < minimum:
        fail(f"{option} must be at least {minimum}, got {number}")
    return number


def parse_order(value, default: int) -> int:
    return default if value is None else whole_number("--order", value)


def rule_from_options(options: dict) -> tuple[Rule, int]:
    """The rule and order named by ``--scheme``/``--rule`` and the scheme options."""
    scheme, rule_spec = options.pop("scheme", None), options.pop("rule", None)
    order_text = options.pop("order", None)
    given = {k: options.pop(k) for k in SCHEME_OPTIONS if k in options}
    if (scheme is None) == (rule_spec is None):
        fail("give exactly one of --scheme NAME (see `bea schemes`) or --rule FILE.py:NAME")
    if rule_spec is not None:
        stray = [k for k, v in given.items() if v not in (None, False)]
        if stray:
            fail(f"option --{stray[0].replace('_', '-')} belongs to built-in schemes, not to --rule")
        return load_rule(rule_spec), parse_order(order_text, 2)
    if scheme not in SCHEMES:
        fail(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    order = parse_order(order_text, SCHEMES[scheme].default_order)
    return build(scheme, order, **given), order


def parse_settings(pairs) -> dict:
    """``--set NAME=VALUE`` pairs as ``{name: exact number}`` (parsed, never evaluated)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            fail(f"--set takes NAME=VALUE (e.g. beta=0.9), got {pair!r}")
        try:
            out[name] = exact_number(value.strip())
        except ValueError:
            fail(f"--set {name}: {value!r} is not a number (use 0.9, 1/3, 2)")
    return out


def derive_with_progress(rule: Rule, order: int):
    """:func:`bea.derive`, with a progress bar on a terminal for long derivations."""
    update, bar = progress_bar(order)
    try:
        return derive(rule, order, progress=update)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def progress_bar(order: int, label: str = "deriving"):
    """A callback showing progress per order on stderr (a terminal only), for orders that
    take a while."""
    if order < 4 or not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=order, label=label, file=sys.stderr)
    bar.__enter__()

    def update(n):
        bar.update(1)

    return update, bar
