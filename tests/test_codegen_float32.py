"""Generated coefficients are safe in low precision (issue 15).

Every coefficient line of every catalogue entry's generated module (``c1 = …`` for fields,
``w1 = …`` for losses) is evaluated in float32 at parameter values near the singular ones
(``β → 1``: 0.99, 0.999) and must be finite and within 1e-3 relative of the same expression
in float64 at the same decimal values; in bfloat16 at values it represents exactly (so
the comparison is with float64 at the same point) within a few bfloat16 roundings. An
expanded denominator ``4β³ − 12β² + 12β − 4`` fails both: its terms (~4) cancel to ~4e-9.
"""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest

from bea.catalogue import ENTRIES, derivation_of
from bea.codegen import emit_module
from bea.schemes import SCHEMES

LOW_PRECISION_ORDER = 6
"""Beyond it the coefficients leave float32's range near β → 1 whatever their form: heavy
ball at order 8 divides by (1 − β)¹³ = 1e-39 at β = 0.999, below float32's smallest normal
number, for a value of about 1e37 (the catalogue's order-8 entry is a symbolic result)."""
TREE_ENTRIES = [e for e in ENTRIES if SCHEMES[e.scheme].algebra == "trees" and e.order <= LOW_PRECISION_ORDER]
"""Coordinate-wise modules (Adam, …) put their factored scalar coefficients inside
elementwise lambdas; their low-precision test evaluates the whole field (below)."""

COEFFICIENT = re.compile(r"^    ([cw]\d+) = (.*)  # ", re.M)
SCHEDULE = {"eta": (0.01, 1.0), "etaprime": (-3.0, 0.5), "etaprimeprime": (-10.0, 2.0)}
"""η and its derivatives (a scheduled entry): a rate between a warmup's start and its peak,
slopes and curvatures of warmup and cosine decay over a few time units."""
NEAR_SINGULAR = {"beta": (0.5, 0.99, 0.999), "alpha": (0.5, 2.0), "lam": (0.25, 3.0), "rho": (0.01, 0.5),
                 **SCHEDULE}
BFLOAT16_VALUES = {"beta": (0.5, 1 - 2**-4, 1 - 2**-8), "alpha": (0.5, 2.0), "lam": (0.25, 3.0),
                   "rho": (0.01, 0.5)}


def _coefficients(entry):
    """(source of every coefficient line, the module's PARAMETERS) or a skip reason."""
    try:
        source = emit_module(derivation_of(entry))
    except ValueError as exc:  # symbolic number of minibatches: no code is generated
        assert "symbolic in the number of minibatches" in str(exc)
        pytest.skip(str(exc))
    params = eval(re.search(r"^PARAMETERS = (.*)$", source, re.M).group(1))  # a tuple literal we wrote
    lines = [expr for _, expr in COEFFICIENT.findall(source)]
    assert lines, "a generated module without coefficients"
    return lines, params


def _points(params, table):
    grids = np.meshgrid(*[table[p] for p in params], indexing="ij")
    return [dict(zip(params, values)) for values in zip(*[g.ravel() for g in grids])] if params else [{}]


def _evaluate(expr: str, point: dict, dtype):
    """The generated expression (our own source) with h = 1 and parameters of ``dtype``."""
    scope = {name: jnp.asarray(v, dtype) for name, v in point.items()}
    scope["h"] = jnp.asarray(1.0, dtype)
    return np.float64(jnp.asarray(eval(expr, {}, scope), dtype).astype(jnp.float64))


@pytest.mark.parametrize("entry", TREE_ENTRIES, ids=[e.slug for e in TREE_ENTRIES])
def test_float32_coefficients_near_singular_values(entry):
    lines, params = _coefficients(entry)
    for point in _points(params, NEAR_SINGULAR):
        for expr in lines:
            exact = _evaluate(expr, point, jnp.float64)
            low = _evaluate(expr, point, jnp.float32)
            assert np.isfinite(low), (expr, point)
            assert abs(low - exact) <= 1e-3 * abs(exact), (expr, point, low, exact)


@pytest.mark.parametrize("entry", [e for e in TREE_ENTRIES if e.scheme in ("momentum", "game")],
                         ids=lambda e: e.slug)
def test_bfloat16_coefficients(entry):
    lines, params = _coefficients(entry)
    assert params
    for point in _points(params, BFLOAT16_VALUES):
        for expr in lines:
            exact = _evaluate(expr, point, jnp.float64)
            low = _evaluate(expr, point, jnp.bfloat16)
            assert np.isfinite(low), (expr, point)
            assert abs(low - exact) <= 4e-2 * abs(exact), (expr, point, low, exact)


def test_expanded_denominators_would_fail():
    """The test discriminates: the expanded form of a momentum coefficient loses it."""
    expanded = "((-beta - 1)/(4*beta**3 - 12*beta**2 + 12*beta - 4)) * h"
    point = {"beta": 0.999}
    exact = _evaluate(expanded, point, jnp.float64)
    assert abs(_evaluate(expanded, point, jnp.float32) - exact) > 1e-3 * abs(exact)


@pytest.mark.parametrize("b1,b2", [(0.9, 0.999), (0.99, 0.9999)])
def test_adam_field_in_float32_near_its_singular_decays(b1, b2):
    """Adam's generated order-2 field (symbolic b1, b2, eps as float32 JAX values) agrees
    with float64 to 1e-3 relative at decays near 1, where 1/(1 − b) is large."""
    from bea import derive
    from bea.codegen import functions
    from bea.schemes import build

    module = functions(derive(build("adam", 2), 2))

    def loss(theta):
        return jnp.sum(jnp.log(jnp.cosh(theta["w"]))) + 0.1 * jnp.sum(theta["b"] ** 3)

    def field(dtype):
        theta = {"w": jnp.asarray([0.3, -0.7, 1.1], dtype), "b": jnp.asarray([0.5, -0.2], dtype)}
        f = module.modified_field((loss,), jnp.asarray(0.01, dtype), b1=jnp.asarray(b1, dtype),
                                  b2=jnp.asarray(b2, dtype), eps=jnp.asarray(1e-3, dtype))
        out = f(theta)
        return np.concatenate([np.asarray(out[k], np.float64) for k in ("b", "w")])

    exact, low = field(jnp.float64), field(jnp.float32)
    assert np.all(np.isfinite(low))
    assert np.max(np.abs(low - exact)) <= 1e-3 * np.max(np.abs(exact)), (low, exact)
