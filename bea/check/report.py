"""Reports of a check or a drift run: text tables, JSON, and matplotlib plots.

Library functions: they return text or dicts, or write a file, and raise
:class:`~bea.check.common.CheckError` on a path that cannot be written
(:func:`validate_plot_path` checks one before any computation); a plot is written to a
new file renamed over the old one when complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._files import output_file_problem, replacing
from .._version import versioned
from .common import CheckError

__all__ = ["validate_plot_path", "check_json", "check_text", "check_plot", "drift_json", "drift_text",
           "drift_plot", "schedule_check_json", "schedule_check_text", "PLOT_FORMATS"]

PLOT_FORMATS = (".png", ".pdf", ".svg")


def validate_plot_path(path) -> None:
    """Refuse a plot path with another suffix, a FIFO, device or folder there, a missing
    folder, or a folder where a probe file cannot be made (nothing at ``path`` is
    opened; see :func:`bea._files.output_file_problem`)."""
    where = f"--plot {str(path)!r}"
    if Path(path).suffix.lower() not in PLOT_FORMATS:
        raise CheckError(f"{where}: write a {', '.join(s[1:] for s in PLOT_FORMATS)} file (e.g. out.png)")
    problem = output_file_problem(path)
    if problem is not None:
        raise CheckError(f"{where}: {problem}")


def _slope(x) -> float | None:
    return None if not np.isfinite(x) else float(x)


def check_json(rule, order, problem, result, modifying: bool = False) -> dict:
    return versioned({
        "scheme": rule.name, "options": {k: str(v) for k, v in rule.options.items()},
        "order": order, "modifying": modifying, "problem": problem.name, "tolerance": result.tolerance, "ok": result.ok,
        "orders": [
            {
                "n": n, "slope": _slope(result.slopes[i]),
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
    })


def check_text(rule, order, problem, result, modifying: bool = False) -> str:
    what = "modifying field" if modifying else "truncation"
    error = ("the rule run on f̃ truncated at order n vs the first-order flow: ‖Φ̃^n_h(θ0) - φ_T(θ0)‖"
             if modifying else "‖Φ_h(θ0) - φ^n_T(θ0)‖")
    lines = [f"bea check: {rule.description or rule.name}, {what} orders 1..{order}, "
             f"problem {problem.name}",
             f"one-cycle error {error} (* = fitted; others below round-off or "
             "past the asymptotic range)",
             f"{'h':>10}" + "".join(f"{'n=' + str(n):>13}" for n in result.orders)]
    for j, h in enumerate(result.hs[0]):
        cells = "".join(f"{result.errors[i][j]:>12.3e}{'*' if result.used[i][j] else ' '}"
                        for i in range(len(result.orders)))
        lines.append(f"{h:>10.3e}{cells}")
    lines.append(f"{'order':>6}{'slope':>9}{'expected':>10}  agrees (±{result.tolerance})")
    for i, n in enumerate(result.orders):
        expected = str(result.expected[i]) if result.expected[i] else f"≥{result.minimum[i]}"
        slope = f"{result.slopes[i]:.2f}" if np.isfinite(result.slopes[i]) else "n/a"
        lines.append(f"{n:>6}{slope:>9}{expected:>10}  {'yes' if result.agrees(i) else 'NO'}")
    lines.append("all orders agree" if result.ok else "MISMATCH: some observed orders disagree")
    return "\n".join(lines)


def schedule_check_json(rule, order, problem, r) -> dict:
    """``bea check --schedule``: errors and slopes at each time of the schedule."""
    return versioned({
        "scheme": rule.name, "options": {k: str(v) for k, v in rule.options.items()}, "order": order,
        "problem": problem.name, "schedule": {"name": r.schedule, "parameters": r.values, "kinks": r.kinks},
        "tolerance": r.tolerance, "ok": r.ok, "expected": r.expected, "at_least": r.minimum,
        "times": [{"t0": x.t0, "hs": [float(h) for h in x.hs],
                   "orders": [{"n": n, "slope": _slope(x.slopes[i]), "agrees": r.agrees(x.slopes[i], i),
                               "errors": [float(e) for e in x.errors[i]]} for i, n in enumerate(x.orders)]}
                  for x in r.results],
    })


def schedule_check_text(rule, order, problem, r) -> str:
    """One block per time ``t0``: the errors per ``h`` and truncation, the fitted slopes."""
    lines = [f"bea check: {rule.description or rule.name}, step h·η(t), schedule {r.schedule} "
             f"({', '.join(f'{k}={v}' for k, v in r.values.items())}), truncation orders 1..{order}, "
             f"problem {problem.name}",
             "one-cycle error ‖Φ_h(θ0, t0) - φ^n(θ0, t0)‖ of the flow θ' = Σ h^(k-1) f_k(θ, t) from t0"
             + (f" (kinks at t = {', '.join(f'{k:g}' for k in r.kinks)})" if r.kinks else ""),
             "slopes fitted over the 4 smallest h whose error is above 1e-13"]
    for x in r.results:
        lines += ["", f"t0 = {x.t0:g}", f"{'h':>10}" + "".join(f"{'n=' + str(n):>12}" for n in x.orders)]
        for j, h in enumerate(x.hs):
            lines.append(f"{h:>10.3e}" + "".join(f"{x.errors[i][j]:>12.3e}" for i in range(len(x.orders))))
    lines += ["", f"{'t0':>8}" + "".join(f"{'n=' + str(n):>10}" for n in r.orders) + "   slopes"]
    for x in r.results:
        cells = "".join(f"{s:>9.2f}{' ' if r.agrees(s, i) else '!'}" if np.isfinite(s) else f"{'n/a':>9}!"
                        for i, s in enumerate(x.slopes))
        lines.append(f"{x.t0:>8g}{cells}")
    expected = "".join(f"{e if e else '≥' + str(m):>10}" for e, m in zip(r.expected, r.minimum))
    lines.append(f"{'expected':>8}{expected}   (±{r.tolerance}; ! = disagrees)")
    lines.append("all orders agree at every time" if r.ok else "MISMATCH: some observed orders disagree")
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path) -> None:
    """Draw ``fig`` into ``path`` whole (a new file renamed over it), or leave it as it was."""
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=110, format=Path(path).suffix[1:].lower())
    except OSError as exc:
        raise CheckError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    finally:
        plt.close(fig)


def check_plot(path, rule, problem, result) -> None:
    """Log–log errors per truncation order, fitted points circled."""
    plt = _pyplot()
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
    _save(plt, fig, path)


def _series(x):
    return None if x is None else [float(v) if np.isfinite(v) else None for v in x]


def drift_json(rule, problem, r) -> dict:
    return versioned({
        "scheme": rule.name, "problem": problem.name, "parameters": r.n_params, "h": r.h,
        "diverged_at": r.diverged_at, "loss_rose_at": r.loss_rose_at,
        "times": _series(r.times), "observed_drift": _series(r.observed),
        "distance": {str(n): _series(r.distance[n]) for n in r.orders},
        "ratio": {str(n): _series(r.ratio[n]) for n in r.ratio},
        "cosine": {str(n): _series(r.cosine[n]) for n in r.cosine},
        "loss": _series(r.loss), "regularizer": _series(r.regularizer),
        **({"principal": _series(r.principal)} if r.principal is not None else {}),
        **({"schedule": r.schedule, "eta": _series(r.eta)} if r.eta is not None else {}),
    })


def drift_text(rule, problem, r) -> str:
    top = r.orders[-1]
    lines = [f"bea drift: {rule.description or rule.name} on {problem.name} "
             f"({r.n_params} parameters), h = {r.h:.4g}, {len(r.times) - 1} iterations"
             + (f", step h·η(t), schedule {r.schedule}" if r.eta is not None else ""),
             "distance of the iterates θ_j to the gradient flow (n=1) and the modified flows; "
             f"predicted/observed drift of order {top}"]
    cols = "".join(f"{'‖θ-φ' + str(n) + '‖':>12}" for n in r.orders)
    cols += f"{'‖θ-PF‖':>12}" if r.principal is not None else ""
    extra = f"{'ratio':>8}{'cos':>8}" if top > 1 else ""
    loss = f"{'loss':>12}{'regularizer':>13}" if r.loss is not None else ""
    eta = f"{'η(t)':>9}" if r.eta is not None else ""
    lines.append(f"{'j':>6}{'t':>10}{eta}{cols}{extra}{loss}")
    k = len(r.times) - 1
    for j in sorted(set(np.linspace(0, k, min(k, 10) + 1).astype(int))):
        row = f"{j:>6}{r.times[j]:>10.4g}" + (f"{r.eta[j]:>9.4g}" if r.eta is not None else "")
        row += "".join(f"{r.distance[n][j]:>12.3e}" for n in r.orders)
        row += f"{r.principal[j]:>12.3e}" if r.principal is not None else ""
        if top > 1:
            row += f"{r.ratio[top][j]:>8.3f}{r.cosine[top][j]:>8.3f}"
        if r.loss is not None:
            row += f"{r.loss[j]:>12.5g}{r.regularizer[j]:>13.4e}"
        lines.append(row)
    summary = _drift_summary(r)
    if summary:
        lines.append(summary)
    if r.principal is not None:
        lines += _principal_summary(r)
    return "\n".join(lines)


CLOSER = 1.25
"""The least ratio ``‖θ_K - φ^1‖ / ‖θ_K - φ^N‖`` reported as the modified flow being closer."""


def _drift_summary(r) -> str:
    """One line: what the run shows, never a comparison that diverged or that shows nothing."""
    top, k = r.orders[-1], len(r.times) - 1
    if r.diverged_at is not None:
        return f"the iterates diverged at j={r.diverged_at}: no comparison is meaningful (see the warning)"
    if r.loss_rose_at is not None:
        return (f"the loss rose at j={r.loss_rose_at}: the iterates follow no flow, no comparison is "
                "meaningful (see the warning)")
    if top == 1:
        return ""
    near, far = r.distance[top][-1], r.distance[1][-1]
    if not (np.isfinite(near) and np.isfinite(far)):
        return f"at j={k}: a flow could not be integrated (see the warning); no comparison"
    if r.ratio[top][-1] == 0:
        return (f"at j={k}: the modified flows up to order {top} are the gradient flow (their terms "
                f"vanish); the iterates are {far:.3g} from it")
    if near > 0 and far / near >= CLOSER:
        return (f"at j={k}: the order-{top} modified flow is {far / near:.3g}× closer to the iterates "
                "than the gradient flow")
    return (f"at j={k}: the order-{top} modified flow is not closer to the iterates than the gradient "
            f"flow (distances {near:.3g} and {far:.3g}; predicted/observed drift "
            f"{r.ratio[top][-1]:.2g}): h = {r.h:.3g} is past the range the expansion in h "
            f"describes; try a smaller --lr (e.g. {r.h / 4:.3g})")


def _principal_summary(r) -> list[str]:
    """Distance of each flow from the iterates at the end and its maximum over the run."""
    rows = [("gradient flow (n=1)", r.distance[1])]
    rows += [(f"modified flow n={n}", r.distance[n]) for n in r.orders[1:]]
    rows.append(("principal flow (PF)", r.principal))
    lines = ["", f"{'flow':<22}{'‖θ_K - φ‖':>12}{'max_j ‖θ_j - φ‖':>17}"]
    for name, d in rows:
        lines.append(f"{name:<22}{d[-1]:>12.3e}{np.nanmax(d) if np.isfinite(d).any() else np.nan:>17.3e}")
    return lines


def _schedule_panel(ax, r) -> None:
    """Under a schedule: the regularizer ``Σ_{k≥2} h^{k-1} R_k(θ_j, t_j)`` on a linear scale
    (it changes sign: ``-hη'/2·L`` in the warmup) and ``η(t)`` on a second axis."""
    ax.plot(r.times, r.regularizer, "C3", label="implicit regularizer")
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel("t")
    ax.set_title("implicit regularizer along the iterates")
    twin = ax.twinx()
    twin.plot(r.times, r.eta, "k--", lw=1, label="η(t)")
    twin.set_ylabel("η(t)")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7)


