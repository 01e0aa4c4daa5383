"""Bad input through the CLI: exit status 2, one short message on stderr (click's usage
errors take four lines), no traceback, nothing left behind, nothing typed ever run."""

import json
import os

import pytest
from click.testing import CliRunner

from cli.main import main

X = "touch_X"  # the file every injection case tries to create
TOUCH = f"__import__('os').system('touch {X}')"

FILES = {
    "binary.json": b"\x89PNG\r\n\x1a\n\x00\xff\xfe",
    "nested.json": b"[" * 100_000 + b"]" * 100_000,
    "huge.json": b'{"A": [[0]], "b": [1], "pad": "' + b"x" * 1_100_000 + b'"}',
    "notsquare.json": b'{"A": [[0, 0]], "b": [1]}',
    "badsum.json": b'{"A": [[0]], "b": [2]}',
    "list.json": b"[1, 2]",
    "code.json": json.dumps({"A": [[TOUCH]], "b": [1]}).encode(),
    "codesum.json": json.dumps({"A": [["1/2 + " + TOUCH]], "b": [1]}).encode(),
    "negsqrt.json": b'{"A": [["sqrt(-1)"]], "b": [1]}',
    "null.json": b'{"A": [[null]], "b": [1]}',
    "empty.json": b"",
    "stages.json": json.dumps({"A": [[0] * 40] * 40, "b": [1] + [0] * 39}).encode(),
    "bigint.json": b'{"A": [[' + b"7" * 5000 + b']], "b": [1]}',
    "exit0.py": b"import sys\nsys.exit(0)\n",
    "exit3.py": b"raise SystemExit(3)\n",
    "syntax.py": b"def step(theta, h, f)\n    return theta\n",
    "stepexit.py": b"import sys\ndef step(theta, h, f):\n    sys.exit(0)\n",
    "inconsistent.py": b"def step(theta, h, f):\n    return theta + f(theta)\n",
    "notcallable.py": b"step = 3\n",
    "reserved.py": (b"import sympy, bea\n"
                    b"def f(theta, h, g, c):\n    return theta + c * h * g(theta)\n"
                    b"step = bea.Rule(f, (bea.Atom('g', 'L'),), params={'c': sympy.Symbol('h')})\n"),
    "reserved_m.py": (b"import sympy, bea\n"
                      b"def f(theta, h, g, c):\n    return theta + c * h * g(theta)\n"
                      b"m = sympy.Symbol('m', positive=True, integer=True)\n"
                      b"step = bea.Rule(f, (bea.Atom('g', 'L'),), params={'c': m}, cycle=m)\n"),
    "a_file.txt": b"text\n",
}

DERIVE = [
    # work estimated beyond the limit, refused before any work
    ["--scheme", "gd", "--order", "10000"],
    ["--scheme", "gd", "--order", "16"],
    ["--scheme", "sgd", "--batches", "1000000"],
    ["--scheme", "multitask", "--tasks", "1000000"],
    ["--scheme", "sgd", "--shuffle", "random", "--batches", "40", "--order", "7"],
    ["--scheme", "sgd", "--order", "6"],
    ["--scheme", "continual", "--steps", "A:1000000,B:1", "--order", "3"],
    ["--scheme", "game", "--mode", "alternating", "--steps", "1000000,1"],
    ["--scheme", "gd", "--order", "5", "--max-terms", "10"],
    ["--scheme", "gd", "--max-terms", "0"],
    ["--scheme", "gd", "--max-terms", "lots"],
    # orders and options
    ["--scheme", "gd", "--order", "0"],
    ["--scheme", "gd", "--order", "-1"],
    ["--scheme", "gd", "--order", "2.5"],
    ["--scheme", "gd", "--order", "abc"],
    ["--scheme", "gd", "--order", "9" * 40],
    ["--scheme", "gd", "--batches", "3"],
    ["--scheme", "sgd", "--batches", "0"],
    ["--scheme", "sgd", "--batches", "x"],
    ["--scheme", "sgd", "--shuffle", "sideways"],
    ["--scheme", "game", "--rates", "1"],
    ["--scheme", "game", "--rates", "1,2!"],
    ["--scheme", "game", "--mode", "alternating", "--steps", "0,1"],
    ["--scheme", "game", "--steps", "1,1"],
    ["--scheme", "game", "--mode", "diagonal"],
    ["--scheme", "continual", "--steps", "A:x"],
    ["--scheme", "continual", "--steps", "A2"],
    ["--scheme", "continual", "--steps", ""],
    ["--scheme", "rk", "--method", "nope"],
    ["--scheme", "rk"],
    ["--scheme", "rk", "--method", "rk4", "--tableau", "badsum.json"],
    ["--scheme", "momentum", "--beta", "1+"],
    ["--scheme", "momentum", "--beta", "1"],
    ["--scheme", "momentum", "--beta", "1e999999999"],
    ["--scheme", "momentum", "--beta", "x" * 5000],
    ["--scheme", "nope"],
    ["--scheme", "gd", "--unknown-option"],
    [],
    # reserved names
    ["--scheme", "momentum", "--beta", "h"],
    ["--scheme", "game", "--rates", "h,h"],
    ["--scheme", "game", "--rates", "alpha,h"],
    ["--rule", "reserved.py:step"],
    ["--rule", "reserved_m.py:step"],
    # rule files
    ["--rule", "nofile.py:f"],
    ["--rule", "justtext"],
    ["--rule", "inconsistent.py:missing"],
    ["--rule", "exit0.py:step"],
    ["--rule", "exit3.py:step"],
    ["--rule", "syntax.py:step"],
    ["--rule", "stepexit.py:step"],
    ["--rule", "inconsistent.py:step"],
    ["--rule", "notcallable.py:step"],
    ["--scheme", "gd", "--rule", "inconsistent.py:step"],
    ["--rule", "inconsistent.py:step", "--batches", "3"],
    # tableau files
    *[["--scheme", "rk", "--tableau", name] for name in FILES if name.endswith(".json")],
    ["--scheme", "rk", "--tableau", "missing.json"],
    ["--scheme", "rk", "--tableau", "."],
]

