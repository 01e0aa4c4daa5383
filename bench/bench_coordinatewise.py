"""Whole `bea derive` processes for Adam against the targets of issue 19 (part 3).

Run: ``python bench/bench_coordinatewise.py [--runs 3] [--case NAME ...]``. Each case is a
fresh ``bea derive`` process (imports, tracing, logarithm, printing, text output), timed
``--runs`` times; the table gives the median, the target and their ratio (≤ 1 meets it).
Cases run interleaved, one run of each per round, so load from other processes on the
machine falls on all of them alike and the ratios of one run compare.

Numeric parameters are those of ``bench_adaptive.py`` (β = 0.9, ρ = 0.999, ε = 1e-8);
symbolic ones are named ``b1, b2, eps`` on the command line. ``bea.estimate`` prices
symbolic order 4 beyond the default ``--max-terms`` (its ``(1+s)^N`` symbol factor
describes the former sympy field), so that case raises the limit.
"""

from __future__ import annotations

import argparse
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


def once(order: int, params: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command() + ["derive", "--scheme", "adam", "--order", str(order), *params],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (median reported)")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="cases to run (default all)")
    args = parser.parse_args(argv)
    names = args.case or list(CASES)
    times: dict = {name: [] for name in names}
    for _ in range(args.runs):
        for name in names:
            order, params, _target = CASES[name]
            times[name].append(once(order, params))
    print(f"{'adam case':<12} {'order':>5} {'median s':>9} {'min s':>7} {'target s':>9} {'ratio':>6}")
    for name in names:
        order, _params, target = CASES[name]
        median = statistics.median(times[name])
        ratio = f"{median / target:.2f}" if target else "—"
        print(f"{name:<12} {order:>5} {median:>9.2f} {min(times[name]):>7.2f} "
              f"{target if target else '—':>9} {ratio:>6}")


if __name__ == "__main__":
    main()
