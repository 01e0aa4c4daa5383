"""``--schedule NAME`` and ``--schedule-set KEY=VALUE`` for ``bea check``, ``bea drift`` and
``bea codegen``: the options and their parsing, one line and exit status 2 for bad input.

The names and the parameter syntax are ``bea derive``'s (:mod:`bea.schedule.named`):
``none`` (the constant step, the commands' ordinary behaviour), ``generic`` (any ``η(t)``)
or a named schedule, whose parameters are numbers or plain names and are never evaluated.
"""

from __future__ import annotations

import click

from bea.schedule.named import SCHEDULES

from ._common import fail

__all__ = ["schedule_options", "schedule_request"]


def schedule_options(fn):
    """The two options, as ``bea derive`` declares them."""
    fn = click.option("--schedule-set", "schedule_set", multiple=True, metavar="KEY=VALUE",
                      help="a named schedule's parameter (optax's names; steps are time units)")(fn)
    return click.option("--schedule", default="none", metavar="NAME",
                        help="learning-rate schedule, step h·η(t) at t = n·h: none (constant step), "
                             + ", ".join(SCHEDULES))(fn)


def schedule_request(name: str, settings, generic: bool) -> tuple[str, dict] | None:
    """``None`` for ``--schedule none``, else ``(name, {key: text})``; ``generic`` says
    whether the command takes ``--schedule generic`` (code generation: the schedule is given
    at run time) or needs a named schedule with numbers (the numeric runs)."""
    if name == "none":
        if settings:
            fail("--schedule-set belongs to --schedule NAME (e.g. --schedule warmup-cosine)")
        return None
    if name not in SCHEDULES and not (generic and name == "generic"):
        fail(f"--schedule {name!r}: choose {'none, generic' if generic else 'none'} or one of {', '.join(SCHEDULES)}")
    given: dict = {}
    for pair in settings:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"--schedule-set takes KEY=VALUE (e.g. warmup_steps=10), got {pair!r}")
        if key.strip() in given:
            fail(f"--schedule-set {key.strip()} is given twice")
        given[key.strip()] = value.strip()
    if given and name == "generic":
        fail("--schedule-set belongs to a named schedule (e.g. --schedule warmup-cosine), not to generic")
    if name != "generic":
        try:
            SCHEDULES[name].values(given)
        except ValueError as exc:
            fail(f"--schedule-set: {exc}")
    return name, given
