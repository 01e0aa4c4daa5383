"""Several atoms: SGD epochs, multitask, continual learning, two-player games, against
REFERENCES.md — exact coefficients of flows and modified losses."""

import dataclasses
import itertools

import pytest
import sympy
from sympy import Rational as R

from bea import derive, parse
from bea.logarithm import logarithm
from bea.bseries.pipeline import trace_map
from bea.bseries.series import TreeSeries
from bea.schemes import build


def coeffs(d, k):
    return {str(t): sympy.factor(d.field.to_sympy(c)) for t, c in d.flow[k].items()}


def weights(d, k, block=None):
    return {str(s): sympy.factor(d.field.to_sympy(c)) for s, c in d.splits[k][block].weights.items()}


def remainder(d, k, block=None):
    return {str(t): sympy.factor(d.field.to_sympy(c)) for t, c in d.splits[k][block].remainder.items()}


m = sympy.Symbol("m", positive=True, integer=True)


@pytest.mark.parametrize("batches", [2, 3, 4, 5])
def test_smith_random_shuffling(batches):
    """C̃ = C + h/(4m) Σ_k ‖∇L_k‖² (Smith et al. 2021), no remainder."""
    d = derive(build("sgd", 2, batches=str(batches), shuffle="random"), 2)
    assert weights(d, 1) == {f"L{k}": R(1, batches) for k in range(1, batches + 1)}
    assert weights(d, 2) == {f"L{k}[L{k}|]": R(1, 4 * batches) for k in range(1, batches + 1)}
    assert remainder(d, 2) == {}
    assert d.has_loss


def test_smith_symbolic_m():
    d = derive(build("sgd", 2), 2)
    assert set(weights(d, 2).values()) == {1 / (4 * m)}
    assert set(weights(d, 1).values()) == {1 / m}
    assert d.has_loss


@pytest.mark.parametrize("batches", [2, 3, 4])
def test_forward_bracket_and_backward_sign_flip(batches):
    """Fixed order adds (h/(2m)) Σ_{j<k} (H_k g_j - H_j g_k); reversing flips its sign."""
    fwd = derive(build("sgd", 2, batches=str(batches), shuffle="forward"), 2)
    bwd = derive(build("sgd", 2, batches=str(batches), shuffle="backward"), 2)
    for j, k in itertools.combinations(range(1, batches + 1), 2):
        # F(f_k[f_j]) = f_k' f_j = H_k g_j
        assert remainder(fwd, 2)[f"f{k}[f{j}]"] == R(1, 2 * batches)
        assert remainder(fwd, 2)[f"f{j}[f{k}]"] == R(-1, 2 * batches)
        assert remainder(bwd, 2)[f"f{k}[f{j}]"] == R(-1, 2 * batches)
    assert weights(fwd, 2) == weights(bwd, 2) == {
        f"L{k}[L{k}|]": R(1, 4 * batches) for k in range(1, batches + 1)}


@pytest.mark.parametrize("shuffle", ["forward", "backward", "random"])
def test_symbolic_m_patterns_agree_with_concrete_m(shuffle):
    """m·f_k depends only on the index pattern, so symbolic m matches m = 4 term by term."""
    symbolic = derive(build("sgd", 3, shuffle=shuffle), 3)
    concrete = derive(build("sgd", 3, batches="4", shuffle=shuffle), 3)
    for k in (1, 2, 3):
        for t, c in symbolic.flow[k].items():
            assert sympy.simplify(symbolic.field.to_sympy(c) * m) == concrete.field.to_sympy(concrete.flow[k][t]) * 4


def test_random_average_equals_brute_force_mean_over_orderings():
    """The relabeling average equals tracing all m! orderings and averaging the maps."""
    order, batches = 3, 3
    fast = derive(build("sgd", order, batches=str(batches), shuffle="random"), order)
    forward = build("sgd", order, batches=str(batches), shuffle="forward")
    field = fast.field
    total: dict = {}
    perms = list(itertools.permutations(range(batches)))
    for perm in perms:
        rule = dataclasses.replace(forward, atoms=tuple(forward.atoms[k] for k in perm))
        increment, _ = trace_map(rule, order, field)
        for t, c in increment.items():
            total[t] = total.get(t, field.zero) + c / field(len(perms))
    z = logarithm({t: c for t, c in total.items() if c}, order, TreeSeries(field))
    for k in range(1, order + 1):
        assert {t: c / field(batches) for t, c in z[k].items() if c} == fast.flow[k]


def test_random_shuffle_of_eight_batches_order_3():
    """m = 8 at order 3 (8! orderings never enumerated): Smith et al. at order 2, and every
    coefficient depends only on the pattern of indices."""
    d = derive(build("sgd", 3, batches="8", shuffle="random"), 3)
    assert weights(d, 2) == {f"L{k}[L{k}|]": R(1, 32) for k in range(1, 9)}
    c3 = coeffs(d, 3)
    assert c3["f1[f1[f2]]"] == c3["f7[f7[f3]]"] != 0
    assert c3["f1[f1,f2]"] == c3["f7[f3,f7]"] != 0
    assert "f1[f2[f3]]" not in c3 and "f8[f5[f2]]" not in c3  # chains of three batches cancel


def test_multitask_flatness_and_conflict():
    """L̃ = L + (h/4)Σ_i‖∇L_i‖² + (h/2)Σ_{i<j}⟨∇L_i,∇L_j⟩."""
    d = derive(build("multitask", 2, tasks="3"), 2)
    w = weights(d, 2)
    for i in range(1, 4):
        assert w[f"L{i}[L{i}|]"] == R(1, 4)
    for i, j in itertools.combinations(range(1, 4), 2):
        assert w[f"L{i}[L{j}|]"] == R(1, 2)
    assert d.has_loss


