"""The event queue, two tables: events stored once (idempotent ingest) and one delivery per desk
that subscribes to an event's kind. Claims are per delivery, in order per desk and subject, with
retries and dead letters per delivery, so a desk that fails or lags holds back only itself.
Deliveries whose decisions share state across subjects (the keys a desk declares, kept in
``delivery_keys`` while pending, and per subject in ``subject_keys``) are claimed in their events'
order too, so several workers decide as one does.

Claiming and handling happen in one transaction: the claimed rows stay locked (PostgreSQL:
``FOR UPDATE SKIP LOCKED`` plus a transaction advisory lock per desk and subject; SQLite: the
single writer lock) until the handler's effects and the done-mark commit together. A worker that
dies mid-batch therefore leaves its deliveries pending and nothing of their effects behind.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.clock import utcnow
from storeops.engine.events import Event, NewEvent
from storeops.errors import Conflict, NotFound
from storeops.storage.schema import deliveries, delivery_keys, events, subject_keys, timers
from storeops.storage.types import row_json


class DeliveryStatus(enum.StrEnum):
    """Where an event's delivery to one desk is."""

    PENDING = "pending"
    """Waiting to be handled (again, after ``run_after`` when a previous attempt failed)."""
    DONE = "done"
    """Handled; its effects committed with this mark."""
    UNHANDLED = "unhandled"
    """A defined kind that no desk handles yet: stored and counted, not an error."""
    DEAD = "dead"
    """Failed ``max_attempts`` times; kept with its error until someone re-runs it."""


EventStatus = DeliveryStatus
"""The name this enum had when an event had one status; kept for readers of older code."""


class Routes(Protocol):
    """Who an event goes to: the engine's registry of desks."""

    def subscribers(self, kind: str, payload: Mapping[str, Any]) -> Sequence[tuple[str, bool]]:
        """``(desk, handled)`` for every desk that gets an event of ``kind``; ``handled`` is False
        for a defined kind no desk handles yet (its delivery is stored as unhandled)."""
        ...

    def lock_keys(self, desk_name: str, event: Event) -> Sequence[str]:
        """The shared state (``stock:<sku>``, ``customer:…``) ``desk_name``'s decision on ``event``
        reads or changes; deliveries sharing a key are claimed in their events' order."""
        ...


class _Addressed:
    """Routes for events addressed to one desk by their payload (a handoff's resolution, a timer):
    what the engine's own writers use, with no registry at hand. A desk that turns out not to
    handle the event has its delivery marked unhandled when a worker claims it."""

    def subscribers(self, kind: str, payload: Mapping[str, Any]) -> Sequence[tuple[str, bool]]:
        return [(str(payload.get("desk") or "engine"), True)]

    def lock_keys(self, desk_name: str, event: Event) -> Sequence[str]:
        return ()  # ordered by their subject's keys (see ``_ordering_keys``)


ADDRESSED: Routes = _Addressed()


@dataclass(frozen=True)
class IngestResult:
    """What an ingest call stored."""

    ids: list[int] = field(default_factory=list)
    """Ids of the events that were new."""
    duplicates: int = 0
    """Events already stored under the same (source, external id): acknowledged, not stored again."""


