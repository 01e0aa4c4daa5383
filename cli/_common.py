"""Options and error handling shared by the ``bea`` commands.

Every command that takes a derivation accepts the same scheme options, generated from
the typed declarations in :data:`bea.schemes.SCHEMES` (one click option per option name;
each scheme accepts only its own, anything else is bad input). Before any work, the size
of the derivation is estimated (:mod:`bea.estimate`: every algebra, field and
``--modifying``) and refused beyond ``--max-terms``. Bad input ends with one line on stderr and exit status 2.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings

import click

from bea.custom import load_rule
from bea.rule import Rule
from bea.derive import derive
from bea.modifying import modifying_field
from bea.schemes import (
    MAX_TERMS, SCHEMES, SchemeError, build, check_reserved, estimate_scheme, parse_options, too_large,
)
from bea.schemes._options import Integer, check_ranges, setting
from bea.schemes.tableaux import TableauWarning
from bea.estimate import Estimate, estimate_rule
from bea.atoms import RuleError

__all__ = ["scheme_options", "rule_from_options", "rule_and_estimate", "fail", "bad_input_exits_2",
           "derive_with_progress", "parse_settings", "typed_options", "whole_number", "user_prints_to_stderr",
           "SHOW_PROGRESS_TERMS"]

SHOW_PROGRESS_TERMS = 20_000
"""Estimated terms above which a derivation announces its estimate and shows a progress
bar (on a terminal): a few seconds of work on a 2-core machine."""


def fail(message: str) -> None:
    """One line on stderr, exit status 2."""
    click.echo(f"bea: error: {message}", err=True)
    sys.exit(2)


def user_prints_to_stderr():
    """While a user's rule or problem file is imported, traced or run: its ``print()``
    goes to stderr, so stdout carries bea's result alone (JSON stays parseable)."""
    return contextlib.redirect_stdout(sys.stderr)


def bad_input_exits_2(fn):
    """Turn the library's bad-input errors into one stderr line and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (SchemeError, RuleError) as exc:
            fail(str(exc))

    return wrapper


def _declarations() -> dict:
    """Option name → the declarations of it across schemes ``[(scheme, Option), …]``."""
    out: dict = {}
    for scheme in SCHEMES.values():
        for opt in scheme.options.values():
            out.setdefault(opt.name, []).append((scheme.name, opt))
    return out


def _click_option(name: str, declared: list):
    flags = {opt.kind.is_flag for _, opt in declared}
    if len(flags) != 1:
        raise TypeError(f"option {name} is a switch in one scheme and takes a value in another")
    flag = declared[0][1].flag
    help_text = ";  ".join(f"{scheme}: {opt.help}" for scheme, opt in declared)
    if flags == {True}:
        return click.option(flag, name, is_flag=True, default=False, help=help_text)
    metavars = {opt.kind.metavar for _, opt in declared}
    return click.option(flag, name, metavar=metavars.pop() if len(metavars) == 1 else "VALUE",
                        help=help_text)


def scheme_options(fn):
    """``--scheme/--rule``, ``--order``, ``--max-terms`` and every scheme's options (from the
    registry)."""
    decorators = [
        click.option("--scheme", "-s", metavar="NAME", help="scheme from `bea schemes`"),
        click.option("--rule", metavar="FILE.py:NAME", help="a rule written in Python (instead of --scheme)"),
        click.option("--order", "-n", default=None, metavar="N",
                     help="truncation order N: the flow f_1 + h f_2 + … + h^{N-1} f_N"),
        click.option("--max-terms", default=None, metavar="N",
                     help=f"refuse derivations estimated beyond N terms (default {MAX_TERMS})"),
    ] + [_click_option(name, declared) for name, declared in _declarations().items()]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def whole_number(option: str, value, minimum: int = 1) -> int:
    """``value`` as a whole number ``≥ minimum``, or one line on stderr and exit 2."""
    try:
        return Integer(minimum).parse(option, value)
    except SchemeError as exc:
        fail(str(exc))


def rule_from_options(options: dict) -> tuple[Rule, int]:
    """The rule and order named by ``--scheme``/``--rule`` and the scheme options; the
    derivation's size is estimated and refused beyond ``--max-terms`` before any work."""
    rule, order, _ = rule_and_estimate(options)
    return rule, order


