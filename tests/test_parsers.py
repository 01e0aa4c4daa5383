"""Property tests of every parser of user text: each raises only its documented error class
and never evaluates text (``eval``, ``exec`` and sympy's string parser are disabled while
it runs)."""

import builtins
import contextlib
import json

import pytest
import sympy
import sympy.parsing.sympy_parser as sympy_parser
from hypothesis import given, settings, strategies as st

from bea.domain import exact_number
from bea.schemes import SchemeError
from bea.schemes._options import Integer, NumberList, NumberOrSymbol, TaskSteps, setting
from bea.schemes.surds import SurdError, parse_surd
from bea.schemes.tableaux import TABLEAUX, load_tableau
from bea.bseries.trees import InvalidTreeError, parse

FEW = settings(max_examples=150, deadline=None)

# text built from the characters the parsers care about, plus anything
ALPHABET = st.sampled_from(list("0123456789+-*/().,:=[] eEsqrtfhab_") + ["sqrt(", "__import__", "'", "\\", "é", "\x00"])
GRAMMAR_TEXT = st.lists(ALPHABET, max_size=40).map("".join)
ANY_TEXT = st.one_of(GRAMMAR_TEXT, st.text(max_size=60))


def _forbidden(*args, **kwargs):
    raise AssertionError("text was evaluated")


@contextlib.contextmanager
def nothing_evaluated():
    saved = builtins.eval, builtins.exec, sympy_parser.parse_expr, sympy.sympify
    builtins.eval = builtins.exec = sympy_parser.parse_expr = sympy.sympify = _forbidden
    try:
        yield
    finally:
        builtins.eval, builtins.exec, sympy_parser.parse_expr, sympy.sympify = saved


def only(error, call, *args):
    """Run ``call(*args)``; ``error`` is allowed, anything else propagates."""
    with nothing_evaluated():
        try:
            return call(*args)
        except error:
            return None


@FEW
@given(ANY_TEXT)
def test_exact_number(text):
    value = only(ValueError, exact_number, text)
    if value is not None:
        assert value.is_Rational


@FEW
@given(st.fractions(max_denominator=10**6))
def test_exact_number_reads_fractions_exactly(q):
    assert exact_number(f"{q.numerator}/{q.denominator}") == sympy.Rational(q.numerator, q.denominator)


@FEW
@given(ANY_TEXT)
def test_number_or_symbol(text):
    value = only(SchemeError, NumberOrSymbol().parse, "--beta", text)
    if value is not None:
        assert value.is_Rational or (value.is_Symbol and value.name != "h")


@FEW
@given(ANY_TEXT)
def test_whole_numbers_and_lists(text):
    only(SchemeError, Integer().parse, "--tasks", text)
    value = only(SchemeError, NumberList(2).parse, "--rates", text)
    assert value is None or len(value) == 2


@FEW
@given(ANY_TEXT)
def test_task_steps(text):
    value = only(SchemeError, TaskSteps().parse, "--steps", text)
    if value is not None:
        assert all(name.isalnum() and count >= 1 for name, count in value)


@FEW
@given(st.lists(st.tuples(st.sampled_from("ABCxyz"), st.integers(1, 50)), min_size=1, max_size=4))
def test_task_steps_round_trip(plan):
    text = ",".join(f"{n}:{c}" for n, c in plan)
    assert TaskSteps().parse("--steps", text) == tuple(plan)


@FEW
@given(ANY_TEXT)
def test_setting(text):
    value = only(SchemeError, setting, text)
    if value is not None:
        name, number = value
        assert name.isidentifier() and name != "h" and number.is_Rational


@FEW
@given(ANY_TEXT)
def test_tree_strings(text):
    only(InvalidTreeError, parse, text)


def test_deep_tree_string_is_an_invalid_tree():
    with pytest.raises(InvalidTreeError):
        parse("f[" * 5000 + "f" + "]" * 5000)


@FEW
@given(GRAMMAR_TEXT)
def test_surds(text):
    value = only(SurdError, parse_surd, text)
    if value is not None:
        assert value.is_number and value.is_finite


SURD = st.recursive(
    st.fractions(min_value=-100, max_value=100, max_denominator=50).map(
        lambda q: (f"({q.numerator}/{q.denominator})", sympy.Rational(q.numerator, q.denominator))),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from("+-*"), inner).map(
            lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})",
                       {"+": t[0][1] + t[2][1], "-": t[0][1] - t[2][1], "*": t[0][1] * t[2][1]}[t[1]])),
        st.integers(0, 50).map(lambda n: (f"sqrt({n})", sympy.sqrt(n))),
    ),
    max_leaves=6,
)


@FEW
@given(SURD)
def test_surds_compute_exactly(case):
    text, expected = case
    assert sympy.expand(parse_surd(text) - expected) == 0


@pytest.mark.parametrize("text,value", [
    ("sqrt(3)", sympy.sqrt(3)),
    ("1/2 + sqrt(3)/6", sympy.Rational(1, 2) + sympy.sqrt(3) / 6),
    ("-sqrt(15)/10", -sympy.sqrt(15) / 10),
    ("1/4 - sqrt(3)/6", sympy.Rational(1, 4) - sympy.sqrt(3) / 6),
    ("2.5e-1", sympy.Rational(1, 4)),
    ("-(1 - 2)", sympy.Integer(1)),
])
def test_surd_examples(text, value):
    assert sympy.expand(parse_surd(text) - value) == 0


@pytest.mark.parametrize("text", ["sqrt(-1)", "sqrt(sqrt(2))", "1/0", "1/(sqrt(2) - sqrt(2))", "exp(1)",
                                  "__import__('os')", "1e999999", "(" * 50 + "1" + ")" * 50, "2**3", ""])
def test_surd_refusals(text):
    with pytest.raises(SurdError):
        parse_surd(text)


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), GRAMMAR_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["A", "b", "name"]), inner,
                                                                          max_size=3)),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(st.one_of(JSON_VALUE.map(json.dumps), st.binary(max_size=50).map(lambda b: b.decode("latin-1"))))
def test_tableau_json(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("tab") / "t.json"
    path.write_text(text, encoding="utf-8")
    only(SchemeError, load_tableau, str(path))


def test_gauss_legendre_written_in_a_file_equals_the_built_in(tmp_path):
    from bea.derive import derive
    from bea.schemes import build

    path = tmp_path / "gl4.json"
    path.write_text(json.dumps({"name": "gauss-legendre-4",
                                "A": [["1/4", "1/4 - sqrt(3)/6"], ["1/4 + sqrt(3)/6", "1/4"]],
                                "b": ["1/2", "1/2"]}))
    from_file = derive(build("rk", 5, tableau=str(path)), 5)
    built_in = derive(build("rk", 5, method="gauss-legendre-4"), 5)
    assert TABLEAUX["gauss-legendre-4"].a == load_tableau(str(path)).a
    assert built_in.flow[5]  # order 4: f_2 … f_4 vanish, f_5 is the first correction
    for k in range(1, 6):
        assert set(from_file.flow[k]) == set(built_in.flow[k])
        for t in built_in.flow[k]:
            assert sympy.expand(from_file.coefficient(t) - built_in.coefficient(t)) == 0
