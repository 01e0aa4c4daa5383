"""Issue 20, items 3, 4, 7, 8, 10: the work estimate sees every algebra and field (and the
library has the same guard), one line instead of a traceback, input that was accepted but
printed something wrong, API errors that name the argument, and JSON that its own
documented recipe reads."""

import glob
import json
import re
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import bea
from bea import Atom, Rule, RuleError, derive, rule_from_function
from bea.estimate import MAX_TERMS, FieldCost, TooMuchWork, estimate, field_cost
from bea.schemes import estimate_scheme, parse_options
from cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def _run(args):
    return CliRunner().invoke(main, args)


def _one_line_exit_2(result, *words):
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout[:200])
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def gd(theta, h, f):
    return theta + h * f(theta)


GD = Rule(gd, (Atom("f", "L"),), name="gd")


# -- 3. the estimate sees every algebra and field ---------------------------------------

def test_coordinatewise_estimate_counts_terms_not_one_tree_per_order():
    """adam --order 5 was "about 17 labelled trees" and ran for minutes."""
    work = estimate_scheme("adam", 5, parse_options("adam"))
    assert work.algebra == "coordinatewise" and work.terms > MAX_TERMS
    numeric = estimate_scheme("adam", 3, parse_options("adam", b1="1/2", b2="7/10", eps="1/10"))
    assert 1000 < numeric.terms < work.terms  # measured: 1 741 canonical terms at order 3
    line = _one_line_exit_2(_run(["derive", "--scheme", "adam", "--order", "5"]),
                            "coordinate-wise terms", "symbols b1, b2, eps", "--max-terms", "--order 4")
    assert "labelled trees" not in line


def test_numeric_adam_past_order_4_is_refused_and_symbolic_order_4_is_not():
    """On the ring, numeric Adam at order 5 ran over 8 minutes in the slaving; symbolic
    b1, b2, eps at order 4 takes seconds."""
    numeric = parse_options("adam", b1="0.9", b2="0.999", eps="1e-8")
    assert estimate_scheme("adam", 5, numeric).terms > MAX_TERMS
    assert estimate_scheme("adam", 4, numeric).terms < MAX_TERMS
    assert estimate_scheme("adam", 4, parse_options("adam")).terms < MAX_TERMS


def test_modifying_is_part_of_the_estimate():
    """adamw --modifying ran for minutes unannounced: it costs the flow one order higher."""
    typed = parse_options("adamw")
    assert estimate_scheme("adamw", 4, typed, modifying=True).terms > MAX_TERMS
    assert estimate_scheme("adamw", 4, typed).terms < MAX_TERMS
    assert estimate_scheme("adamw", 3, typed, modifying=True).terms == estimate_scheme("adamw", 4, typed).terms
    assert estimate_scheme("gd", 4, {}, modifying=True).terms == 2 * estimate_scheme("gd", 4, {}).terms
    _one_line_exit_2(_run(["derive", "--scheme", "adamw", "--modifying", "--order", "4"]),
                     "modifying field", "--max-terms", "--order 3")


def test_extreme_exponents_are_part_of_the_estimate():
    """Numbers of hundreds of digits (inside the parsers' limits) make tree coefficients
    explode: momentum at order 10 with β = 1e-400 ran for minutes, 1e-200 takes 16 s."""
    numeric = estimate_scheme("momentum", 10, parse_options("momentum", beta="1/2"))
    large = estimate_scheme("momentum", 10, parse_options("momentum", beta="1e-200"))
    huge = estimate_scheme("momentum", 10, parse_options("momentum", beta="1e-400"))
    assert numeric.terms < large.terms <= MAX_TERMS < huge.terms
    _one_line_exit_2(_run(["derive", "--scheme", "momentum", "--beta", "1e-400", "--order", "10"]),
                     "401-digit numbers", "--order 9", "--max-terms")
    rule = bea.schemes.build("momentum", 10, beta="1e-400", max_terms=10**12)
    with pytest.raises(TooMuchWork, match="401-digit numbers.*max_terms="):
        derive(rule, 10)
    # the coordinate-wise ring does not notice them (adam --eps 1e-400 took minutes on the
    # sympy canonical form; on the ring it costs what --eps 1/10 does)
    adam = {"b1": "1/2", "b2": "7/10"}
    assert (estimate_scheme("adam", 4, parse_options("adam", eps="1e-400", **adam)).terms
            == estimate_scheme("adam", 4, parse_options("adam", eps="1/10", **adam)).terms)


