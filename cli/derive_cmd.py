"""``bea schemes`` and ``bea derive``."""

from __future__ import annotations

import sys

import click

from bea.equivalent import EQUIVALENTS, equivalent_step
from bea.render import FORMATS, render
from bea.schemes import SCHEMES
from bea.schedule.named import SCHEDULES as SCHEDULES_NAMED

from ._common import (
    bad_input_exits_2, derive_with_progress, fail, rule_and_estimate, scheme_options, user_prints_to_stderr,
)
from ._noise import iid_request, iid_sme
from ._paths import writable_directory
from ._schedule import schedule_request


@click.command()
def schemes():
    """List the schemes and their options."""
    for s in SCHEMES.values():
        click.echo(f"{s.name:<10} {s.summary}  (default --order {s.default_order})")
        for opt in s.options.values():
            bounds = opt.range_text()
            click.echo(f"{'':<12}{opt.flag:<12} {opt.help}" + (f"  [{bounds}]" if bounds else ""))
        click.echo(f"{'':<12}ref: {s.reference}")


@click.command("derive")
@scheme_options
@click.option("--format", "-f", "fmt", default="text", type=click.Choice(FORMATS),
              help="output format")
@click.option("--modifying", is_flag=True, default=False,
              help="the modifying field f̃ instead: run on f̃, the scheme follows its first-order flow")
@click.option("--principal", is_flag=True, default=False,
              help="also the principal flow: R(z), ψ(z) and stability thresholds, all orders at once")
@click.option("--covariance", is_flag=True, default=False,
              help="sgd --shuffle random: also the covariance of the epoch map over orderings (leading order h⁴)")
@click.option("--schedule", default="none", metavar="NAME",
              help="learning-rate schedule, step h·η(t) at t = n·h: none (constant step), generic (any η(t): "
                   "the flow in η, η', η''), or " + ", ".join(SCHEDULES_NAMED) + " (also printed in t)")
@click.option("--schedule-set", multiple=True, metavar="KEY=VALUE",
              help="a named schedule's parameter (optax's names; steps are time units): a number or a name")
@click.option("--equivalent", type=click.Choice(EQUIVALENTS), default=None,
              help="the one-step map instead, θ⁺ = θ + hΔ₁ + h²Δ₂ + … (on the slaved manifold), and its "
                   "loss: θ⁺ = θ - h∇L̃ (heavy ball: Cattaneo & Shigida 2025)")
@bad_input_exits_2
def derive_command(fmt, modifying, principal, covariance, equivalent, schedule, schedule_set, **options):
    """Derive the modified flow (and modified loss) of a scheme or rule.

    \b
    Examples:
      bea derive --scheme gd --order 3
      bea derive --scheme sgd --order 2                 # symbolic number of batches m
      bea derive --scheme sgd --batches 3 --shuffle forward
      bea derive --scheme rk --method rk4 --order 6 --format latex
      bea derive --rule my_rule.py:step --order 3
      bea derive --scheme gd --order 4 --modifying      # the field that cancels the drift
      bea derive --scheme momentum --principal          # R(z), ψ(z): all orders on quadratics
      bea derive --scheme sgd --sampling iid --batch-size 4 --examples 32   # the SME (noise)
      bea derive --scheme sgd --shuffle random --covariance                 # epoch noise over orderings
      bea derive --scheme momentum --beta beta --order 4 --equivalent gd   # heavy ball as GD on a loss
      bea derive --scheme gd --order 3 --schedule generic                  # step h·η(t): η, η', η''
      bea derive --scheme sgd --batches 3 --schedule warmup-cosine --schedule-set warmup_steps=1
    """
    request = schedule_request(schedule, schedule_set, generic=True)
    if request is not None:
        _derive_scheduled(fmt, *request, options,
                          {"--modifying": modifying, "--principal": principal, "--covariance": covariance,
                           "--equivalent": equivalent})
        return
    iid = iid_request(options, {"--modifying": modifying, "--principal": principal, "--covariance": covariance})
    if iid is not None:
        click.echo(render(iid_sme(iid), fmt), nl=False)
        return
    with user_prints_to_stderr():
        rule, order, work = rule_and_estimate(options, modifying)
        _refuse_joint(rule, {"--modifying": modifying, "--principal": principal, "--equivalent": equivalent})
        if covariance and (rule.name != "sgd" or rule.options.get("shuffle") != "random" or modifying):
            fail("--covariance is the epoch noise of --scheme sgd --shuffle random (without --modifying)")
        if principal:  # refused before any work (a RuleError: one line, exit 2)
            from bea.principal import require_linear
            require_linear(rule)
        if equivalent is None:
            d = derive_with_progress(rule, order, work, modifying)
        elif modifying or principal or covariance:
            fail(f"--equivalent {equivalent} is a derivation of its own: drop --modifying, --principal and --covariance")
        else:
            try:
                d = equivalent_step(rule, order, max_terms=None)
            except ValueError as exc:
                fail(f"--equivalent {equivalent}: {exc}")
    if covariance:
        from bea.stochastic.sections import WithEpochCovariance
        from bea.stochastic import epoch_covariance

        d = WithEpochCovariance(d, epoch_covariance())
    if principal:
        from bea.principal import stability_function
        from bea.render.sections import WithPrincipal

        try:
            with user_prints_to_stderr():
                d = WithPrincipal(d, stability_function(rule))
        except ValueError as exc:
            fail(f"--principal: {exc}")
    click.echo(render(d, fmt), nl=False)