def test_multitask_per_task_steps_turn_the_conflict_into_brackets():
    """One step per task in turn (cycle n): flatness h/(4n)Σ‖∇L_i‖², conflict
    (h/(2n)) Σ_{i<j} [∇L_i, ∇L_j] — the alignment term of the joint step is gone."""
    d = derive(build("multitask", 2, tasks="3", per_task=True), 2)
    assert weights(d, 2) == {f"L{i}[L{i}|]": R(1, 12) for i in range(1, 4)}
    for i, j in itertools.combinations(range(1, 4), 2):
        assert remainder(d, 2)[f"f{j}[f{i}]"] == R(1, 6)
        assert remainder(d, 2)[f"f{i}[f{j}]"] == R(-1, 6)


@pytest.mark.parametrize("n_a, n_b", [(1, 1), (2, 3), (3, 1)])
def test_continual_flatness_and_lie_bracket(n_a, n_b):
    """flatness h/(4N)(n_A‖∇L_A‖² + n_B‖∇L_B‖²), conflict (h n_A n_B/(2N))[∇L_A, ∇L_B]."""
    n = n_a + n_b
    d = derive(build("continual", 2, steps=f"A:{n_a},B:{n_b}"), 2)
    assert weights(d, 2) == {"LA[LA|]": R(n_a, 4 * n), "LB[LB|]": R(n_b, 4 * n)}
    # [∇L_A, ∇L_B] = H_B g_A - H_A g_B = F(fB[fA]) - F(fA[fB])
    c = R(n_a * n_b, 2 * n)
    assert remainder(d, 2) == {"fB[fA]": c, "fA[fB]": -c}
    assert not d.has_loss


def test_game_simultaneous_matches_rosca_at_equal_rates():
    """φ' = f - (αh/2)(f_φ f + f_θ g), θ' = g - (λh/2)(g_φ f + g_θ g) at α = λ (per time αh)."""
    a = sympy.Symbol("a", real=True)
    d = derive(build("game", 2, mode="simultaneous", rates="a,a"), 2)
    assert coeffs(d, 1) == {"fx": a, "fy": a}
    assert coeffs(d, 2) == {"fx[fx]": -a**2 / 2, "fx[fy]": -a**2 / 2, "fy[fx]": -a**2 / 2, "fy[fy]": -a**2 / 2}


@pytest.mark.parametrize("m_steps, k_steps", [(1, 1), (2, 1), (1, 3), (2, 3)])
def test_game_alternating_matches_rosca_at_equal_rates(m_steps, k_steps):
    """φ' = f - (αh/2)((1/m) f_φ f + f_θ g), θ' = g - (λh/2)((1/k) g_θ g - (2α/λ - 1) g_φ f)."""
    a = sympy.Symbol("a", real=True)
    d = derive(build("game", 2, mode="alternating", rates="a,a", steps=f"{m_steps},{k_steps}"), 2)
    assert coeffs(d, 2) == {
        "fx[fx]": sympy.factor(-a**2 / (2 * m_steps)), "fx[fy]": -a**2 / 2,
        "fy[fy]": sympy.factor(-a**2 / (2 * k_steps)), "fy[fx]": a**2 / 2,
    }


def test_game_alternating_unequal_rates_differs_from_published_cross_term():
    """Joint-map derivation: the θ cross term is αλ/2 g_φ f, not the published
    (λ²/2)(2α/λ - 1) = αλ - λ²/2 (which agrees only at α = λ; see REFERENCES.md)."""
    alpha, lam = sympy.symbols("alpha lam", real=True)
    d = derive(build("game", 2, mode="alternating", rates="alpha,lam"), 2)
    ours = coeffs(d, 2)["fy[fx]"]
    assert sympy.simplify(ours - alpha * lam / 2) == 0
    published = lam**2 / 2 * (2 * alpha / lam - 1)
    assert sympy.simplify(ours - published) != 0
    assert sympy.simplify((ours - published).subs(lam, alpha)) == 0


def test_zero_sum_player_losses():
    """Simultaneous zero-sum at α = λ: L̃_x = E + (αh/4)‖∇_xE‖² - (αh/4)‖∇_yE‖²."""
    a = sympy.Symbol("a", real=True)
    d = derive(build("game", 2, rates="a,a", zero_sum=True), 2)
    assert weights(d, 1, "x") == {"E": a}
    assert weights(d, 2, "x") == {"E[E|x]": a**2 / 4, "E[E|y]": -a**2 / 4}
    assert weights(d, 2, "y") == {"E[E|x]": -a**2 / 4, "E[E|y]": a**2 / 4}
    assert d.has_loss


def test_non_zero_sum_game_has_no_player_loss_for_the_cross_term():
    d = derive(build("game", 2, rates="1,1"), 2)
    assert remainder(d, 2, "x") == {"fx[fy]": R(-1, 2)}
    assert weights(d, 2, "x") == {"Lx[Lx|x]": R(1, 4)}


def test_gd_order_three_split_is_least_squares():
    d = derive(build("gd", 3), 3)
    assert weights(d, 3) == {str(parse("L[L|,L|]")): R(3, 20)}
    r = remainder(d, 3)
    assert r == {"f[f,f]": R(-1, 15), "f[f[f]]": R(1, 30)}
    # the remainder is orthogonal to the gradient column of ⟨∇L, ∇²L ∇L⟩, read from the engine:
    # its gradient's coefficients on f[f,f] and f[f[f]] per unit weight
    column = {str(t): c for t, c in d.splits[3][None].gradient.items()}
    weight = weights(d, 3)[str(parse("L[L|,L|]"))]
    assert sum(r[t] * column[t] / weight for t in r) == 0
    assert set(column) == set(r)
