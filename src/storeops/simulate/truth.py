"""Ground truth of simulated situations, kept apart from the events the desks see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Truth:
    """One injected situation: the subject it concerns and what a good decision would flag."""

    subject: str
    label: str
    """A desk's reason code (e.g. ``fraud_signal``) or ``routine`` for nothing to flag."""
    detail: dict[str, Any] = field(default_factory=dict)
