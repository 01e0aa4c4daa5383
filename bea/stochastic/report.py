"""Reports of the i.i.d.-sampling experiments: ``bea check --sampling iid`` and ``bea drift --noise``.

Text tables, JSON dicts and plots of a :class:`bea.stochastic.weak.WeakCheck` (one-step
weak error ``max_φ |E φ(θ_SGD) - E φ(X_h)|`` against ``h``, expected slope ``p + 1`` for the
SME of weak order ``p``; Li, Tai & E, Thm. 3) and of a
:class:`bea.stochastic.paths.NoisePaths` (mean and spread of SGD runs and SME paths).
"""

from __future__ import annotations

import numpy as np

from .._version import versioned

__all__ = ["weak_text", "weak_json", "weak_plot", "noise_text", "noise_json"]


def _title(sampling: dict, problem) -> str:
    how = "with" if sampling["replace"] else "without"
    return (f"sgd --sampling iid (B = {sampling['batch']}, n = {sampling['examples']}, {how} replacement) "
            f"on {problem.name}")


def weak_text(sampling: dict, problem, result) -> str:
    lines = [f"bea check: {_title(sampling, problem)}, SME of weak orders 1..{result.orders[-1]}",
             "one-step weak error max_φ |E φ(θ_SGD) - E φ(X_h)|, φ ∈ {θ_j, θ_j θ_k, L}; "
             "E over every batch (exact), SDE side by its Itô–Taylor expansion",
             f"{'h':>10}" + "".join(f"{'p=' + str(p):>13}" for p in result.orders)]
    for j, h in enumerate(result.hs):
        lines.append(f"{h:>10.3e}" + "".join(f"{e[j]:>13.3e}" for e in result.errors))
    lines.append(f"{'order':>6}{'slope':>9}{'expected':>10}  agrees (±{result.tolerance})")
    for i, p in enumerate(result.orders):
        slope = f"{result.slopes[i]:.2f}" if np.isfinite(result.slopes[i]) else "n/a"
        lines.append(f"{p:>6}{slope:>9}{result.expected[i]:>10}  {'yes' if result.agrees(i) else 'NO'}")
    lines.append("all orders agree" if result.ok else "MISMATCH: some observed orders disagree")
    return "\n".join(lines)


def weak_json(sampling: dict, problem, result) -> dict:
    return versioned({
        "scheme": "sgd", "sampling": "iid", "options": sampling, "problem": problem.name,
        "error": "one-step weak error max_φ |E φ(θ_SGD) - E φ(X_h)|",
        "tolerance": result.tolerance, "ok": result.ok,
        "orders": [{"n": p, "slope": float(result.slopes[i]) if np.isfinite(result.slopes[i]) else None,
                    "expected": result.expected[i], "agrees": result.agrees(i),
                    "points": [{"h": float(h), "error": float(e)} for h, e in zip(result.hs, result.errors[i])]}
                   for i, p in enumerate(result.orders)],
    })


def weak_plot(path, sampling: dict, problem, result) -> None:
    """Log–log one-step weak errors per weak order, with fitted slopes."""
    from bea.check.report import _pyplot, _save

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, p in enumerate(result.orders):
        ax.loglog(result.hs, result.errors[i], "o-", ms=4,
                  label=f"weak order {p}: slope {result.slopes[i]:.2f} (expected {result.expected[i]})")
    ax.set_xlabel("h")
    ax.set_ylabel("one-step weak error")
    ax.set_title(_title(sampling, problem), fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(plt, fig, path)


def _rows(times) -> list[int]:
    k = len(times) - 1
    return sorted(set(np.linspace(0, k, min(k, 10) + 1).astype(int)))


def noise_text(sampling: dict, problem, h: float, runs: int, paths) -> str:
    sgd, sme = paths.stats["sgd"], paths.stats["sme"]
    lines = [f"bea drift --noise: {_title(sampling, problem)}, h = {h:.4g}, "
             f"{len(paths.times) - 1} steps, {runs} SGD runs vs {runs} SME paths (diffrax)",
             "mean ± standard deviation across runs of the loss L(θ) and of θ₀",
             f"{'t':>9}{'SGD L':>24}{'SME L':>24}{'SGD θ₀':>24}{'SME θ₀':>24}"]
    for j in _rows(paths.times):
        cells = [(s["loss_mean"][j], s["loss_std"][j]) for s in (sgd, sme)]
        cells += [(s["theta_mean"][j, 0], s["theta_std"][j, 0]) for s in (sgd, sme)]
        lines.append(f"{paths.times[j]:>9.4g}" + "".join(f"{f'{m:.5g} ± {s:.3g}':>24}" for m, s in cells))
    return "\n".join(lines)


def noise_json(sampling: dict, problem, h: float, runs: int, paths) -> dict:
    def series(x):
        return [float(v) for v in np.asarray(x).ravel()] if np.ndim(x) == 1 else np.asarray(x).tolist()

    return versioned({
        "scheme": "sgd", "sampling": "iid", "options": sampling, "problem": problem.name, "h": h,
        "runs": runs, "times": series(paths.times),
        "stats": {name: {key: series(value) for key, value in s.items()} for name, s in paths.stats.items()},
    })
