"""Generated ``slaved_state``: the auxiliary state on its invariant manifold, for tree
rules (momentum: the velocity ``V(θ) = Σ_t c(t) h^{|t|} F(t)``) and coordinate-wise ones
(Adam's ``m, v``). It equals what ``bea check`` starts from, and the manifold is invariant
to the derivation's order: one step of the rule from ``(θ, V(θ))`` lands at ``(θ₁, v₁)``
with ``v₁ − V(θ₁) = O(h^{N+1})`` (fitted slope over a sweep of h, float64)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from bea.codegen import functions
from bea.coordinatewise.evaluate import state_function
from bea.derive import derive
from bea.bseries.evaluate import fields_from_losses, planned_sum
from bea.schemes import build
from bea.schemes.adaptive import adam
from bea.schemes.momentum import heavy_ball, nesterov_momentum

THETA = jnp.array([0.4, -0.7, 0.3])  # the rules' own step functions act on arrays
HS = np.geomspace(0.004, 0.03, 6)


def loss(p):
    w, b = p[:2], p[2]
    return jnp.sum(jnp.log(1 + jnp.exp(w * jnp.array([1.0, -2.0]) + b))) + 0.2 * jnp.sum(w**4) + jnp.sin(b) * w[0]


def flat(tree):
    return ravel_pytree(tree)[0]


def slope(errors) -> float:
    return float(np.polyfit(np.log(HS), np.log(errors), 1)[0])


def field(theta):
    return -jax.grad(loss)(theta)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("order", [2, 3])
def test_momentum_velocity_is_the_checks_and_invariant(order, nesterov):
    d = derive(build("momentum", order, beta="1/2", nesterov=nesterov), order)
    state = functions(d).slaved_state((loss,), 0.01)
    fields = fields_from_losses(d.rule.atoms, {"L": loss})
    (terms,) = d.velocity
    check = planned_sum([(float(d.field.to_sympy(c)) * 0.01 ** t.order, t) for t, c in terms.items()], fields, THETA)
    np.testing.assert_allclose(flat(state(THETA)), flat(check), rtol=1e-13)
    step = nesterov_momentum if nesterov else heavy_ball
    errors = []
    for h in HS:
        v_of = functions(d).slaved_state((loss,), h)
        theta1, v1 = step(THETA, v_of(THETA), h, field, 0.5)
        errors.append(np.linalg.norm(flat(v1) - flat(v_of(theta1))))
    assert abs(slope(errors) - (order + 1)) < 0.3


def test_adam_moments_are_the_checks_and_invariant():
    order = 2
    d = derive(build("adam", order, b1="1/2", b2="7/10", eps="1/10"), order)
    module = functions(d)
    fields = {"f": field}
    got = module.slaved_state((loss,), 0.01)(THETA)
    want = state_function(d, fields, 0.01)(THETA)
    for g, w in zip(got, want):
        np.testing.assert_allclose(flat(g), flat(w), rtol=1e-13)
    errors = []
    for h in HS:
        s_of = module.slaved_state((loss,), h)
        m, v = s_of(THETA)
        theta1, m1, v1 = adam(THETA, m, v, h, field, 0.5, 0.7, 0.1)
        m_star, v_star = s_of(theta1)
        errors.append(np.linalg.norm(np.concatenate([flat(m1) - flat(m_star), flat(v1) - flat(v_star)])))
    assert abs(slope(errors) - (order + 1)) < 0.3


def test_rules_without_state_have_none():
    assert not hasattr(functions(derive(build("gd", 2), 2)), "slaved_state")
    assert not hasattr(functions(derive(build("normalized", 2), 2)), "slaved_state")
