"""The outbox: side effects written with the decision, sent to connectors after commit.

Delivery is at-least-once (a crash after sending but before marking sent sends again), made
safe by the idempotency key every connector receives and, where the far end takes none, by the
connector looking before it writes. How a message is sent:

- **In order per connector and subject.** A message is taken only when no earlier message of the
  same connector and subject is still pending, so a hold reaches the storefront before the
  fulfilment that releases it, whatever retries happen in between. Dead messages hold nothing back.
- **Concurrently.** A ``Dispatcher`` has up to ``[outbox] concurrency`` messages in flight on a
  thread pool (a remote answering in 20 ms would otherwise cap a sender at 50 a second), and
  writes their outcomes together.
- **Retried** with exponential backoff and jitter; dead after ``[outbox] max_attempts`` failures,
  at once when the remote refused the message for good (``Rejected``), when it may already have
  arrived (``Uncertain``) or when no connector of that name is configured. ``RetryAfter`` (a 429)
  waits as asked and is not counted as a failure.
- **Behind a circuit breaker per connector**: after ``breaker_failures`` failures in a row the
  connector is paused (``breaker_seconds``, doubling while it keeps failing), then one message
  probes it. A paused connector's messages wait without spending attempts.
- **Beside the decisions**, never in their way: ``Sender`` runs a dispatcher on its own thread
  in the worker process, so a slow or failing remote makes the outbox grow, not the queue.
"""

from __future__ import annotations

import enum
import logging
import os
import random
import re
import socket
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.clock import utcnow
from storeops.connectors.base import Connector, ConnectorError, Rejected, RetryAfter, Uncertain
from storeops.engine.policy.model import OutboxPolicy
from storeops.errors import Conflict, NotFound
from storeops.storage.schema import outbox

log = logging.getLogger(__name__)


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


# --- sending ---------------------------------------------------------------------------------

_earlier = outbox.alias("earlier")
_NOT_BEHIND = ~exists().where(
    _earlier.c.subject == outbox.c.subject,
    _earlier.c.connector == outbox.c.connector,
    _earlier.c.status == OutboxStatus.PENDING.value,
    _earlier.c.id < outbox.c.id,
)
"""No earlier message of the same connector and subject is still pending (being sent, waiting
for a retry or for a paused connector): what keeps a subject's messages in order."""

_OUTCOME = (
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
        sent_at=bindparam("b_sent"),
        leased_by=None,
    )
)


