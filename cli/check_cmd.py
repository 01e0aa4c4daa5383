"""``bea check`` and ``bea drift``: derived modified flows against the discrete iterates.

``bea check`` measures the one-cycle error ``‖Φ_h(θ_0) - φ^n_{cycle·h}(θ_0)‖`` of every
truncation order ``n = 1 … N`` over a geometric sweep of h and fits the slope of
``log error`` against ``log h``; the theory gives ``n + 1`` (more when the next orders of
the flow vanish, as for Runge–Kutta methods). Exit status 0 when every slope agrees
within ±0.3, 1 when one does not, 2 for bad input.

``bea drift`` runs ``K`` iterations (``--iterations K``, or ``--steps K`` for schemes
whose own options have no ``--steps``) and compares the iterates with the gradient flow and the modified
flows: observed vs predicted drift, loss and implicit regularizer along the way.

Symbols (momentum's default ``beta``, game rates given as names) need numbers:
``--set beta=0.9``; unset symbols take ``bea.verify.DEFAULT_VALUES``
(β = 1/2, α = 1, λ = 1/2). An SGD epoch without ``--batches`` is checked with 3 batches.
"""

from __future__ import annotations

import json
import sys

import click
import numpy as np

from bea import verify
from bea.derive import derive
from bea.domain import exact_number
from bea.problems import PROBLEMS, ProblemError, load_problem, make_problem
from bea.schemes import SCHEMES

from ._common import bad_input_exits_2, fail, parse_settings, rule_from_options, scheme_options, whole_number

__all__ = ["check", "drift"]

_DEFAULT_SGD_BATCHES = "3"


def _positive_float(option: str, value) -> float | None:
    if value is None:
        return None
    try:
        number = float(exact_number(str(value).strip()))
    except ValueError:
        fail(f"{option} must be a number, got {value!r}")
    if not number > 0:
        fail(f"{option} must be positive, got {value}")
    return number


def _rule_and_problem(kwargs, default_problem: str):
    """Rule, order, problem and symbol values from the shared options."""
    if kwargs.get("scheme") == "sgd" and not kwargs.get("batches"):
        kwargs["batches"] = _DEFAULT_SGD_BATCHES
    spec, size, seed = kwargs.pop("problem"), kwargs.pop("size"), kwargs.pop("seed")
    values = {k: float(v) for k, v in parse_settings(kwargs.pop("settings")).items()}
    rule, order = rule_from_options(kwargs)
    size = None if size is None else whole_number("--size", size)
    if seed is not None and not str(seed).strip().isdigit():
        fail(f"--seed must be a whole number ≥ 0, got {seed!r}")
    seed = int(seed) if seed is not None else 0
    game = tuple(rule.blocks) != (None,)
    spec = spec or ("dirac-gan" if game else default_problem)
    try:
        if spec.endswith(".py") or ".py:" in spec:
            problem = load_problem(spec, rule.atoms)
        else:
            problem = make_problem(spec, rule.atoms, tuple(rule.blocks), size, seed)
    except ProblemError as exc:
        fail(str(exc))
    return rule, order, problem, values


def _numbers_or_fail(call):
    """Run ``call``; a symbol without a number is bad input."""
    try:
        return call()
    except ValueError as exc:
        fail(f"{exc} (use --set NAME=VALUE)")


def _problem_options(fn):
    decorators = [
        click.option("--problem", "-p", metavar="NAME|FILE.py:NAME",
                     help="built-in problem (" + ", ".join(PROBLEMS) + ") or a problem file"),
        click.option("--size", metavar="N", help="dimension of the built-in problem (mlp: hidden width)"),
        click.option("--seed", metavar="S", help="random instance of the built-in problem"),
        click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
                     help="number for a symbol of the rule (repeatable), e.g. --set beta=0.9"),
        click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                     help="output format"),
        click.option("--plot", metavar="FILE.png", help="also draw the result into FILE.png"),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


# ---------------------------------------------------------------------------------------
@click.command("check")
@scheme_options
@_problem_options
@bad_input_exits_2
def check(fmt, plot, **kwargs):
    """Observed orders: one-cycle error of each truncated flow vs the iterates.

    Fits the slope of log error vs log h for truncation orders 1..N and compares it with
    the expected one; exit status 1 when any differs by more than 0.3.
    """
    rule, order, problem, values = _rule_and_problem(kwargs, "logistic")
    _numbers_or_fail(lambda: verify.resolve_values(derive(rule, 1), values))
    with click.progressbar(length=order, label="checking orders", file=sys.stderr) as bar:
        derivation, result = _numbers_or_fail(
            lambda: verify.check(rule, order, problem, values, progress=bar.update))
    ok = result.ok
    if fmt == "json":
        click.echo(json.dumps(_check_json(rule, order, problem, result), indent=2))
    else:
        _check_text(rule, order, problem, result)
    if plot:
        _check_plot(plot, rule, problem, result)
    sys.exit(0 if ok else 1)