def _insert_for(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


_INSERT_EVENTS: dict[str, Any] = {}


def _insert_events(dialect: str) -> Any:
    if dialect not in _INSERT_EVENTS:
        _INSERT_EVENTS[dialect] = (
            (pg_insert if dialect == "postgresql" else sqlite_insert)(events)
            .on_conflict_do_nothing(index_elements=["source", "external_id"])
            .returning(events.c.id, events.c.source, events.c.external_id)
        )
    return _INSERT_EVENTS[dialect]


INSERT_DELIVERY = deliveries.insert()


def ingest(
    conn: Connection, new_events: Sequence[NewEvent], *, routes: Routes, now: datetime | None = None
) -> IngestResult:
    """Queue ``new_events`` in the caller's transaction, once per (source, external id), with a
    delivery to every desk ``routes`` names for each new one."""
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
        }
        for e in new_events
    ]
    statement = _insert_events(conn.dialect.name)
    single = len(rows) == 1  # one row is faster as a plain INSERT than as an executemany
    inserted = conn.execute(statement.values(rows[0])).all() if single else conn.execute(statement, rows).all()
    if not inserted:
        return IngestResult(duplicates=len(rows))
    by_key = {(e.source, e.external_id): e for e in new_events}
    by_id: dict[int, NewEvent] = {}
    ids = []
    planned = []
    # Deliveries follow the events' order, so a desk's deliveries of one subject keep it.
    for event_id, source, external_id in sorted(inserted, key=lambda row: int(row[0])):
        event = by_key[(source, external_id)]
        ids.append(int(event_id))
        by_id[int(event_id)] = event
        for desk, handled in routes.subscribers(event.kind, event.payload):
            planned.append(
                {
                    "event_id": event_id,
                    "desk": desk,
                    "subject": event.subject,
                    "status": (DeliveryStatus.PENDING if handled else DeliveryStatus.UNHANDLED).value,
                    "attempts": 0,
                    "run_after": now,
                    "processed_at": None if handled else now,
                }
            )
    if planned:
        conn.execute(INSERT_DELIVERY, planned)
        _ordering_keys(conn, planned, by_id, routes, now)
        _analyze_after_bulk_load(conn, len(planned))
    return IngestResult(ids=ids, duplicates=len(rows) - len(ids))


BULK_LOAD = 1000
"""Deliveries one ingest must queue before PostgreSQL's planner figures are refreshed in it."""


def _analyze_after_bulk_load(conn: Connection, queued: int) -> None:
    """PostgreSQL's advice after a bulk load: ANALYZE. A claim is planned from the figures of the
    last analyse; taken when the queue was near empty (or never: autovacuum looks a minute or more
    later), they plan a claim on a 20,000-delivery backlog at 2-3x its cost. Done in the ingest's
    own transaction (ANALYZE counts its uncommitted rows) when one ingest adds at least
    ``BULK_LOAD`` deliveries and a tenth of the table, so an import in chunks analyses while the
    table is young and stops once each chunk is a small part of it."""
    if conn.dialect.name != "postgresql" or queued < BULK_LOAD:
        return
    counted = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'deliveries'::regclass")).scalar()
    if counted is None or counted < 0 or queued * 10 >= counted:  # -1: never analysed
        refresh_planner_figures(conn)


