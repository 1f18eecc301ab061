"""Side effects after commit, and timers that fire once per slot however many workers look."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from storeops.connectors.local import FileConnector
from storeops.engine.desk import Registry
from storeops.engine.outbox import dispatch
from storeops.engine.policy import Policy
from storeops.engine.queue import event_states, ingest
from storeops.engine.scheduler import fire_due, schedule
from storeops.engine.worker import Worker
from storeops.storage.schema import events, outbox, timers
from tests.conftest import ROUTES, step


class FlakyConnector:
    """Fails the first ``failures`` sends, then records what it got."""

    def __init__(self, failures: int) -> None:
        self.name = "warehouse"
        self.failures = failures
        self.received: list[tuple[str, dict[str, Any], str]] = []

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("warehouse unreachable")
        self.received.append((action, payload, idempotency_key))


def test_outbox_rows_commit_with_the_decision_and_are_sent_after(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ingest(conn, [step("thing:1", 3, outbox=True, external_id="e-1")], routes=ROUTES)
    worker = Worker(engine, registry, policy)
    worker.run_batch()
    # the decision committed an outbox row; nothing has been sent yet
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert (row.connector, row.action, row.status, row.payload) == ("warehouse", "probe.ship", "pending", {"seq": 3})
    assert row.idempotency_key == "test:e-1:probe:probe.ship:0"  # source:external id:desk:action:index
    # when dispatched to the local file connector, the message lands on disk once
    assert dispatch(engine, {"warehouse": FileConnector("warehouse", tmp_path)}) == 1
    [written] = list((tmp_path / "warehouse" / "probe.ship").glob("*.json"))
    assert json.loads(written.read_text())["payload"] == {"seq": 3}
    assert dispatch(engine, {"warehouse": FileConnector("warehouse", tmp_path)}) == 0


def test_a_failing_connector_is_retried_then_dead_lettered(engine: Engine, registry: Registry, policy: Policy) -> None:
    with engine.begin() as conn:
        ingest(conn, [step("thing:1", 1, outbox=True), step("thing:2", 2, outbox=True)], routes=ROUTES)
    Worker(engine, registry, policy).run_batch()
    flaky = FlakyConnector(failures=1)
    # first pass: the first message fails, the second goes through
    assert dispatch(engine, {"warehouse": flaky}, base_seconds=0.0001) == 1
    # second pass (retry due at once): the failed one is sent with the same idempotency key
    assert dispatch(engine, {"warehouse": flaky}, base_seconds=0.0001) == 1
    assert len({key for _, _, key in flaky.received}) == 2
    # a connector that always fails: dead after max_attempts, with the error kept
    with engine.begin() as conn:
        ingest(conn, [step("thing:3", 3, outbox=True)], routes=ROUTES)
    Worker(engine, registry, policy).run_batch()
    broken = FlakyConnector(failures=100)
    for _ in range(3):
        dispatch(engine, {"warehouse": broken}, base_seconds=0.0001, max_attempts=3)
    with engine.connect() as conn:
        dead = conn.execute(select(outbox).where(outbox.c.status == "dead")).one()
    assert dead.attempts == 3 and "warehouse unreachable" in dead.last_error


def test_a_message_for_an_unknown_connector_is_dead_at_once(engine: Engine, registry: Registry, policy: Policy) -> None:
    with engine.begin() as conn:
        ingest(conn, [step("thing:1", 1, outbox=True)], routes=ROUTES)
    Worker(engine, registry, policy).run_batch()
    assert dispatch(engine, {}) == 0
    with engine.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.last_error)).one()
    assert row.status == "dead" and "no connector named 'warehouse'" in row.last_error


def _ticks(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(events.c.external_id).order_by(events.c.id)).scalars())


def test_a_recurring_timer_fires_once_per_slot_even_when_two_workers_look(engine: Engine) -> None:
    start = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    with engine.begin() as conn:
        schedule(conn, key="daily-forecast", kind="clock.tick", subject="store:main", at=start, every_minutes=1440)
    # one minute before: nothing
    with engine.begin() as conn:
        assert fire_due(conn, now=start - timedelta(minutes=1)) == 0
    # at the minute: fires; a second worker at the same minute finds nothing more
    with engine.begin() as conn:
        assert fire_due(conn, now=start) == 1
    with engine.begin() as conn:
        assert fire_due(conn, now=start + timedelta(seconds=30)) == 0
    assert _ticks(engine) == ["daily-forecast@2026-03-01T06:00:00+00:00"]
    with engine.connect() as conn:
        assert conn.execute(select(timers.c.fire_at)).scalar_one() == start + timedelta(days=1)


def test_missed_slots_fire_once_not_in_a_flood(engine: Engine) -> None:
    start = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    with engine.begin() as conn:
        schedule(conn, key="hourly", kind="clock.tick", subject="store:main", at=start, every_minutes=60)
    # the workers were down for five and a half hours
    with engine.begin() as conn:
        assert fire_due(conn, now=start + timedelta(hours=5, minutes=30)) == 1
    with engine.connect() as conn:
        assert conn.execute(select(timers.c.fire_at)).scalar_one() == start + timedelta(hours=6)


def test_a_one_off_timer_fires_once_and_goes_away(engine: Engine) -> None:
    at = datetime(2026, 3, 1, 6, 0, 40, tzinfo=UTC)
    with engine.begin() as conn:
        schedule(
            conn, key="check:order:1", kind="clock.tick", subject="order:sim:1", at=at, payload={"check": "tracking"}
        )
    # Timers keep whole minutes and never fire early: 06:00:40 becomes the 06:01 slot.
    with engine.begin() as conn:
        assert fire_due(conn, now=at + timedelta(seconds=19)) == 0
    with engine.begin() as conn:
        assert fire_due(conn, now=at + timedelta(seconds=20)) == 1
    with engine.connect() as conn:
        assert conn.execute(select(timers)).first() is None
        payload = conn.execute(select(events.c.payload)).scalar_one()
    assert payload == {"check": "tracking", "timer": "check:order:1", "scheduled_for": "2026-03-01T06:01:00+00:00"}


def test_schedule_rejects_a_zero_interval(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="at least 1"):
        schedule(conn, key="x", kind="clock.tick", subject="store:main", at=datetime.now(UTC), every_minutes=0)


def _timer_keys(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(timers.c.key)).scalars())


def test_a_batch_writes_its_deferred_rows_and_drops_those_of_a_failed_handler(
    engine: Engine, registry: Registry, policy: Policy
) -> None:
    # "thing:1" fails once after setting its timer: the batch is redone with a savepoint per
    # event, and the failed handler's waiting timer row must go with its savepoint.
    with engine.begin() as conn:
        ingest(conn, [step("thing:1", 1, timer=True, fail_times=1), step("thing:2", 2, timer=True)], routes=ROUTES)
    worker = Worker(engine, registry, policy)
    stats = worker.run_batch()
    assert (stats.done, stats.failed) == (1, 1)
    assert _timer_keys(engine) == ["probe:thing:2"]
    worker.run(until_idle=True)
    assert _timer_keys(engine) == ["probe:thing:1", "probe:thing:2"]


def test_write_later_waits_only_inside_a_buffer_and_readers_see_waiting_rows(engine: Engine) -> None:
    from storeops.engine.scheduler import cancel
    from storeops.engine.writebehind import KEY, UnitOfWork, buffered
    from storeops.storage.schema import audit_log

    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        schedule(conn, key="now", kind="probe.ignored", subject="s:1", at=at)
        assert UnitOfWork.of(conn) is None  # no unit of work: written at once
        with buffered(conn) as uow:
            schedule(conn, key="later", kind="probe.ignored", subject="s:2", at=at)
            schedule(conn, key="gone", kind="probe.ignored", subject="s:3", at=at)
            assert len(uow.rows[next(iter(uow.rows))]) == 2 and uow.tables == {"timers"}
            conn.execute(select(audit_log.c.id)).all()  # another table: the timers keep waiting
            assert uow.rows
            # a statement that touches the timers writes them first: nobody has to remember to
            assert conn.execute(select(timers.c.key).order_by(timers.c.key)).scalars().all() == ["gone", "later", "now"]
            assert not uow.rows
            schedule(conn, key="gone", kind="probe.ignored", subject="s:3", at=at)
            cancel(conn, "gone")  # set again in the same batch: the delete writes it first, then removes it
            assert fire_due(conn, now=at + timedelta(minutes=1)) == 2  # "now" and "later"
        assert KEY not in conn.info
    with pytest.raises(RuntimeError), engine.begin() as conn, buffered(conn):
        schedule(conn, key="never", kind="probe.ignored", subject="s:4", at=at)
        raise RuntimeError("the batch fails")
    with engine.connect() as conn:
        assert KEY not in conn.info
    assert _timer_keys(engine) == []


def test_a_row_the_database_refuses_at_the_end_of_the_batch_fails_only_its_own_event(
    engine: Engine, registry: Registry, policy: Policy
) -> None:
    with engine.begin() as conn:
        ingest(conn, [step("thing:1", 1, bad_later=True), step("thing:2", 2, timer=True)], routes=ROUTES)
    stats = Worker(engine, registry, policy).run_batch()
    assert (stats.done, stats.failed) == (1, 1)
    assert _timer_keys(engine) == ["probe:thing:2"]
    with engine.connect() as conn:
        failed = conn.execute(
            select(event_states.c.subject, event_states.c.last_error).where(event_states.c.status != "done")
        ).one()
    assert failed.subject == "thing:1" and "IntegrityError" in failed.last_error