def _check_json(rule, order, problem, result) -> dict:
    return {
        "scheme": rule.name, "options": {k: str(v) for k, v in rule.options.items()},
        "order": order, "problem": problem.name, "tolerance": result.tolerance, "ok": result.ok,
        "orders": [
            {
                "n": n, "slope": None if not np.isfinite(result.slopes[i]) else result.slopes[i],
                "expected": result.expected[i], "at_least": result.minimum[i],
                "agrees": result.agrees(i),
                "points": [
                    {"h": float(h), "error": float(e), "integration_error": float(g), "fitted": bool(u)}
                    for h, e, g, u in zip(result.hs[i], result.errors[i], result.integration[i],
                                          result.used[i])
                ],
            }
            for i, n in enumerate(result.orders)
        ],
    }


def _check_text(rule, order, problem, result) -> None:
    click.echo(f"bea check: {rule.description or rule.name}, truncation orders 1..{order}, "
               f"problem {problem.name}")
    click.echo("one-cycle error ‖Φ_h(θ0) - φ^n_T(θ0)‖ (* = fitted; others below round-off or "
               "past the asymptotic range)")
    header = f"{'h':>10}" + "".join(f"{'n=' + str(n):>13}" for n in result.orders)
    click.echo(header)
    for j, h in enumerate(result.hs[0]):
        cells = "".join(
            f"{result.errors[i][j]:>12.3e}{'*' if result.used[i][j] else ' '}"
            for i in range(len(result.orders))
        )
        click.echo(f"{h:>10.3e}{cells}")
    click.echo(f"{'order':>6}{'slope':>9}{'expected':>10}  agrees (±{result.tolerance})")
    for i, n in enumerate(result.orders):
        expected = str(result.expected[i]) if result.expected[i] else f"≥{result.minimum[i]}"
        slope = f"{result.slopes[i]:.2f}" if np.isfinite(result.slopes[i]) else "n/a"
        click.echo(f"{n:>6}{slope:>9}{expected:>10}  {'yes' if result.agrees(i) else 'NO'}")
    click.echo("all orders agree" if result.ok else "MISMATCH: some observed orders disagree")


