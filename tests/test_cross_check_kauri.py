"""Modified equations of Runge–Kutta methods against an independent implementation.

kauri (Shmelev et al., on the package index) computes the modified-equation map of a
tableau as ``φ ⋆ e^{⋆-1}`` in the Butcher–Connes–Kreimer Hopf algebra, as elementary
weights of ``Σ h^{|t|} φ̃(t)/σ(t) F(t)``; bea's plain coefficients are ``φ̃(t)/σ(t)``.
Both are exact here (``Fraction`` tableaux), compared on every tree of order ≤ 6.
"""

from fractions import Fraction

import pytest

from bea import derive, parse
from bea.schemes import TABLEAUX, build
from bea.bseries.trees import symmetry

kauri = pytest.importorskip("kauri")
from kauri.cem.cem import antipode_impl  # noqa: E402
from kauri.gentrees import trees_up_to_order  # noqa: E402
from kauri.maps import Map  # noqa: E402

ORDER = 6
METHODS = ["euler", "midpoint", "heun", "ralston", "rk3", "rk4", "rk38", "implicit-midpoint", "trapezoid",
           "implicit-euler", "radau-iia-3"]


def _notation(rep) -> str:
    """kauri's ``list_repr`` (children…, root label) → bea's ``f[…]``."""
    kids = [_notation(c) for c in rep[:-1]]
    return "f" + ("[" + ",".join(kids) + "]" if kids else "")


def _kauri_flow(method: str) -> dict:
    tab = TABLEAUX[method]
    fr = lambda x: Fraction(int(x.p), int(x.q))  # noqa: E731  (sympy Rational → Fraction)
    rk = kauri.RK([[fr(x) for x in row] for row in tab.a], [fr(x) for x in tab.b])
    exact = Map(lambda t: Fraction(1, t.factorial()))
    log = rk.elementary_weights_map() ^ (exact & Map(antipode_impl))
    return {parse(_notation(t.list_repr)): Fraction(log(t)) for t in trees_up_to_order(ORDER) if t.nodes() >= 1}


@pytest.mark.parametrize("method", METHODS)
def test_modified_equation_agrees_with_kauri(method):
    d = derive(build("rk", ORDER, method=method), ORDER)
    theirs = _kauri_flow(method)
    assert len(theirs) == 37
    for t, value in theirs.items():
        ours = d.coefficient(t)
        assert Fraction(int(ours.p), int(ours.q)) == value / symmetry(t), str(t)