def _tableau(tmp_path, roots):
    entry = " + ".join(f"sqrt({p})/10" for p in roots)
    path = tmp_path / f"surds{len(roots)}.json"
    path.write_text(json.dumps({"A": [[0, 0], [entry, 0]], "b": ["1/2", "1/2"]}))
    return str(path)


def test_square_roots_multiply_the_cost(tmp_path):
    """A tableau entry with five different roots ran for more than a minute."""
    five = _tableau(tmp_path, [2, 3, 5, 7, 11])
    _one_line_exit_2(_run(["derive", "--scheme", "rk", "--tableau", five]), "5 square roots", "--max-terms")
    one = _tableau(tmp_path, [2])
    result = _run(["derive", "--scheme", "rk", "--tableau", one, "--order", "3"])
    assert result.exit_code == 0, result.stderr
    assert field_cost([sympy.sqrt(2) + sympy.sqrt(3), sympy.sqrt(8)]).surds == 2


def test_symbols_multiply_the_cost():
    """A symbol multiplies a tree coefficient's cost by 1 + 2s(N-1) (FLINT field, measured:
    momentum in β at order 10 is 18× its numeric derivation)."""
    symbolic = estimate_scheme("momentum", 10, parse_options("momentum"))
    numeric = estimate_scheme("momentum", 10, parse_options("momentum", beta="1/2"))
    assert numeric.terms == 1205 and symbolic.terms == 1205 * 19 < MAX_TERMS
    beyond = estimate_scheme("momentum", 13, parse_options("momentum"))
    assert beyond.terms == 20299 * 25 > MAX_TERMS
    _one_line_exit_2(_run(["derive", "--scheme", "momentum", "--order", "13"]), "symbol beta", "--order 12")


def test_max_terms_raises_the_limit_of_a_coordinatewise_rule():
    work = estimate_scheme("normalized", 2, {})
    refused = _run(["derive", "--scheme", "normalized", "--max-terms", str(work.terms - 1)])
    _one_line_exit_2(refused, f"--max-terms {work.terms}")
    allowed = _run(["derive", "--scheme", "normalized", "--max-terms", str(work.terms)])
    assert allowed.exit_code == 0, allowed.stderr


def test_the_library_refuses_before_any_work():
    """bea.derive(rule, 40) grew past 1 GB: a typed refusal naming the estimate and max_terms."""
    with pytest.raises(TooMuchWork) as info:
        derive(GD, 40)
    assert isinstance(info.value, ValueError)
    assert info.value.max_terms == MAX_TERMS and info.value.estimate.terms > MAX_TERMS
    assert "labelled trees" in str(info.value) and "max_terms=" in str(info.value) and "order=15" in str(info.value)
    with pytest.raises(TooMuchWork, match="max_terms=17"):
        derive(GD, 5, max_terms=16)
    assert derive(GD, 5, max_terms=17).order == 5
    assert derive(GD, 3, max_terms=None).order == 3
    for bad in ("lots", 0, True, 2.5):
        with pytest.raises(ValueError, match="max_terms"):
            derive(GD, 3, max_terms=bad)
    adam = bea.schemes.build("adam", 5, max_terms=10**12)
    with pytest.raises(TooMuchWork, match="coordinate-wise terms"):
        derive(adam, 5)


@settings(max_examples=60, deadline=None)
@given(order=st.integers(1, 14), atoms=st.integers(1, 4), symbols=st.integers(0, 3), surds=st.integers(0, 3),
       algebra=st.sampled_from(["trees", "coordinatewise"]), modifying=st.booleans())
def test_the_estimate_grows_with_every_cost(order, atoms, symbols, surds, algebra, modifying):
    def terms(n=order, k=atoms, s=symbols, r=surds, mod=modifying):
        cost = FieldCost(tuple(f"p{i}" for i in range(s)), r, 1)
        return estimate(n, k, algebra=algebra, cost=cost, modifying=mod).terms

    assert terms() > 0
    assert terms(n=order + 1) > terms()
    assert terms(k=atoms + 1) > terms()
    assert terms(s=symbols + 1) >= terms() and terms(r=surds + 1) > terms()
    assert terms(mod=True) >= terms(mod=False)


