"""``bea check`` and ``bea drift``: a thin click layer over :mod:`bea.check`.

``bea check`` exits 0 when every observed order agrees with the expected one, 1 when one
does not, 2 for bad input. ``bea drift`` runs ``K`` iterations (``--iterations K``, or
``--steps K`` for schemes whose own options have no ``--steps``). Defaults chosen for the
user and warnings are printed on stderr; every error is one line on stderr and exit 2.
``bea.check`` (jax, diffrax, matplotlib) is imported inside the commands only.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys

import click

from bea._files import replacing
from bea.domain import exact_number
from bea.registry import algebra_of
from bea.schemes import SCHEMES

from ._common import (
    bad_input_exits_2, fail, parse_settings, rule_from_options, scheme_options, user_prints_to_stderr, whole_number,
)
from ._noise import iid_request
from ._schedule import schedule_options, schedule_request

__all__ = ["check", "drift"]

def _positive_float(option: str, value) -> float | None:
    if value is None:
        return None
    try:
        number = _finite(option, exact_number(str(value).strip()))
    except ValueError:
        fail(f"{option} must be a number, got {value!r}")
    if not number > 0:
        fail(f"{option} must be positive, got {value}")
    return number


def _finite(what: str, value) -> float:
    """``value`` as a float, refused (one line, exit 2) beyond the floating-point range:
    the numeric runs would compute with infinity."""
    number = float(value)
    if not math.isfinite(number):
        fail(f"{what} is beyond the floating-point range (|x| < 1.8e308) the numeric runs use")
    return number


@contextlib.contextmanager
def _check_errors():
    """bea.check's errors (bad numbers, problems, limits, solver failures) → one line, exit 2."""
    try:
        yield
    except ValueError as exc:  # CheckError, ProblemError, a symbol without a number
        message = str(exc)
        if message.startswith("give"):
            message += " (use --set NAME=VALUE)"
        fail(message)


def _progress(length: int, label: str):
    """A click progress bar on a terminal, showing the stage the run reports; elsewhere nothing."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return click.progressbar(length=length, label=label, file=sys.stderr, item_show_func=lambda stage: stage)


def _hook(bar):
    """The library's ``progress(n, stage=None)`` hook for ``bar`` (``None``: no hook); a
    stage announced as it starts (``n = 0``) is drawn at once."""
    if bar is None:
        return None

    def progress(n: int, stage: str | None = None) -> None:
        bar.update(n, stage)
        if n == 0:
            bar.render_progress()

    return progress


def _print_notes(notes) -> None:
    for note in notes:
        click.echo(f"bea: {note}", err=True)
    notes.clear()


def _rule_and_problem(kwargs, experiment: str, notes: list):
    """Rule, order, problem and symbol values from the shared options."""
    from bea.check import problem_for, scheme_defaults

    spec, size, seed = kwargs.pop("problem"), kwargs.pop("size"), kwargs.pop("seed")
    settings = parse_settings(kwargs.pop("settings"))
    values = {k: _finite(f"--set {k}", v) for k, v in settings.items()}
    kwargs.update(scheme_defaults(kwargs.get("scheme"), kwargs, notes))
    declared = SCHEMES[kwargs["scheme"]].options if kwargs.get("scheme") in SCHEMES else {}
    given = {name: kwargs.get(name) for name, opt in declared.items() if opt.ranges}
    rule, order = rule_from_options(kwargs)
    _check_settings(declared, given, settings)
    for name, value in rule.params.items():
        if getattr(value, "is_number", False) and value.is_real:
            _finite(f"parameter {name} of {rule.name}", value)
    size = None if size is None else whole_number("--size", size)
    with _check_errors():
        problem = problem_for(rule, spec, size, _seed(seed), experiment, notes)
    return rule, order, problem, values


def _check_settings(declared: dict, given: dict, settings: dict) -> None:
    """A ``--set NAME=VALUE`` for the symbol an option stands for is refused outside that
    option's range (``--beta beta --set beta=2`` as ``--beta 2``): one line, exit 2."""
    for name, raw in given.items():
        opt = declared[name]
        typed = opt.parse(raw)
        for value, bounds in zip(typed if isinstance(typed, tuple) else (typed,), opt.ranges):
            symbol = str(value)
            if getattr(value, "is_Symbol", False) and symbol in settings \
                    and not bounds.contains(settings[symbol]):
                fail(f"--set {symbol}={settings[symbol]} is outside the range {bounds} of {opt.flag}")