def _check_plot(path, rule, problem, result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, n in enumerate(result.orders):
        hs, errs, used = result.hs[i], result.errors[i], result.used[i]
        line, = ax.loglog(hs, errs, "o-", ms=3, label=f"n={n}: slope {result.slopes[i]:.2f} "
                          f"(expected {result.expected[i] or '≥' + str(result.minimum[i])})")
        ax.loglog(hs[used], errs[used], "o", ms=7, mfc="none", color=line.get_color())
    ax.set_xlabel("h")
    ax.set_ylabel("one-cycle error")
    ax.set_title(f"{rule.name} on {problem.name}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        fail(f"cannot write {path!r}: {exc.strerror}")
    finally:
        plt.close(fig)


def _takes_steps(options) -> bool:
    """Whether the chosen scheme has its own ``--steps`` option (continual, game)."""
    scheme = SCHEMES.get(options.get("scheme") or "")
    return scheme is not None and "steps" in scheme.options


# ---------------------------------------------------------------------------------------
@click.command("drift")
@scheme_options
@_problem_options
@click.option("--iterations", "--updates", "iterations", default=None, metavar="K",
              help="number of iterations, calls of the rule (default 100); for schemes without "
              "a --steps option, --steps K means the same")
@click.option("--lr", metavar="H", help="learning rate h (default 0.2/λ, λ the largest "
              "Jacobian norm of the atoms at θ0)")
@bad_input_exits_2
def drift(fmt, plot, iterations, lr, **kwargs):
    """Symbolic vs simulated drift: iterates vs gradient flow vs modified flows.

    Observed drift θ_j - φ^1(t_j) beside the predicted drift φ^n(t_j) - φ^1(t_j) of the
    modified flows (norm ratio and cosine), distances to each flow, and the loss and
    implicit regularizer along the iterates. Default problem: the MLP (11 041 parameters).
    """
    if kwargs.get("steps") is not None and not _takes_steps(kwargs):
        if iterations is not None:
            fail("give the number of iterations once: --iterations K (or --steps K)")
        iterations, kwargs["steps"] = kwargs["steps"], None
    iterations = whole_number("--iterations", 100 if iterations is None else iterations)
    lr = _positive_float("--lr", lr)
    rule, order, problem, values = _rule_and_problem(kwargs, "mlp")
    derivation = derive(rule, order)
    _numbers_or_fail(lambda: verify.resolve_values(derivation, values))
    h = lr or _numbers_or_fail(lambda: verify.default_learning_rate(derivation, problem, values))
    with click.progressbar(length=iterations, label="iterating", file=sys.stderr) as bar:
        result = _numbers_or_fail(
            lambda: verify.drift(derivation, problem, h, iterations, values, progress=bar.update))
    if fmt == "json":
        click.echo(json.dumps(_drift_json(rule, problem, result), indent=2))
    else:
        _drift_text(rule, problem, result)
    if plot:
        _drift_plot(plot, rule, problem, result)


def _series(x):
    return None if x is None else [float(v) if np.isfinite(v) else None for v in x]


def _drift_json(rule, problem, r) -> dict:
    return {
        "scheme": rule.name, "problem": problem.name, "parameters": r.n_params, "h": r.h,
        "times": _series(r.times), "observed_drift": _series(r.observed),
        "distance": {str(n): _series(r.distance[n]) for n in r.orders},
        "ratio": {str(n): _series(r.ratio[n]) for n in r.ratio},
        "cosine": {str(n): _series(r.cosine[n]) for n in r.cosine},
        "loss": _series(r.loss), "regularizer": _series(r.regularizer),
    }


def _drift_text(rule, problem, r) -> None:
    top = r.orders[-1]
    click.echo(f"bea drift: {rule.description or rule.name} on {problem.name} "
               f"({r.n_params} parameters), h = {r.h:.4g}, {len(r.times) - 1} iterations")
    click.echo("distance of the iterates θ_j to the gradient flow (n=1) and the modified flows; "
               f"predicted/observed drift of order {top}")
    cols = "".join(f"{'‖θ-φ' + str(n) + '‖':>12}" for n in r.orders)
    extra = f"{'ratio':>8}{'cos':>8}" if top > 1 else ""
    loss = f"{'loss':>12}{'regularizer':>13}" if r.loss is not None else ""
    click.echo(f"{'j':>6}{'t':>10}{cols}{extra}{loss}")
    k = len(r.times) - 1
    for j in sorted(set(np.linspace(0, k, min(k, 10) + 1).astype(int))):
        row = f"{j:>6}{r.times[j]:>10.4g}" + "".join(f"{r.distance[n][j]:>12.3e}" for n in r.orders)
        if top > 1:
            row += f"{r.ratio[top][j]:>8.3f}{r.cosine[top][j]:>8.3f}"
        if r.loss is not None:
            row += f"{r.loss[j]:>12.5g}{r.regularizer[j]:>13.4e}"
        click.echo(row)
    if top > 1 and r.distance[top][-1] > 0:
        click.echo(f"at j={k}: the order-{top} modified flow is "
                   f"{r.distance[1][-1] / r.distance[top][-1]:.3g}× closer to the iterates "
                   "than the gradient flow")


def _drift_plot(path, rule, problem, r) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if r.loss is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.8))
    for n in r.orders:
        axes[0].semilogy(r.times[1:], r.distance[n][1:], label=f"‖θ_j - φ^{n}‖")
    axes[0].set_xlabel("t = j·cycle·h")
    axes[0].set_title("distance of the iterates to the flows")
    axes[0].legend(fontsize=7)
    for n in r.ratio:
        axes[1].plot(r.times[1:], r.ratio[n][1:], label=f"ratio n={n}")
        axes[1].plot(r.times[1:], r.cosine[n][1:], "--", label=f"cosine n={n}")
    axes[1].set_title("predicted vs observed drift")
    axes[1].set_xlabel("t")
    axes[1].legend(fontsize=7)
    if r.loss is not None:
        axes[2].semilogy(r.times, abs(r.loss), label="loss (order-1 part)")
        axes[2].semilogy(r.times, abs(r.regularizer), label="|implicit regularizer|")
        axes[2].set_title("loss and implicit regularizer along the iterates")
        axes[2].set_xlabel("t")
        axes[2].legend(fontsize=7)
    fig.suptitle(f"{rule.name} on {problem.name}, h = {r.h:.3g}")
    fig.tight_layout()
    _save(fig, path)