def _derive_scheduled(fmt, schedule, given, options, others) -> None:
    """``bea derive … --schedule NAME``: the generic scheduled flow, and for a named schedule
    its ``η(t)`` and derivatives (text, LaTeX and Markdown: lines after; JSON: a key);
    ``given`` the ``--schedule-set`` values, checked by :func:`schedule_request`."""
    import json

    from bea.schedule import derive_scheduled
    from bea.schedule.report import schedule_data, schedule_lines

    clash = [flag for flag, on in others.items() if on]
    if clash:
        fail(f"--schedule does not combine with {clash[0]} yet; drop one of them")
    if iid_request(options, {}) is not None:
        fail("--schedule does not combine with --sampling iid yet; drop one of them")
    named = SCHEDULES_NAMED.get(schedule)
    values = named.values(given) if named else None
    with user_prints_to_stderr():
        rule, order, _ = rule_and_estimate(options)
        _refuse_joint(rule, {"--schedule": True})
        try:
            d = derive_scheduled(rule, order, schedule=schedule)
        except ValueError as exc:  # RuleError (refusals) and TooMuchWork
            fail(f"--schedule: {exc}")
    out = render(d, fmt)
    if named is not None:
        if fmt == "json":
            data = json.loads(out)
            data["schedule"] = schedule_data(named, values, order)
            out = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        else:
            out += "\n".join(schedule_lines(named, values, order, fmt)) + "\n"
    click.echo(out, nl=False)


def _refuse_joint(rule, flags: dict) -> None:
    """A joint expansion in ``h`` and a small parameter (sam, usam; :mod:`bea.joint`) has its
    modified flow, loss, code and check; the other derivations read a rule in ``h`` alone."""
    given = [flag for flag, on in flags.items() if on]
    if rule.small and given:
        fail(f"{given[0]} is not derived for {rule.name}, a joint expansion in h and "
             f"{', '.join(rule.small)}; drop {given[0]}")


@click.command()
@click.option("--out", "-o", default="derivations", show_default=True, metavar="DIR",
              help="folder to write the catalogue into")
def catalogue(out):
    """Regenerate the catalogue of derived results (Markdown + JSON per entry)."""
    from pathlib import Path

    from bea.catalogue import ENTRIES, catalogue_folder_problem, write_catalogue

    writable_directory("--out", out)
    problem = catalogue_folder_problem(Path(out))
    if problem is not None:
        fail(f"--out {out!r}: {problem}")
    with click.progressbar(length=len(ENTRIES), label="deriving", file=sys.stderr) as bar:
        try:
            paths = write_catalogue(Path(out), progress=lambda _: bar.update(1))
        except OSError as exc:
            fail(f"--out: cannot write into {out!r}: {exc.strerror or exc}")
    click.echo(f"wrote {len(paths)} files to {out}")
