"""LaTeX output that fits a page (bea.render.latex, bea.render.texwidth).

With a LaTeX engine on the machine, every catalogue ``.tex`` and Adam order 3 compile in an
``article`` (10 pt and 12 pt) without an overfull box, and the width estimate is checked
against TeX's own widths; without one those tests skip, and the rest hold the layout by
the estimate: no line past :data:`~bea.render.latex.WIDTH`, environments balanced, the
notation line present, and the broken rows the same mathematics as unbroken ones.
"""

import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bea import derive
from bea.catalogue import ENTRIES
from bea.render import latex as lx
from bea.render import render
from bea.render.texwidth import summands, width
from bea.schemes import build

GOLDEN = Path(__file__).resolve().parent.parent / "derivations"
ENGINE = shutil.which("pdflatex") or shutil.which("lualatex")
needs_tex = pytest.mark.skipif(ENGINE is None, reason="no LaTeX engine (pdflatex or lualatex) on PATH")


@functools.cache
def adam3() -> str:
    return render(derive(build("adam", 3), 3), "latex")


@functools.cache
def fragments() -> dict[str, str]:
    """Every catalogue ``.tex`` (fragments: an ``align*`` and its notation, no preamble) and Adam order 3."""
    out = {e.slug: (GOLDEN / f"{e.slug}.tex").read_text(encoding="utf-8") for e in ENTRIES}
    out["adam-order-3"] = adam3()
    return out


NAMES = [e.slug for e in ENTRIES] + ["adam-order-3"]


# -- with a LaTeX engine -----------------------------------------------------------------

