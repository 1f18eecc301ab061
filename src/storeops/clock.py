"""Timezone-aware UTC time, the only kind of time storeops stores."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("timestamp has no timezone; send it with an offset, e.g. 2026-01-31T12:00:00Z")
    return value.astimezone(UTC)
