"""The committed catalogue in derivations/ equals a fresh derivation."""

from pathlib import Path

import pytest

from bea.catalogue import ENTRIES, render_entry

ROOT = Path(__file__).resolve().parent.parent / "derivations"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.slug)
def test_catalogue_entry_is_current(entry):
    fresh = render_entry(entry)
    for ext, text in fresh.items():
        path = ROOT / f"{entry.slug}.{ext}"
        assert path.exists(), f"missing {path}; run `bea catalogue --out derivations`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale; run `bea catalogue --out derivations`"
