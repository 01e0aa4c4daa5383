"""bea.bseries.evaluate is the one evaluator: generated code carries its source verbatim, and
generated code and bea.check compute the same values, bit for bit."""

import inspect

import numpy as np
import pytest

from bea import derive
from bea.bseries import evaluate
from bea.check import make_problem
from bea.check.setup import prepare
from bea.check.values import numeric_coefficients, to_float
from bea.codegen import functions
from bea.bseries.losses import scalar_label, split_scalar_label
from bea.schemes import build
from bea.bseries.trees import sort_key



def test_generated_runtime_is_the_evaluators_source():
    module = functions(derive(build("gd", 2), 2))
    assert evaluate.runtime_source() in module.__source__
    for fn in evaluate.RUNTIME:
        assert inspect.getsource(fn) in module.__source__
        generated = module.__dict__[fn.__name__].__code__
        assert (generated.co_code, generated.co_names) == (fn.__code__.co_code, fn.__code__.co_names)


def test_scalar_labels_round_trip():
    assert split_scalar_label(scalar_label("L", None, root=True)) == ("L", None)
    assert split_scalar_label(scalar_label("L", None)) == ("L", None)
    assert split_scalar_label(scalar_label("Lx", "y")) == ("Lx", "y")


@pytest.mark.parametrize("scheme,order,options,has_loss", [
    ("gd", 3, {}, False), ("gd", 2, {}, True), ("gd", 5, {}, False),
    ("sgd", 3, {"batches": "2", "shuffle": "forward"}, False),
    ("sgd", 2, {"batches": "2", "shuffle": "random"}, True)])
def test_generated_code_and_the_check_agree_bit_for_bit(scheme, order, options, has_loss):
    """The check's F(t) and S(s) (bea.bseries.evaluate, as bea.check calls it) and the generated
    modified field and loss, on the check's own problem and coordinates (both eager)."""
    d = derive(build(scheme, order, **options), order)
    assert d.has_loss == has_loss
    problem = make_problem("logistic", d.rule.atoms)
    setup = prepare(d, problem, {})
    losses = tuple(setup.losses[n] for n in dict.fromkeys(a.loss for a in d.rule.atoms))
    theta = setup.theta0 + 0.1 * np.arange(setup.theta0.size)
    h = 0.05
    generated = functions(d)
    coeffs = numeric_coefficients(d)
    fields = evaluate.fields_from_losses(d.rule.atoms, setup.losses)
    terms = [(k, t) for k in range(1, order + 1) for t in sorted(d.flow[k], key=sort_key) if coeffs[k][t]]
    field = evaluate.planned_sum([(coeffs[k][t], t) for k, t in terms], fields, theta, h)
    assert np.array_equal(generated.modified_field(losses, h)(theta), field)
    # the same sum with h in the coefficients and unscaled directions (h = 1), as the check's solver has it
    unscaled = evaluate.planned_sum([(coeffs[k][t] * h ** (k - 1), t) for k, t in terms], fields, theta)
    np.testing.assert_allclose(unscaled, field, rtol=1e-13)
    if has_loss:
        memo: dict = {}
        weights = [(k, s, to_float(d.field.to_sympy(w), {})) for k in range(1, order + 1)
                   for s, w in sorted(d.splits[k][None].weights.items(), key=lambda sw: sort_key(sw[0]))]
        loss = evaluate._total(theta, *[(w * h ** (k - 1) if k > 1 else w,
                                         evaluate.scalar_value(s, setup.losses, theta, memo=memo))
                                        for k, s, w in weights if w])
        assert np.array_equal(generated.modified_loss(losses, h)(theta), loss)