def rule_and_estimate(options: dict, modifying: bool = False) -> tuple[Rule, int, Estimate]:
    """:func:`rule_from_options` with the work :class:`Estimate` of the derivation (of the
    modifying field with ``modifying``)."""
    scheme, rule_spec = options.pop("scheme", None), options.pop("rule", None)
    order_text, limit_text = options.pop("order", None), options.pop("max_terms", None)
    given = {k: options.pop(k) for k in _declarations() if k in options}
    if (scheme is None) == (rule_spec is None):
        fail("give exactly one of --scheme NAME (see `bea schemes`) or --rule FILE.py:NAME")
    limit = MAX_TERMS if limit_text is None else whole_number("--max-terms", limit_text)
    if rule_spec is not None:
        stray = [k for k, v in given.items() if v not in (None, False)]
        if stray:
            fail(f"option --{stray[0].replace('_', '-')} belongs to built-in schemes, not to --rule")
        order = 2 if order_text is None else whole_number("--order", order_text)
        rule = load_rule(rule_spec)
        work = estimate_rule(rule, order, modifying)
        if too_large(work, limit) is not None:
            fail(too_large(work, limit))
        check_reserved(rule)
        return rule, order, work
    if scheme not in SCHEMES:
        fail(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    order = SCHEMES[scheme].default_order if order_text is None else whole_number("--order", order_text)
    typed = typed_options(scheme, given)
    work = estimate_scheme(scheme, order, typed, modifying)
    if too_large(work, limit, scheme, typed) is not None:
        fail(too_large(work, limit, scheme, typed))
    return build(scheme, order, max_terms=limit, **typed), order, work


def typed_options(scheme: str, given: dict) -> dict:
    """The typed options of ``scheme`` as the command line takes them: parsed, each
    :class:`TableauWarning` (a rounded fraction in a tableau file) printed as one line on
    stderr, and values outside an option's declared range refused (one line, exit 2). The
    library's :func:`parse_options` takes any value: the ranges are practical, not
    mathematical (momentum's principal flow at β = -1/4 is tested through the library)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TableauWarning)
        try:
            typed = parse_options(scheme, **given)
        finally:
            for w in caught:
                if issubclass(w.category, TableauWarning):
                    click.echo(f"bea: warning: {w.message}", err=True)
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    try:
        check_ranges(SCHEMES[scheme].options, typed)
    except SchemeError as exc:
        fail(str(exc))
    return typed


def parse_settings(pairs) -> dict:
    """``--set NAME=VALUE`` pairs as ``{name: exact number}`` (parsed, never evaluated)."""
    try:
        return dict(setting(pair) for pair in pairs)
    except SchemeError as exc:
        fail(str(exc))


def derive_with_progress(rule: Rule, order: int, work: Estimate | None = None, modifying: bool = False):
    """:func:`bea.derive` (or, with ``modifying``, :func:`bea.modifying.modifying_field`);
    on a terminal, a derivation estimated beyond :data:`SHOW_PROGRESS_TERMS` announces its
    estimate and shows a progress bar. A rule that exits while being traced is bad input.
    The estimate was checked against ``--max-terms`` already: the library's own guard is off."""
    show = work is not None and work.terms > SHOW_PROGRESS_TERMS and sys.stderr.isatty()
    run = modifying_field if modifying else functools.partial(derive, max_terms=None)
    if show:
        click.echo(f"bea: {work.describe()}; this may take a while", err=True)
    try:
        if not show:
            return run(rule, order)
        with click.progressbar(length=order, label="deriving", file=sys.stderr) as bar:
            return run(rule, order, progress=lambda n: bar.update(1))
    except SystemExit as exc:
        fail(f"rule {rule.name!r} called exit ({exc.code!r}) while being traced")
