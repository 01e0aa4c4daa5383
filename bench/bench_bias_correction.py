"""Adam with bias correction against bea's flow of Adam without it (issue 22).

optax's Adam divides ``m`` by ``1 − β₁ⁿ`` and ``v`` by ``1 − β₂ⁿ``, starting from ``m = v = 0``.
Those factors are ``1 + O(βⁿ) = 1 + O(β^{t/h})``: at a fixed time ``t`` they vanish faster than
every power of ``h``, so bea derives Adam without them (and with the state on its slaved
manifold). This measures when that holds, on the logistic problem: bias-corrected Adam from
``θ_0`` with ``m = v = 0``; at step ``n``, from its ``(θ_n, m_n, v_n)``,

* ``e_N``: one bias-corrected step against the order-``N`` flow from ``θ_n`` over ``h``;
* ``ref_N``: the same for one step without correction, the state on ``S(θ_n)`` (bea's model);
* ``d``: the two steps' difference (what the correction and the start leave at step ``n``);

then the slopes of ``e_N`` over ``h`` at a fixed time ``t = n h``.

    python bench/bench_bias_correction.py            # β₁ = 0.9, β₂ = 0.99, ε = 0.01
"""

from __future__ import annotations

import argparse

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import sympy

import bea
from bea.check.problems import make_problem
from bea.check.setup import _flat
from bea.coordinatewise.evaluate import evaluate, state_function
from bea.schemes import build

ORDERS = (1, 2, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--b1", default="0.9")
    parser.add_argument("--b2", default="0.99")
    parser.add_argument("--eps", default="0.01")
    parser.add_argument("--h", type=float, default=1e-4, help="step size of the table over n")
    parser.add_argument("--steps", default="100,300,1000,2000,4000")
    parser.add_argument("--time", type=float, default=0.3, help="t = n h of the slopes")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    b1, b2, eps = (float(x) for x in (args.b1, args.b2, args.eps))
    rule = build("adam", 3, **{k: sympy.Rational(v) for k, v in
                               {"b1": args.b1, "b2": args.b2, "eps": args.eps}.items()})
    d = bea.derive(rule, 3)
    theta0, fields, _ = _flat(make_problem("logistic", rule.atoms), rule.atoms, (None,))
    f = fields["f"]
    exprs = list(d.flow[1:])
    term = diffrax.ODETerm(lambda s, y, w: sum(w[i] * fk for i, fk in enumerate(evaluate(exprs, fields, y, {}))))

    @jax.jit
    def flow(y0, w, h):
        return diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, h, h / 8, y0, args=w, max_steps=4096,
                                   stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-15)).ys[-1]

    def step(theta, m, v, n, h, corrected):
        g = -f(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        scale_m, scale_v = (1 - b1 ** n, 1 - b2 ** n) if corrected else (1.0, 1.0)
        return theta - h * (m / scale_m) / jnp.sqrt(v / scale_v + eps), m, v

    def run(h, count):
        def body(carry, n):
            out = step(*carry, n, h, True)
            return out, out
        zero = jnp.zeros_like(theta0)
        return jax.lax.scan(body, (theta0, zero, zero), jnp.arange(1, count + 1, dtype=jnp.float64))[1]

    run = jax.jit(run, static_argnums=1)

    def measure(h, n, states):
        theta, m, v = (x[n - 1] for x in states)
        corrected = step(theta, m, v, n + 1.0, h, True)[0]
        slaved = step(theta, *state_function(d, fields, h, {})(theta), 0.0, h, False)[0]
        ws = [jnp.asarray([h ** (k - 1) if k <= order else 0.0 for k in range(1, 4)]) for order in ORDERS]
        flows = [flow(theta, w, h) for w in ws]
        norm = lambda x: float(jnp.linalg.norm(x))  # noqa: E731
        return [norm(corrected - y) for y in flows], [norm(slaved - y) for y in flows], norm(corrected - slaved)

    print(f"Adam b1={b1} b2={b2} eps={eps}, logistic problem, h = {args.h:g}")
    print(f"{'n':>6} " + " ".join(f"{'e_' + str(k):>9}" for k in ORDERS) + " "
          + " ".join(f"{'ref_' + str(k):>9}" for k in ORDERS) + f" {'d':>9}")
    steps = [int(s) for s in args.steps.split(",")]
    states = run(args.h, max(steps))
    for n in steps:
        e, ref, diff = measure(args.h, n, states)
        print(f"{n:>6} " + " ".join(f"{x:9.2e}" for x in e + ref) + f" {diff:9.2e}")
    hs = np.asarray([args.h / 2, args.h, 2 * args.h])
    rows = []
    for h in hs:
        n = int(round(args.time / h))
        rows.append(measure(float(h), n, run(float(h), n))[0])
    slopes = [np.polyfit(np.log(hs), np.log([r[i] for r in rows]), 1)[0] for i in range(len(ORDERS))]
    print(f"t = {args.time:g} (n = t/h), h = {hs[0]:g} … {hs[-1]:g}: slopes of e_N, N = {ORDERS}: "
          + ", ".join(f"{s:.2f}" for s in slopes))


if __name__ == "__main__":
    main()
