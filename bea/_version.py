"""bea's version and the version of its JSON documents, each written in one place.

The version is written once, in ``pyproject.toml``. An installed bea reads it from the
metadata of its distribution, :data:`DISTRIBUTION` (the name ``bea`` on the package index
belongs to another project; the import name and the command stay ``bea``); a checkout
that was never installed reads ``pyproject.toml`` beside the package.

:data:`SCHEMA_VERSION` numbers the layout of the JSON documents bea writes
(``docs/json.md``). It changes when a key is removed or renamed or its meaning changes, not
with bea's version, so a reader can refuse a layout it does not know.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

__all__ = ["DISTRIBUTION", "SCHEMA_VERSION", "__version__", "versioned"]

DISTRIBUTION = "bea-optim"
SCHEMA_VERSION = 1


def checkout_version(pyproject: Path = Path(__file__).resolve().parent.parent / "pyproject.toml") -> str:
    """The ``version`` of the ``[project]`` table of ``pyproject``; ``"0+unknown"`` without one."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return "0+unknown"
    table = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = table and re.search(r'^version\s*=\s*"([^"]+)"', table.group(1), re.M)
    return found.group(1) if found else "0+unknown"


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return checkout_version()


__version__ = _version()


def versioned(document: dict) -> dict:
    """``document`` with ``bea_version`` and ``schema_version`` as its first keys."""
    return {"bea_version": __version__, "schema_version": SCHEMA_VERSION, **document}
