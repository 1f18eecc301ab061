"""Timed events stored in the database: one-off checks and recurring runs, minute precision
(rounded up: a timer never fires before the time it was set for).

Timers are read and removed only through this module: ``schedule`` may leave its row to the
end of the worker's batch (``engine.writebehind``), and ``cancel`` and ``fire_due`` write such
rows first.

A due timer becomes a ``clock.tick``-style event whose external id names the timer and the
minute it was due, so two workers firing the same timer at once store it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.engine.events import NewEvent
from storeops.engine.queue import ADDRESSED, ingest
from storeops.engine.writebehind import flush, write_later
from storeops.storage.schema import timers


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _minute_up(value: datetime) -> datetime:
    """The first whole minute at or after ``value``: a timer never fires before its time (a check
    set for "5 days after the last scan" must find 5 days, not 4 days 23 h 59 min)."""
    floor = _minute(value)
    return floor if floor == value else floor + timedelta(minutes=1)


def schedule(
    conn: Connection,
    *,
    key: str,
    kind: str,
    subject: str,
    at: datetime,
    payload: dict[str, Any] | None = None,
    every_minutes: int | None = None,
    replace: bool = True,
) -> None:
    """Create the timer ``key``: fire ``kind`` for ``subject`` at ``at``, rounded up to the minute
    (then every N minutes).

    An existing timer of that key is replaced, or with ``replace=False`` left as it is (a
    recurring run set up by the first event that needs it: later events must not push its next
    slot back).
    """
    if every_minutes is not None and every_minutes < 1:
        raise ValueError("every_minutes must be at least 1")
    statement = _upsert_timer(conn.dialect.name) if replace else _insert_timer(conn.dialect.name)
    fire_at = _minute_up(at)
    if _WATCH in conn.info:
        earliest = conn.info[_WATCH]
        conn.info[_WATCH] = fire_at if earliest is None else min(earliest, fire_at)
    write_later(
        conn,
        statement,
        {
            "key": key,
            "kind": kind,
            "subject": subject,
            "payload": payload or {},
            "fire_at": fire_at,
            "interval_minutes": every_minutes,
        },
    )


_WATCH = "storeops.scheduler.earliest"


def watch(conn: Connection) -> None:
    """From now on, remember on ``conn`` the earliest time any timer is set for (``earliest_set``):
    what a worker on the events' clock needs to stop a batch before an event that a timer set
    earlier in the same batch should precede. ``unwatch`` ends it."""
    conn.info[_WATCH] = None


def earliest_set(conn: Connection) -> datetime | None:
    """The earliest time a timer was set for on ``conn`` since ``watch`` (None: none, or not watching)."""
    value: datetime | None = conn.info.get(_WATCH)
    return value


def unwatch(conn: Connection) -> None:
    """Stop remembering (the connection goes back to the pool, where others may use it)."""
    conn.info.pop(_WATCH, None)


def next_fire_at(conn: Connection) -> datetime | None:
    """When the next timer is due (the earliest ``fire_at``, indexed), None when there is none."""
    flush(conn)
    value: datetime | None = conn.execute(select(func.min(timers.c.fire_at))).scalar()
    return value


def cancel(conn: Connection, key: str) -> None:
    """Remove the timer ``key`` (nothing when there is none), including one set earlier in this batch
    (the delete writes the batch's waiting timers first)."""
    conn.execute(delete(timers).where(timers.c.key == key))


_INSERT: dict[str, Any] = {}


def _insert_timer(dialect: str) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING, built once per dialect (so batched rows share it)."""
    if dialect not in _INSERT:
        _INSERT[dialect] = (pg_insert if dialect == "postgresql" else sqlite_insert)(timers).on_conflict_do_nothing(
            index_elements=["key"]
        )
    return _INSERT[dialect]


_UPSERT: dict[str, Any] = {}


def _upsert_timer(dialect: str) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE, built once per dialect (timers are set per order)."""
    if dialect not in _UPSERT:
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(timers)
        _UPSERT[dialect] = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={k: statement.excluded[k] for k in ("kind", "subject", "payload", "fire_at", "interval_minutes")},
        )
    return _UPSERT[dialect]


def fire_due(conn: Connection, *, now: datetime, limit: int = 500) -> int:
    """Turn due timers into events in the caller's transaction; returns the events stored.

    A recurring timer that missed several slots (the workers were down) fires once and moves to
    its next future slot, rather than flooding the queue with catch-up runs.
    """
    query = select(timers).where(timers.c.fire_at <= now).order_by(timers.c.fire_at).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    new_events = []
    for row in rows:
        slot = _minute(row.fire_at)
        new_events.append(
            NewEvent(
                source="storeops.scheduler",
                external_id=f"{row.key}@{slot.isoformat()}",
                kind=row.kind,
                subject=row.subject,
                occurred_at=slot,
                payload={**row.payload, "timer": row.key, "scheduled_for": slot.isoformat()},
            )
        )
        if row.interval_minutes:
            step = timedelta(minutes=row.interval_minutes)
            missed = (now - slot) // step
            conn.execute(update(timers).where(timers.c.id == row.id).values(fire_at=slot + step * (missed + 1)))
        else:
            conn.execute(delete(timers).where(timers.c.id == row.id))
    return len(ingest(conn, new_events, routes=ADDRESSED).ids)