def _seed(seed) -> int:
    if seed is not None and not str(seed).strip().isdigit():
        fail(f"--seed must be a whole number ≥ 0, got {seed!r}")
    return int(seed or 0)


def _iid(kwargs):
    """``--scheme sgd --sampling iid``: the request (its options popped), or ``None``; the
    built-in per-example problem takes no --problem, --size or --set."""
    return iid_request(kwargs, {"--problem": kwargs.get("problem"), "--size": kwargs.get("size"),
                                "--set": kwargs.get("settings")})


def _iid_problem(iid, seed, notes: list):
    """Numbers for ``B``, ``n`` and the built-in problem of :mod:`bea.stochastic.problem`."""
    from bea.stochastic import SamplingError
    from bea.stochastic.problem import built_in, numeric_sampling

    try:
        batch, examples = numeric_sampling(iid.batch, iid.examples, iid.replace, notes)
    except SamplingError as exc:
        fail(f"--sampling iid: {exc}")
    return batch, examples, built_in(examples, _seed(seed))


def _problem_options(fn):
    decorators = [
        click.option("--problem", "-p", metavar="NAME|FILE.py:NAME",
                     help="built-in problem (logistic, mlp, dirac-gan, …; an unknown name lists them all) "
                     "or a problem file"),
        click.option("--size", metavar="N", help="dimension of the built-in problem (mlp: hidden width)"),
        click.option("--seed", metavar="S", help="random instance of the built-in problem"),
        click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
                     help="number for a symbol of the rule (repeatable), e.g. --set beta=0.9"),
        click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                     help="output format"),
        click.option("--plot", metavar="FILE.png", help="also draw the result into FILE (png, pdf or svg)"),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _validate_plot(plot) -> None:
    if plot:
        from bea.check.report import validate_plot_path

        with _check_errors():
            validate_plot_path(plot)


# ---------------------------------------------------------------------------------------
@click.command("check")
@scheme_options
@_problem_options
@click.option("--modifying", is_flag=True, default=False,
              help="check the modifying field: the rule run on f̃ truncated at n vs its first-order flow")
@schedule_options
@bad_input_exits_2
def check(fmt, plot, modifying, schedule, schedule_set, **kwargs):
    """Observed orders: one-cycle error of each truncated flow vs the iterates.

    Fits the slope of log error vs log h for truncation orders 1..N and compares it with
    the expected one; exit status 1 when any differs by more than 0.3. With --modifying,
    the rule run on the modifying field truncated at n against its first-order flow.
    """
    from bea.check import check as run_check
    from bea.check import check_modifying, report

    iid = _iid(kwargs)
    if iid is not None:
        _check_iid(iid, kwargs["seed"], fmt, plot)
    scheduled = schedule_request(schedule, schedule_set, generic=False)
    if scheduled is not None:
        _check_scheduled(scheduled, fmt, plot, modifying, kwargs)
    _validate_plot(plot)
    notes: list = []
    with user_prints_to_stderr():
        rule, order, problem, values = _rule_and_problem(kwargs, "check", notes)
        if rule.small and (modifying or plot):
            fail("a joint expansion in h and a small parameter (sam, usam) is checked by its two slopes; "
                 "drop --modifying and --plot")
        run = check_modifying if modifying else run_check
        with _check_errors(), _progress(order, "checking orders") as bar:
            _, result = run(rule, order, problem, values, notes=notes, progress=_hook(bar))
    _print_notes(notes)
    if rule.small:  # a joint expansion in h and a second small parameter: its two slopes
        from bea.check.joint import joint_json, joint_text

        click.echo(json.dumps(joint_json(rule, problem, result), indent=2) if fmt == "json"
                   else joint_text(rule, problem, result))
        sys.exit(0 if result.ok else 1)
    if fmt == "json":
        click.echo(json.dumps(report.check_json(rule, order, problem, result, modifying), indent=2))
    else:
        click.echo(report.check_text(rule, order, problem, result, modifying))
    if plot:
        with _check_errors():
            report.check_plot(plot, rule, problem, result)
    sys.exit(0 if result.ok else 1)


