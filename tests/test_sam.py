"""SAM and USAM: the joint expansion in h and ρ against the published first-order drifts.

Compagnoni et al. (ICML 2023, "An SDE for modeling SAM"): USAM follows
``−∇(L + (ρ/2)‖∇L‖²)``, SAM ``−∇(L + ρ‖∇L‖)``, each plus gradient descent's
``−(h/4)∇‖∇L‖²``. With ``f = −∇L = −g``: ``f'f = Hg``, so ``F_{0,1} = −Hg`` (USAM),
``−Hg/‖g‖`` (SAM) and ``F_{1,0} = −½Hg`` (both).
"""

from __future__ import annotations

import pytest
import sympy

import bea
from bea.bseries.trees import tree
from bea.coordinatewise import atom, canonical, differential, total
from bea.schemes import build
from bea.schemes.sam import RHO

F, FF = tree("f"), tree("f", [tree("f")])
H_G = differential("f", (atom("f"),))  # D f[f] = f'f = Hg with f = -g


def _rho_part(c, b: int):
    return sympy.expand(sympy.diff(c, RHO, b).subs(RHO, 0) / sympy.factorial(b))


def test_usam_terms_are_the_published_ones():
    d = bea.derive(build("usam", 2, rho_order=1), 2)
    c = {k: {t: d.field.to_sympy(v) for t, v in d.flow[k].items()} for k in (1, 2)}
    assert c[1] == {F: 1, FF: -RHO}  # F_00 = f, F_01 = -f'f = -Hg
    assert {t: _rho_part(v, 0) for t, v in c[2].items() if _rho_part(v, 0) != 0} == {FF: sympy.Rational(-1, 2)}
    ((loss_split),) = d.splits[1].values()
    # F_01 = -∇(½‖∇L‖²): the order-1 loss is L + ρ/2 ‖∇L‖²
    assert {str(s): d.field.to_sympy(w) for s, w in loss_split.weights.items()} == {"L": 1, "L[L|]": RHO / 2}
    assert not loss_split.remainder


def test_sam_terms_are_the_published_ones():
    d = bea.derive(build("sam", 2, rho_order=1), 2)
    f = atom("f")
    norm_g = sympy.sqrt(total(f ** 2))
    assert canonical(_rho_part(d.flow[1], 0) - f) == 0
    assert canonical(_rho_part(d.flow[1], 1) + H_G / norm_g) == 0  # F_01 = -Hg/‖g‖
    assert canonical(_rho_part(d.flow[2], 0) + H_G / 2) == 0  # F_10 = -½Hg, gradient descent's


def test_the_joint_expansion_is_the_expansion_in_h_with_rho_scaled():
    """Regrouping loses nothing: ``[ρ^b] f̂_{a+1} = [r^b] f_{a+b+1}``, ``f_k`` the flow of the
    rule written by hand with ``ρ = r·h``."""
    r = sympy.Symbol("r")
    scaled = bea.Rule(lambda theta, h, f, r: theta + h * f(theta - r * h * f(theta)), (bea.Atom("f", "L"),),
                      params={"r": r})
    whole = bea.derive(scaled, 4)
    joint = bea.derive(build("usam", 2, rho_order=2), 2)
    for a in (0, 1):
        for b in (0, 1, 2):
            k = a + b + 1
            by_hand = {t: sympy.expand(sympy.diff(whole.coefficient(t), r, b).subs(r, 0) / sympy.factorial(b))
                       for t in whole.flow[k]}
            row = {t: joint.field.to_sympy(v) for t, v in joint.flow[a + 1].items()}
            regrouped = {t: _rho_part(c, b) for t, c in row.items() if t.order == k}
            assert {t: v for t, v in by_hand.items() if v != 0} == {t: v for t, v in regrouped.items() if v != 0}
            assert all(t.order == k or _rho_part(c, b) == 0 for t, c in row.items())


def test_a_small_parameter_must_be_a_declared_symbol():
    with pytest.raises(ValueError, match="sympy symbol"):
        bea.Rule(lambda theta, h, f, rho: theta, (bea.Atom("f", "L"),), params={"rho": 0.1}, small={"rho": 1})
    with pytest.raises(ValueError, match="whole number"):
        bea.Rule(lambda theta, h, f, rho: theta, (bea.Atom("f", "L"),), params={"rho": RHO}, small={"rho": -1})


# -- generated code against hand-written JAX, and bea's SAM rule against optax.contrib.sam --------


def _problem():
    import jax
    import jax.numpy as jnp

    def loss(theta):
        return jnp.sum(theta ** 4) / 4 + jnp.sum(jnp.sin(theta)) + theta[0] * theta[1]

    return jax, jnp, loss, jnp.array([0.3, -0.7, 1.1])


def _hvp(jax, loss, theta, v):
    return jax.jvp(jax.grad(loss), (theta,), (v,))[1]


