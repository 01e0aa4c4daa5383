"""The joint check in h and ρ (bea.check.joint): fitted slopes along both paths for SAM and
USAM, and a check that fails when the ρ-term ``F_{0,1}`` is dropped."""

from __future__ import annotations

import pytest

from bea.check import check
from bea.check.defaults import problem_for
from bea.schemes import build


@pytest.mark.parametrize("scheme", ["sam", "usam"])
def test_slopes_in_h_and_in_rho(scheme):
    rule = build(scheme, 2, rho_order=1)
    _, result = check(rule, 2, problem_for(rule))
    along_h, along_rho = result.paths
    assert (along_h.expected, along_rho.expected) == (3, 2)
    assert abs(along_h.slope - 3) < 0.2 and abs(along_rho.slope - 2) < 0.2
    assert result.ok


def test_dropping_the_first_rho_term_fails_both_slopes():
    rule = build("sam", 2, rho_order=1)
    drop = lambda parts: [p for p in parts if p[:2] != (0, 1)]  # noqa: E731  F_{0,1} = -Hg/‖g‖
    _, result = check(rule, 2, problem_for(rule), coefficients=drop)
    along_h, along_rho = result.paths
    # without F_01 the error is h·ρ = h^{2.5} along h, and error/h = ρ along ρ
    assert abs(along_h.slope - 2.5) < 0.2 and abs(along_rho.slope - 1) < 0.2
    assert not result.ok