def _check_scheduled(scheduled, fmt, plot, modifying, kwargs) -> None:
    """``bea check --schedule NAME``: the slopes of the scheduled flow's truncations at times
    along the schedule (:mod:`bea.check.scheduled`); exit 1 on a mismatch."""
    from bea.check import report
    from bea.check.scheduled import check_schedule, planned_times

    if modifying or plot:
        fail(f"--schedule does not combine with {'--modifying' if modifying else '--plot'} yet; drop one of them")
    notes: list = []
    with user_prints_to_stderr():
        rule, order, problem, values = _rule_and_problem(kwargs, "check", notes)
        with _check_errors():
            count = len(planned_times(*scheduled))
        with _check_errors(), _progress(count, "checking times") as bar:
            result = check_schedule(rule, order, *scheduled, problem, values, progress=_hook(bar), notes=notes)
    _print_notes(notes)
    if fmt == "json":
        click.echo(json.dumps(report.schedule_check_json(rule, order, problem, result), indent=2))
    else:
        click.echo(report.schedule_check_text(rule, order, problem, result))
    sys.exit(0 if result.ok else 1)


def _check_iid(iid, seed, fmt, plot) -> None:
    """``bea check --scheme sgd --sampling iid``: one-step weak errors of the SMEs of weak
    orders 1..N against h (exact expectations over every batch); exit 1 on a mismatch."""
    from bea.check import SLOPE_TOLERANCE
    from bea.stochastic.report import weak_json, weak_plot, weak_text
    from bea.stochastic.weak import weak_check

    _validate_plot(plot)
    notes: list = []
    batch, examples, problem = _iid_problem(iid, seed, notes)
    _print_notes(notes)
    result = weak_check(iid.order, problem.loss_per_example, problem.data, problem.theta0, batch,
                        iid.replace, SLOPE_TOLERANCE)
    sampling = iid.sampling(batch, examples)
    if fmt == "json":
        click.echo(json.dumps(weak_json(sampling, problem, result), indent=2))
    else:
        click.echo(weak_text(sampling, problem, result))
    if plot:
        with _check_errors():
            weak_plot(plot, sampling, problem, result)
    sys.exit(0 if result.ok else 1)


NOISE_RUNS, MAX_RUNS, MAX_NOISE_STEPS, MAX_NOISE_WORK = 256, 4096, 10**5, 10**7
"""``bea drift --noise``: default and most runs, most steps, most runs × steps."""


def _drift_noise(iid, iterations, lr, runs, seed, fmt, plot) -> None:
    """``bea drift --noise``: SGD runs vs SME paths (diffrax) on the built-in problem."""
    if iid is None:
        fail("--noise is the noise of --scheme sgd --sampling iid")
    runs = whole_number("--runs", NOISE_RUNS if runs is None else runs)
    steps = whole_number("--iterations", 100 if iterations is None else iterations)
    h = _positive_float("--lr", lr) or 0.1
    if runs > MAX_RUNS or steps > MAX_NOISE_STEPS or runs * steps > MAX_NOISE_WORK:
        fail(f"--noise runs at most {MAX_RUNS} runs, {MAX_NOISE_STEPS} steps and {MAX_NOISE_WORK} "
             f"runs × steps; got {runs} runs of {steps} steps")
    _validate_plot(plot)
    import jax

    from bea.stochastic.paths import noise_paths, plot_noise_paths
    from bea.stochastic.report import noise_json, noise_text

    notes: list = []
    if sys.stderr.isatty():
        notes.append(f"simulating {runs} SGD runs and {runs} SME paths of {steps} steps")
    with jax.enable_x64(True):
        batch, examples, problem = _iid_problem(iid, seed, notes)
        _print_notes(notes)
        paths = noise_paths(problem.loss_per_example, problem.data, jax.numpy.array([1.0, -1.0]), h, steps,
                            batch, runs=runs, replace=iid.replace, order=iid.order, seed=_seed(seed))
    _refuse_non_finite(paths, h)
    sampling = iid.sampling(batch, examples)
    if fmt == "json":
        click.echo(json.dumps(noise_json(sampling, problem, h, runs, paths), indent=2))
    else:
        click.echo(noise_text(sampling, problem, h, runs, paths))
    if plot:
        try:
            with replacing(plot) as tmp:
                plot_noise_paths(paths, str(tmp))
        except OSError as exc:
            fail(f"--plot {plot!r}: cannot write ({exc.strerror or exc})")