def test_generated_usam_and_sam_fields_and_losses_equal_hand_written_jax():
    """USAM: L̃ = L + ρ/2‖g‖² + h/4‖g‖² + hρ/2⟨g, Hg⟩; SAM: L̃ = L + ρ‖g‖ + h(‖g‖²/4 + ρ/2⟨g, Hg⟩/‖g‖);
    at order 2 in h and 1 in ρ both fields are -∇L̃ (no remainder)."""
    from bea.codegen import functions

    jax, jnp, loss, theta = _problem()
    h, rho = 0.1, 0.05
    theta = theta.astype(jnp.float64)

    def usam(th):
        g = jax.grad(loss)(th)
        return loss(th) + (rho / 2 + h / 4) * g @ g + h * rho / 2 * g @ _hvp(jax, loss, th, g)

    def sam(th):
        g = jax.grad(loss)(th)
        n = jnp.linalg.norm(g)
        return loss(th) + rho * n + h * (g @ g / 4 + rho / 2 * g @ _hvp(jax, loss, th, g) / n)

    for scheme, reference in (("usam", usam), ("sam", sam)):
        module = functions(bea.derive(build(scheme, 2, rho_order=1), 2))
        field = jax.jit(module.modified_field((loss,), h, rho=rho))(theta)
        value = jax.jit(module.modified_loss((loss,), h, rho=rho))(theta)
        assert abs(float(value - jax.jit(reference)(theta))) < 1e-12
        assert float(jnp.max(jnp.abs(field + jax.jit(jax.grad(reference))(theta)))) < 1e-12
        # the implicit regularizer and drift hold the ρ terms of order 1 too: L̃ - L and f̃ + ∇L
        regularizer = jax.jit(module.implicit_regularizer((loss,), h, rho=rho))(theta)
        drift = jax.jit(module.implicit_drift((loss,), h, rho=rho))(theta)
        assert abs(float(regularizer - (value - loss(theta)))) < 1e-12
        assert float(jnp.max(jnp.abs(drift - (field + jax.grad(loss)(theta))))) < 1e-12


def test_the_sam_rule_is_optax_contrib_sam():
    """One step of optax.contrib.sam (outer sgd(h), adversary normalize + sgd(ρ)) is the rule
    bea derives: θ - h∇L(θ + ρ g/‖g‖)."""
    import optax
    import optax.contrib

    from bea.schemes.sam import sam

    jax, jnp, loss, theta = _problem()
    h, rho = 0.01, 0.05
    theta = theta.astype(jnp.float64)
    opt = optax.contrib.sam(optax.sgd(h), optax.chain(optax.contrib.normalize(), optax.sgd(rho)),
                            opaque_mode=True)
    updates, _ = opt.update(jax.grad(loss)(theta), opt.init(theta), theta,
                            grad_fn=lambda p, _: jax.grad(loss)(p))
    expected = sam(theta, h, lambda th: -jax.grad(loss)(th), rho)
    assert float(jnp.max(jnp.abs(optax.apply_updates(theta, updates) - expected))) < 1e-15


# -- the command line -----------------------------------------------------------------------------


def _run(*args):
    from click.testing import CliRunner

    from cli.main import main

    return CliRunner().invoke(main, list(args))


def test_bea_derive_prints_the_published_losses():
    usam = _run("derive", "--scheme", "usam", "--order", "2", "--rho-order", "1")
    assert usam.exit_code == 0, usam.output
    assert "O(h^2) + O(ρ^2)" in usam.output and "f₁ = f - ρ f'f" in usam.output
    assert "L̃ = L + ρ/2 ‖∇L‖² + h/4 ‖∇L‖²" in usam.output
    assert "implicit regularizer: ρ/2 ‖∇L‖² + h/4 ‖∇L‖²" in usam.output
    sam = _run("derive", "--scheme", "sam")
    assert sam.exit_code == 0, sam.output
    assert "f₁ = -g - ρ Hg/‖g‖" in sam.output and "L̃ = L + ρ·‖g‖ + h·ρ/2 ⟨g, Hg⟩/‖g‖ + h·‖g‖²/4" in sam.output
    assert "implicit regularizer: ρ·‖g‖ + " in sam.output


@pytest.mark.parametrize("args", [
    ["derive", "--scheme", "usam", "--modifying"],
    ["derive", "--scheme", "sam", "--schedule", "generic"],
    ["codegen", "--scheme", "usam", "--modifying"],
    ["drift", "--scheme", "sam", "--problem", "quadratic"],
    ["derive", "--scheme", "sam", "--rho-order", "-1"],
    ["derive", "--scheme", "gd", "--rho-order", "1"],
])
def test_what_a_joint_expansion_does_not_have_is_refused_in_one_line(args):
    result = _run(*args)
    assert result.exit_code == 2
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("bea: error:")]
    assert "Traceback" not in result.output
    assert "rho" in line