def backoff(attempts: int, base_seconds: float, max_seconds: float, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: the ``attempts``-th retry waits between half and all of
    ``base × 2^(attempts-1)`` (capped), so messages that failed together do not return together."""
    ceiling = min(max_seconds, base_seconds * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=ceiling * (0.5 + 0.5 * (rng or random).random()))


def describe_error(exc: BaseException) -> str:
    """The error kept with a message: the remote's own words first (what people read on the dead
    letters page), then where it happened for an unexpected one."""
    if isinstance(exc, ConnectorError):
        return exc.message
    headline = f"{type(exc).__name__}: {exc}".strip()
    return headline + "\n" + "".join(traceback.format_exception(exc, limit=5))


@dataclass
class _Circuit:
    failures: int = 0
    opened: int = 0
    paused_until: float = 0.0
    probing: bool = False


@dataclass
class Breaker:
    """Per-connector circuit breaker: closed → open (paused) after ``failures`` failures in a row →
    half open (one probe) when the pause ends → closed on a success, open again (twice as long,
    at most ``max_seconds``) on a failure. A ``RetryAfter`` pauses the connector as the remote asked."""

    failures: int = 5
    seconds: float = 30.0
    max_seconds: float = 600.0
    clock: Any = time.monotonic
    _circuits: dict[str, _Circuit] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, name: str) -> _Circuit:
        return self._circuits.setdefault(name, _Circuit())

    def paused(self) -> set[str]:
        """Connectors nothing may be sent to now."""
        now = self.clock()
        with self._lock:
            return {name for name, c in self._circuits.items() if c.paused_until > now or c.probing}

    def probes(self) -> set[str]:
        """Open connectors whose pause is over: one message may probe each."""
        now = self.clock()
        with self._lock:
            return {
                name
                for name, c in self._circuits.items()
                if c.opened and not c.probing and c.paused_until <= now and c.failures >= self.failures
            }

    def probing(self, name: str) -> None:
        with self._lock:
            self._get(name).probing = True

    def succeeded(self, name: str) -> None:
        with self._lock:
            circuit = self._get(name)
            if circuit.opened:
                log.info("outbox: connector %s answers again; its circuit is closed", name)
            self._circuits[name] = _Circuit()

    def failed(self, name: str) -> None:
        with self._lock:
            circuit = self._get(name)
            circuit.failures += 1
            circuit.probing = False
            if circuit.failures >= self.failures:
                pause = min(self.max_seconds, self.seconds * (2**circuit.opened))
                circuit.opened += 1
                circuit.paused_until = self.clock() + pause
                log.warning(
                    "outbox: connector %s failed %d times in a row; paused for %.0f s", name, circuit.failures, pause
                )

    def wait(self, name: str, seconds: float) -> None:
        with self._lock:
            circuit = self._get(name)
            circuit.probing = False
            circuit.paused_until = max(circuit.paused_until, self.clock() + seconds)

    def state(self) -> dict[str, str]:
        """``{connector: "open" | "half-open" | "paused"}`` for every connector not plainly closed."""
        now = self.clock()
        with self._lock:
            out = {}
            for name, c in self._circuits.items():
                if c.probing:
                    out[name] = "half-open"
                elif c.failures >= self.failures:
                    out[name] = "open"
                elif c.paused_until > now:
                    out[name] = "paused"
            return out


@dataclass(frozen=True)
class _Outcome:
    id: int
    connector: str
    status: str
    attempts: int
    error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime


class Dispatcher:
    """Sends due outbox messages to their connectors, ``settings.concurrency`` at a time."""

    def __init__(
        self,
        engine: Engine,
        connectors: Mapping[str, Connector],
        settings: OutboxPolicy | None = None,
        *,
        breaker: Breaker | None = None,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.connectors = dict(connectors)
        self.settings = settings or OutboxPolicy()
        self.owner = owner or lease_owner("sender")
        """Written beside each lease, so a reader can tell whose it is and whether its holder lives."""
        self.breaker = breaker or Breaker(self.settings.breaker_failures, self.settings.breaker_seconds)
        self._pool: ThreadPoolExecutor | None = None
        self.sent_latencies: list[float] = []
        """Seconds from each sent message's decision to its send, kept when ``keep_latencies``."""
        self.keep_latencies = False

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="outbox")
        return self._pool

    def close(self) -> None:
        """Stop the pool (after the sends in flight)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- one round: lease, send, record ---------------------------------------------------------

    def lease(self, limit: int, *, now: datetime | None = None, skip: Sequence[int] = ()) -> list[Any]:
        """Take up to ``limit`` due messages (first of their connector and subject), owned for
        ``lease_seconds``: another sender will not take them before, and a sender killed while
        holding them leaves them to be sent again after."""
        now = now or utcnow()
        paused = self.breaker.paused()
        probes = self.breaker.probes()
        rows: list[Any] = []
        with self.engine.begin() as conn:
            base = select(outbox).where(
                outbox.c.status == OutboxStatus.PENDING.value, outbox.c.next_attempt_at <= now, _NOT_BEHIND
            )
            locking = conn.dialect.name == "postgresql"
            if skip:
                base = base.where(outbox.c.id.not_in(list(skip)))
            held = paused | probes
            query = base.where(outbox.c.connector.not_in(sorted(held))) if held else base
            query = query.order_by(outbox.c.id).limit(limit)
            rows = list(conn.execute(query.with_for_update(skip_locked=True) if locking else query).all())
            for name in sorted(probes):
                probe = base.where(outbox.c.connector == name).order_by(outbox.c.id).limit(1)
                found = conn.execute(probe.with_for_update(skip_locked=True) if locking else probe).first()
                if found is not None:
                    self.breaker.probing(name)
                    rows.append(found)
            if rows:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(next_attempt_at=now + timedelta(seconds=self.settings.lease_seconds), leased_by=self.owner)
                )
        return rows

    def attempt(self, row: Any) -> _Outcome:
        """Send one leased message and say what became of it (never raises)."""
        connector = self.connectors.get(row.connector)
        attempts = int(row.attempts) + 1

        def outcome(status: OutboxStatus, error: str | None, *, count: bool = True, after: float = 0.0) -> _Outcome:
            done = utcnow()
            return _Outcome(
                id=int(row.id),
                connector=str(row.connector),
                status=status.value,
                attempts=attempts if count else int(row.attempts),
                error=error[-8000:] if error else None,
                next_attempt_at=done + timedelta(seconds=after),
                sent_at=done if status is OutboxStatus.SENT else None,
                created_at=row.created_at,
            )

        if connector is None:
            return outcome(OutboxStatus.DEAD, f"no connector named {row.connector!r} is configured")
        try:
            connector.send(str(row.action), dict(row.payload), str(row.idempotency_key))
        except RetryAfter as exc:
            self.breaker.wait(str(row.connector), exc.seconds)
            return outcome(OutboxStatus.PENDING, exc.message, count=False, after=exc.seconds)
        except (Rejected, Uncertain) as exc:
            # The connector answers; this message is the problem: the circuit stays as it is.
            self.breaker.succeeded(str(row.connector))
            return outcome(OutboxStatus.DEAD, exc.message)
        except Exception as exc:
            self.breaker.failed(str(row.connector))
            if attempts >= self.settings.max_attempts:
                return outcome(OutboxStatus.DEAD, describe_error(exc))
            delay = backoff(attempts, self.settings.retry_base_seconds, self.settings.retry_max_seconds)
            return outcome(OutboxStatus.PENDING, describe_error(exc), after=delay.total_seconds())
        self.breaker.succeeded(str(row.connector))
        return outcome(OutboxStatus.SENT, None)

    def record(self, outcomes: Sequence[_Outcome]) -> int:
        """Write what became of sent messages, in one transaction; returns how many were sent."""
        if not outcomes:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                _OUTCOME,
                [
                    {
                        "b_id": o.id,
                        "b_status": o.status,
                        "b_attempts": o.attempts,
                        "b_error": o.error,
                        "b_next": o.next_attempt_at,
                        "b_sent": o.sent_at,
                    }
                    for o in outcomes
                ],
            )
        sent = [o for o in outcomes if o.status == OutboxStatus.SENT.value]
        if self.keep_latencies:
            self.sent_latencies += [(o.sent_at - o.created_at).total_seconds() for o in sent if o.sent_at]
        for o in outcomes:
            if o.status == OutboxStatus.DEAD.value:
                log.error("outbox: message %s to %s is dead: %s", o.id, o.connector, (o.error or "").splitlines()[0])
        return len(sent)

    def run_once(self, limit: int = 100) -> int:
        """Send what is due now, up to ``limit`` messages, and record the outcomes; returns how many
        were sent. Round after round: a subject's next message becomes due when the one before it
        is sent. A message is tried once per call (a failed one waits for its retry)."""
        tried: list[int] = []
        sent = 0
        while len(tried) < limit:
            rows = self.lease(min(limit - len(tried), self.settings.concurrency * 4), skip=tried)
            if not rows:
                break
            tried += [int(row.id) for row in rows]
            if len(rows) == 1:
                sent += self.record([self.attempt(rows[0])])
                continue
            futures = [self.pool.submit(self.attempt, row) for row in rows]
            sent += self.record([future.result() for future in futures])
        return sent


def dispatch(
    engine: Engine,
    connectors: Mapping[str, Connector],
    *,
    limit: int = 100,
    max_attempts: int = 8,
    base_seconds: float = 5.0,
    max_seconds: float = 3600.0,
) -> int:
    """Send up to ``limit`` due messages once (a dispatcher of its own); returns how many were sent."""
    settings = OutboxPolicy(max_attempts=max_attempts, retry_base_seconds=base_seconds, retry_max_seconds=max_seconds)
    dispatcher = Dispatcher(engine, connectors, settings)
    try:
        return dispatcher.run_once(limit)
    finally:
        dispatcher.close()


class Sender:
    """A dispatcher on a thread of its own, keeping ``concurrency`` messages in flight: what a
    running worker sends with, so no remote's slowness or failure ever delays a decision."""

    def __init__(self, dispatcher: Dispatcher, *, poll_seconds: float = 0.2) -> None:
        self.dispatcher = dispatcher
        self.poll_seconds = poll_seconds
        self.sent = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Sender:
        """Start sending in the background."""
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """New messages were committed: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking messages, finish (and record) those in flight, stop the pool."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.dispatcher.close()

    RECORD_EVERY = 0.02
    """Outcomes are written together at most this often (seconds), so a fast remote costs a
    transaction per batch of sends rather than per send."""

    def _run(self) -> None:
        dispatcher = self.dispatcher
        capacity = dispatcher.settings.concurrency * 2
        in_flight: set[Future[_Outcome]] = set()
        unrecorded: list[_Outcome] = []
        first_unrecorded = 0.0
        last_lease = 0.0
        look = True
        while True:
            stopping = self._stop.is_set()
            now = time.monotonic()
            # Take more when told to, when half the slots are free, or at each poll.
            due = look or len(in_flight) <= capacity // 2 or now - last_lease >= self.poll_seconds
            if not stopping and due and len(in_flight) < capacity:
                want = capacity - len(in_flight)
                try:
                    rows = dispatcher.lease(want)
                except Exception:
                    log.exception("outbox: could not take messages to send")
                    rows = []
                last_lease = now
                in_flight |= {dispatcher.pool.submit(dispatcher.attempt, row) for row in rows}
                look = len(rows) == want  # a full lease: more are waiting
            if not in_flight and not unrecorded:
                if stopping:
                    return
                if not look:
                    self._wake.wait(self.poll_seconds)
                self._wake.clear()
                look = True
                continue
            if in_flight:
                done, in_flight_left = wait(in_flight, timeout=self.RECORD_EVERY, return_when=FIRST_COMPLETED)
                in_flight = set(in_flight_left)
                if done and not unrecorded:
                    first_unrecorded = time.monotonic()
                unrecorded += [future.result() for future in done]
            if unrecorded and (
                not in_flight
                or len(unrecorded) >= capacity // 2
                or time.monotonic() - first_unrecorded >= self.RECORD_EVERY
            ):
                try:
                    self.sent += dispatcher.record(unrecorded)
                except Exception:
                    # Not recorded: their leases run out and they are sent again (at least once).
                    log.exception("outbox: could not record %d outcomes", len(unrecorded))
                unrecorded = []
            if self._wake.is_set():
                self._wake.clear()
                look = True


# --- leases: whose they are, taking over a dead sender's, what is still pending ------------------

_OWNER = re.compile(r"\(pid (?P<pid>\d+) on (?P<host>[^)]+)\)$")


def lease_owner(name: str) -> str:
    """The ``leased_by`` of this process's sender called ``name``: readable, and enough to tell
    whether its holder still runs (a pid on a host)."""
    return f"{name} (pid {os.getpid()} on {socket.gethostname()})"[:128]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def holder_is_dead(owner: str) -> bool:
    """True only when ``owner`` names a process on this machine that no longer runs; a holder on
    another machine (or one we cannot read) is presumed alive, and its lease waited out."""
    found = _OWNER.search(owner)
    if found is None or found["host"] != socket.gethostname():
        return False
    pid = int(found["pid"])
    return pid != os.getpid() and not _pid_alive(pid)


def take_over_dead_leases(engine: Engine, *, now: datetime | None = None) -> int:
    """Make the messages leased by a sender that died on this machine (killed mid-send) due now
    instead of at the end of their lease; returns how many. Sending them again is what the lease's
    end would have done anyway (at least once, with the same idempotency key)."""
    now = now or utcnow()
    with engine.begin() as conn:
        holders = conn.execute(
            select(outbox.c.leased_by)
            .where(
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.next_attempt_at > now,
                outbox.c.leased_by.is_not(None),
            )
            .distinct()
        ).scalars()
        dead = sorted(str(holder) for holder in holders if holder_is_dead(str(holder)))
        if not dead:
            return 0
        result = conn.execute(
            update(outbox)
            .where(
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.next_attempt_at > now,
                outbox.c.leased_by.in_(dead),
            )
            .values(next_attempt_at=now, leased_by=None)
        )
    log.warning("outbox: took over %d messages leased by senders that died: %s", result.rowcount, ", ".join(dead))
    return int(result.rowcount)


@dataclass(frozen=True)
class PendingOutbox:
    """Why the outbox's pending messages are not sent yet, at one moment."""

    at: datetime
    leased: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    """Per lease holder: messages it is sending and when its last lease ends."""
    retrying: int = 0
    """Waiting for a retry after a failed attempt (or a remote's 429)."""
    retry_at: datetime | None = None
    """When the first of those is due."""
    behind: int = 0
    """Due, but behind an earlier pending message of their connector and subject."""
    due: int = 0
    """Due now and not sent: their connector is paused, absent, or no sender is running."""

    @property
    def total(self) -> int:
        return sum(count for count, _ in self.leased.values()) + self.retrying + self.behind + self.due

    @property
    def lease_end(self) -> datetime | None:
        """When the last lease held now runs out."""
        return max((until for _, until in self.leased.values()), default=None)

    def describe(self) -> str:
        """One line: how many are pending and why, e.g. "3 outbox messages still pending: 2 waiting
        on a retry at …, 1 leased by worker-123 (pid 123 on box) until …"."""
        if not self.total:
            return "no outbox message pending"
        parts = []
        if self.retrying and self.retry_at is not None:
            parts.append(f"{self.retrying:,} waiting on a retry at {self.retry_at:%Y-%m-%d %H:%M:%S}Z or later")
        for holder, (count, until) in sorted(self.leased.items()):
            parts.append(f"{count:,} leased by {holder} until {until:%Y-%m-%d %H:%M:%S}Z")
        if self.behind:
            parts.append(f"{self.behind:,} behind an earlier message of their subject")
        if self.due:
            parts.append(f"{self.due:,} due but not sent (connector paused or not configured here, or no sender)")
        noun = "message" if self.total == 1 else "messages"
        return f"{self.total:,} outbox {noun} still pending: " + ", ".join(parts)


