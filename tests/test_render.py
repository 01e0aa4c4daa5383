"""Printers (bea.render): registry and dispatch, notation, golden LaTeX/Markdown, JSON symbols."""

import itertools
import json
import re
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from bea import derive, parse, tree
from bea.catalogue import ENTRIES, derivation_of
from bea.render import FORMATS, Printer, render, walk
from bea.render.latex import MAX_TERMS
from bea.render.sections import ModifiedFlow
from bea.render.text import TextPrinter
from bea.schemes import build
from cli.main import main

GOLDEN = Path(__file__).resolve().parent.parent / "derivations"


def derivation(scheme, order, **options):
    return derive(build(scheme, order, **options), order)


# -- registry and dispatch ------------------------------------------------------------

def test_registry_holds_one_printer_per_format():
    assert set(FORMATS) == {"text", "latex", "markdown", "json"}
    assert all(issubclass(p, Printer) and p.format == name for name, p in FORMATS.items())
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render(derivation("gd", 2), "pdf")


def test_a_printer_overrides_only_what_differs():
    class NoGradients(TextPrinter):
        def _print_FlowInGradients(self, section):
            return [""]

    d = derivation("gd", 2)
    full, short = render(d, "text"), NoGradients().doprint(d)
    assert "in gradients" in full and "in gradients" not in short
    assert short.splitlines()[:6] == full.splitlines()[:6]
    assert short.splitlines()[-3:] == full.splitlines()[-3:]


def test_an_unknown_section_is_an_error_not_partial_output():
    class Unknown:
        pass

    with pytest.raises(NotImplementedError, match="TextPrinter cannot print Unknown"):
        TextPrinter()._print(Unknown())


# -- text: what the literature writes --------------------------------------------------

def test_gd_order_3_splits_the_non_gradient_term():
    out = render(derivation("gd", 3))
    assert "f₃ = 1/12 f''(f, f) + 1/3 f'f'f" in out
    assert "r₃ = " in out and "not a gradient" in out


def test_sgd_symbolic_m_prints_smith_et_al():
    out = render(derivation("sgd", 2))
    assert "L̃ = C + h/(4m) Σ_k ‖∇L_k‖²   (C = 1/m Σ_k L_k)" in out
    assert "f₂ = -1/(2m) Σ_k f^[k]'f^[k]" in out


def test_continual_prints_the_lie_bracket():
    assert "r₂ = 1/4 [∇L_A, ∇L_B]" in render(derivation("continual", 2, steps="A:1,B:1"))


def test_multitask_prints_alignment_and_separates_tasks_from_orders():
    out = render(derivation("multitask", 2, tasks=2))
    assert "atoms: f^[1] = -∇L₁, f^[2] = -∇L₂" in out
    assert "f₁ = f^[1] + f^[2]" in out
    assert "h/2 ⟨∇L₁, ∇L₂⟩" in out


_ORDER_NAME = {"text": re.compile(r"f[₀-₉]"), "latex": re.compile(r"f_\{\d+\}")}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.slug)
def test_flow_order_names_never_name_an_atom(entry):
    """``f₁, f₂, …`` name the orders of the modified flow only: no right-hand side uses them."""
    d = derivation_of(entry)
    for fmt, pattern in _ORDER_NAME.items():
        for line in render(d, fmt).splitlines():
            rhs = line.split("=", 1)[1] if "=" in line else line
            if "θ'" not in line:
                assert not pattern.search(rhs), (fmt, line)


# -- LaTeX rows are broken -------------------------------------------------------------

def _top_level_terms(line: str) -> int:
    """Terms in one LaTeX line: signs ``+``/``-`` between terms outside any brackets."""
    body = line.split("&=", 1)[1] if "&=" in line else line.split(r"&\quad", 1)[1]
    body = body.rstrip("\\ ").split(r", \quad")[0]
    body = body.replace(r"\left(", "(").replace(r"\right)", ")")
    depth, count, started = 0, 0, False
    for i, ch in enumerate(body):
        depth += ch in "({[" and 1 or 0
        depth -= ch in ")}]" and 1 or 0
        if depth == 0 and ch in "+-" and body[i - 1:i] in (" ", "") and body[i + 1:i + 2] == " ":
            count += 1
            started = True
        elif not ch.isspace() and not started:
            count, started = count + 1, True
    return count


