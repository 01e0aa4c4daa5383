"""Derive time of Adam's modified flow (coordinate-wise series) at orders 2, 3, 4.

Run: ``PYTHONPATH=. python bench/bench_adaptive.py [max_order]``. Each row is a fresh
process-level cache only for its first derivation; symbolic β, ρ, ε and numeric
(0.9, 0.999, 1e-8) are timed separately.
"""

import sys
import time

from bea import derive
from bea.schemes import build


def main(max_order: int = 4):
    cases = {"symbolic": build("adam", 2), "numeric": build("adam", 2, b1="0.9", b2="0.999", eps="1e-8")}
    print(f"{'parameters':<10} {'order':>5} {'seconds':>9} {'terms in f_N':>13}")
    for name, rule in cases.items():
        for order in range(2, max_order + 1):
            start = time.perf_counter()
            d = derive(rule, order)
            elapsed = time.perf_counter() - start
            print(f"{name:<10} {order:>5} {elapsed:>9.2f} {len(d.flow[order].as_ordered_terms()):>13}",
                  flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
