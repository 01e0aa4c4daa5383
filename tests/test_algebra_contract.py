"""Every registered algebra meets the interface of bea.algebra (a contract test, in the
spirit of optax's suites over all its transforms), and the layout keeps them plug-ins:
no module outside the registry and the algebras' own packages asks which algebra a rule
has, and the package has no import cycle."""

from __future__ import annotations

import inspect
import pathlib
import re

import grimp
import pytest
import sympy

import bea
from bea.algebra import CAPABILITIES, PARTS, Algebra, Flow, Traced, Unsupported
from bea.logarithm import logarithm
from bea.registry import ALGEBRAS, algebra_named, algebra_of
from bea.render import FORMATS, render
from bea.schemes import SCHEMES, build

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAMES = sorted(ALGEBRAS)


def _example(name: str):
    """The first catalogue scheme of the algebra: every algebra comes with one."""
    scheme = next((s for s in SCHEMES.values() if s.algebra == name), None)
    assert scheme is not None, f"algebra {name!r} has no scheme in the catalogue"
    return build(scheme.name, 2)


@pytest.mark.parametrize("name", NAMES)
def test_declarations(name):
    algebra = ALGEBRAS[name]
    assert isinstance(algebra, Algebra) and algebra.name == name and algebra_named(name) is algebra
    assert algebra.capabilities <= set(CAPABILITIES)
    assert set(algebra.refusals) <= set(CAPABILITIES) - algebra.capabilities
    assert set(algebra.parts) == set(PARTS)
    work = algebra.work
    counts = [work.base(n, 1, False) for n in range(1, 6)]
    assert all(c >= 1 for c in counts) and counts == sorted(counts)
    assert work.field(3, 0, 1, False) >= 1 and work.field(3, 2, 1, False) >= work.field(3, 0, 1, False)
    assert work.passes(3, False) >= 1 and all(isinstance(w, str) for w in work.why_passes(6, True))


@pytest.mark.parametrize("name", NAMES)
def test_parts_define_the_interface(name):
    algebra = ALGEBRAS[name]
    for layer, functions in PARTS.items():
        module = algebra.part(layer)
        for function in functions:
            assert callable(getattr(module, function, None)), f"{module.__name__} lacks {function}"
    check = algebra.part("check")
    assert set(inspect.signature(check.check).parameters) >= {
        "rule", "order", "problem", "values", "hs", "coefficients", "progress", "notes"}
    assert set(inspect.signature(check.drift).parameters) >= {
        "derivation", "problem", "h", "iterations", "values", "progress", "notes"}
    assert list(inspect.signature(check.default_learning_rate).parameters)[:4] == [
        "derivation", "problem", "values", "fraction"]
    assert callable(getattr(check, "check_modifying", None)) == ("check-modifying" in algebra.capabilities)


@pytest.mark.parametrize("name", NAMES)
def test_the_pipeline_runs_on_the_algebra(name):
    algebra = ALGEBRAS[name]
    rule = _example(name)
    assert algebra_of(rule) is algebra and algebra.accepts(rule)
    traced = algebra.trace(rule, 2)
    assert isinstance(traced, Traced)
    z = logarithm(traced.increment, 2, traced.series)
    flow = algebra.per_update(rule, z, traced)
    assert isinstance(flow, Flow) and len(flow.terms) == 3
    d = bea.derive(rule, 2)
    assert d.algebra is algebra and [str(t) for t in d.flow] == [str(t) for t in flow.terms]
    assert isinstance(algebra.free_symbols(d), set)
    splits = algebra.splits(d)
    assert splits is None or len(splits) == 3
    for fmt in FORMATS:
        assert render(d, fmt)
    source = algebra.part("codegen").emit_module(d, {str(s): 0.5 for s in algebra.free_symbols(d)})
    compile(source, "<generated>", "exec")
    if "modifying" in algebra.capabilities:
        from bea.modifying import modifying_field

        assert modifying_field(rule, 2).kind == "modifying"


@pytest.mark.parametrize("name", NAMES)
def test_missing_capabilities_are_refused_in_one_line(name):
    algebra = ALGEBRAS[name]
    rule = _example(name)
    for capability in set(CAPABILITIES) - algebra.capabilities:
        with pytest.raises(Unsupported) as caught:
            algebra.refuse_unless(capability, rule)
        assert "\n" not in str(caught.value) and str(caught.value)
    for capability in algebra.capabilities:
        algebra.refuse_unless(capability, rule)


def test_an_unknown_algebra_is_refused_naming_the_registered_ones():
    with pytest.raises(ValueError, match="'trees' or 'coordinatewise'"):
        bea.Rule(lambda theta, h, f: theta + h * f(theta), (bea.Atom("f", "L"),), algebra="matrix")


def test_no_module_outside_the_registry_tests_an_algebra_name():
    allowed = {"bea/registry.py", "bea/algebra.py"}
    pattern = re.compile(r"""\.algebra\s*(==|!=|\bin\b|\bnot in\b)|(==|!=)\s*["'](trees|coordinatewise)["']""")
    offenders = []
    for path in [*ROOT.glob("bea/**/*.py"), *ROOT.glob("cli/*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or rel.startswith(("bea/bseries/", "bea/coordinatewise/")):
            continue
        offenders += [f"{rel}:{i}" for i, line in enumerate(path.read_text().splitlines(), 1)
                      if pattern.search(line)]
    assert offenders == []


def test_no_import_cycle():
    graph = grimp.build_graph("bea", include_external_packages=False)
    cycles = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
              if a < b and graph.chain_exists(importer=b, imported=a)]
    assert cycles == []


def test_the_packages_do_not_import_each_other_both_ways():
    graph = grimp.build_graph("bea", include_external_packages=False)
    packages = sorted(m for m in graph.modules if m.count(".") == 1 and graph.find_children(m))
    both = [(a, b) for a in packages for b in packages if a < b
            and graph.chain_exists(importer=a, imported=b, as_packages=True)
            and graph.chain_exists(importer=b, imported=a, as_packages=True)]
    assert both == []


def test_the_core_does_not_import_the_outer_layers():
    graph = grimp.build_graph("bea", include_external_packages=False)
    for core in ("bea.derive", "bea.registry", "bea.bseries.algebra", "bea.coordinatewise.algebra"):
        for layer in ("bea.render", "bea.codegen", "bea.check"):
            assert not graph.chain_exists(importer=core, imported=layer, as_packages=True), (core, layer)


def test_coefficient_of_a_coordinatewise_derivation_is_refused():
    d = bea.derive(_example("coordinatewise"), 1)
    with pytest.raises(Unsupported):
        d.coefficient("f")
    assert bea.derive(build("gd", 1), 1).coefficient("f") == sympy.Integer(1)