def refresh_planner_figures(conn: Connection) -> None:
    """``ANALYZE`` the queue's tables (PostgreSQL; SQLite plans without): after a bulk load, so a
    claim is planned for the backlog as it is."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE events, deliveries, delivery_keys"))


def _ordering_keys(
    conn: Connection, planned: Sequence[Mapping[str, Any]], by_id: Mapping[int, NewEvent], routes: Routes, now: datetime
) -> None:
    """Write the keys of each new pending delivery: what its desk declares for the event, plus every
    key its subject declared before (an order's cancellation names no SKU, yet gives its units back)."""
    pending = [row for row in planned if row["status"] == DeliveryStatus.PENDING.value]
    declares = getattr(routes, "declares_keys", None)
    if declares is not None:
        # A desk that reads no other subject's state needs no order beyond its subject's: its
        # deliveries take no keys, and ingest pays nothing for them (a no-op desk, a notifier).
        pending = [row for row in pending if declares(str(row["desk"]))]
    if not pending:
        return
    subjects = sorted({str(row["subject"]) for row in pending})
    known: dict[str, set[str]] = defaultdict(set)
    for subject, key in conn.execute(SUBJECT_KEYS.where(one_of(conn, subject_keys.c.subject, subjects))):
        known[subject].add(key)
    new_subject_keys: set[tuple[str, str]] = set()
    rows = []
    for row in pending:
        event_id, subject = int(row["event_id"]), str(row["subject"])
        new = by_id[event_id]
        event = Event(event_id, new.source, new.external_id, new.kind, subject, new.occurred_at, now, new.payload)
        declared = {_fitting(key) for key in routes.lock_keys(str(row["desk"]), event) if key}
        new_subject_keys |= {(subject, key) for key in declared - known[subject]}
        known[subject] |= declared
        rows += [{"event_id": event_id, "desk": row["desk"], "key": key} for key in sorted(known[subject])]
    if new_subject_keys:
        conn.execute(_insert_subject_keys(conn.dialect.name), [{"subject": s, "key": k} for s, k in new_subject_keys])
    if rows:
        conn.execute(INSERT_DELIVERY_KEYS, rows)


def _fitting(key: str) -> str:
    """The key as stored: a key longer than the column (a 250-character address) by its digest."""
    if len(key) <= KEY_LENGTH:
        return key
    return "digest:" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


KEY_LENGTH = 255
SUBJECT_KEYS = select(subject_keys.c.subject, subject_keys.c.key)
INSERT_DELIVERY_KEYS = delivery_keys.insert()


def _insert_delivery_keys(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(delivery_keys).on_conflict_do_nothing()


def _insert_subject_keys(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(subject_keys).on_conflict_do_nothing()


def one_of(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` — on PostgreSQL as ``= ANY(array)``, one parameter: a batch's 500 ids
    expanded into 500 placeholders made a new statement text each time, which psycopg parses
    afresh (a third of a no-op batch's time went to splitting those texts)."""
    clause: ColumnElement[bool]
    if conn.dialect.name == "postgresql":
        clause = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    else:
        clause = column.in_(values)
    return clause


def forget_keys(conn: Connection, delivery_ids: Sequence[int]) -> None:
    """Drop the ordering keys of deliveries that are no longer pending (done, unhandled or dead)."""
    if not delivery_ids:
        return
    finished = select(deliveries.c.event_id, deliveries.c.desk).where(one_of(conn, deliveries.c.id, delivery_ids))
    conn.execute(delete(delivery_keys).where(tuple_(delivery_keys.c.event_id, delivery_keys.c.desk).in_(finished)))


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed delivery: which desk handles which event, and how often it tried before."""

    id: int
    desk: str
    event: Event
    keys: tuple[str, ...] = ()
    """Its ordering keys (a SKU's stock, a customer): a worker that leaves it undecided in a batch
    leaves every later delivery of the batch sharing one of them undecided too."""


_EVENT_COLUMNS = (
    events.c.id,
    events.c.source,
    events.c.external_id,
    events.c.kind,
    events.c.subject,
    events.c.occurred_at,
    events.c.received_at,
    events.c.payload,
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


_EARLIER = deliveries.alias("earlier")
_MINE = delivery_keys.alias("mine")
_THEIRS = delivery_keys.alias("theirs")
NO_EARLIER_SHARED_KEY = ~exists(
    select(literal(1))
    .select_from(_MINE.join(_THEIRS, _THEIRS.c.key == _MINE.c.key))
    .where(
        _MINE.c.event_id == deliveries.c.event_id,
        _MINE.c.desk == deliveries.c.desk,
        or_(
            _THEIRS.c.event_id < deliveries.c.event_id,
            and_(_THEIRS.c.event_id == deliveries.c.event_id, _THEIRS.c.desk < deliveries.c.desk),
        ),
    )
)
"""No earlier pending delivery shares one of its keys: one delivery per key in a batch (PostgreSQL)."""
CLAIM = (
    select(deliveries.c.id, deliveries.c.desk, deliveries.c.attempts, *_EVENT_COLUMNS)
    .select_from(deliveries.join(events, events.c.id == deliveries.c.event_id))
    .where(
        # Written out, not a parameter: only a literal lets SQLite (and a generic PostgreSQL plan)
        # see that the partial index of pending deliveries answers it.
        deliveries.c.status == literal_column(f"'{DeliveryStatus.PENDING.value}'"),
        deliveries.c.run_after <= bindparam("now", type_=deliveries.c.run_after.type),
        ~exists(
            select(literal(1)).where(
                and_(
                    _EARLIER.c.desk == deliveries.c.desk,
                    _EARLIER.c.subject == deliveries.c.subject,
                    _EARLIER.c.event_id < deliveries.c.event_id,
                    _EARLIER.c.status == DeliveryStatus.PENDING.value,
                )
            )
        ),
    )
    # Deliveries are written in their events' order, so their ids keep "oldest event first";
    # the per-subject order itself is the NOT EXISTS above, by event id.
    .order_by(deliveries.c.id)
)


def claim(
    conn: Connection,
    limit: int,
    *,
    now: datetime,
    only: tuple[str, str] | None = None,
    occurred_until: datetime | None = None,
    before_next_timer: bool = False,
) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries, oldest event first, at most one per desk and subject,
    in the caller's transaction. A delivery is due only when no earlier delivery of its subject
    to the same desk is still pending, so each desk handles a subject's events in order and never
    two at once — whatever the other desks are doing. ``occurred_until``: only events that
    happened by then (a worker on the events' clock, before its next timer). ``before_next_timer``:
    only events that happened by the earliest timer as the claim itself sees the timers — read in
    the same statement, so a timer another worker set while deciding a subject's previous event is
    seen whenever that event's done-mark is (a separate read before the claim could miss the timer
    and still see the done-mark, and let the subject's next event overtake the timer)."""
    postgres = conn.dialect.name == "postgresql"
    query = CLAIM.limit(limit)
    if occurred_until is not None:
        query = query.where(events.c.occurred_at <= occurred_until)
    if before_next_timer:
        earliest = select(func.min(timers.c.fire_at)).scalar_subquery()
        query = query.where(or_(earliest.is_(None), events.c.occurred_at <= earliest))
    if only is not None:
        # One desk's deliveries of one subject: what a person's resolution waits for (``Worker.settle``).
        query = query.where(deliveries.c.desk == only[0], deliveries.c.subject == only[1])
    if postgres:
        # Several workers share the queue: a batch takes at most one pending delivery per key, so a
        # backlog over a few SKUs spreads across the workers instead of one batch holding every
        # delivery of those keys (and the others waiting on it). SQLite's one writer decides one
        # batch at a time, so there a batch may hold several deliveries of a key (below).
        query = query.where(NO_EARLIER_SHARED_KEY).with_for_update(skip_locked=True, of=deliveries)
        # A plan made once and cached (psycopg prepares a statement on its fifth run) would be
        # sized for the table as it was then: an idle worker's claims on an empty queue left a
        # nested loop over every pending delivery for each one claimed, seconds a claim after a
        # bulk import. A plan made for each claim sees the table as it is.
        conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = conn.execute(query, {"now": now}).all()
    if postgres:
        conn.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))
    if postgres and rows:
        # Row locks cannot stop two workers from taking two deliveries of one desk and subject when
        # an earlier event's insert commits after a later one was claimed; the subject lock can.
        subject_locks = [subject_lock_key(f"{row.desk}|{row.subject}") for row in rows]
        got = conn.execute(
            text("SELECT k, pg_try_advisory_xact_lock(k) AS ok FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": subject_locks},
        ).all()
        held = {k for k, ok in got if ok}
        rows = [row for row, key in zip(rows, subject_locks, strict=True) if key in held]
    in_order = _keys_in_order(conn, rows)
    if rows and not in_order and not postgres:
        # The first ``limit`` pending deliveries all wait behind keys held by earlier ones outside
        # them (a retry, or an event dated after the next timer): look past them, one per key, so a
        # small batch still finds what is claimable — or the events' clock would wait on it forever.
        rows = conn.execute(query.where(NO_EARLIER_SHARED_KEY), {"now": now}).all()
        in_order = _keys_in_order(conn, rows)
    # After the delivery's id, desk and attempts come Event's fields in order (attempts last).
    return [
        Delivery(row[0], row[1], Event(*row[3:], attempts=row[2]), in_order[(row[3], row[1])])
        for row in rows
        if (row[3], row[1]) in in_order
    ]


def hold_events_clock(conn: Connection) -> None:
    """On the events' clock, take PostgreSQL's one events-clock lock for the rest of the transaction
    (SQLite's single writer already decides one batch at a time). A replay's time is one line: a
    batch in flight may set a timer that every later-dated event must wait for, and no other
    worker can see that timer before the batch commits, so batches — and moving the clock —
    take turns. Live traffic on the wall clock never takes it, and its workers decide side by side."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENTS_CLOCK_KEY})


_EVENTS_CLOCK_KEY = subject_lock_key("storeops:events-clock")


def claimable_by(conn: Connection, at: datetime, *, now: datetime) -> bool:
    """True when a delivery of an event dated by ``at`` is due and a claim could take it, whether or
    not another worker holds it right now (no row locks are taken or skipped): what the events'
    clock must wait for before moving to ``at``. One worker on the events' clock only moves it once
    its own claim comes back empty; several must also wait for what the others are deciding, or a
    timer fires before a follow-up of an earlier event. A delivery behind an earlier pending one of
    its subject or keys dated after ``at`` is not counted: it cannot be claimed before the timer
    fires either, and waiting for it would wait forever."""
    query = CLAIM.where(events.c.occurred_at <= at).where(NO_EARLIER_SHARED_KEY).limit(1)
    return conn.execute(query, {"now": now}).first() is not None


_KEYS_OF = select(delivery_keys.c.event_id, delivery_keys.c.desk, delivery_keys.c.key)
_PENDING_WITH_KEYS = select(delivery_keys.c.key, delivery_keys.c.event_id, delivery_keys.c.desk)


def _keys_in_order(conn: Connection, rows: Sequence[Any]) -> dict[tuple[int, str], tuple[str, ...]]:
    """Of the claimed candidates (in their events' order), those no earlier pending delivery outside
    the batch shares a key with, each with its keys: decisions that read state other subjects
    change (a SKU's stock, a customer) see it in the events' order, with one worker or many. A
    batch may hold several deliveries of one key — the worker decides its batch in order — but
    never one whose earlier same-key delivery is elsewhere (another worker's batch, a retry
    waiting, a later event of a subject that is busy). (event id, desk) orders two desks'
    deliveries of one event."""
    if not rows:
        return {}
    own: dict[tuple[int, str], list[str]] = defaultdict(list)
    claimed_events = sorted({int(row[3]) for row in rows})
    for event_id, desk, key in conn.execute(_KEYS_OF.where(one_of(conn, delivery_keys.c.event_id, claimed_events))):
        own[(int(event_id), str(desk))].append(str(key))
    candidates = [(int(row[3]), str(row[1])) for row in rows]
    keyed = [c for c in candidates if own.get(c)]
    if not keyed:
        return {c: () for c in candidates}
    wanted = sorted({key for c in keyed for key in own[c]})
    holders: dict[str, list[tuple[int, str]]] = defaultdict(list)
    last = max(e for e, _ in keyed)
    pending = _PENDING_WITH_KEYS.where(one_of(conn, delivery_keys.c.key, wanted), delivery_keys.c.event_id <= last)
    for key, event_id, desk in conn.execute(pending):
        holders[str(key)].append((int(event_id), str(desk)))
    taken: dict[tuple[int, str], tuple[str, ...]] = {}
    for candidate in candidates:
        mine = own.get(candidate, [])
        if all(holder in taken for key in mine for holder in holders[key] if holder < candidate):
            taken[candidate] = tuple(sorted(mine))
    return taken


def mark_finished(conn: Connection, finished: Sequence[tuple[int, DeliveryStatus]], *, now: datetime) -> None:
    """Mark claimed deliveries done or unhandled: one UPDATE per status rather than one per delivery."""
    groups: dict[DeliveryStatus, list[int]] = defaultdict(list)
    for delivery_id, status in finished:
        groups[status].append(delivery_id)
    for status, ids in groups.items():
        conn.execute(
            update(deliveries)
            .where(one_of(conn, deliveries.c.id, ids))
            .values(status=status.value, processed_at=now, last_error=None)
        )
    forget_keys(conn, [delivery_id for delivery_id, _ in finished])


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped at ``max_seconds``."""
    return timedelta(seconds=min(max_seconds, base_seconds * (2 ** max(0, attempts - 1))))


def mark_failed(
    conn: Connection,
    delivery: Delivery,
    error: str,
    *,
    now: datetime,
    max_attempts: int,
    base_seconds: float,
    max_seconds: float,
    only_if_pending: bool = False,
) -> DeliveryStatus:
    """Record a failed attempt: retry later with backoff, or dead-letter after ``max_attempts``.
    ``only_if_pending``: from outside the transaction that claimed it, and only if nobody has
    finished or retried it meanwhile."""
    attempts = delivery.event.attempts + 1
    status = DeliveryStatus.DEAD if attempts >= max_attempts else DeliveryStatus.PENDING
    where = [deliveries.c.id == delivery.id]
    if only_if_pending:
        where += [
            deliveries.c.status == DeliveryStatus.PENDING.value,
            deliveries.c.attempts == delivery.event.attempts,
        ]
    conn.execute(
        update(deliveries)
        .where(*where)
        .values(
            status=status.value,
            attempts=attempts,
            last_error=error[-8000:],
            run_after=now + retry_delay(attempts, base_seconds, max_seconds),
            processed_at=now if status is DeliveryStatus.DEAD else None,
        )
    )
    if status is DeliveryStatus.DEAD:
        # A dead delivery holds back nothing (see the per-subject rule), nor other subjects sharing its keys.
        forget_keys(conn, [delivery.id])
    return status


def rerun(conn: Connection, event_id: int, *, desk: str | None = None, now: datetime | None = None) -> list[str]:
    """Put an event's dead deliveries (to every desk, or to ``desk``) back in the queue with a fresh
    set of attempts; returns the desks it goes back to."""
    now = now or utcnow()
    where = [deliveries.c.event_id == event_id, deliveries.c.status == DeliveryStatus.DEAD.value]
    if desk is not None:
        where.append(deliveries.c.desk == desk)
    desks = [str(d) for d in conn.execute(select(deliveries.c.desk).where(*where).order_by(deliveries.c.id)).scalars()]
    if not desks:
        known = conn.execute(select(events.c.id).where(events.c.id == event_id)).scalar()
        if known is None:
            raise NotFound(f"event {event_id} does not exist")
        states = conn.execute(
            select(deliveries.c.desk, deliveries.c.status).where(deliveries.c.event_id == event_id)
        ).all()
        said = ", ".join(f"{row.status} at {row.desk}" for row in states) or "delivered to no desk"
        to = f" to {desk}" if desk else ""
        raise Conflict(f"event {event_id} has no dead delivery{to} ({said}); only dead ones can be re-run")
    conn.execute(
        update(deliveries)
        .where(*where)
        .values(status=DeliveryStatus.PENDING.value, attempts=0, run_after=now, processed_at=None)
    )
    # Back in the queue, it is ordered again by its subject's keys (every key its events declared).
    subject = conn.execute(select(events.c.subject).where(events.c.id == event_id)).scalar_one()
    keys = conn.execute(select(subject_keys.c.key).where(subject_keys.c.subject == subject)).scalars().all()
    if keys:
        conn.execute(
            _insert_delivery_keys(conn.dialect.name),
            [{"event_id": event_id, "desk": name, "key": key} for name in desks for key in keys],
        )
    return desks


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
    """One event's delivery to one desk in the documented JSON shape (``id`` is the event's)."""
    return row_json(row, EVENT_JSON_COLUMNS)


_LISTED = select(
    *_EVENT_COLUMNS,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.desk,
    deliveries.c.last_error,
    deliveries.c.id.label("delivery_id"),
).select_from(deliveries.join(events, events.c.id == deliveries.c.event_id))


event_states = (
    select(
        events.c.id,
        events.c.source,
        events.c.external_id,
        events.c.kind,
        events.c.subject,
        events.c.occurred_at,
        events.c.received_at,
        deliveries.c.desk,
        deliveries.c.status,
        deliveries.c.attempts,
        deliveries.c.last_error,
        deliveries.c.processed_at,
    )
    .select_from(deliveries.join(events, events.c.id == deliveries.c.event_id))
    .subquery("event_states")
)
"""Each event's delivery to each desk, one row per event and desk (``id`` is the event's): a read
model for reports, benchmarks and tests."""


def list_events(
    conn: Connection,
    *,
    status: str | None = None,
    limit: int = 100,
    after_id: int = 0,
    desks: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Events' deliveries, oldest first, optionally of one status (e.g. ``dead``) and of some desks:
    one row per event and desk."""
    query = _LISTED.where(events.c.id > after_id).order_by(events.c.id, deliveries.c.id).limit(limit)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    if desks is not None:
        query = query.where(deliveries.c.desk.in_(list(desks)))
    return [event_json(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True)
class PendingDeliveries:
    """Why pending deliveries are not handled yet, at one moment."""

    retrying: int = 0
    """Waiting for a retry after a failed attempt."""
    retry_at: datetime | None = None
    """When the first of those is due."""
    behind: int = 0
    """Due, but behind an earlier pending delivery of their desk and subject."""
    due: int = 0
    """Due and first of their subject: what a worker claims next (unless another transaction holds
    them, say a killed worker's that the database has not yet seen end)."""

    @property
    def total(self) -> int:
        return self.retrying + self.behind + self.due

    def describe(self) -> str:
        """One line: how many are pending and why."""
        if not self.total:
            return "no event pending"
        parts = []
        if self.retrying and self.retry_at is not None:
            parts.append(f"{self.retrying:,} waiting on a retry at {self.retry_at:%Y-%m-%d %H:%M:%S}Z or later")
        if self.behind:
            parts.append(f"{self.behind:,} behind an earlier event of their subject")
        if self.due:
            parts.append(f"{self.due:,} due (held by another worker's transaction)")
        noun = "delivery" if self.total == 1 else "deliveries"
        return f"{self.total:,} event {noun} still pending: " + ", ".join(parts)


def pending_deliveries(conn: Connection, *, now: datetime) -> PendingDeliveries:
    """What ``PendingDeliveries`` says of the queue at ``now``."""
    pending = deliveries.c.status == DeliveryStatus.PENDING.value
    retrying, retry_at = conn.execute(
        select(func.count(), func.min(deliveries.c.run_after)).where(pending, deliveries.c.run_after > now)
    ).one()
    behind_clause = exists(
        select(literal(1)).where(
            and_(
                _EARLIER.c.desk == deliveries.c.desk,
                _EARLIER.c.subject == deliveries.c.subject,
                _EARLIER.c.event_id < deliveries.c.event_id,
                _EARLIER.c.status == DeliveryStatus.PENDING.value,
            )
        )
    )
    due_now = pending & (deliveries.c.run_after <= now)
    behind = int(conn.execute(select(func.count()).select_from(deliveries).where(due_now, behind_clause)).scalar_one())
    due = int(conn.execute(select(func.count()).select_from(deliveries).where(due_now, ~behind_clause)).scalar_one())
    return PendingDeliveries(retrying=int(retrying), retry_at=retry_at, behind=behind, due=due)


def newest_occurred_at(conn: Connection) -> datetime | None:
    """When the newest stored event happened: how far a worker on the events' clock may go."""
    value: datetime | None = conn.execute(select(func.max(events.c.occurred_at))).scalar()
    return value


def pending_count(conn: Connection) -> int:
    """Deliveries still waiting to be handled (what ``work --until-idle`` drains)."""
    return int(
        conn.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.status == DeliveryStatus.PENDING.value)
        ).scalar_one()
    )
