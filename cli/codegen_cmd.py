"""``bea codegen``: write a derivation as a standalone JAX module (see :mod:`bea.codegen`)."""

from __future__ import annotations

import click

from bea._files import write_text

from ._common import (
    bad_input_exits_2, derive_with_progress, fail, parse_settings, rule_and_estimate, scheme_options,
    user_prints_to_stderr,
)
from ._paths import writable_file
from ._schedule import schedule_options, schedule_request


@click.command("codegen")
@scheme_options
@click.option("--output", "-o", metavar="FILE.py", help="write the module here (default: stdout)")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="bake a number into the code for a symbolic parameter (repeatable)")
@click.option("--modifying", is_flag=True, default=False,
              help="the modifying field f̃ instead (modifying_field, correction_field, correction_loss)")
@schedule_options
@bad_input_exits_2
def codegen(output, assignments, modifying, schedule, schedule_set, **options):
    """Generate a JAX module with the modified field (and modified loss) of a scheme, or with
    its modifying field (--modifying: run on it, the scheme follows its first-order flow)."""
    from bea.codegen import emit_module

    values = parse_settings(assignments)
    if output is not None:
        writable_file("--output", output)
    scheduled = schedule_request(schedule, schedule_set, generic=True)
    if scheduled is not None:
        _emit(output, _scheduled_source(scheduled, modifying, values, options))
        return
    with user_prints_to_stderr():
        rule, order, work = rule_and_estimate(options, modifying)
        if rule.small and modifying:
            fail(f"--modifying is not derived for {rule.name}, a joint expansion in h and "
                 f"{', '.join(rule.small)}; drop --modifying")
        derivation = derive_with_progress(rule, order, work, modifying)
    symbols = derivation.algebra.free_symbols(derivation)
    unknown = sorted(set(values) - symbols)
    if unknown:
        fail(f"--set {unknown[0]}: the derivation has no symbol {unknown[0]!r}"
             + (f" (its symbols: {', '.join(sorted(symbols))})" if symbols else ""))
    try:
        source = emit_module(derivation, values)
    except ValueError as exc:
        fail(str(exc))
    _emit(output, source)


def _emit(output, source: str) -> None:
    if output is None:
        click.echo(source, nl=False)
        return
    try:
        write_text(output, source)  # whole, or the previous file is left as it was
    except OSError as exc:
        fail(f"--output: cannot write {output!r}: {exc.strerror or exc}")


def _scheduled_source(scheduled, modifying: bool, values: dict, options: dict) -> str:
    """``--schedule NAME``: the module of :mod:`bea.schedule.codegen`, which takes the
    schedule when it runs (an optax schedule), so every name gives the same code."""
    from bea.schedule import derive_scheduled
    from bea.schedule.codegen import emit_scheduled_module

    name, given = scheduled
    if modifying:
        fail("--schedule does not combine with --modifying yet; drop one of them")
    if given:
        fail("--schedule-set: the generated module takes the schedule when it runs (an optax schedule, "
             "e.g. optax.warmup_cosine_decay_schedule(...)); drop --schedule-set")
    with user_prints_to_stderr():
        rule, order, _ = rule_and_estimate(options)
        try:
            return emit_scheduled_module(derive_scheduled(rule, order, schedule=name), values)
        except ValueError as exc:  # refusals (RuleError), work limits, symbols without numbers
            fail(f"--schedule: {exc}")
