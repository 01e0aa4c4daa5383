"""Modifying-integrator benchmark: bea vs kauri's preprocessed integrator, exact, side by side.

The modifying field of a Runge–Kutta method (Chartier, Hairer & Vilmart 2010): one exact
rational coefficient per rooted tree of order ≤ N. bea solves it order by order through
its pipeline (:func:`bea.modifying.modifying_field`); kauri composes elementary weights
``e ⋆ φ^{⋆-1}`` in the Connes–Kreimer Hopf algebra (``Map.preprocessed_integrator`` with
``Fraction`` tableaux and exact weights ``Fraction(1, t!)``). Each measurement runs cold
in a fresh subprocess under ``--timeout`` seconds; the coefficients of every tree are
compared (``bea(t) = kauri(t)/σ(t)``).

Run:  python bench/bench_modifying.py [--orders 6 8] [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BEA = textwrap.dedent(r'''
    import json, sys, time
    method, order = sys.argv[1], int(sys.argv[2])
    from bea.modifying import modifying_field
    from bea.schemes import build
    rule = build("rk", order, method=method)
    t0 = time.perf_counter()
    d = modifying_field(rule, order)
    seconds = time.perf_counter() - t0
    coeffs = {str(t): str(d.field.to_sympy(c)) for k in range(1, order + 1) for t, c in d.flow[k].items()}
    print(json.dumps({"seconds": seconds, "coeffs": coeffs}))
''')

KAURI = textwrap.dedent(r'''
    import json, sys, time
    from fractions import Fraction
    method, order = sys.argv[1], int(sys.argv[2])
    import kauri
    from kauri.cem.cem import antipode_impl
    from kauri.gentrees import trees_up_to_order
    from kauri.maps import Map
    from bea.schemes import TABLEAUX
    from bea.bseries.trees import parse, symmetry
    tab = TABLEAUX[method]
    fr = lambda x: Fraction(int(x.p), int(x.q))
    rk = kauri.RK([[fr(x) for x in row] for row in tab.a], [fr(x) for x in tab.b])
    def notation(rep):
        kids = [notation(c) for c in rep[:-1]]
        return "f" + ("[" + ",".join(kids) + "]" if kids else "")
    t0 = time.perf_counter()
    pre = Map(lambda t: Fraction(1, t.factorial())) ^ (rk.elementary_weights_map() & Map(antipode_impl))
    weights = {notation(t.list_repr): Fraction(pre(t)) for t in trees_up_to_order(order) if t.nodes() >= 1}
    seconds = time.perf_counter() - t0
    coeffs = {str(parse(k)): str(v / symmetry(parse(k))) for k, v in weights.items()}
    print(json.dumps({"seconds": seconds, "coeffs": coeffs}))
''')


def _run(code: str, method: str, order: int, timeout: float):
    env = dict(os.environ, PYTHONPATH=ROOT)
    try:
        out = subprocess.run([sys.executable, "-c", code, method, str(order)], capture_output=True,
                             text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout)


def _agree(ours: dict, theirs: dict) -> bool:
    from fractions import Fraction
    nonzero = {k: Fraction(v) for k, v in theirs.items() if Fraction(v)}
    return nonzero == {k: Fraction(v) for k, v in ours.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[6, 8])
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    print(f"{'method':8} {'N':>3} {'bea s':>8} {'kauri s':>9} {'kauri/bea':>10}  coefficients")
    for method in ("euler", "rk4"):
        for order in args.orders:
            ours = _run(BEA, method, order, args.timeout)
            theirs = _run(KAURI, method, order, args.timeout)
            if theirs is None:
                print(f"{method:8} {order:3} {ours['seconds']:8.3f} {'> ' + str(args.timeout):>9} "
                      f"{'> ' + format(args.timeout / ours['seconds'], '.0f') + '×':>10}  not compared")
                continue
            ratio = theirs["seconds"] / ours["seconds"]
            same = "agree" if _agree(ours["coeffs"], theirs["coeffs"]) else "DIFFER"
            print(f"{method:8} {order:3} {ours['seconds']:8.3f} {theirs['seconds']:9.2f} {ratio:9.0f}×  {same}")


if __name__ == "__main__":
    main()
