"""Docs that name what the code defines stay true to it."""

from __future__ import annotations

import re
from pathlib import Path

from storeops.desks import builtin_desks

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_cli_guide_lists_every_event_kind_the_desks_define() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    listed = text[text.index("Kinds defined today:") : text.index("Their payload models")]
    named = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", listed)) - {"handoff.resolved", "clock.tick"}
    assert named == {kind for desk in builtin_desks() for kind in desk.kinds}