def pending_outbox(conn: Connection, *, now: datetime | None = None) -> PendingOutbox:
    """What ``PendingOutbox`` says of the outbox at ``now``."""
    now = now or utcnow()
    pending = outbox.c.status == OutboxStatus.PENDING.value
    leased: dict[str, tuple[int, datetime]] = {}
    for holder, count, until in conn.execute(
        select(outbox.c.leased_by, func.count(), func.max(outbox.c.next_attempt_at))
        .where(pending, outbox.c.next_attempt_at > now, outbox.c.leased_by.is_not(None))
        .group_by(outbox.c.leased_by)
    ):
        leased[str(holder)] = (int(count), until)
    retrying, retry_at = conn.execute(
        select(func.count(), func.min(outbox.c.next_attempt_at)).where(
            pending, outbox.c.next_attempt_at > now, outbox.c.leased_by.is_(None)
        )
    ).one()
    due_now = pending & (outbox.c.next_attempt_at <= now)
    due = int(conn.execute(select(func.count()).where(due_now, _NOT_BEHIND)).scalar_one())
    behind = int(conn.execute(select(func.count()).where(due_now, ~_NOT_BEHIND)).scalar_one())
    return PendingOutbox(at=now, leased=leased, retrying=int(retrying), retry_at=retry_at, behind=behind, due=due)


