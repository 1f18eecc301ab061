"""The worker: claims batches of events, runs their desks' handlers, records every decision."""

from __future__ import annotations

import enum
import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from sqlalchemy import Connection, Engine, select

from storeops.clock import utcnow
from storeops.connectors.base import Connector
from storeops.engine.audit import AuditEntry, write_audit
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision
from storeops.engine.desk import Registry
from storeops.engine.events import Event, parse_new_event
from storeops.engine.inbox import expire_handoffs, open_handoff
from storeops.engine.models import DeskModels, ModelPlaces
from storeops.engine.notify import handoff_notice, notify_breaches, opened_row
from storeops.engine.outbox import (
    Dispatcher,
    Sender,
    enqueue,
    lease_owner,
    outbox_row,
    pending_outbox,
    take_over_dead_leases,
)
from storeops.engine.policy import Policy, PolicyFile, record_policy_version
from storeops.engine.queue import (
    Delivery,
    DeliveryStatus,
    claim,
    claimable_by,
    hold_events_clock,
    ingest,
    lock_shared,
    mark_failed,
    mark_finished,
    newest_occurred_at,
    pending_deliveries,
)
from storeops.engine.scheduler import earliest_set, fire_due, next_fire_at, unwatch, watch
from storeops.engine.writebehind import buffered, discard, flush
from storeops.storage.db import read_only
from storeops.storage.schema import deliveries

log = logging.getLogger(__name__)


class TimerClock(enum.StrEnum):
    """What time a worker's timers fire by (``storeops work --clock``, ``[engine] clock``)."""

    WALL = "wall"
    """The worker's ``clock`` (the wall clock; a simulation's own when it replays days): live traffic."""
    EVENTS = "events"
    """The events' own time, for a backlog (an import, ``storeops simulate``, a backtest): a timer due
    at T fires once every event that happened by T is handled and before any later one, and the
    clock never passes the newest event stored — so the same input gives the same decisions
    whatever the worker's speed or batch size."""


@dataclass
class BatchStats:
    """What one call to ``run_batch`` did."""

    claimed: int = 0
    done: int = 0
    unhandled: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    """Claimed but left pending (events' clock): a timer set in this batch is due before them."""


@dataclass
class WorkerStats:
    """Running totals of a worker."""

    batches: int = 0
    done: int = 0
    unhandled: int = 0
    failed: int = 0
    dead: int = 0
    timers_fired: int = 0
    outbox_sent: int = 0

    def add(self, batch: BatchStats) -> None:
        self.batches += 1
        self.done += batch.done
        self.unhandled += batch.unhandled
        self.failed += batch.failed
        self.dead += batch.dead


def default_places() -> ModelPlaces:
    """Where models are by the environment's settings (``STOREOPS_MODELS_DIR``, ``STOREOPS_CACHE_DIR``)."""
    from storeops.settings import load_settings

    settings = load_settings()
    return ModelPlaces(models_dir=settings.models_dir, cache_dir=settings.cache_dir)


