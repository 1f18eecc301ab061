"""The event queue, a table: idempotent ingest, per-subject ordered claims, retries, dead letters.

Claiming and handling happen in one transaction: the claimed rows stay locked (PostgreSQL:
``FOR UPDATE SKIP LOCKED`` plus a transaction advisory lock per subject; SQLite: the single
writer lock) until the handler's effects and the done-mark commit together. A worker that dies
mid-batch therefore leaves its events pending and nothing of their effects behind.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.clock import utcnow
from storeops.engine.events import Event, NewEvent
from storeops.errors import Conflict, NotFound
from storeops.storage.schema import events
from storeops.storage.types import row_json


class EventStatus(enum.StrEnum):
    """Where an event is in the queue."""

    PENDING = "pending"
    """Waiting to be handled (again, after ``run_after`` when a previous attempt failed)."""
    DONE = "done"
    """Handled; its effects committed with this mark."""
    UNHANDLED = "unhandled"
    """A defined kind that no desk handles yet: stored and counted, not an error."""
    DEAD = "dead"
    """Failed ``max_attempts`` times; kept with its error until someone re-runs it."""


@dataclass(frozen=True)
class IngestResult:
    """What an ingest call stored."""

    ids: list[int] = field(default_factory=list)
    """Ids of the events that were new."""
    duplicates: int = 0
    """Events already stored under the same (source, external id): acknowledged, not stored again."""


def _insert_for(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def ingest(conn: Connection, new_events: Sequence[NewEvent], *, now: datetime | None = None) -> IngestResult:
    """Queue ``new_events`` in the caller's transaction, once per (source, external id)."""
    if not new_events:
        return IngestResult()
    now = now or utcnow()
    rows = [
        {
            "source": e.source,
            "external_id": e.external_id,
            "kind": e.kind,
            "subject": e.subject,
            "occurred_at": e.occurred_at,
            "received_at": now,
            "payload": e.payload,
            "status": EventStatus.PENDING.value,
            "attempts": 0,
            "run_after": now,
        }
        for e in new_events
    ]
    statement = (
        _insert_for(conn)(events)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(events.c.id)
    )
    if len(rows) == 1:
        ids = [int(i) for i in conn.execute(statement.values(rows[0])).scalars()]
    else:
        ids = [int(i) for i in conn.execute(statement, rows).scalars()]
    return IngestResult(ids=ids, duplicates=len(rows) - len(ids))


_CLAIMED_COLUMNS = (
    "id",
    "source",
    "external_id",
    "kind",
    "subject",
    "occurred_at",
    "received_at",
    "payload",
    "attempts",
)


def subject_lock_key(subject: str) -> int:
    """A signed 64-bit key for the subject's PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.blake2b(subject.encode(), digest_size=8).digest(), "big", signed=True)


def lock_shared(conn: Connection, keys: Sequence[str]) -> None:
    """Take transaction-scoped locks on ``keys`` in one global order (PostgreSQL; SQLite's single
    writer needs none). The ``lock:`` prefix keeps them apart from the subject locks."""
    if conn.dialect.name != "postgresql" or not keys:
        return
    ordered = sorted({subject_lock_key(f"lock:{key}") for key in keys})
    # One round trip; rows reach the lock function in the subquery's order.
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS ordered"
        ),
        {"keys": ordered},
    )


def claim(conn: Connection, limit: int, *, now: datetime) -> list[Event]:
    """Claim up to ``limit`` due events, oldest first, at most one per subject, in the caller's
    transaction. An event is due only when no earlier event of its subject is still pending, so
    a subject's events are handled in order and never two at once."""
    earlier = events.alias("earlier")
    query = (
        select(*(events.c[name] for name in _CLAIMED_COLUMNS))
        .where(
            events.c.status == EventStatus.PENDING.value,
            events.c.run_after <= now,
            ~exists(
                select(literal(1)).where(
                    earlier.c.subject == events.c.subject,
                    earlier.c.id < events.c.id,
                    earlier.c.status == EventStatus.PENDING.value,
                )
            ),
        )
        .order_by(events.c.id)
        .limit(limit)
    )
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True, of=events)
    rows = conn.execute(query).all()
    if postgres and rows:
        # Row locks cannot stop two workers from taking two events of one subject when an earlier
        # event's insert commits after a later one was claimed; the subject lock can.
        keys = [subject_lock_key(row.subject) for row in rows]
        got = conn.execute(
            text("SELECT k, pg_try_advisory_xact_lock(k) AS ok FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": keys},
        ).all()
        held = {k for k, ok in got if ok}
        rows = [row for row, key in zip(rows, keys, strict=True) if key in held]
    # The selected columns are Event's fields, in order.
    return [Event(*row) for row in rows]