# --- the point of no return, dead letters ------------------------------------------------------


class OutboxHandovers:
    """``connectors.base.Handovers`` on the outbox table: ``handed_over_at`` of the message."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handed_over(self, idempotency_key: str) -> bool:
        with self.engine.connect() as conn:
            at = conn.execute(
                select(outbox.c.handed_over_at).where(outbox.c.idempotency_key == idempotency_key)
            ).scalar()
        return at is not None

    def hand_over(self, idempotency_key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.idempotency_key == idempotency_key).values(handed_over_at=utcnow())
            )


def dead_messages(conn: Connection, *, limit: int = 500) -> list[dict[str, Any]]:
    """Dead messages, newest first, with the remote's error: the dead letters page's second table."""
    rows = conn.execute(
        select(
            outbox.c.id,
            outbox.c.connector,
            outbox.c.action,
            outbox.c.subject,
            outbox.c.attempts,
            outbox.c.last_error,
            outbox.c.created_at,
            outbox.c.payload,
        )
        .where(outbox.c.status == OutboxStatus.DEAD.value)
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def rerun_message(conn: Connection, message_id: int, *, now: datetime) -> dict[str, Any]:
    """Put a dead message back to be sent now with fresh attempts (its handover mark cleared: a
    person checked it did not arrive). NotFound / Conflict name what is wrong."""
    row = conn.execute(select(outbox).where(outbox.c.id == message_id)).first()
    if row is None:
        raise NotFound(f"no outbox message {message_id}")
    if row.status != OutboxStatus.DEAD.value:
        raise Conflict(f"outbox message {message_id} is {row.status}, not dead; only a dead message is re-run")
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == OutboxStatus.DEAD.value)
        .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=now, handed_over_at=None)
    )
    return dict(row._mapping)


def outbox_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """``{connector: {status: count}}``: what ``storeops status`` and the checks report."""
    out: dict[str, dict[str, int]] = {}
    for connector, status, count in conn.execute(
        select(outbox.c.connector, outbox.c.status, func.count()).group_by(outbox.c.connector, outbox.c.status)
    ):
        out.setdefault(str(connector), {})[str(status)] = int(count)
    return out


__all__ = [
    "Breaker",
    "Dispatcher",
    "OutboxHandovers",
    "OutboxStatus",
    "PendingOutbox",
    "Sender",
    "backoff",
    "dead_messages",
    "dispatch",
    "enqueue",
    "holder_is_dead",
    "lease_owner",
    "outbox_row",
    "pending_outbox",
    "rerun_message",
    "take_over_dead_leases",
]
