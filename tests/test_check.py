"""bea.check as a library: problems, user problem files, symbol values, a given sweep,
drift, limits and scoped float64."""

import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from bea import derive
from bea.check import CheckError, PROBLEMS, ProblemError, load_problem, make_problem
from bea.check import check, default_learning_rate, drift, local_errors
from bea.check.values import free_symbols, numeric_parameters, resolve_values, to_float
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


def test_mismatched_and_oversized_problems_are_refused():
    gd = build("gd", 2)
    game = build("game", 2)
    with pytest.raises(ProblemError, match="game"):
        make_problem("bilinear", gd.atoms)
    with pytest.raises(ProblemError, match="one parameter block"):
        make_problem("logistic", game.atoms, ("x", "y"))
    with pytest.raises(ProblemError, match="unknown problem"):
        make_problem("nope", gd.atoms)
    with pytest.raises(ProblemError, match=r"needs about 1.11 EB \(limit 2 GB\)"):
        make_problem("mlp", gd.atoms, size=100_000_000)


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
        "nan = {'losses': {'L': lambda p: jnp.log(p @ p - 10.0)}, 'params': [1.0]}\n"
    )
    rule = build("sgd", 2, batches="2", shuffle="random")
    prob = load_problem(f"{path}:tanh_problem", rule.atoms)
    assert set(prob.losses) == {"L1", "L2"} and prob.params["w"].dtype == jnp.float64
    _, result = check(rule, 2, prob)
    assert result.ok
    with pytest.raises(ProblemError, match="L2"):
        load_problem(f"{path}:partial", rule.atoms)
    with pytest.raises(ProblemError, match="no 'missing'"):
        load_problem(f"{path}:missing", rule.atoms)
    with pytest.raises(ProblemError, match="does not exist"):
        load_problem(f"{tmp_path}/none.py:x", rule.atoms)
    with pytest.raises(ProblemError, match="loss L is nan"):
        load_problem(f"{path}:nan", build("gd", 2).atoms)


def test_given_sweep_and_integration_error():
    rule = build("gd", 3)
    prob = make_problem("logistic", rule.atoms)
    d = derive(rule, 3)
    hs = np.geomspace(0.05, 0.2, 5)
    result = local_errors(d, prob, hs, orders=(1, 2))
    assert result.expected == [2, 3]
    assert result.ok
    for errs, integ in zip(result.errors, result.integration):
        assert np.all(errs > 1e4 * integ)  # the flow is integrated far more accurately
    assert all(u.all() for u in result.used)


def test_symbol_values_defaults_and_poles():
    rule = build("game", 2, rates="a,1/2")
    d = derive(rule, 2)
    assert free_symbols(d) == {"a"}
    with pytest.raises(ValueError, match="symbol a"):
        resolve_values(d, {})
    assert resolve_values(d, {"a": 2}) == {"a": 2.0}
    assert numeric_parameters({"t": (sympy.Rational(1, 2), (sympy.Symbol("a"),))}, {"a": 3}) == \
        {"t": (0.5, (3.0,))}
    notes = []
    assert resolve_values(derive(build("momentum", 2), 2), None, notes) == {"beta": 0.5}
    assert notes == ["beta not given: using beta = 0.5"]
    beta = sympy.Symbol("beta")
    with pytest.raises(ValueError, match="no finite value at beta = 1"):
        to_float(1 / (1 - beta), {"beta": 1})
    assert to_float(1 / (1 - beta), {"beta": 0.5}) == 2.0


def test_drift_gd_order_2_beats_gradient_flow():
    rule = build("gd", 2)
    prob = make_problem("mlp", rule.atoms)  # as test_check_cli's drift: one compilation
    d = derive(rule, 2)
    h = default_learning_rate(d, prob)
    r = drift(d, prob, h, 40)
    assert r.diverged_at is None
    assert r.distance[2][-1] < 0.2 * r.distance[1][-1]
    assert r.cosine[2][-1] > 0.95 and 0.7 < r.ratio[2][-1] < 1.3
    # IGR: the order-2 regularizer of gd is h/4 ‖∇L‖² ≥ 0 and decreases with the loss
    assert np.all(r.regularizer >= 0) and r.loss[-1] < r.loss[0]


def test_drift_limits_and_divergence():
    rule = build("gd", 2)
    prob = make_problem("logistic", rule.atoms)
    d = derive(rule, 2)
    with pytest.raises(CheckError, match="over the limit of 1000000 iterations"):
        drift(d, prob, 0.1, 10 ** 9)
    with pytest.raises(CheckError, match=r"need about .* \(limit 2 GB\)"):
        drift(d, make_problem("mlp", rule.atoms), 0.1, 10 ** 6)
    notes = []
    r = drift(d, make_problem("quadratic", rule.atoms), 100.0, 10, notes=notes)
    assert r.diverged_at is not None and 1 <= r.diverged_at <= 10
    assert len(notes) == 1 and notes[0].startswith(f"warning: the iterates diverged at step {r.diverged_at}; "
                                                   "the result is not meaningful; --lr ")


def test_importing_bea_and_running_a_check_leave_float64_as_it_was():
    code = (
        "import jax, jax.numpy as jnp\n"
        "import bea, bea.check, bea.bseries.evaluate, bea.codegen\n"
        "from bea.check import orders, drifting, report, make_problem, check\n"
        "assert jax.config.jax_enable_x64 is False\n"
        "from bea.schemes import build\n"
        "rule = build('gd', 1)\n"
        "_, r = check(rule, 1, make_problem('quadratic', rule.atoms), hs=[0.01, 0.02, 0.04])\n"
        "assert jax.config.jax_enable_x64 is False and jnp.zeros(1).dtype == jnp.float32\n"
        "assert r.errors[0].dtype.name == 'float64'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_defaults_are_reported_when_used():
    from bea.check import problem_for, scheme_defaults

    notes = []
    assert scheme_defaults("sgd", {"batches": None, "shuffle": "forward"}, notes) == \
        {"batches": 3, "shuffle": "forward"}
    assert scheme_defaults("sgd", {"batches": "2"}, notes) == {"batches": "2"}
    assert problem_for(build("game", 2), notes=notes).name == "dirac-gan"
    assert problem_for(build("gd", 2), experiment="drift", notes=notes).name == "mlp"
    assert problem_for(build("gd", 2), "quartic", notes=notes).name == "quartic"
    assert notes == ["sgd --batches not given: using 3 batches (a symbolic m cannot be run)",
                     "--problem not given: using dirac-gan", "--problem not given: using mlp"]