# -- 4. one line, never a traceback ------------------------------------------------------

RULES = {
    "badstr.py": ("class Bad(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"
                  "def step(theta, h, f):\n    raise Bad()\n"),
    "base.py": ("class Boom(BaseException):\n    pass\n"
                "def step(theta, h, f):\n    raise Boom('out of band')\n"),
    "callable.py": ("class Step:\n    def __call__(self, theta, h, f):\n        return theta + h * f(theta)\n"
                    "step = Step()\n"),
    "notation.py": ("import sympy, bea\n"
                    "def f(theta, h, g, c):\n    return theta + c * h * g(theta)\n"
                    "step = bea.Rule(f, (bea.Atom('g', 'L'),), params={'c': sympy.Symbol('s')})\n"),
}


@pytest.fixture
def rules(tmp_path, monkeypatch):
    for name, text in RULES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_huge_tableau_entry_is_refused_when_read(tmp_path):
    """A 3 000-digit entry failed in the printer (Python's integer-string limit)."""
    path = tmp_path / "big.json"
    path.write_text('{"A": [[0, 0], [' + "7" * 3000 + ', 0]], "b": [1, 0]}')
    _one_line_exit_2(_run(["derive", "--scheme", "rk", "--tableau", str(path)]), "A[1][0]", "120 digits")


def test_an_exception_whose_message_raises(rules):
    _one_line_exit_2(_run(["derive", "--rule", "badstr.py:step"]), "Bad")
    step = {}
    exec(RULES["badstr.py"], step)
    with pytest.raises(RuleError, match="Bad"):
        derive(Rule(step["step"], (Atom("f", "L"),)), 2)


def test_a_base_exception_from_a_rule(rules):
    _one_line_exit_2(_run(["derive", "--rule", "base.py:step"]), "out of band")
    step = {}
    exec(RULES["base.py"], step)
    with pytest.raises(RuleError, match="out of band"):
        derive(Rule(step["step"], (Atom("f", "L"),)), 2)

    def interrupted(theta, h, f):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # Ctrl-C is never turned into a RuleError
        derive(Rule(interrupted, (Atom("f", "L"),)), 2)


def test_a_callable_object_is_a_rule(rules):
    result = _run(["derive", "--rule", "callable.py:step", "--order", "3", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    reference = _run(["derive", "--scheme", "gd", "--order", "3", "-f", "json"])
    assert json.loads(result.stdout)["flow"] == json.loads(reference.stdout)["flow"]
    step = {}
    exec(RULES["callable.py"], step)
    rule = rule_from_function(step["step"])
    assert rule.name == "Step" and derive(rule, 2).coefficient("f[f]") == sympy.Rational(-1, 2)


# -- 7. accepted but wrong ---------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--scheme", "adam", "--b2", "g", "--eps", "s"],
    ["--scheme", "rmsprop", "--eps", "q"],
    ["--scheme", "adamw", "--weight-decay", "H"],
    ["--scheme", "momentum", "--beta", "z"],
    ["--scheme", "game", "--rates", "alpha,L"],
    ["--scheme", "momentum", "--beta", "R"],
    ["--scheme", "sgd", "--sampling", "iid", "--batch-size", "f"],
], ids=lambda a: " ".join(a))
def test_names_of_the_printed_notation_are_refused(args):
    """--b2 g --eps s printed s = √(g⊙g + s)."""
    _one_line_exit_2(_run(["derive", *args]), "reserved by the printed notation")


def test_a_rule_file_with_a_notation_name_is_refused(rules):
    _one_line_exit_2(_run(["derive", "--rule", "notation.py:step"]), "'s'", "reserved")


@pytest.mark.parametrize("sizes, word", [
    (["--batch-size", "n", "--examples", "B"], "swapped"),
    (["--batch-size", "b", "--examples", "B"], "swapped"),
    (["--batch-size", "64", "--examples", "32"], "swapped"),
    (["--batch-size", "k", "--examples", "k"], "different names"),
])
def test_swapped_batch_size_and_examples_are_refused(sizes, word):
    _one_line_exit_2(_run(["derive", "--scheme", "sgd", "--sampling", "iid", *sizes]), word)


