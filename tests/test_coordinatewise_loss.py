"""The modified loss of coordinate-wise flows (bea.coordinatewise.losses): norm potentials
such as SAM's ‖∇L‖ recognised exactly, non-gradients left as remainders, and every
accepted potential checked by differentiating it again by another route."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import bea
from bea.coordinatewise import atom, total
from bea.coordinatewise import losses
from bea.coordinatewise.boundary import elem
from bea.coordinatewise.losses import loss_symbol
from bea.coordinatewise.potentials import Atoms, gradient, gradient_by_transposition
from bea.schemes import build

R = sympy.Symbol("r")


def _sam_step(theta, h, f, r):
    g = f(theta)
    return theta + h * f(theta - r * h * g / bea.norm(g))  # SAM: the ascent step r g/‖g‖, ρ = r h


SAM = bea.Rule(_sam_step, (bea.Atom("f", "L"),), params={"r": R}, algebra="coordinatewise", name="sam-like")
NORM2 = total(atom("f") ** 2)  # ‖∇L‖² = Σ[f⊙f]


def _weights(d, k):
    return {P: sympy.factor(w) for P, w in d.splits[k][None].weights.items()}


def test_sam_splits_into_loss_plus_gradient_norm():
    d = bea.derive(SAM, 2)
    assert _weights(d, 1) == {loss_symbol("L"): 1}
    assert _weights(d, 2) == {sympy.sqrt(NORM2): R, NORM2: sympy.Rational(1, 4)}
    assert not d.splits[2][None].remainder and d.has_loss


def test_normalized_gd_is_not_a_gradient():
    d = bea.derive(build("normalized", 1), 1)
    split = d.splits[1][None]
    assert split.weights == {} and split.remainder == {m: c for c, m in bea.coordinatewise.monomials(d.flow[1])}
    assert not d.has_loss


def test_a_field_that_is_not_a_gradient_has_no_split():
    rule = bea.Rule(_sam_step, (bea.Atom("f"),), params={"r": R}, algebra="coordinatewise", name="field")
    d = bea.derive(rule, 2)
    assert d.splits is None and not d.has_loss


def test_adam_keeps_a_remainder_and_stops_at_the_first_order():
    d = bea.derive(build("adam", 2), 2)
    assert not d.has_loss
    assert set(d.splits._done) == {0, 1}  # f_1 = -g/s decided it: f_2 is never split
    assert d.splits[2][None].remainder


@pytest.mark.parametrize("potential", ["<g, Hg>", "|Hg|^2 / |g|", "sum sqrt(g^2 + eps)"])
def test_the_two_gradients_agree(potential):
    f = atom("f")
    hg = bea.coordinatewise.differential("f", [f])
    P = {"<g, Hg>": total(f * hg), "|Hg|^2 / |g|": total(hg * hg) / sympy.sqrt(NORM2),
         "sum sqrt(g^2 + eps)": total(sympy.sqrt(f**2 + sympy.Symbol("eps")))}[potential]
    atoms = Atoms((bea.Atom("f", "L"),))
    reverse = gradient(elem(P), atoms)
    assert not reverse.is_zero() and (reverse - gradient_by_transposition(elem(P), atoms)).is_zero()


def test_a_wrong_gradient_is_never_accepted(monkeypatch):
    d = bea.derive(SAM, 2)
    monkeypatch.setattr(losses, "gradient", lambda P, atoms: gradient(P, atoms) * 2)
    split = losses.split_order(d.flow[2], Atoms(d.atoms))[None]
    assert split.weights == {} and split.remainder  # the candidates' columns were wrong


def test_the_generated_modified_loss_is_the_field_potential():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from bea.codegen import emit_module

    d = bea.derive(SAM, 2)
    namespace: dict = {}
    exec(compile(emit_module(d, {}), "<generated>", "exec"), namespace)
    A = np.random.default_rng(0).normal(size=(3, 3))

    def loss(theta):
        return jnp.sum(jnp.sin(A @ theta)) + 0.1 * jnp.sum(theta ** 4)

    theta = jnp.asarray(np.random.default_rng(1).normal(size=3))
    h, r = 0.1, 0.3
    modified = namespace["modified_loss"]((loss,), h, r=r)
    field = namespace["modified_field"]((loss,), h, r=r)
    regularizer = namespace["implicit_regularizer"]((loss,), h, r=r)
    g = jax.grad(loss)(theta)
    assert np.allclose(-jax.grad(modified)(theta), field(theta), rtol=1e-5, atol=1e-6)
    expected = h * (r * jnp.linalg.norm(g) + jnp.sum(g ** 2) / 4)
    assert np.isclose(regularizer(theta), expected, rtol=1e-5)


def test_the_printers_show_the_modified_loss_only_where_it_exists():
    """A section as the B-series one: ``θ' = -∇L̃``, ``L̃`` by orders of ``h`` and the implicit
    regularizer (``L̃`` less ``L``), in text, LaTeX and Markdown."""
    from bea.render import render

    text = render(bea.derive(SAM, 2), "text")
    assert text.splitlines()[-3:] == ["modified loss   θ' = -∇L̃ + O(h²)", "  L̃ = L + h·r·‖g‖ + h·‖g‖²/4",
                                      "  implicit regularizer: h·r·‖g‖ + h·‖g‖²/4"]
    assert max(map(len, text.splitlines())) <= 100
    assert "- 1/2 Hg" in text and "Σ(g²/2)" not in text  # Hg is not renamed ∇Σ(g²/2)
    latex = render(bea.derive(SAM, 2), "latex")
    assert r"\tilde{L} &= L + h r \|g\| + h \frac{\|g\|^{2}}{4}" in latex
    markdown = render(bea.derive(SAM, 2), "markdown")
    assert "## Modified loss" in markdown and r"- implicit regularizer: $h r \|g\| + h \frac{\|g\|^{2}}{4}$" in markdown
    assert "L̃" not in render(bea.derive(build("normalized", 2), 2), "text")


def test_the_json_loss_holds_each_orders_potential_as_parts():
    """docs/json.md: a coordinate-wise loss is ``null`` unless the flow is a gradient; then
    per order the parts of ``P_k`` (``L``; ``r‖g‖ + ‖g‖²/4``), parsed back by sympy."""
    import json

    from bea.render import render

    data = json.loads(render(bea.derive(SAM, 2), "json"))
    orders = data["loss"]["blocks"][0]["orders"]
    names = {n: sympy.Symbol(n) for n in data["symbols"]}
    g2 = sympy.Symbol("Sum_g2")

    def value(order):
        return sum(sympy.parse_expr(c["scalar"], local_dict=names)
                   * sympy.parse_expr(p["body"].replace("Sum(g**2)", "Sum_g2"), local_dict={"Sum_g2": g2})
                   for p in order["parts"] for c in p["coeff"])

    assert [o["order"] for o in orders] == [1, 2] and data["loss"]["exists"]
    assert sympy.simplify(value(orders[0]) - names["L"]) == 0
    assert sympy.simplify(value(orders[1]) - (R * sympy.sqrt(g2) + g2 / 4)) == 0
    assert json.loads(render(bea.derive(build("normalized", 2), 2), "json"))["loss"] is None
