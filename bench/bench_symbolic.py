"""Whole `bea derive` processes against the "Done when" targets of issue 19 (symbolic
parameters at the speed of numbers), printed as ratios and seconds in one run.

What a researcher waits for is the whole command: interpreter start, imports, the
derivation and the printing of its text output. So every measurement here is a fresh child
process (the engine memoizes tree operations process-wide, so a warm process would hide
work), timed by wall clock and by CPU (user + system of the child, from
``resource.getrusage(RUSAGE_CHILDREN)`` before and after it; steadier than wall time on a
shared machine). Each measurement runs ``--repeats`` times, interleaved (one run of every
measurement per round, ABAB…), so load from other processes falls on the pairs alike;
medians are reported. Targets are judged on the median wall time; the CPU figure is beside
it (``met by CPU only`` means the machine's load made the difference).

Cases (issue 19):
  startup       ``derive --scheme gd --order 2``: the fixed import cost every CLI case pays
                (no target; subtract it to read a case's own work).
  momentum-8    ``--beta beta`` vs ``--beta 9/10`` at order 8: symbolic / numeric ≤ 2.
  latex-8       ``--beta beta`` at order 8, ``--format latex`` vs the text output: ≤ 1.5
                (LaTeX coefficients are printed from the field's factorisation,
                bea.render.latexform, as the text ones are).
  markdown-8    the same with ``--format markdown`` (inline LaTeX): ≤ 1.5.
  momentum-10   ``--beta beta`` at order 10: ≤ 30 s.
  adam-3        symbolic b1, b2, eps at order 3: ≤ 10 s.
  adam-4        the same at order 4: ≤ 60 s.
  adam-4-numeric  β = 0.9, ρ = 0.999, ε = 1e-8 (those of bench_adaptive.py) at order 4: ≤ 10 s.
  sgd-5, sgd-6  symbolic number of batches m at order 5 (≤ 10 s) and 6 (≤ 60 s).
  rk4-13        ``--scheme rk --method rk4 --order 13`` text output vs the library
                ``bea.derive`` call alone (timed inside its own child, after imports and
                ``build``): CLI wall / derive wall ≤ 1.3.
  rk4-14        the CLI at order 14: ≤ 10 s.
Large cases pass ``--max-terms 1000000000`` so the work estimate does not refuse them. A
run that exits non-zero or passes ``--timeout`` is reported in the table with the last line
of its stderr, and not repeated.

    python bench/bench_symbolic.py [--repeats 3] [--quick] [--only NAME ...] [--timeout S]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIG = ["--max-terms", "1000000000"]
ADAM_SYMBOLIC = ["--b1", "b1", "--b2", "b2", "--eps", "eps"]
ADAM_NUMERIC = ["--b1", "0.9", "--b2", "0.999", "--eps", "1e-8"]
LIBRARY_RK4 = ("import time, bea; from bea.schemes import build; "
               "r = build('rk', {n}, max_terms=10**12, method='rk4'); "
               "t, c = time.perf_counter(), time.process_time(); "
               "bea.derive(r, {n}, max_terms=10**12); "
               "print(time.perf_counter() - t, time.process_time() - c)")


def bea_command() -> list[str]:
    """The ``bea`` console script beside this interpreter (``python -m bea_cli.main`` runs
    nothing: the module has no ``__main__`` block), else its entry point called directly."""
    local = Path(sys.executable).with_name("bea")
    if local.exists():
        return [str(local)]
    found = shutil.which("bea")
    return [found] if found else [sys.executable, "-c", "from bea_cli.main import main; main()"]


def derive(*args: str) -> list[str]:
    return bea_command() + ["derive", *args]


@dataclass
class Measurement:
    """One command, timed ``repeats`` times; ``inner`` holds the (wall, CPU) seconds a
    library child prints of its own ``derive`` call."""

    label: str
    command: list[str]
    capture: bool = False
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    inner: list[tuple[float, float]] = field(default_factory=list)
    failure: str | None = None


@dataclass
class Case:
    """A named group of measurements and the target its ``verdict`` judges."""

    name: str
    measurements: list[Measurement]
    target: float | None  # seconds, or a ratio when the case has a reference
    kind: str  # "seconds", "ratio" (last / first measurement), "inner" (CLI / library derive), "reference"
    slow: bool = False  # skipped by --quick (order ≥ 10 or the longest runs)


def cases() -> list[Case]:
    momentum_8 = derive("--scheme", "momentum", "--beta", "beta", "--order", "8", *BIG)
    return [
        Case("startup", [Measurement("gd order 2 (start-up reference)", derive("--scheme", "gd", "--order", "2"))],
             None, "reference"),
        Case("momentum-8", [
            Measurement("momentum order 8, beta = 9/10", derive("--scheme", "momentum", "--beta", "9/10", "--order", "8", *BIG)),
            Measurement("momentum order 8, symbolic beta", derive("--scheme", "momentum", "--beta", "beta", "--order", "8", *BIG)),
        ], 2.0, "ratio"),
        Case("latex-8", [
            Measurement("momentum order 8, symbolic beta, text", momentum_8),
            Measurement("momentum order 8, symbolic beta, LaTeX", momentum_8 + ["--format", "latex"]),
        ], 1.5, "ratio"),
        Case("markdown-8", [
            Measurement("momentum order 8, symbolic beta, text", momentum_8),
            Measurement("momentum order 8, symbolic beta, Markdown", momentum_8 + ["--format", "markdown"]),
        ], 1.5, "ratio"),
        Case("momentum-10", [Measurement("momentum order 10, symbolic beta",
                                         derive("--scheme", "momentum", "--beta", "beta", "--order", "10", *BIG))],
             30.0, "seconds", slow=True),
        Case("adam-3", [Measurement("adam order 3, symbolic b1 b2 eps",
                                    derive("--scheme", "adam", *ADAM_SYMBOLIC, "--order", "3", *BIG))], 10.0, "seconds"),
        Case("adam-4", [Measurement("adam order 4, symbolic b1 b2 eps",
                                    derive("--scheme", "adam", *ADAM_SYMBOLIC, "--order", "4", *BIG))],
             60.0, "seconds", slow=True),
        Case("adam-4-numeric", [Measurement("adam order 4, numeric",
                                            derive("--scheme", "adam", *ADAM_NUMERIC, "--order", "4", *BIG))],
             10.0, "seconds"),
        Case("sgd-5", [Measurement("sgd order 5, symbolic m", derive("--scheme", "sgd", "--order", "5", *BIG))],
             10.0, "seconds"),
        Case("sgd-6", [Measurement("sgd order 6, symbolic m", derive("--scheme", "sgd", "--order", "6", *BIG))],
             60.0, "seconds", slow=True),
        Case("rk4-13", [
            Measurement("rk4 order 13, library derive (child)",
                        [sys.executable, "-c", LIBRARY_RK4.format(n=13)], capture=True),
            Measurement("rk4 order 13, CLI text",
                        derive("--scheme", "rk", "--method", "rk4", "--order", "13", *BIG)),
        ], 1.3, "inner", slow=True),
        Case("rk4-14", [Measurement("rk4 order 14, CLI text",
                                    derive("--scheme", "rk", "--method", "rk4", "--order", "14", *BIG))],
             10.0, "seconds", slow=True),
    ]


def run_once(m: Measurement, timeout: float) -> None:
    """Run ``m`` once, appending its wall and child CPU seconds, or record its failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(m.command, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=timeout,
                              stdout=subprocess.PIPE if m.capture else subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    except subprocess.TimeoutExpired:
        m.failure = f"timeout after {timeout:g} s"
        return
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        m.failure = f"exit {proc.returncode}: {lines[-1] if lines else '(no stderr)'}"
        return
    if m.capture:
        try:
            inner_wall, inner_cpu = map(float, proc.stdout.split()[-2:])
        except ValueError:
            m.failure = f"unreadable output: {proc.stdout.strip()[-200:]!r}"
            return
        m.inner.append((inner_wall, inner_cpu))
    m.wall.append(wall)
    m.cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def verdict(case: Case) -> list[tuple[str, str, str]]:
    """(result, target, met?) for each measurement row of ``case``."""
    rows = [("", "", "")] * len(case.measurements)
    last = case.measurements[-1]
    if any(m.failure for m in case.measurements):
        return [("", "", "failed" if m.failure else "") for m in case.measurements]
    wall, cpu = statistics.median(last.wall), statistics.median(last.cpu)
    if case.kind == "reference":
        return [(f"{wall:.2f} s", "—", "reference")]
    if case.kind == "seconds":
        by_wall, by_cpu = wall, cpu
        result, target = f"{wall:.2f} s", f"≤ {case.target:g} s"
    else:
        first = case.measurements[0]
        if case.kind == "ratio":
            ref_wall, ref_cpu = statistics.median(first.wall), statistics.median(first.cpu)
        else:
            ref_wall = statistics.median(w for w, _ in first.inner)
            ref_cpu = statistics.median(c for _, c in first.inner)
            rows[0] = (f"derive {ref_wall:.2f} s (CPU {ref_cpu:.2f})", "", "")
        by_wall, by_cpu = wall / ref_wall, cpu / ref_cpu
        result, target = f"{by_wall:.2f}× (CPU {by_cpu:.2f}×)", f"≤ {case.target:g}×"
    met = ("met" if by_wall <= case.target else
           "met by CPU only" if by_cpu <= case.target else "NOT met")
    return rows[:-1] + [(result, target, met)]


def machine() -> str:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        commit = f"{head}{' + uncommitted changes' if dirty else ''}"
    except OSError:
        commit = "unknown"
    return (f"machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}, "
            f"sympy {version('sympy')}, python-flint {version('python-flint')}; commit {commit}; "
            f"command {' '.join(bea_command())}")


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> None:
    all_cases = cases()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement (median reported)")
    parser.add_argument("--quick", action="store_true",
                        help="one run each, skipping order ≥ 10 and the longest cases")
    parser.add_argument("--only", choices=[c.name for c in all_cases], action="append",
                        help="run this case (repeat the option for several)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before one run is stopped")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    chosen = [c for c in all_cases
              if (args.only is None or c.name in args.only) and not (args.quick and c.slow and args.only is None)]
    print(machine())
    print(f"load average at start (1, 5, 15 min): {load()}", flush=True)
    run_once(Measurement("warm-up", derive("--scheme", "gd", "--order", "2")), args.timeout)  # file cache
    measurements = [m for c in chosen for m in c.measurements]
    for round_ in range(repeats):
        for m in measurements:
            if m.failure:
                continue
            run_once(m, args.timeout)
            shown = m.failure or f"wall {m.wall[-1]:.2f} s, CPU {m.cpu[-1]:.2f} s"
            print(f"  round {round_ + 1}/{repeats}  {m.label:<40} {shown}", flush=True)
    print(f"load average at end (1, 5, 15 min): {load()}\n")
    header = ("case", "measurement", "median wall s", "median CPU s", "result", "target", "met?")
    rows = []
    for c in chosen:
        for m, (result, target, met) in zip(c.measurements, verdict(c)):
            wall = f"{statistics.median(m.wall):.2f}" if m.wall and not m.failure else "—"
            cpu = f"{statistics.median(m.cpu):.2f}" if m.cpu and not m.failure else "—"
            rows.append((c.name, m.label, wall, cpu, m.failure or result, target, met))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    print(f"\n{repeats} run(s) each, medians; targets judged on wall time. Subtract the start-up "
          f"reference from a case's wall time to read its own work.")


if __name__ == "__main__":
    main()