class Worker:
    """Runs the loop; several may run at once (processes or machines) on PostgreSQL."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        policy: Policy,
        *,
        connectors: Mapping[str, Connector] | None = None,
        batch_size: int | None = None,
        name: str = "worker",
        clock: Callable[[], datetime] = utcnow,
        policy_file: PolicyFile | None = None,
        models: DeskModels | None = None,
        timer_clock: TimerClock = TimerClock.WALL,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.policy = policy
        self.connectors = dict(connectors or {})
        self.batch_size = batch_size or policy.engine.batch_size
        self.name = name
        self.clock = clock
        """The wall clock (or a simulation's own clock when it replays days): what time timers fire by
        with ``TimerClock.WALL``, and what handoffs expire and SLA breaches are told by either way."""
        self.timer_clock = TimerClock(timer_clock)
        self.event_time: datetime | None = None
        """With ``TimerClock.EVENTS``: the events' clock, the latest time of an event handled or a
        timer fired by this worker (never past the newest event stored)."""
        self._newest: datetime | None = None
        self.policy_file = policy_file
        """When given, a changed policy file takes effect at the next tick."""
        self.models = models or DeskModels(registry, default_places())
        """Each desk's models, loaded when its handlers first ask (``ctx.models``)."""
        self.stats = WorkerStats()
        self._dispatcher: Dispatcher | None = None
        self._sender: Sender | None = None
        self._sqlite = engine.dialect.name == "sqlite"
        self._stop = threading.Event()
        if policy.version is None:
            with engine.begin() as conn:
                record_policy_version(conn, policy)

    def stop(self) -> None:
        """Ask the loop to finish its current batch and return."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """Finish the batch in hand on SIGTERM/SIGINT instead of dying mid-way."""

        def _handler(_signum: int, _frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)

    # --- one batch -------------------------------------------------------------------------

    def settle(self, desk: str, subject: str, event_id: int, *, timeout: float = 30.0) -> bool:
        """Handle ``desk``'s deliveries of ``subject`` in order until the one of event ``event_id`` is
        finished — what a person's resolution waits for to say what it did. Another worker may take
        them meanwhile; either way this returns True once the delivery is no longer pending, False
        when ``timeout`` passed first (say, the subject waits on a retry)."""
        deadline = time.monotonic() + timeout
        self.models.warm_up([desk])
        while True:
            with read_only(self.engine).connect() as conn:
                status = conn.execute(
                    select(deliveries.c.status).where(deliveries.c.event_id == event_id, deliveries.c.desk == desk)
                ).scalar()
                conn.rollback()
            if status != DeliveryStatus.PENDING.value:
                return True
            if time.monotonic() > deadline:
                return False
            try:
                with self.engine.begin() as conn, buffered(conn):
                    done = self._handle_batch(conn, careful=True, limit=1, only=(desk, subject))
            except Exception:
                log.warning("settling %s on %s failed", subject, desk, exc_info=True)
                done = BatchStats()
            if not done.claimed:
                time.sleep(0.02)

    def _load_models_due(self) -> None:
        """Load, before the batch's transaction opens, the models of desks that have deliveries
        waiting and whose models nobody has loaded yet: a first load (or a first-time build of a
        default model) then never holds the database's write lock, and a desk that gets no event
        never loads its models at all."""
        waiting = self.models.waiting()
        if not waiting:
            return
        with read_only(self.engine).connect() as conn:
            due = (
                conn.execute(
                    select(deliveries.c.desk)
                    .where(deliveries.c.status == DeliveryStatus.PENDING.value, deliveries.c.desk.in_(waiting))
                    .distinct()
                )
                .scalars()
                .all()
            )
            conn.rollback()
        self.models.warm_up(due)

    def run_batch(self) -> BatchStats:
        """Claim and handle one batch. Fast path: the whole batch in one transaction. If anything
        fails after the claim — a handler, or the writes after it — that transaction is rolled
        back and the batch redone with a savepoint per delivery, so one bad event costs only its
        own retry; should even that fail outside the savepoints (a desk's end-of-batch work), the
        deliveries are taken one per transaction, and the one that fails is marked failed alone."""
        self._load_models_due()
        try:
            with self.engine.begin() as conn, buffered(conn):
                return self._handle_batch(conn, careful=False, limit=self.batch_size)
        except Exception:
            log.debug("batch failed; redoing it delivery by delivery", exc_info=True)
        try:
            with self.engine.begin() as conn, buffered(conn):
                return self._handle_batch(conn, careful=True, limit=self.batch_size)
        except Exception:
            log.warning("batch failed outside its deliveries; taking them one at a time", exc_info=True)
        return self._one_by_one(self.batch_size)

    def _one_by_one(self, count: int) -> BatchStats:
        stats = BatchStats()
        for _ in range(count):
            claimed: list[Delivery] = []
            try:
                with self.engine.begin() as conn, buffered(conn):
                    one = self._handle_batch(conn, careful=True, limit=1, claimed=claimed)
            except Exception:
                if not claimed:
                    raise
                with self.engine.begin() as conn:
                    status = self._fail(conn, claimed[0], traceback.format_exc(limit=8), utcnow(), only_if_pending=True)
                stats.claimed += 1
                stats.failed += 1
                stats.dead += status is DeliveryStatus.DEAD
                continue
            if not one.claimed:
                break
            for name in ("claimed", "done", "unhandled", "failed", "dead"):
                setattr(stats, name, getattr(stats, name) + getattr(one, name))
        return stats

    def _fail(
        self, conn: Connection, delivery: Delivery, error: str, now: datetime, *, only_if_pending: bool = False
    ) -> DeliveryStatus:
        return mark_failed(
            conn,
            delivery,
            error,
            now=now,
            max_attempts=self.policy.engine.max_attempts,
            base_seconds=self.policy.engine.retry_base_seconds,
            max_seconds=self.policy.engine.retry_max_seconds,
            only_if_pending=only_if_pending,
        )

    def _handle_batch(
        self,
        conn: Connection,
        *,
        careful: bool,
        limit: int,
        claimed: list[Delivery] | None = None,
        only: tuple[str, str] | None = None,
    ) -> BatchStats:
        now = utcnow()
        # On the events' clock nothing that happened after the next timer is decided before it fires
        # (a person's resolution, ``only``, is decided at once, like live traffic).
        by_events = self.timer_clock is TimerClock.EVENTS and only is None
        if by_events:
            hold_events_clock(conn)
        horizon = next_fire_at(conn) if by_events else None
        batch = claim(conn, limit, now=now, only=only, occurred_until=horizon, before_next_timer=by_events)
        if claimed is not None:
            claimed.extend(batch)
        if by_events:
            watch(conn)
        try:
            return self._handle_claimed(conn, batch, now, careful=careful, horizon=horizon, by_events=by_events)
        finally:
            unwatch(conn)

    def _handle_claimed(
        self,
        conn: Connection,
        batch: list[Delivery],
        now: datetime,
        *,
        careful: bool,
        horizon: datetime | None,
        by_events: bool,
    ) -> BatchStats:
        lock_shared(conn, [key for d in batch for key in self.registry.lock_keys(d.desk, d.event)])
        stats = BatchStats(claimed=len(batch))
        finished: list[tuple[int, DeliveryStatus]] = []
        audit: list[AuditEntry] = []
        outbox_rows: list[dict[str, Any]] = []
        held: set[str] = set()
        """Keys of deliveries this batch leaves undecided: later ones sharing them wait too."""
        for delivery in batch:
            event, desk = delivery.event, delivery.desk
            if held.intersection(delivery.keys):
                held.update(delivery.keys)
                stats.deferred += 1
                continue
            if by_events:
                # A handler earlier in this batch may have set a timer due before this event: leave
                # the event for after it fires (``run`` fires it once the batch is committed).
                bound = min((t for t in (horizon, earliest_set(conn)) if t is not None), default=None)
                if bound is not None and event.occurred_at > bound:
                    held.update(delivery.keys)
                    stats.deferred += 1
                    continue
                self.event_time = max(self.event_time or event.occurred_at, event.occurred_at)
            handler = self.registry.handler(desk, event.kind)
            if handler is None:
                finished.append((delivery.id, DeliveryStatus.UNHANDLED))
                stats.unhandled += 1
                continue
            context = HandlerContext(conn=conn, policy=self.policy, now=now, desk=desk, desk_models=self.models)
            if not careful:
                decision = handler(event, context)
                self._record(conn, event, desk, decision, now, audit, outbox_rows)
                finished.append((delivery.id, DeliveryStatus.DONE))
                stats.done += 1
                continue
            savepoint = conn.begin_nested()
            try:
                decision = handler(event, context)
                event_audit: list[AuditEntry] = []
                event_outbox: list[dict[str, Any]] = []
                self._record(conn, event, desk, decision, now, event_audit, event_outbox)
                write_audit(conn, event_audit)
                enqueue(conn, event_outbox)
                flush(conn)
                savepoint.commit()
            except Exception:
                discard(conn)
                savepoint.rollback()
                status = self._fail(conn, delivery, traceback.format_exc(limit=8), now)
                held.update(delivery.keys)
                stats.failed += 1
                if status is DeliveryStatus.DEAD:
                    stats.dead += 1
                continue
            finished.append((delivery.id, DeliveryStatus.DONE))
            stats.done += 1
        # A row some handler left for the end failing here sends the batch down the careful path,
        # where each delivery's rows are written in its own savepoint and the culprit is retried alone.
        flush(conn)
        if batch:
            outbox_rows += self._after_batch(conn, now, {delivery.desk for delivery in batch}, tolerate=careful)
        write_audit(conn, audit)
        enqueue(conn, outbox_rows)
        mark_finished(conn, finished, now=now)
        return stats

    def _after_batch(
        self, conn: Connection, now: datetime, owners: set[str], *, tolerate: bool = False
    ) -> list[dict[str, Any]]:
        """Each desk's end-of-batch work (coalesced side effects, e.g. the inventory desk's channel
        pushes after any desk moved stock), as outbox rows. On the careful paths each runs in its own
        savepoint: a desk's failing work fails the batch only when the batch holds that desk's
        deliveries (``owners``), so a desk whose end-of-batch work is broken holds back only itself."""
        rows = []
        for name, desk in self.registry.desks.items():
            if desk.after_batch is None:
                continue
            if tolerate:
                savepoint = conn.begin_nested()
                try:
                    messages = list(desk.after_batch(conn, self.policy, now))
                    savepoint.commit()
                except Exception:
                    savepoint.rollback()
                    if name in owners:
                        raise
                    log.warning("%s: end-of-batch work failed; its own deliveries will retry it", name, exc_info=True)
                    continue
            else:
                messages = list(desk.after_batch(conn, self.policy, now))
            for index, message in enumerate(messages):
                rows.append(
                    outbox_row(
                        connector=message.connector,
                        action=message.action,
                        payload=message.payload,
                        key=message.idempotency_key or f"{name}:after-batch:{now.isoformat()}:{index}",
                        subject=message.subject or name,
                        event_id=None,
                        now=now,
                    )
                )
        return rows

    def _record(
        self,
        conn: Connection,
        event: Event,
        desk: str,
        decision: Decision | None,
        now: datetime,
        audit: list[AuditEntry],
        outbox_rows: list[dict[str, Any]],
    ) -> None:
        """The one writer of a decision: its handoff, its audit row and its outbox rows."""
        if decision is None:
            return
        if decision.follow_ups:
            # Validated like any ingest; a bad follow-up fails the handler's delivery, not the batch.
            follow_ups = [
                parse_new_event(e.model_dump(mode="json"), self.registry.payload_models) for e in decision.follow_ups
            ]
            ingest(conn, follow_ups, routes=self.registry, now=now)
        reasons = decision.reason_codes()
        subject = decision.subject or event.subject
        # The decision belongs to the event's own time (a replayed or late-delivered event
        # happened before it was decided), never to a future one a skewed clock sent.
        occurred = min(event.occurred_at, now)
        handoff_id = None
        if decision.handoff is not None:
            handoff_id = open_handoff(
                conn,
                desk=desk,
                subject=subject,
                request=decision.handoff,
                reasons=reasons,
                evidence=decision.evidence,
                now=occurred,
                sla_minutes=self.policy.sla_minutes(desk),
                event_id=event.id,
                policy_version=self.policy.version,
            )
            threshold = self.policy.outbox.notify_priority
            due_at = occurred + timedelta(minutes=self.policy.sla_minutes(desk))
            # A handoff of a replayed or imported past is already late: the breach notice (if
            # recent) or the inbox tells of it, not a chat message saying it is new.
            if decision.handoff.priority <= threshold and due_at > now:
                amount = decision.handoff.amount
                notice = handoff_notice(
                    handoff_id,
                    desk=desk,
                    subject=subject,
                    reasons=reasons,
                    suggestion=decision.handoff.suggestion,
                    priority=decision.handoff.priority,
                    due_at=due_at,
                    amount={"minor": amount.minor, "currency": amount.currency} if amount else None,
                )
                outbox_rows.append(opened_row(notice, now=now, event_id=event.id))
        audit.append(
            AuditEntry(
                at=now,
                occurred_at=occurred,
                actor=decision.actor or f"automation:{desk}",
                desk=desk,
                subject=subject,
                action=decision.action,
                outcome=decision.outcome,
                reasons=reasons,
                evidence=decision.evidence,
                task=decision.task,
                policy_version=self.policy.version,
                event_id=event.id,
                handoff_id=handoff_id,
                latency_ms=max(0, int((now - event.received_at).total_seconds() * 1000)),
            )
        )
        for index, message in enumerate(decision.outbox):
            key = message.idempotency_key or f"{event.source}:{event.external_id}:{desk}:{message.action}:{index}"
            outbox_rows.append(
                outbox_row(
                    connector=message.connector,
                    action=message.action,
                    payload=message.payload,
                    key=key,
                    subject=message.subject or subject,
                    event_id=event.id,
                    now=now,
                )
            )

    # --- housekeeping ----------------------------------------------------------------------

    def tick(self) -> int:
        """Fire due timers and expire stale handoffs; returns timers fired."""
        now = self.clock()
        self.reload_policy()
        with self.engine.begin() as conn:
            # On the events' clock timers fire from ``advance_event_clock`` instead, between batches.
            fired = fire_due(conn, now=now) if self.timer_clock is TimerClock.WALL else 0
            expire_handoffs(conn, now=now, after_hours=self.policy.inbox.expire_after_hours)
            notify_breaches(conn, now=now)
        self.stats.timers_fired += fired
        return fired

    def reload_policy(self) -> bool:
        """Switch to the policy file's new content when it changed; True when it did."""
        if self.policy_file is None:
            return False
        policy = self.policy_file.reload_if_changed()
        if policy is None:
            if self.policy_file.error:
                log.error("policy file not reloaded; version %s stays: %s", self.policy.version, self.policy_file.error)
            return False
        with self.engine.begin() as conn:
            record_policy_version(conn, policy)
        self.policy = policy
        log.info("policy reloaded from %s: version %s", self.policy_file.path, policy.version)
        return True

    @property
    def dispatcher(self) -> Dispatcher:
        """This worker's outbox dispatcher (its circuit breakers last as long as the worker)."""
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(
                self.engine, self.connectors, self.policy.outbox, owner=lease_owner(self.name)
            )
        return self._dispatcher

    def send_outbox(self) -> int:
        """Dispatch due outbox messages to the configured connectors, here and now (concurrently)."""
        if not self.connectors:
            return 0
        sent = self.dispatcher.run_once(self.policy.outbox.concurrency * 4)
        self.stats.outbox_sent += sent
        return sent

    def close(self) -> None:
        """Stop sending and close the connectors' connections (the worker is done)."""
        from storeops.connectors.base import close_connectors

        self.stop_sender()
        if self._dispatcher is not None:
            self._dispatcher.close()
            self._dispatcher = None
        close_connectors(self.connectors)

    def start_sender(self) -> Sender | None:
        """Send the outbox on a thread of its own beside the decisions (None without connectors)."""
        if not self.connectors or self._sender is not None:
            return self._sender
        self._sender = Sender(self.dispatcher, poll_seconds=max(0.05, self.policy.engine.poll_interval_ms / 1000))
        return self._sender.start()

    def stop_sender(self) -> None:
        """Finish the sends in flight and stop the sender thread."""
        if self._sender is not None:
            self._sender.stop()
            self.stats.outbox_sent += self._sender.sent
            self._sender = None
            self._dispatcher = None

    def advance_event_clock(self) -> bool:
        """With ``TimerClock.EVENTS``, once no event due by the next timer is left to claim: move the
        events' clock to that timer and fire what is due then. False (nothing moved) when there is
        no timer, or the next is later than the newest event stored: the clock stops there until
        newer events arrive."""
        if self.timer_clock is not TimerClock.EVENTS:
            return False
        with self.engine.begin() as conn:
            hold_events_clock(conn)
            next_fire = next_fire_at(conn)
            if next_fire is None:
                return False
            # A timer set for a moment already behind the clock (from an older fact) fires at the clock.
            at = max(next_fire, self.event_time or next_fire)
            if self._newest is None or at > self._newest:
                self._newest = newest_occurred_at(conn)  # a scan of events, so only when it may have moved
            if self._newest is None or at > self._newest:
                return False
            if claimable_by(conn, next_fire, now=utcnow()):
                # Since this worker's claim came back empty, another worker's batch has left a
                # follow-up dated before the timer (or, not holding the events-clock lock, is
                # deciding one): fire after it, as one worker would.
                return False
            fired = fire_due(conn, now=at)
        self.event_time = at
        self.stats.timers_fired += fired
        return True

    # --- the loop --------------------------------------------------------------------------

    def _leases_to_wait_for(self, deadline: datetime) -> bool:
        """Before ``run(until_idle=True)`` returns: True when there is more to do soon — a sender
        that died on this machine left messages leased (taken over here, due at once), messages
        are leased by a live sender (waited for: it may yet fail them back to us), or due
        deliveries are held by another transaction (a killed worker's, not yet ended by the
        database). Waiting stops at ``deadline`` (one ``[outbox] lease_seconds`` after the worker
        first found nothing to do), by which any lease taken before then has run out."""
        now = utcnow()
        if self.connectors:
            # Only a worker that sends may take messages over; --no-outbox leaves them to senders.
            if take_over_dead_leases(self.engine, now=now):
                return True
            with read_only(self.engine).connect() as conn:
                leased = pending_outbox(conn, now=now).leased
                conn.rollback()
            if leased and now < deadline:
                return True
        with read_only(self.engine).connect() as conn:
            held = pending_deliveries(conn, now=now).due
            conn.rollback()
        return held > 0 and now < deadline

    def run(
        self,
        *,
        until_idle: bool = False,
        on_batch: Callable[[BatchStats], None] | None = None,
        tick_seconds: float = 1.0,
    ) -> WorkerStats:
        """Work until stopped (or, with ``until_idle``, until nothing is due)."""
        poll = self.policy.engine.poll_interval_ms / 1000
        last_tick = 0.0
        # A worker that runs on sends beside its decisions (a remote's slowness never holds a
        # batch back); one that stops when idle sends between batches, so "idle" includes the outbox.
        sender = None if until_idle else self.start_sender()
        idle_deadline: datetime | None = None
        try:
            while not self._stop.is_set():
                if time.monotonic() - last_tick >= tick_seconds:
                    self.tick()
                    last_tick = time.monotonic()
                batch = self.run_batch()
                self.stats.add(batch)
                if on_batch is not None and batch.claimed:
                    on_batch(batch)
                if sender is not None:
                    if batch.claimed:
                        sender.wake()
                    sent = 0
                else:
                    sent = self.send_outbox()
                if self._sqlite and 0 < batch.claimed < self.batch_size:
                    # No backlog: leave SQLite's single write lock free for a moment so that a
                    # producer waiting to ingest gets in between two of our transactions.
                    time.sleep(0.001)
                if batch.claimed == 0 and sent == 0:
                    if self.advance_event_clock():
                        continue
                    if until_idle and self.tick() == 0:
                        if idle_deadline is None:
                            idle_deadline = utcnow() + timedelta(seconds=self.policy.outbox.lease_seconds)
                        if not self._leases_to_wait_for(idle_deadline):
                            break
                    self._stop.wait(poll)
        finally:
            self.stop_sender()
        return self.stats