def test_latex_rows_of_rk4_order_6_are_broken():
    d = derivation("rk", 6, method="rk4")
    latex = render(d, "latex")
    lines = latex.split(r"\begin{align*}")[1].split(r"\end{align*}")[0].strip().splitlines()
    assert max(_top_level_terms(line) for line in lines) <= MAX_TERMS
    f6 = next(i for i, line in enumerate(lines) if line.startswith("f_{6}"))
    rest = itertools.takewhile(lambda line: line.startswith(r"&\quad"), lines[f6 + 1:])
    assert _top_level_terms(lines[f6]) + sum(map(_top_level_terms, rest)) == len(d.flow[6]) == 10


# -- golden LaTeX and Markdown ---------------------------------------------------------

@pytest.mark.parametrize("fmt, ext", [("latex", "tex"), ("markdown", "md")])
def test_cli_output_equals_the_golden_derivation(fmt, ext):
    out = CliRunner().invoke(main, ["derive", "--scheme", "momentum", "--order", "2", "--beta", "beta",
                                    "--format", fmt]).output
    golden = (GOLDEN / f"momentum-heavy-ball.{ext}").read_text(encoding="utf-8")
    assert golden.startswith(out) and "Regenerate" in golden[len(out):]
    assert r"\beta" in out


# -- JSON ------------------------------------------------------------------------------

def test_json_contract():
    data = json.loads(render(derivation("gd", 4), "json"))
    assert data["scheme"] == "gd" and data["order"] == 4 and data["atoms"] == ["f"] and data["cycle"] == 1
    order4 = {t["tree"]: t["coeff"] for t in data["flow"][3]["terms"]}
    assert order4 == {"f[f,f[f]]": "-1/12", "f[f[f,f]]": "-1/12", "f[f[f[f]]]": "-1/4"}
    assert data["loss"]["exists"] is False and data["symbols"] == []
    sgd = json.loads(render(derivation("sgd", 2, batches="3"), "json"))
    assert sgd["atoms"] == ["f1", "f2", "f3"] and sgd["cycle"] == 3
    backward = json.loads(render(derivation("sgd", 2, batches="3", shuffle="backward"), "json"))
    assert backward["atoms"] == ["f3", "f2", "f1"]  # update order: T_1∘T_2∘T_3 applies f3 first
    assert json.loads(render(derivation("momentum", 2, beta="beta"), "json"))["symbols"] == ["beta"]


def _concrete(pattern: str, members: list[str], ordered: bool):
    """An index-pattern tree (``f_j[f_k]``) over concrete members, and the number of letter
    permutations fixing it (the pattern's coefficient is the member's divided by it)."""
    t = parse(pattern)
    letters = sorted({lab.partition("|")[0].split("_")[1] for lab in _labels(t)}, key="ijklnpqrs".index)

    def rename(s, mapping):
        head, bar, rest = s.label.partition("|")
        stem, _, letter = head.partition("_")
        label = f"{stem}{mapping[letter]}{bar}{rest}" if letter else s.label
        return tree(label, [rename(c, mapping) for c in s.children])

    fixed = 1 if ordered else sum(
        rename(t, dict(zip(letters, p))) == rename(t, dict(zip(letters, letters)))
        for p in itertools.permutations(letters))
    return rename(t, {x: members[i] for i, x in enumerate(letters)}), fixed


def _labels(t):
    yield t.label
    for c in t.children:
        yield from _labels(c)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.slug)
