"""Problems, user problem files, local errors with a given sweep, and drift."""

import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from bea import derive, verify
from bea.problems import PROBLEMS, ProblemError, load_problem, make_problem
from bea.schemes import build


@pytest.mark.parametrize("name", [p for p in PROBLEMS if p not in ("bilinear", "dirac-gan")])
def test_problem_gives_a_loss_per_batch(name):
    rule = build("sgd", 2, batches="3", shuffle="forward")
    prob = make_problem(name, rule.atoms, size=3 if name == "mlp" else None)
    assert set(prob.losses) == {"L1", "L2", "L3"}
    values = [float(prob.losses[k](prob.params)) for k in ("L1", "L2", "L3")]
    assert all(np.isfinite(values)) and len(set(values)) == 3


@pytest.mark.parametrize("zero_sum", [False, True])
@pytest.mark.parametrize("name", ["bilinear", "dirac-gan"])
def test_game_problems(name, zero_sum):
    rule = build("game", 2, zero_sum=zero_sum)
    prob = make_problem(name, rule.atoms, ("x", "y"))
    assert set(prob.losses) == ({"E"} if zero_sum else {"Lx", "Ly"})
    assert isinstance(prob.params, tuple) and len(prob.params) == 2


def test_mismatched_problems_are_refused():
    gd = build("gd", 2)
    game = build("game", 2)
    with pytest.raises(ProblemError, match="game"):
        make_problem("bilinear", gd.atoms)
    with pytest.raises(ProblemError, match="one parameter block"):
        make_problem("logistic", game.atoms, ("x", "y"))
    with pytest.raises(ProblemError, match="unknown problem"):
        make_problem("nope", gd.atoms)


def test_mlp_default_has_over_ten_thousand_parameters():
    prob = make_problem("mlp", build("gd", 2).atoms)
    assert sum(x.size for x in prob.params.values()) >= 10_000


def test_user_problem_file(tmp_path):
    path = tmp_path / "prob.py"
    path.write_text(
        "import jax.numpy as jnp\n"
        "def tanh_problem(names):\n"
        "    return {'losses': {n: (lambda p, k=k: jnp.sum(jnp.log(jnp.cosh(p['w'] - k))))\n"
        "                      for k, n in enumerate(names)},\n"
        "            'params': {'w': [0.5, -0.3, 1.0]}}\n"
        "partial = {'losses': {'L1': lambda p: p @ p}, 'params': [1.0]}\n"
    )
    rule = build("sgd", 2, batches="2", shuffle="random")
    prob = load_problem(f"{path}:tanh_problem", rule.atoms)
    assert set(prob.losses) == {"L1", "L2"} and prob.params["w"].dtype == jnp.float64
    _, result = verify.check(rule, 2, prob)
    assert result.ok
    with pytest.raises(ProblemError, match="L2"):
        load_problem(f"{path}:partial", rule.atoms)
    with pytest.raises(ProblemError, match="no 'missing'"):
        load_problem(f"{path}:missing", rule.atoms)
    with pytest.raises(ProblemError, match="does not exist"):
        load_problem(f"{tmp_path}/none.py:x", rule.atoms)


def test_given_sweep_and_integration_error():
    rule = build("gd", 3)
    prob = make_problem("logistic", rule.atoms)
    d = derive(rule, 3)
    hs = np.geomspace(0.05, 0.2, 5)
    result = verify.local_errors(d, prob, hs, orders=(1, 2))
    assert result.expected == [2, 3]
    assert result.ok
    for errs, integ in zip(result.errors, result.integration):
        assert np.all(errs > 1e4 * integ)  # the flow is integrated far more accurately
    assert all(u.all() for u in result.used)


def test_symbol_values_and_numeric_parameters():
    rule = build("game", 2, rates="a,1/2")
    d = derive(rule, 2)
    assert verify.free_symbols(d) == {"a"}
    with pytest.raises(ValueError, match="symbol a"):
        verify.resolve_values(d, {})
    assert verify.resolve_values(d, {"a": 2}) == {"a": 2.0}
    assert verify.numeric_parameters({"t": (sympy.Rational(1, 2), (sympy.Symbol("a"),))}, {"a": 3}) == \
        {"t": (0.5, (3.0,))}


def test_drift_gd_order_2_beats_gradient_flow():
    rule = build("gd", 2)
    prob = make_problem("mlp", rule.atoms, size=8)
    d = derive(rule, 2)
    h = verify.default_learning_rate(d, prob)
    r = verify.drift(d, prob, h, 20)
    assert r.distance[2][-1] < 0.2 * r.distance[1][-1]
    assert r.cosine[2][-1] > 0.95 and 0.7 < r.ratio[2][-1] < 1.3
    # IGR: the order-2 regularizer of gd is h/4 ‖∇L‖² ≥ 0 and decreases with the loss
    assert np.all(r.regularizer >= 0) and r.loss[-1] < r.loss[0]