def _compile(body: str, tmp_path: Path, option: str = "") -> str:
    """The log of an ``article`` with amsmath holding ``body``; fails on a LaTeX error."""
    doc = f"\\documentclass[{option}]{{article}}\n\\usepackage{{amsmath}}\n\\begin{{document}}\n{body}\\end{{document}}\n"
    (tmp_path / "doc.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("! ")]
    assert run.returncode == 0 and not errors, errors or log[-2000:]
    return log


@needs_tex
@pytest.mark.parametrize("option", ["10pt", "12pt"])
def test_catalogue_and_adam_3_compile_without_overfull_boxes(option, tmp_path):
    frags = fragments()
    body = "".join(f"\\typeout{{@@ {name}}}\n{tex}\n\\clearpage\n" for name, tex in frags.items())
    log = _compile(body, tmp_path, option)
    overfull, current = {}, None
    for line in log.splitlines():
        if line.startswith("@@ "):
            current = line[3:]
        elif line.startswith(("Overfull \\hbox", "Overfull \\vbox")):
            overfull.setdefault(current, []).append(line)
    assert set(frags) <= {line[3:] for line in log.splitlines() if line.startswith("@@ ")}
    assert overfull == {}


@needs_tex
def test_width_estimate_is_never_short_of_tex(tmp_path):
    """Every summand of every catalogue row, and every whole line: TeX's width ≤ the estimate."""
    snippets = set()
    for tex in fragments().values():
        for line in tex.splitlines():
            if "&" in line and not line.startswith("%"):
                rhs = line.split("&", 1)[1].removeprefix("=").removesuffix(r" \\").strip()
                if _balanced(rhs):
                    snippets.add(rhs)
                    snippets.update(t for _, t in summands(rhs) if _balanced(t))
    snippets = sorted(snippets)
    body = "".join(f"\\setbox0\\hbox{{$\\displaystyle {s}$}}\\typeout{{@@W \\the\\wd0}}\n" for s in snippets)
    measured = [float(w) for w in re.findall(r"@@W ([\d.]+)pt", _compile(body, tmp_path))]
    assert len(measured) == len(snippets) > 1000
    short = [(s, tex, width(s)) for s, tex in zip(snippets, measured) if width(s) < tex]
    assert short == []


# -- without one -------------------------------------------------------------------------

def _balanced(text: str) -> bool:
    depth = 0
    for t in re.findall(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|[{}]", text):
        depth += 1 if t in ("{", r"\left") else -1
        if depth < 0:
            return False
    return depth == 0


def _blocks(tex: str) -> list[list[str]]:
    """The lines of each ``align*`` in ``tex``."""
    return [block.strip().splitlines() for block in re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", tex, re.S)]


@pytest.mark.parametrize("name", NAMES)
def test_structure_is_balanced(name):
    tex = fragments()[name]
    assert _balanced(tex)
    envs = re.findall(r"\\(begin|end)\{([a-z*]+)\}", tex)
    stack = []
    for kind, env in envs:
        if kind == "begin":
            stack.append(env)
        else:
            assert stack.pop() == env
    assert stack == [] and envs.count(("begin", "align*")) >= 1
    for block in _blocks(tex):
        for line in block:
            assert _balanced(line), line  # a \left…\right never spans a line break
            assert line.startswith(r"\intertext") or "&" in line, line


@pytest.mark.parametrize("name", NAMES)
def test_no_line_is_wider_than_the_measured_bound(name):
    """Left side plus right side of every line, by the estimate (which TeX never exceeds:
    test_width_estimate_is_never_short_of_tex), within WIDTH, itself within the 345 pt of
    an article's text."""
    assert lx.WIDTH <= 345
    for block in _blocks(fragments()[name]):
        lhs = max(width(line.split("&", 1)[0]) for line in block if "&" in line)
        for line in block:
            if "&" in line:
                assert lhs + width(line.split("&", 1)[1].removesuffix(r" \\")) <= lx.WIDTH, line


def test_adam_3_defines_its_notation():
    """What the text output defines (its notation line and the ``where`` of ``‖∇L‖₁,ε``)
    is defined in the LaTeX too."""
    tex, text = adam3(), render(derive(build("adam", 3), 3), "text")
    assert "notation   g = ∇L, H = ∇²L, ∇ᵏL(u, …) its k-th derivative, s = √(g⊙g + ε), q = g/s" in text
    notation = tex.split(r"\begin{align*}")[0]
    for defined in [r"$g = \nabla L$", r"$H = \nabla^{2} L$", r"$\nabla^{k} L(u, \dots)$ its $k$-th derivative",
                    r"$s = \sqrt{g \odot g + \varepsilon}$", "$q = g / s$", "act elementwise"]:
        assert defined in notation
    where = tex.split(r"\end{align*}")[1]
    assert r"$\|\nabla L\|_{1,\varepsilon} = \sum_j \sqrt{\varepsilon + g_{j}^{2}}$" in where
    assert r"$\nabla \|\nabla L\|_{1,\varepsilon} = H q$" in where


@pytest.mark.parametrize("slug", ["adam", "rmsprop", "normalized"])
def test_coordinatewise_catalogue_entries_carry_the_notation_line(slug):
    tex = (GOLDEN / f"{slug}.tex").read_text(encoding="utf-8")
    assert tex.index("Notation:") < tex.index(r"\begin{align*}")
    assert ("where " in tex) == ("where " in (GOLDEN / f"{slug}.md").read_text(encoding="utf-8"))


def _math(tex: str) -> str:
    """The mathematics of a display, without its layout: line breaks, alignment, phantoms."""
    tex = re.sub(r"\\vphantom\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}", "", tex)
    for mark in (r"\right.", r"\left.", r"\\", r"&\qquad", r"&\quad", "&=", "{}"):
        tex = tex.replace(mark, " " if mark != "&=" else "=")
    tex = tex.replace(r"{\allowdisplaybreaks[1]", "").replace(r"\end{align*}}", r"\end{align*}")
    return " ".join(tex.split())


def test_broken_rows_are_the_unbroken_mathematics(monkeypatch):
    """Adam order 3 broken (inside its coefficients too) reads as the same sums as unbroken."""
    broken = adam3.__wrapped__()
    monkeypatch.setattr(lx, "WIDTH", 1e9)
    monkeypatch.setattr(lx, "MAX_TERMS", 10**6)
    whole = adam3.__wrapped__()
    assert broken.count("\n") > whole.count("\n") + 5 and r"\right." in broken
    assert _math(broken) == _math(whole)


def test_summands_split_at_top_level_signs_only():
    assert summands(r"-\frac{a + b}{c} - d") == [("-", r"\frac{a + b}{c}"), ("-", "d")]
    assert summands(r"\left(a - b\right) \odot c + e") == [("+", r"\left(a - b\right) \odot c"), ("+", "e")]
    assert summands(r"\begin{cases} a - b & x \end{cases} + y") == [("+", r"\begin{cases} a - b & x \end{cases}"),
                                                                     ("+", "y")]
    assert summands("x^{-1} + y_{i-1}") == [("+", "x^{-1}"), ("+", "y_{i-1}")]


def test_a_fraction_wider_than_a_line_has_its_numerator_taken_out():
    """Momentum order 8's loss has coefficients whose numerator alone overflows a line: the
    row prints ``\\frac{h^7}{d} (β + 1) (p) …`` with the polynomial ``p`` broken, never the fraction."""
    tex = (GOLDEN / "momentum-heavy-ball-8.tex").read_text(encoding="utf-8")
    assert r"\frac{h^{7}}{50400 \left(1 - \beta\right)^{15}} \left(\beta + 1\right) \left(58 \beta^{6}" in tex
    line = next(line for line in tex.splitlines() if r"\frac{h^{7}}{50400" in line)
    assert line.endswith(r"\right. \\")  # the numerator's sum goes on below
