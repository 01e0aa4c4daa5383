"""Start-up cost of the CLI: whole-process CPU time of ``bea derive --scheme gd --order 3``
beside ``python -c "import sympy"`` (the floor: bea's exact core needs sympy).

CPU time (user + system) of each child process is read with
``resource.getrusage(RUSAGE_CHILDREN)`` before and after it runs, so it counts the whole
interpreter start, every import and the derivation, and is steadier than wall time on a
shared machine. Runs alternate between the two commands; medians are printed with their
difference (goal: within 0.4 s, issue 9).

    python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "import sympy": [sys.executable, "-c", "import sympy"],
    "bea derive --scheme gd --order 3": [sys.executable, "-c", "from cli.main import main; main()",
                                         "derive", "--scheme", "gd", "--order", "3"],
}
GOAL = 0.4


def cpu_seconds(command: list[str]) -> float:
    """User + system CPU seconds of one run of ``command`` (a child process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    for command in COMMANDS.values():  # warm the file cache once
        cpu_seconds(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(cpu_seconds(command))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:<36} median {medians[name]:.3f} s CPU  (runs: {', '.join(f'{x:.2f}' for x in t)})")
    sympy_t, bea_t = medians.values()
    diff = bea_t - sympy_t
    print(f"difference: {diff:.3f} s ({'within' if diff <= GOAL else 'beyond'} the {GOAL} s goal)")


if __name__ == "__main__":
    main()