def test_consistent_batch_sizes_still_work():
    for sizes in (["--batch-size", "4", "--examples", "32"], ["--batch-size", "b", "--examples", "N"], []):
        result = _run(["derive", "--scheme", "sgd", "--sampling", "iid", "--order", "1", *sizes])
        assert result.exit_code == 0, result.stderr


def test_the_api_refuses_h_as_a_parameter_and_a_negative_cycle():
    with pytest.raises(ValueError, match=r"params\['c'\].*step size"):
        Rule(gd, (Atom("f", "L"),), params={"c": sympy.Symbol("h") + 1})
    with pytest.raises(ValueError, match="cycle"):
        Rule(gd, (Atom("f", "L"),), cycle=-2)
    with pytest.raises(ValueError, match="cycle"):
        Rule(gd, (Atom("f", "L"),), cycle=sympy.Symbol("m", negative=True))
    assert Rule(gd, (Atom("f", "L"),), cycle=sympy.Symbol("m", positive=True)).cycle.name == "m"


# -- 8. API errors that name the argument ------------------------------------------------

def test_derive_of_none_names_the_rule():
    with pytest.raises(TypeError, match="rule must be a bea.Rule"):
        derive(None, 2)


@pytest.mark.parametrize("fields, error, name", [
    ({"cycle": 0}, ValueError, "cycle"),
    ({"cycle": sympy.Integer(0)}, ValueError, "cycle"),
    ({"cycle": "2"}, TypeError, "cycle"),
    ({"step": 3}, TypeError, "step"),
    ({"atoms": ("f",)}, TypeError, "atoms"),
    ({"params": {1: 2}}, TypeError, "params"),
    ({"n_aux": -1}, ValueError, "n_aux"),
    ({"algebra": "matrices"}, ValueError, "algebra"),
])
def test_rule_fields_are_checked_when_built(fields, error, name):
    args = {"step": gd, "atoms": (Atom("f", "L"),), **fields}
    with pytest.raises(error, match=f"Rule: {name}"):
        Rule(**args)


# -- 10. JSON that its own recipe reads --------------------------------------------------

def _documented_parse():
    """The ``parse`` recipe exactly as docs/json.md writes it."""
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def parse(" in b)
    recipe = block.split("\ndata = ")[0]  # the function; the example below it reads a file
    namespace: dict = {}
    exec(recipe, namespace)
    return namespace["parse"]


PARSED = ("coeff", "scalar", "vector", "body", "potential")


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PARSED and isinstance(value, str):
                yield value
            else:
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_the_documented_recipe_reads_every_catalogue_file():
    parse = _documented_parse()
    files = sorted(glob.glob(str(ROOT / "derivations" / "*.json")))
    assert files
    known = {"g", "s", "q", "theta"}
    count = 0
    for path in files:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for text in _strings(data):
            value = parse(text, data["symbols"])
            names = {s.name for s in value.free_symbols}
            assert names <= set(data["symbols"]) | known | _atom_labels(data), (path, text)
            count += 1
    assert count > 100


def _atom_labels(data):
    return {a["label"] for a in data.get("atom_fields", [])}


@pytest.mark.parametrize("args", [
    ["--scheme", "game", "--rates", "alpha,lambda"],
    ["--scheme", "momentum", "--beta", "lambda"],
    ["--scheme", "rmsprop", "--b2", "1/2", "--eps", "lambda"],
])
def test_a_keyword_parameter_is_read_back(args):
    """A player's rate called lambda: parse_expr alone fails (a Python keyword)."""
    result = _run(["derive", *args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert "lambda" in data["symbols"]
    parse = _documented_parse()
    texts = [*_strings(data), *([data["notation"]["s"]] if "s" in data.get("notation", {}) else [])]
    values = [parse(text, data["symbols"]) for text in texts]
    assert sympy.Symbol("lambda") in set().union(*(v.free_symbols for v in values))
    with pytest.raises((SyntaxError, TypeError, ValueError)):  # the recipe as it was
        sympy.parse_expr("lambda + 1", local_dict={"lambda": sympy.Symbol("lambda")})