def drift_plot(path, rule, problem, r) -> None:
    """Distances to the flows, predicted vs observed drift, loss and regularizer."""
    plt = _pyplot()
    panels = 3 if r.loss is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.8))
    for n in r.orders:
        axes[0].semilogy(r.times[1:], r.distance[n][1:], label=f"‖θ_j - φ^{n}‖")
    if r.principal is not None:
        axes[0].semilogy(r.times[1:], r.principal[1:], "k.-", ms=3, label="‖θ_j - Re φ^PF‖")
    axes[0].set_xlabel("t = j·cycle·h")
    axes[0].set_title("distance of the iterates to the flows")
    axes[0].legend(fontsize=7)
    for n in r.ratio:
        axes[1].plot(r.times[1:], r.ratio[n][1:], label=f"ratio n={n}")
        axes[1].plot(r.times[1:], r.cosine[n][1:], "--", label=f"cosine n={n}")
    axes[1].set_title("predicted vs observed drift")
    axes[1].set_xlabel("t")
    axes[1].legend(fontsize=7)
    if r.loss is not None and r.eta is not None:
        _schedule_panel(axes[2], r)
    elif r.loss is not None:
        axes[2].semilogy(r.times, abs(r.loss), label="loss (order-1 part)")
        axes[2].semilogy(r.times, abs(r.regularizer), label="|implicit regularizer|")
        axes[2].set_title("loss and implicit regularizer along the iterates")
        axes[2].set_xlabel("t")
        axes[2].legend(fontsize=7)
    fig.suptitle(f"{rule.name} on {problem.name}, h = {r.h:.3g}"
                 + (f", schedule {r.schedule}" if r.schedule else ""), fontsize=9 if r.schedule else None)
    fig.tight_layout()
    _save(plt, fig, path)
