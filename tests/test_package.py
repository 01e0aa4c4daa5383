"""The package as users install it: its version, its JSON documents, its files.

* ``bea.__version__`` and ``bea --version`` are the distribution's metadata version, which
  is pyproject's;
* every JSON document bea writes starts with ``bea_version`` and ``schema_version``;
* ``pytest`` imports this checkout even where another ``bea`` (or ``cli``) comes first;
* every package folder is in the wheel, and nothing cites files outside the repository.
"""

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import bea
from bea._version import DISTRIBUTION, SCHEMA_VERSION, checkout_version
from cli.main import main

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_the_metadata_version():
    assert PYPROJECT["project"]["name"] == DISTRIBUTION
    assert bea.__version__ == metadata.version(DISTRIBUTION) == PYPROJECT["project"]["version"]
    assert checkout_version() == bea.__version__  # the fallback of a checkout never installed


def test_checkout_version_reads_the_project_table(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.x]\nversion = "9"\n\n[project]\nname = "x"\nversion = "1.2.3"\n')
    assert checkout_version(pyproject) == "1.2.3"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.x]\nversion = "9"\n')
    assert checkout_version(pyproject) == "0+unknown"
    assert checkout_version(tmp_path / "missing.toml") == "0+unknown"


def test_version_option():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"bea, version {bea.__version__}\n"


def _stamped(document: dict) -> None:
    assert list(document)[:2] == ["bea_version", "schema_version"], list(document)[:4]
    assert document["bea_version"] == bea.__version__ and document["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("args", [
    ["derive", "-s", "gd", "--order", "2"],
    ["derive", "-s", "gd", "--order", "2", "--modifying"],
    ["derive", "-s", "gd", "--order", "2", "--principal"],
    ["derive", "-s", "adam", "--order", "1"],
    ["derive", "-s", "sgd", "--sampling", "iid", "--order", "1"],
    ["check", "-s", "gd", "--order", "1", "--problem", "quadratic"],
    ["drift", "-s", "gd", "--problem", "quadratic", "--steps", "2"],
    ["check", "-s", "sgd", "--sampling", "iid", "--order", "1", "--batch-size", "2", "--examples", "6"],
], ids=" ".join)
def test_every_json_document_carries_the_versions(args):
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    _stamped(json.loads(result.stdout))


def test_noise_json_carries_the_versions():
    """``bea drift --noise --format json`` (its simulation is tested in test_stochastic_cli)."""
    from bea.stochastic.paths import NoisePaths
    from bea.stochastic.report import noise_json

    stats = {"loss_mean": np.zeros(2), "theta_mean": np.zeros((2, 1))}
    paths = NoisePaths(np.arange(2.0), {"sgd": stats, "sme": stats})
    problem = type("P", (), {"name": "iid"})()
    _stamped(json.loads(json.dumps(noise_json({"batch": 2}, problem, 0.1, 1, paths))))


def test_pytest_imports_the_checkout_before_an_installed_copy(tmp_path):
    """A `bea` and a `cli` earlier on the path (as an installed copy would be, for `pytest`
    started from its script) lose to this checkout: pyproject's `pythonpath`."""
    for name in ("bea", "cli"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("DECOY = True\n")
    script = Path(sys.executable).with_name("pytest")
    if not script.exists():
        pytest.skip(f"no pytest script beside {sys.executable}")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([str(script), "-p", "no:cacheprovider", "-o", "addopts=", "-q",
                           f"{__file__}::test_imports_come_from_the_checkout"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-2000:]


def test_imports_come_from_the_checkout():
    import cli

    assert Path(bea.__file__).parent == ROOT / "bea"
    assert Path(cli.__file__).parent == ROOT / "cli"


def test_every_package_folder_is_installed():
    tool = PYPROJECT["tool"]["setuptools"]
    assert tool["package-dir"] == {"bea_cli": "cli"}  # no top-level `cli` in site-packages
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bea").rglob("__init__.py")}
    assert set(tool["packages"]) == folders | {"bea_cli"}
    assert PYPROJECT["project"]["scripts"]["bea"] == "bea_cli.main:main"
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["bea"]
    assert (ROOT / "bea" / "py.typed").exists()


def test_the_cli_imports_only_itself_relatively():
    """`cli/` installs as `bea_cli`: no module may name its own package."""
    for path in (ROOT / "cli").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) cli\b|[\"']cli\.", text, re.M), path.name


OUTSIDE = re.compile(r"\b(DESIGN|REFERENCES)\.md\b")


def test_nothing_cites_files_outside_the_repository():
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    for folder in ("bea", "cli", "examples"):
        files += (ROOT / folder).rglob("*.py")
    cited = [f"{p.relative_to(ROOT)}:{n}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert not cited, f"cites DESIGN.md or REFERENCES.md (not in the repository): {cited}"


@pytest.mark.parametrize("scheme,order", [("gd", 3), ("adam", 2), ("momentum", 2)])
def test_generated_modules_cite_nothing_outside_the_repository(scheme, order):
    from bea.codegen import emit_module
    from bea.derive import derive
    from bea.schemes import build

    source = emit_module(derive(build(scheme, order), order))
    assert not OUTSIDE.search(source)
    assert scheme != "adam" or "Cattaneo, Klusowski & Shigida" in source


def test_license_and_citation():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n\nCopyright (c) ")
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^cff-version: 1\.2\.0$", citation, re.M)
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