OTHER = [
    # output paths, checked before any work
    ["codegen", "--scheme", "gd", "-o", "missing/dir/out.py"],
    ["codegen", "--scheme", "gd", "-o", "/proc/bea_out.py"],
    ["codegen", "--scheme", "gd", "-o", "a_file.txt/out.py"],
    ["codegen", "--scheme", "gd", "-o", "."],
    ["catalogue", "--out", "a_file.txt"],
    ["catalogue", "--out", "/proc/bea_catalogue"],
    ["catalogue", "--out", "a_file.txt/sub"],
    # --set
    ["codegen", "--scheme", "momentum", "--set", "beta"],
    ["codegen", "--scheme", "momentum", "--set", "1x=2"],
    ["codegen", "--scheme", "momentum", "--set", "beta=abc"],
    ["codegen", "--scheme", "momentum", "--set", "h=1"],
    ["codegen", "--scheme", "gd", "--set", "nothere=1"],
    ["codegen", "--scheme", "gd", "--order", "10000", "-o", "out.py"],
]

INJECTION = [
    ["derive", "--scheme", "momentum", "--beta", TOUCH],
    ["derive", "--scheme", "game", "--rates", f"{TOUCH},1"],
    ["derive", "--scheme", "sgd", "--batches", TOUCH],
    ["derive", "--scheme", "multitask", "--tasks", f"exec(\"open('{X}', 'w')\")"],
    ["derive", "--scheme", "continual", "--steps", f"A:{TOUCH}"],
    ["derive", "--scheme", "gd", "--order", TOUCH],
    ["derive", "--scheme", "rk", "--method", TOUCH],
    ["derive", "--scheme", "sgd", "--shuffle", TOUCH],
    ["derive", "--scheme", "game", "--mode", TOUCH],
    ["derive", "--scheme", "gd", "--max-terms", TOUCH],
    ["derive", "--scheme", TOUCH],
    ["derive", "--rule", TOUCH],
    ["derive", "--scheme", "rk", "--tableau", "code.json"],
    ["derive", "--scheme", "rk", "--tableau", "codesum.json"],
    ["codegen", "--scheme", "momentum", "--set", f"beta={TOUCH}"],
    ["codegen", "--scheme", "momentum", "--set", f"{TOUCH}=1"],
]

CASES = [["derive", *args] for args in DERIVE] + OTHER + INJECTION


def test_at_least_sixty_cases_and_fifteen_injections():
    assert len(CASES) >= 60 and len(INJECTION) >= 15


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a)[:60])
def test_bad_input_one_line_exit_2(workdir, args):
    before = sorted(os.listdir(workdir))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 4, result.stderr
    assert result.stdout == ""
    assert sorted(os.listdir(workdir)) == before  # nothing written, nothing left behind
    assert not (workdir / X).exists()


def test_refusal_gives_the_estimate_and_what_would_work(workdir):
    result = CliRunner().invoke(main, ["derive", "--scheme", "sgd", "--batches", "40", "--order", "7"])
    message = result.stderr
    assert "labelled trees" in message and "limit of 200000" in message
    assert "--order 2" in message and "--max-terms" in message
    result = CliRunner().invoke(main, ["derive", "--scheme", "sgd", "--batches", "10", "--order", "4"])
    assert "omit --batches" in result.stderr  # a symbolic m fits where 10 batches do not


def test_max_terms_raises_the_limit_deliberately(workdir):
    refused = CliRunner().invoke(main, ["derive", "--scheme", "gd", "--order", "5", "--max-terms", "16"])
    allowed = CliRunner().invoke(main, ["derive", "--scheme", "gd", "--order", "5", "--max-terms", "17"])
    assert refused.exit_code == 2 and "17 labelled trees" in refused.stderr
    assert allowed.exit_code == 0


def test_ctrl_c_exits_130_with_one_line(workdir, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("cli.derive_cmd.derive_with_progress", interrupted)
    result = CliRunner().invoke(main, ["derive", "--scheme", "gd"])
    assert result.exit_code == 130
    assert result.stderr.strip() == "bea: interrupted"


def test_codegen_writes_only_after_the_checks(workdir):
    result = CliRunner().invoke(main, ["codegen", "--scheme", "gd", "--order", "2", "-o", "igr.py"])
    assert result.exit_code == 0, result.output
    assert "def modified_field" in (workdir / "igr.py").read_text()
