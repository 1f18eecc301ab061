"""The outbox: side effects written with the decision, sent to connectors after commit.

Delivery is at-least-once (a crash after sending but before marking sent sends again), made
safe by the idempotency key every connector receives.
"""

from __future__ import annotations

import enum
import traceback
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.clock import utcnow
from storeops.connectors.base import Connector
from storeops.engine.queue import retry_delay
from storeops.storage.schema import outbox

LEASE = timedelta(minutes=5)
"""How long a dispatcher owns a message it is sending before another may retry it."""


class OutboxStatus(enum.StrEnum):
    """Where a side effect is."""

    PENDING = "pending"
    """Not yet sent (or being sent, or waiting for a retry)."""
    SENT = "sent"
    """The connector accepted it."""
    DEAD = "dead"
    """Failed too often, or no connector of that name is configured; kept with its error."""


def enqueue(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write outbox rows in the caller's transaction; a key seen before is not written twice."""
    if not rows:
        return
    factory = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(factory(outbox).on_conflict_do_nothing(index_elements=["idempotency_key"]), list(rows))


_REPLACE_PENDING = (
    update(outbox)
    .where(outbox.c.id == bindparam("queued"), outbox.c.attempts == 0, outbox.c.next_attempt_at <= bindparam("now"))
    .values(payload=bindparam("payload"))
)


def waiting_messages(
    conn: Connection, *, connector: str, action: str, subjects: Sequence[str], now: datetime
) -> list[tuple[int, dict[str, Any]]]:
    """``(id, payload)`` of the messages of ``connector``/``action`` about ``subjects`` that no sender
    has taken yet (never tried, due now): what a desk may still replace instead of queueing another."""
    if not subjects:
        return []
    rows = conn.execute(
        select(outbox.c.id, outbox.c.payload).where(
            # As an expression the status cannot steer SQLite (which keeps no statistics) to the
            # (status, next_attempt_at) index, a scan of every pending message; the subject index
            # finds these subjects' few.
            (outbox.c.status + "") == OutboxStatus.PENDING.value,
            outbox.c.connector == connector,
            outbox.c.action == action,
            outbox.c.attempts == 0,
            outbox.c.next_attempt_at <= now,
            outbox.c.subject.in_(sorted(set(subjects))),
        )
    )
    return [(int(row.id), dict(row.payload)) for row in rows]


def replace_pending(conn: Connection, replacements: Sequence[tuple[int, dict[str, Any]]], *, now: datetime) -> set[int]:
    """Put new payloads into still-waiting messages, in the caller's transaction (one statement for
    all); returns the ids that took them. The WHERE re-checks that no sender leased a message
    meanwhile; a message leased after the UPDATE and before the re-read counts as missed, so the
    caller queues its payload anew — a second send of the same content, never a lost one."""
    if not replacements:
        return set()
    conn.execute(
        _REPLACE_PENDING, [{"queued": queued, "payload": payload, "now": now} for queued, payload in replacements]
    )
    return set(
        conn.execute(
            select(outbox.c.id).where(
                outbox.c.id.in_([queued for queued, _ in replacements]),
                outbox.c.attempts == 0,
                outbox.c.next_attempt_at <= now,
            )
        ).scalars()
    )


def outbox_row(
    *, connector: str, action: str, payload: dict[str, Any], key: str, subject: str, event_id: int | None, now: datetime
) -> dict[str, Any]:
    """Column values for one pending outbox message."""
    return {
        "connector": connector,
        "action": action,
        "idempotency_key": key,
        "subject": subject,
        "payload": payload,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "event_id": event_id,
    }


def _lease(conn: Connection, limit: int, now: datetime) -> list[Any]:
    query = (
        select(outbox)
        .where(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(conn.execute(query).all())
    if rows:
        conn.execute(
            update(outbox).where(outbox.c.id.in_([row.id for row in rows])).values(next_attempt_at=now + LEASE)
        )
    return rows


def dispatch(
    engine: Engine,
    connectors: Mapping[str, Connector],
    *,
    limit: int = 100,
    max_attempts: int = 8,
    base_seconds: float = 5.0,
    max_seconds: float = 3600.0,
) -> int:
    """Send up to ``limit`` due messages; returns how many were sent."""
    now = utcnow()
    with engine.begin() as conn:
        rows = _lease(conn, limit, now)
    sent = 0
    for row in rows:
        connector = connectors.get(row.connector)
        error: str | None = None
        if connector is None:
            error = f"no connector named {row.connector!r} is configured"
        else:
            try:
                connector.send(row.action, dict(row.payload), row.idempotency_key)
            except Exception:
                error = traceback.format_exc(limit=5)
        done_at = utcnow()
        with engine.begin() as conn:
            if error is None:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(status=OutboxStatus.SENT.value, sent_at=done_at, attempts=row.attempts + 1, last_error=None)
                )
                sent += 1
            else:
                attempts = row.attempts + 1
                dead = connector is None or attempts >= max_attempts
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(
                        status=(OutboxStatus.DEAD if dead else OutboxStatus.PENDING).value,
                        attempts=attempts,
                        last_error=error[-8000:],
                        next_attempt_at=done_at + retry_delay(attempts, base_seconds, max_seconds),
                    )
                )
    return sent


__all__ = ["OutboxStatus", "dispatch", "enqueue", "outbox_row"]