def _refuse_non_finite(paths, h: float) -> None:
    """Means and spreads that reached NaN or infinity are no result: one line naming when
    and what to change, exit status 1, nothing on stdout."""
    import numpy as np

    first = {}
    for name, label in (("sgd", "the SGD runs"), ("sme", "the SME paths")):
        rows = [np.isfinite(v).reshape(len(paths.times), -1).all(axis=1) for v in paths.stats[name].values()]
        finite = np.logical_and.reduce(rows)
        if not finite.all():
            first[label] = int(np.argmin(finite))
    if first:
        label, j = min(first.items(), key=lambda item: item[1])
        click.echo(f"bea: error: {label} reached NaN or infinity at t = {paths.times[j]:.4g} (step {j}): "
                   f"--lr {h:g} is too large for this problem; try a smaller --lr", err=True)
        sys.exit(1)


def _drift_scheduled(scheduled, iterations, lr, fmt, plot, kwargs) -> None:
    """``bea drift --schedule NAME``: iterates with step h·η(t_j) vs the gradient flow vs the
    non-autonomous modified flows over the whole schedule (:mod:`bea.check.schedule_drift`);
    without --lr, the default rate divided by the schedule's peak when it is above 1."""
    from bea.check import default_learning_rate, report
    from bea.check.drifting import drift_work
    from bea.check.schedule_drift import refuse_unless_drifts, schedule_peak, scheduled_drift
    from bea.check.values import numeric_rule
    from bea.derive import derive

    notes: list = []
    with user_prints_to_stderr():
        rule, order, problem, values = _rule_and_problem(kwargs, "drift", notes)
        with _check_errors():
            refuse_unless_drifts(rule)
            h = lr
            if h is None:
                h = default_learning_rate(derive(numeric_rule(rule, values), order), problem, values)
                h /= max(1.0, schedule_peak(*scheduled, iterations * float(rule.cycle) * h))
                notes.append(f"--lr not given: using h = {h:.4g}")
            with _progress(drift_work(iterations, order), "drift") as bar:
                result = scheduled_drift(rule, order, *scheduled, problem, h, iterations, values,
                                         progress=_hook(bar), notes=notes)
    _print_notes(notes)
    if fmt == "json":
        click.echo(json.dumps(report.drift_json(rule, problem, result), indent=2))
    else:
        click.echo(report.drift_text(rule, problem, result))
    if plot:
        with _check_errors():
            report.drift_plot(plot, rule, problem, result)


def _takes_steps(options) -> bool:
    """Whether the chosen scheme has its own ``--steps`` option (continual, game)."""
    scheme = SCHEMES.get(options.get("scheme") or "")
    return scheme is not None and "steps" in scheme.options


def _principal_flow(rule, derivation, problem, values, lr, notes):
    """The numeric principal flow and the learning rate (``lr``, or the oscillating default,
    announced in ``notes``)."""
    from bea.check.principal import numeric_flow, oscillating_rate, top_eigenvalue

    flow = numeric_flow(rule, values)
    if rule.n_aux:
        notes.append(f"{rule.name} starts from the order-{derivation.order} slaved velocity: the PF "
                     "follows the iterates to that order, not to round-off (raise --order or lower --lr)")
    if lr:
        return flow, lr
    h, z = oscillating_rate(flow, top_eigenvalue(derivation, problem, values))
    notes.append(f"using problem {problem.name} at h = {h:.4g} (hλ_max = {z:.3g})")
    return flow, h


# ---------------------------------------------------------------------------------------
@click.command("drift")
@scheme_options
@_problem_options
@click.option("--iterations", "--updates", "iterations", default=None, metavar="K",
              help="number of iterations, calls of the rule (default 100, at most 10^6); for schemes "
              "without a --steps option, --steps K means the same")
