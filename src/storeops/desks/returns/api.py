"""What other desks may ask of the returns desk (its tables are its own)."""

from __future__ import annotations

import hashlib
import secrets

from storeops.desks.returns.policy import ReturnsPolicy
from storeops.engine.policy import Policy

__all__ = ["new_rma", "window_days"]


def new_rma(seed: str | None = None) -> str:
    """A return number for a new request: ``R-`` and 8 letters and digits, from ``seed`` (the same
    request taken twice gets the same number) or at random."""
    raw = hashlib.sha256(seed.encode()).hexdigest() if seed is not None else secrets.token_hex(16)
    return "R-" + raw[:8].upper()


def window_days(policy: Policy) -> int:
    """Days a customer has to ask for a return ([returns] window_days; its default when the store
    runs without the returns desk)."""
    section = policy.sections.get("returns")
    return section.window_days if isinstance(section, ReturnsPolicy) else ReturnsPolicy().window_days