def test_json_coefficients_parse_back_with_their_symbols(entry):
    """Every coefficient of the committed JSON, parsed with ``symbols`` as local names, equals
    the derivation's coefficient exactly; ``symbols`` is exactly the set of names used."""
    data = json.loads((GOLDEN / f"{entry.slug}.json").read_text(encoding="utf-8"))
    d = derivation_of(entry)
    local = {name: sympy.Symbol(name) for name in data["symbols"]}
    fam = d.rule.family
    used = set()

    def check(terms, table):
        expected = {t: d.field.to_sympy(c) for t, c in table.items()}
        seen = set()
        for term in terms:
            coeff = sympy.parse_expr(term["coeff"], local_dict=local)
            used.update(s.name for s in coeff.free_symbols)
            if "sum" in term:
                members = list(range(1, len(fam.labels) + 1))
                t, fixed = _concrete(term["tree"], members, fam.ordered)
                coeff = coeff * fixed
            else:
                t = parse(term["tree"])
            want = expected[t].subs({s: sympy.Symbol(s.name) for s in expected[t].free_symbols})
            assert sympy.simplify(coeff - want) == 0, (term, want)
            seen.add(t)
        if fam is None or isinstance(fam.size, int):
            assert seen == set(expected)

    if d.rule.algebra == "coordinatewise":
        # coordinate-wise terms (grammar in docs/json.md; values against the Adam reference in
        # tests/test_adaptive_render.py): every scalar parses with the declared symbols
        loss_rows = data["loss"]["blocks"][0]["orders"] if data["loss"] else []
        for row in data["flow"] + loss_rows:
            for part in row["parts"]:
                for piece in part["coeff"]:
                    used.update(s.name for s in sympy.parse_expr(piece["scalar"], local_dict=local).free_symbols)
        vectors = {v: sympy.Symbol(v) for v in ("g", "s")}
        for name in ("s", "q"):
            if name in data["notation"]:
                expr = sympy.parse_expr(data["notation"][name], local_dict={**local, **vectors})
                used.update(s.name for s in expr.free_symbols if s.name not in vectors)
        assert used == set(data["symbols"])
        return
    for row in data["flow"]:
        check(row["terms"], d.flow[row["order"]])
    for block in (data["loss"] or {"blocks": []})["blocks"]:
        for o in block["orders"]:
            split = d.splits[o["order"]][block["block"]]
            check(o["terms"], split.weights)
            check(o["remainder"], split.remainder)
    assert used == set(data["symbols"])


def test_walk_gives_sections_in_print_order():
    kinds = [type(s).__name__ for s in walk(derivation("game", 2, rates="alpha,lam"))]
    assert kinds == ["Header", "ModifiedFlow", "FlowInGradients", "ModifiedLoss", "ModifiedLoss"]
    assert isinstance(walk(derivation("gd", 1))[1], ModifiedFlow)


# -- a Runge–Kutta method integrates any ODE ---------------------------------------------

def test_rk_prints_a_general_vector_field_unless_asked_for_gradients():
    """`--field ode` (rk's default): `f` is any vector field, the modified flow alone;
    `--field gradient`: `f = -∇L` and the modified loss, the same coefficients."""
    ode = derivation("rk", 3, method="heun")
    gradient = derivation("rk", 3, method="heun", field="gradient")
    assert ode.flow == gradient.flow
    ode_text, gradient_text = render(ode, "text"), render(gradient, "text")
    assert "atoms: f ·" in ode_text and "∇" not in ode_text and "modified loss" not in ode_text
    assert "atoms: f = -∇L" in gradient_text and "modified loss" in gradient_text
    assert json.loads(render(ode, "json"))["loss"] is None
    assert json.loads(render(gradient, "json"))["loss"] is not None
    assert [type(s).__name__ for s in walk(ode)] == ["Header", "ModifiedFlow"]


# -- text that fits a page ---------------------------------------------------------------

@pytest.mark.parametrize("scheme, order, options", [
    ("gd", 6, {}), ("rk", 8, {"method": "rk4"}), ("sgd", 4, {}),
    ("game", 4, {"mode": "alternating", "rates": "alpha,lam"}), ("momentum", 6, {"beta": "beta"}),
])
def test_text_lines_fit_the_width_and_keep_every_term(scheme, order, options):
    """Sums break between terms at WIDTH characters; joined back, the lines are the
    unbroken sum (nothing lost, nothing reordered)."""
    from bea.render.text import WIDTH

    d = derivation(scheme, order, **options)
    text = render(d, "text")
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    printer = TextPrinter()
    for section in walk(d):
        if isinstance(section, ModifiedFlow):
            for row in section.rows:
                head = "  x = "
                joined = " ".join(line.strip() for line in printer._wrapped(head, row.terms))
                assert joined == "x = " + printer._sum(row.terms)
