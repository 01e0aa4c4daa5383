"""Whole `bea derive` processes for Adam against the targets of issue 19 (part 3).

Run: ``python bench/bench_coordinatewise.py [--runs 3] [--case NAME ...] [--baseline DIR]``.
Each case is a fresh ``bea derive`` process (imports, tracing, logarithm, printing, text
output), timed ``--runs`` times; the table gives the median, the target and their ratio
(≤ 1 meets it). Cases run interleaved, one run of each per round, so load from other
processes on the machine falls on all of them alike and the ratios of one run compare.
``--baseline DIR`` (an older checkout, e.g. ``git worktree add /tmp/old 0f3c…``) times the
same commands there too (``--baseline-runs``, each cut at ``--timeout`` seconds) and
prints the speed-up.

Numeric parameters are those of ``bench_adaptive.py`` (β = 0.9, ρ = 0.999, ε = 1e-8);
symbolic ones are named ``b1, b2, eps`` on the command line. ``bea.estimate`` prices
symbolic order 4 beyond the default ``--max-terms`` (its ``(1+s)^N`` symbol factor
describes the former sympy field), so that case raises the limit.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

NUMERIC = ["--b1", "0.9", "--b2", "0.999", "--eps", "1e-8"]
SYMBOLIC = ["--b1", "b1", "--b2", "b2", "--eps", "eps"]
CASES = {  # name: (order, parameters, target seconds)
    "numeric-3": (3, NUMERIC, None),
    "numeric-4": (4, NUMERIC, 10.0),
    "symbolic-3": (3, SYMBOLIC, 10.0),
    "symbolic-4": (4, SYMBOLIC + ["--max-terms", "3000000"], 60.0),
}


def command() -> list[str]:
    """The ``bea`` script beside this interpreter, else the one on PATH."""
    local = Path(sys.executable).with_name("bea")
    found = str(local) if local.exists() else shutil.which("bea")
    if found is None:
        sys.exit("bench_coordinatewise: no `bea` command (pip install -e . first)")
    return [found]


def once(order: int, params: list[str], baseline: str | None = None, timeout: float | None = None) -> float:
    """Seconds of one ``bea derive`` process (``inf`` past ``timeout``); with ``baseline``,
    the CLI of that checkout (its ``cli`` package and ``bea``, run from its folder)."""
    args = ["derive", "--scheme", "adam", "--order", str(order), *params]
    if baseline is None:
        cmd, env, cwd = command() + args, None, None
    else:
        cmd = [sys.executable, "-c", "import sys; from cli.main import main; sys.argv[0] = 'bea'; main()", *args]
        env, cwd = {**os.environ, "PYTHONPATH": baseline}, baseline
    start = time.perf_counter()
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return math.inf
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (median reported)")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="cases to run (default all)")
    parser.add_argument("--baseline", metavar="DIR", help="an older checkout to time beside")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs per case there")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a baseline run is cut")
    args = parser.parse_args(argv)
    names = args.case or list(CASES)
    times: dict = {name: [] for name in names}
    old: dict = {name: [] for name in names}
    for r in range(max(args.runs, args.baseline_runs if args.baseline else 0)):
        for name in names:
            order, params, _target = CASES[name]
            if r < args.runs:
                times[name].append(once(order, params))
            if args.baseline and r < args.baseline_runs:
                old[name].append(once(order, params, args.baseline, args.timeout))
    header = f"{'adam case':<12} {'order':>5} {'median s':>9} {'min s':>7} {'target s':>9} {'ratio':>6}"
    print(header + (f" {'baseline s':>10} {'speed-up':>9}" if args.baseline else ""))
    for name in names:
        order, _params, target = CASES[name]
        median = statistics.median(times[name])
        ratio = f"{median / target:.2f}" if target else "—"
        line = (f"{name:<12} {order:>5} {median:>9.2f} {min(times[name]):>7.2f} "
                f"{target if target else '—':>9} {ratio:>6}")
        if args.baseline:
            before = statistics.median(old[name])
            shown = f"> {args.timeout:.0f}" if math.isinf(before) else f"{before:.2f}"
            line += f" {shown:>10} {('> ' if math.isinf(before) else '') + f'{min(before, args.timeout) / median:.1f}×':>9}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
