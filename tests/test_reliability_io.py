"""Nothing lost, nothing hangs (issue 20): outputs written whole or not at all, special
files refused unopened, Ctrl-C ending with 130 from start-up to the end, numeric failures
never printed as results, a rule's print() kept off stdout, no terminal escapes copied.

Runs that could hang (a FIFO opened) or that need a real signal run in a subprocess with
a timeout, so a hang fails the test instead of blocking the suite.
"""

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from bea import catalogue
from bea._files import replacing, write_text
from bea.check import report
from bea.check.common import CheckError
from cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BEA = "import sys; from cli.main import main; sys.exit(main())"
ORIGINAL = b"# the user's own file: must survive every failed or interrupted run\n" * 3


def bea(args, cwd, timeout=120, limit=None, code=BEA, **kwargs):
    """``bea ARGS`` in a fresh Python (optionally under a file-size limit), with a timeout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    preexec = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))) if limit else None
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=preexec, **kwargs)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def original(path: Path, mode: int = 0o640) -> Path:
    path.write_bytes(ORIGINAL)
    path.chmod(mode)
    return path


def only(folder: Path, *names) -> None:
    """Nothing but ``names`` in ``folder``: no temporary file left behind."""
    assert sorted(os.listdir(folder)) == sorted(names)


# ---------------------------------------------------------------------------- atomic outputs
def test_replacing_keeps_the_old_file_on_any_exception(tmp_path):
    target = original(tmp_path / "out.txt")
    for exc in (OSError("disk full"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), replacing(target) as tmp:
            tmp.write_bytes(b"half")
            raise exc
        assert target.read_bytes() == ORIGINAL
        only(tmp_path, "out.txt")


def test_write_text_keeps_permission_bits_and_follows_links(tmp_path):
    target = original(tmp_path / "out.py", 0o640)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    write_text(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.py"
    write_text(fresh, "x\n")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_codegen_past_a_file_size_limit_leaves_the_old_file(tmp_path):
    """The generated module is larger than the limit: the write fails, the user's file
    (smaller than the limit) is byte-identical and nothing else is left in its folder."""
    target = original(tmp_path / "module.py")
    done = bea(["codegen", "--scheme", "gd", "--order", "3", "-o", "module.py"], tmp_path, limit=2000)
    assert done.returncode == 2, done.stderr
    assert "cannot write" in one_line(done.stderr)
    assert target.read_bytes() == ORIGINAL and stat.S_IMODE(target.stat().st_mode) == 0o640
    only(tmp_path, "module.py")


def _fake_check_result():
    hs = np.array([0.1, 0.05, 0.025])
    return SimpleNamespace(orders=[1], hs=[hs], errors=[hs ** 2], used=[np.array([True, True, False])],
                           slopes=[2.0], expected=[2], minimum=[2])


def test_a_plot_that_fails_while_drawn_leaves_the_old_file(tmp_path, monkeypatch):
    """matplotlib writes a plot in place; a failure half-way (here: some bytes, then an
    error) must land in a temporary file, not in the user's file."""
    import matplotlib.figure

    def failing(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half a plot")
        raise OSError(27, "File too large")

    target = original(tmp_path / "orders.png")
    rule, problem = SimpleNamespace(name="gd"), SimpleNamespace(name="quadratic")
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", failing)
    with pytest.raises(CheckError, match="File too large"):
        report.check_plot(target, rule, problem, _fake_check_result())
    assert target.read_bytes() == ORIGINAL
    only(tmp_path, "orders.png")
    monkeypatch.undo()
    report.check_plot(target, rule, problem, _fake_check_result())
    assert target.read_bytes().startswith(b"\x89PNG") and stat.S_IMODE(target.stat().st_mode) == 0o640
    only(tmp_path, "orders.png")


def _quick_entries(monkeypatch, fail_at=None, exc=OSError("No space left on device"), version="1"):
    """A three-entry catalogue rendered without deriving (texts marked ``version``);
    entry ``fail_at`` raises ``exc``."""
    entries = catalogue.ENTRIES[:3]

    def render(entry):
        if fail_at is not None and entry is entries[fail_at]:
            raise exc
        return {"md": f"# {entry.slug} {version}\n", "tex": f"% {entry.slug} {version}\n",
                "json": json.dumps([entry.slug, version]) + "\n"}

    monkeypatch.setattr(catalogue, "ENTRIES", entries)
    monkeypatch.setattr(catalogue, "render_entry", render)
    return entries


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_catalogue_is_swapped_in_whole(tmp_path, monkeypatch):
    out = tmp_path / "derivations"
    entries = _quick_entries(monkeypatch)
    catalogue.write_catalogue(out)
    (out / "removed-entry.md").write_text("stale\n")  # an entry a later version dropped
    before = _snapshot(out)
    for exc in (OSError("No space left on device"), KeyboardInterrupt()):
        _quick_entries(monkeypatch, fail_at=2, exc=exc, version="2")
        with pytest.raises(type(exc)):
            catalogue.write_catalogue(out)
        assert _snapshot(out) == before  # the previous catalogue, all of it, and nothing new
        only(tmp_path, "derivations")
    _quick_entries(monkeypatch, version="3")
    catalogue.write_catalogue(out)
    assert (out / f"{entries[0].slug}.md").read_text().endswith(" 3\n")
    assert "removed-entry.md" not in os.listdir(out)  # no mix of new and stale files
    assert len(os.listdir(out)) == 3 * len(entries) + 1 and (out / "README.md").exists()
    only(tmp_path, "derivations")


def test_catalogue_interrupted_from_the_command_line_exits_130_and_keeps_the_folder(tmp_path, monkeypatch):
    out = tmp_path / "cat"
    _quick_entries(monkeypatch)
    catalogue.write_catalogue(out)
    before = _snapshot(out)
    _quick_entries(monkeypatch, fail_at=1, exc=KeyboardInterrupt(), version="2")
    result = CliRunner().invoke(main, ["catalogue", "--out", str(out)])
    assert result.exit_code == 130 and "bea: interrupted" in result.stderr
    assert _snapshot(out) == before
    only(tmp_path, "cat")


def test_catalogue_refuses_a_folder_that_is_not_a_catalogue(tmp_path, monkeypatch):
    """The swap replaces the whole folder: a folder with other files is refused before any work."""
    _quick_entries(monkeypatch)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("mine\n")
    result = CliRunner().invoke(main, ["catalogue", "--out", str(notes)])
    assert result.exit_code == 2 and "not a bea catalogue" in one_line(result.stderr)
    assert _snapshot(notes) == {"thesis.tex": b"mine\n"}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(main, ["catalogue", "--out", str(empty)]).exit_code == 0
    assert (empty / "README.md").read_text().startswith(catalogue.TITLE)


# ------------------------------------------------------------------------- special files
@pytest.mark.parametrize("args", [
    ["derive", "--scheme", "rk", "--tableau", "pipe.json"],
    ["codegen", "--scheme", "gd", "-o", "pipe.py"],
    ["check", "--scheme", "gd", "--plot", "pipe.png"],
    ["derive", "--rule", "pipe.py:step"],
    ["catalogue", "--out", "pipe"],
], ids=lambda a: " ".join(a[:1] + a[-2:-1]))
def test_a_fifo_is_refused_unopened(tmp_path, args):
    """Opening a FIFO blocks until a writer comes: a hang here fails by the timeout."""
    fifo = tmp_path / args[-1].partition(":")[0]
    os.mkfifo(fifo)
    done = bea(args, tmp_path, timeout=60)
    assert done.returncode == 2 and "FIFO" in one_line(done.stderr), done.stderr
    assert done.stdout == "" and stat.S_ISFIFO(os.stat(fifo).st_mode)
    only(tmp_path, fifo.name)


@pytest.mark.parametrize("args, kind", [
    (["derive", "--rule", "{dir}:step"], "a directory"),
    (["derive", "--scheme", "rk", "--tableau", "/dev/zero"], "a character device"),
    (["codegen", "--scheme", "gd", "-o", "/dev/full"], "a character device"),
    (["check", "--scheme", "gd", "--problem", "{dir}:p"], "a directory"),
])
def test_devices_and_folders_are_named_for_what_they_are(tmp_path, args, kind):
    folder = tmp_path / "rules.py"
    folder.mkdir()
    result = CliRunner().invoke(main, [a.replace("{dir}", str(folder)) for a in args])
    assert result.exit_code == 2 and kind in one_line(result.stderr)


# ------------------------------------------------------------------------------- Ctrl-C
SLOW_IMPORT = "import pathlib, time\npathlib.Path('importing').touch()\ntime.sleep(30)\n" \
              "def step(theta, h, f):\n    return theta + h * f(theta)\n"
SLOW_STEP = "import pathlib, time\ndef step(theta, h, f):\n    pathlib.Path('deriving').touch()\n" \
            "    time.sleep(30)\n    return theta + h * f(theta)\n"


def _interrupt(tmp_path, args, marker: str, delay: float = 0.0, code=BEA):
    """Start ``bea ARGS``, wait for ``marker`` to appear, wait ``delay``, send SIGINT."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (tmp_path / marker).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("delay", [0.02, 0.15, 0.4])
def test_ctrl_c_during_start_up_exits_130(tmp_path, delay):
    """SIGINT while bea imports (click, then the command with sympy, whose mpmath swallows
    a KeyboardInterrupt raised while it imports gmpy2): 130, never ignored, no traceback."""
    (tmp_path / "slow.py").write_text(SLOW_IMPORT)
    target = original(tmp_path / "out.py")
    started = "import pathlib, sys; pathlib.Path('started').touch(); from cli.main import main; sys.exit(main())"
    rc, out, err = _interrupt(tmp_path, ["codegen", "--rule", "slow.py:step", "-o", "out.py"], "started",
                              delay, code=started)
    assert rc == 130 and one_line(err) == "bea: interrupted", err
    assert target.read_bytes() == ORIGINAL and out == ""


def test_ctrl_c_swallowed_by_a_bare_except_during_an_import_still_exits_130(tmp_path):
    """Deterministic form of the above: SIGINT arrives exactly while mpmath imports gmpy2
    (a stand-in gmpy2 sends it), which mpmath's bare ``except:`` swallows."""
    shim = tmp_path / "shim" / "gmpy2"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(
        "import os, pathlib, signal, time\nmark = pathlib.Path(os.environ['MARK'])\n"
        "if not mark.exists():\n    mark.touch()\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(1)\n"
        "raise ImportError('stand-in')\n")
    env = {**os.environ, "PYTHONPATH": f"{shim.parent}{os.pathsep}{ROOT}", "MARK": str(tmp_path / "sent")}
    done = subprocess.run([sys.executable, "-c", BEA, "derive", "--scheme", "gd", "--order", "2"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert (tmp_path / "sent").exists()
    assert done.returncode == 130 and one_line(done.stderr) == "bea: interrupted", done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("rule, marker", [(SLOW_IMPORT, "importing"), (SLOW_STEP, "deriving")],
                         ids=["rule-import", "derivation"])
def test_ctrl_c_in_a_rule_file_or_the_derivation_exits_130_and_writes_nothing(tmp_path, rule, marker):
    (tmp_path / "slow.py").write_text(rule)
    target = original(tmp_path / "out.py")
    rc, out, err = _interrupt(tmp_path, ["codegen", "--rule", "slow.py:step", "-o", "out.py"], marker)
    assert rc == 130 and one_line(err) == "bea: interrupted", err
    assert target.read_bytes() == ORIGINAL
    only(tmp_path, "out.py", "slow.py", marker)


def test_a_rule_file_raising_keyboard_interrupt_is_an_interrupt(tmp_path):
    (tmp_path / "ctrlc.py").write_text("raise KeyboardInterrupt\n")
    result = CliRunner().invoke(main, ["derive", "--rule", f"{tmp_path / 'ctrlc.py'}:step"])
    assert result.exit_code == 130 and result.stderr.strip() == "bea: interrupted"


# ------------------------------------------------------------------------ numeric failures
@pytest.mark.parametrize("args", [
    ["drift", "--scheme", "gd", "--lr", "1e400"],
    ["drift", "--scheme", "sgd", "--sampling", "iid", "--noise", "--lr", "1e400"],
    ["drift", "--scheme", "game", "--rates", "1e400,1", "--problem", "dirac-gan"],
    ["drift", "--scheme", "gd", "--problem", "quadratic", "--set", "x=-1e400"],
    ["check", "--scheme", "momentum", "--set", "beta=1e400"],
])
def test_non_finite_numbers_are_refused(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "floating-point range" in one_line(result.stderr), result.output
    assert result.stdout == ""


def test_noise_runs_that_overflow_are_no_result():
    result = CliRunner().invoke(main, ["drift", "--scheme", "sgd", "--sampling", "iid", "--noise", "--lr", "1e3",
                                       "--iterations", "3", "--runs", "2", "--batch-size", "2", "--examples", "6"])
    assert result.exit_code == 1, result.output
    assert "NaN or infinity" in one_line(result.stderr) and "smaller --lr" in result.stderr
    assert result.stdout == ""


# ------------------------------------------------------------------- accepted but wrong
def test_a_rules_print_goes_to_stderr_not_into_the_json(tmp_path):
    rule = tmp_path / "chatty.py"
    rule.write_text("print('importing chatty')\n"
                    "def step(theta, h, f):\n    print('tracing', theta)\n    return theta + h * f(theta)\n")
    result = CliRunner().invoke(main, ["derive", "--rule", f"{rule}:step", "--format", "json"])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    assert "importing chatty" in result.stderr and "tracing" in result.stderr


def test_a_tableau_name_with_terminal_escapes_is_refused(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"name": "euler\x1b[2J\x1b]0;owned\x07", "A": [[0]], "b": [1]}))
    result = CliRunner().invoke(main, ["derive", "--scheme", "rk", "--tableau", str(path)])
    assert result.exit_code == 2 and "printable" in one_line(result.stderr)
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_max_terms_is_checked_with_iid_sampling():
    result = CliRunner().invoke(main, ["derive", "--scheme", "sgd", "--sampling", "iid", "--max-terms", "abc"])
    assert result.exit_code == 2 and "--max-terms" in one_line(result.stderr)
