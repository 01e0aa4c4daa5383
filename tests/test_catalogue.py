"""The committed catalogue in derivations/ equals a fresh derivation.

Byte for byte, except the ``bea_version`` of a JSON file: it names the bea that wrote the
file, and a new version whose results are the same does not make the catalogue stale.
Its ``schema_version`` and everything else must match exactly.
"""

import json
from pathlib import Path

import pytest

from bea.catalogue import ENTRIES, render_entry

ROOT = Path(__file__).resolve().parent.parent / "derivations"


def as_written_by(fresh: str, committed: str) -> str:
    """``fresh`` (a JSON document) with the ``bea_version`` of ``committed`` (if it has one)."""
    written_by = json.loads(committed).get("bea_version")
    current = json.loads(fresh)["bea_version"]
    line = '"bea_version": {}'
    return fresh.replace(line.format(json.dumps(current)), line.format(json.dumps(written_by)), 1)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.slug)
def test_catalogue_entry_is_current(entry):
    fresh = render_entry(entry)
    for ext, text in fresh.items():
        path = ROOT / f"{entry.slug}.{ext}"
        assert path.exists(), f"missing {path}; run `bea catalogue --out derivations`"
        committed = path.read_text(encoding="utf-8")
        if ext == "json":
            text = as_written_by(text, committed)
        assert committed == text, f"{path} is stale; run `bea catalogue --out derivations`"


def test_only_the_bea_version_may_differ():
    fresh = json.dumps({"bea_version": "0.2.0", "schema_version": 1, "flow": []}, indent=2)
    written = fresh.replace('"0.2.0"', '"0.1.0"')
    assert as_written_by(fresh, written) == written
    for stale in (written.replace('"schema_version": 1', '"schema_version": 2'),
                  json.dumps({"schema_version": 1, "flow": []}, indent=2)):
        assert as_written_by(fresh, stale) != stale
