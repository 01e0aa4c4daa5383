"""No line of text output is wider than the text printer's 100 characters (issue 24): the
catalogue, Adam at order 3 (coefficients wider than a line break inside their sums) and
headers with many atoms (broken after commas)."""

from __future__ import annotations

import pytest

import bea
from bea.catalogue import ENTRIES, derivation_of
from bea.render import render
from bea.render.text import WIDTH
from bea.schemes import build


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.slug)
def test_catalogue_text_fits(entry):
    text = render(derivation_of(entry), "text")
    assert max(len(line) for line in text.splitlines()) <= WIDTH


@pytest.mark.parametrize("scheme, order, options", [
    ("adam", 3, {}), ("adamw", 3, {}), ("rmsprop", 3, {}), ("muon", 3, {}),
    ("sgd", 2, {"batches": 10}), ("sgd", 3, {"batches": 4}), ("multitask", 2, {"tasks": 12}),
])
def test_derivation_text_fits(scheme, order, options):
    text = render(bea.derive(build(scheme, order, **options), order), "text")
    assert max(len(line) for line in text.splitlines()) <= WIDTH


def test_a_wide_coefficient_breaks_inside_its_sum_and_reads_the_same():
    text = render(bea.derive(build("adam", 3), 3), "text")
    f3 = text[text.index("  f₃ = "):text.index("  where")]
    lines = f3.splitlines()
    assert len(lines) > 4 and all(line.startswith(" ") for line in lines)
    joined = " ".join(line.strip() for line in lines)
    assert "(s·(-2 + β² - ρ - 5β + 2ρ·β² + 5β·ρ)/(6(1 - β)²·(1 - ρ)) + g²·" in joined


def test_many_atoms_put_the_cycle_first_and_break_the_atoms_after_commas():
    text = render(bea.derive(build("sgd", 2, batches=10), 2), "text").splitlines()
    assert text[1] == "order 2 · cycle: 10 updates of length h"
    assert text[2].startswith("atoms: f^[1] = -∇L₁,") and text[3].startswith("       f^[")


def test_schedule_sections_fit():
    """The schedule's summary, its pieces (wide conditions and expressions on their own
    lines) and its kinks, for every named schedule with symbolic parameters."""
    from click.testing import CliRunner

    from bea.schedule.named import SCHEDULES
    from cli.main import main

    for name in SCHEDULES:
        result = CliRunner().invoke(main, ["derive", "--scheme", "gd", "--order", "3", "--schedule", name])
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.output.splitlines()) <= WIDTH, name