def mark_finished(conn: Connection, finished: Sequence[tuple[int, EventStatus, str]], *, now: datetime) -> None:
    """Mark claimed events done or unhandled (with the desk that owns them): one UPDATE per
    (status, desk) group rather than one per event."""
    groups: dict[tuple[EventStatus, str], list[int]] = defaultdict(list)
    for event_id, status, desk in finished:
        groups[(status, desk)].append(event_id)
    for (status, desk), ids in groups.items():
        conn.execute(
            update(events)
            .where(events.c.id.in_(ids))
            .values(status=status.value, desk=desk, processed_at=now, last_error=None)
        )


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped at ``max_seconds``."""
    return timedelta(seconds=min(max_seconds, base_seconds * (2 ** max(0, attempts - 1))))


def mark_failed(
    conn: Connection,
    event: Event,
    error: str,
    *,
    desk: str,
    now: datetime,
    max_attempts: int,
    base_seconds: float,
    max_seconds: float,
) -> EventStatus:
    """Record a failed attempt: retry later with backoff, or dead-letter after ``max_attempts``."""
    attempts = event.attempts + 1
    status = EventStatus.DEAD if attempts >= max_attempts else EventStatus.PENDING
    conn.execute(
        update(events)
        .where(events.c.id == event.id)
        .values(
            status=status.value,
            attempts=attempts,
            desk=desk,
            last_error=error[-8000:],
            run_after=now + retry_delay(attempts, base_seconds, max_seconds),
            processed_at=now if status is EventStatus.DEAD else None,
        )
    )
    return status


def rerun(conn: Connection, event_id: int, *, now: datetime | None = None) -> None:
    """Put a dead-lettered event back in the queue with a fresh set of attempts."""
    now = now or utcnow()
    result = conn.execute(
        update(events)
        .where(events.c.id == event_id, events.c.status == EventStatus.DEAD.value)
        .values(status=EventStatus.PENDING.value, attempts=0, run_after=now, processed_at=None)
    )
    if result.rowcount == 0:
        status = conn.execute(select(events.c.status).where(events.c.id == event_id)).scalar()
        if status is None:
            raise NotFound(f"event {event_id} does not exist")
        raise Conflict(f"event {event_id} is {status}, not dead; only dead events can be re-run")


EVENT_JSON_COLUMNS = (
    "id",
    "source",
    "external_id",
    "kind",
    "subject",
    "occurred_at",
    "received_at",
    "status",
    "attempts",
    "desk",
    "last_error",
    "payload",
)


def event_json(row: Any) -> dict[str, Any]:
    """One stored event in the documented JSON shape."""
    return row_json(row, EVENT_JSON_COLUMNS)


def list_events(
    conn: Connection,
    *,
    status: str | None = None,
    limit: int = 100,
    after_id: int = 0,
    desks: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored events oldest first, optionally of one status (e.g. ``dead``) and of some desks."""
    query = select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
    if status is not None:
        query = query.where(events.c.status == status)
    if desks is not None:
        query = query.where(events.c.desk.in_(list(desks)))
    return [event_json(row._mapping) for row in conn.execute(query)]
