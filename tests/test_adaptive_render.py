"""Printing coordinate-wise derivations: Adam's order 2 reads as the reference formula.

Reference (REFERENCES.md; Cattaneo, Klusowski & Shigida, ICML 2024), g = ∇L, s = √(g² + ε):
f₂ = −[(β/(1−β) + ½)/s − (ρ/(1−ρ) + ½) g²/s³] ⊙ ∇‖∇L‖_{1,ε}, ∇‖∇L‖_{1,ε} = H(g/s).
The JSON is read back with its documented grammar and compared semantically.
"""

import json

import pytest
import sympy

from bea import derive
from bea.render import FORMATS, render
from bea.schemes import build

HALF = sympy.Rational(1, 2)


@pytest.fixture(scope="module")
def adam2():
    return derive(build("adam", 2), 2)


def test_adam_order_2_text_uses_the_papers_notation(adam2):
    text = render(adam2, "text")
    assert "g = ∇L, H = ∇²L, s = √(g⊙g + ε), q = g/s" in text
    assert "f₁ = -g/s" in text
    assert "⊙ ∇‖∇L‖₁,ε" in text
    assert "‖∇L‖₁,ε = Σ_j √(ε + g_j²), ∇‖∇L‖₁,ε = Hq" in text


def test_adam_order_2_json_is_the_reference(adam2):
    data = json.loads(render(adam2, "json"))
    assert data["symbols"] == ["b1", "b2", "eps"]
    assert data["notation"]["s"] == "sqrt(g**2 + eps)"
    names = {n: sympy.Symbol(n) for n in data["symbols"] + ["g", "s"]}
    (part,) = data["flow"][1]["parts"]
    assert part["body"] == "H(q)" and part["potential"] == "Sum(s)"
    coeff = sum(sympy.parse_expr(m["scalar"], local_dict=names) * sympy.parse_expr(m["vector"], local_dict=names)
                for m in part["coeff"])
    b1, b2, g, s = (names[k] for k in ("b1", "b2", "g", "s"))
    reference = -((b1 / (1 - b1) + HALF) / s - (b2 / (1 - b2) + HALF) * g**2 / s**3)
    assert sympy.simplify(coeff - reference) == 0
    (first,) = data["flow"][0]["parts"]
    assert first == {"coeff": [{"scalar": "-1", "vector": "g/s"}], "body": "1"}


@pytest.mark.parametrize("scheme", ["adam", "adamw", "rmsprop", "normalized"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_adaptive_scheme_renders(scheme, fmt):
    out = render(derive(build(scheme, 2), 2), fmt)
    assert "f_{2}" in out or "f₂" in out or '"order": 2' in out


def test_normalized_gd_prints_norms():
    text = render(derive(build("normalized", 2), 2), "text")
    assert "f₁ = -g/‖g‖" in text
    assert "⟨g, Hg⟩/‖g‖⁴" in text


def test_numeric_parameters_read_like_the_symbolic_ones():
    """optax's b1 = 0.9, b2 = 0.999, ε = 1e-8: canonical forms clear ε's denominator
    (1 + 10⁸g²); the printer still finds s, pulls factors out of H(·) and names ε."""
    d = derive(build("adam", 2, b1="0.9", b2="0.999", eps="1e-8"), 2)
    text = render(d, "text")
    assert "s = √(g⊙g + ε), ε = 1/100000000, q = g/s" in text
    assert "f₁ = -g/s" in text and "⊙ ∇‖∇L‖₁,ε" in text and "100000000g" not in text
    data = json.loads(render(d, "json"))
    (part,) = data["flow"][1]["parts"]
    assert part["body"] == "H(q)" and part["potential"] == "Sum(s)"
    g, s = sympy.symbols("g s", positive=True)
    coeff = sum(sympy.parse_expr(m["scalar"]) * sympy.parse_expr(m["vector"], local_dict={"g": g, "s": s})
                for m in part["coeff"])
    b1, b2, eps = sympy.Rational(9, 10), sympy.Rational(999, 1000), sympy.Rational(1, 10**8)
    reference = -((b1 / (1 - b1) + HALF) / s - (b2 / (1 - b2) + HALF) * g**2 / s**3)
    assert sympy.simplify((coeff - reference).subs(g, sympy.sqrt(s**2 - eps))) == 0