@click.option("--lr", metavar="H", help="learning rate h (default 0.2/Λ, Λ the rate at which the "
              "modified flow's series grows at θ0: for momentum about λ(1+β)/(2(1-β)²), λ the largest "
              "Jacobian norm of the atoms; a warning names a smaller --lr, checked, if the iterates "
              "diverge or the loss rises)")
@click.option("--principal", is_flag=True,
              help="also the principal flow, all orders at once (gd, rk, momentum); default problem "
              "oscillating, default h at 0.9 × the first stability threshold of hλ_max")
@click.option("--noise", is_flag=True, default=False,
              help="sgd --sampling iid: many SGD runs vs many SME paths, mean and spread over time")
@click.option("--runs", metavar="R", help=f"--noise: runs of each (default {NOISE_RUNS}, at most {MAX_RUNS})")
@schedule_options
@bad_input_exits_2
def drift(fmt, plot, iterations, lr, principal, noise, runs, schedule, schedule_set, **kwargs):
    """Symbolic vs simulated drift: iterates vs gradient flow vs modified flows.

    Observed drift θ_j - φ^1(t_j) beside the predicted drift φ^n(t_j) - φ^1(t_j) of the
    modified flows (norm ratio and cosine), distances to each flow, and the loss and
    implicit regularizer along the iterates. Default problem: the MLP (11 041 parameters).
    With --principal, also the principal flow (integrated with a complex state; its real
    part is compared), by default on the problem oscillating at an oscillating rate.
    """
    from bea.check import default_learning_rate, report
    from bea.check import drift as run_drift
    from bea.check.drifting import drift_work
    from bea.check.values import numeric_rule
    from bea.derive import derive

    if kwargs.get("steps") is not None and not _takes_steps(kwargs):
        if iterations is not None:
            fail("give the number of iterations once: --iterations K (or --steps K)")
        iterations, kwargs["steps"] = kwargs["steps"], None
    iid = _iid(kwargs)
    scheduled = schedule_request(schedule, schedule_set, generic=False)
    if scheduled is not None and (noise or iid is not None or principal):
        fail(f"--schedule does not combine with {'--principal' if principal else '--noise or --sampling iid'} yet; "
             "drop one of them")
    if noise or iid is not None:
        if principal:
            fail("--principal belongs to the deterministic drift (gd, rk, momentum), not to --noise")
        _drift_noise(iid, iterations, lr, runs, kwargs["seed"], fmt, plot)
        return
    if runs is not None:
        fail("--runs belongs to --noise")
    iterations = whole_number("--iterations", 100 if iterations is None else iterations)
    lr = _positive_float("--lr", lr)
    _validate_plot(plot)
    if scheduled is not None:
        _drift_scheduled(scheduled, iterations, lr, fmt, plot, kwargs)
        return
    notes: list = []
    if principal:
        from bea.check.principal import PRINCIPAL_SCHEMES

        if kwargs.get("scheme") not in PRINCIPAL_SCHEMES:
            fail(f"--principal works for schemes {', '.join(PRINCIPAL_SCHEMES)}, not for "
                 f"{kwargs.get('scheme') or 'a --rule'}")
        kwargs["problem"] = kwargs.get("problem") or "oscillating"
    with user_prints_to_stderr():
        rule, order, problem, values = _rule_and_problem(kwargs, "drift", notes)
        if rule.small:
            fail(f"bea drift follows a flow in h alone; {rule.name} is a joint expansion in h and "
                 f"{', '.join(rule.small)}: bea check measures its slopes in both")
        if algebra_of(rule).numbers_first:  # derive with the numbers the run uses (much faster)
            rule = numeric_rule(rule, values, notes)
        derivation = derive(rule, order)
        with _check_errors():
            flow = _principal_flow(rule, derivation, problem, values, lr, notes) if principal else None
            h = lr or (flow[1] if flow else default_learning_rate(derivation, problem, values))
            with _progress(drift_work(iterations, order, principal), "drift") as bar:
                result = run_drift(derivation, problem, h, iterations, values, notes=notes,
                                   progress=_hook(bar), principal=flow[0] if flow else None)
    _print_notes(notes)
    if fmt == "json":
        click.echo(json.dumps(report.drift_json(rule, problem, result), indent=2))
    else:
        click.echo(report.drift_text(rule, problem, result))
    if plot:
        with _check_errors():
            report.drift_plot(plot, rule, problem, result)
