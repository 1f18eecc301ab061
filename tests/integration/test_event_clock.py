"""Issue 15, item 10: on the events' clock (``storeops work --clock events``) a replayed backlog
gives the same decisions whatever the worker's speed — timers fire in the events' own time, and
the clock never passes the newest event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.clock import utcnow
from storeops.engine.queue import DeliveryStatus, claim, ingest, mark_finished
from storeops.engine.scheduler import schedule
from storeops.engine.worker import TimerClock, Worker
from storeops.engine.writebehind import flush
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import events, handoffs, timers
from tests.conftest import ROUTES, _create_database, _drop_database, make_policy, step
from tests.probe_desk import probe_metadata

# Tracking checks after one quiet day, so a short simulation has them fire (and be re-set) often.
POLICY = "[orders]\ntracking_stale_days = 1\n"
SCHEDULER = "storeops.scheduler"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh, empty databases on one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        return
    server = str(request.getfixturevalue("postgres_server"))
    urls = (_create_database(server), _create_database(server))
    yield urls
    for url in urls:
        _drop_database(server, url)


def _storeops(url: str, tmp_path: Path, *args: str) -> str:
    policy = tmp_path / "storeops.toml"
    policy.write_text(POLICY)
    env = {"STOREOPS_DATABASE_URL": url, "STOREOPS_POLICY_FILE": str(policy), "STOREOPS_DESKS": ""}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def _outcome(url: str) -> dict[str, Any]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        fired = conn.execute(select(events.c.external_id, events.c.occurred_at).where(events.c.source == SCHEDULER))
        ticks = {str(key): at for key, at in fired}
        newest = conn.execute(select(func.max(events.c.occurred_at)).where(events.c.source != SCHEDULER)).scalar_one()
        waiting = list(conn.execute(select(timers.c.key, timers.c.fire_at)).all())
        opened = sorted(
            (str(desk), str(subject), tuple(reasons))
            for desk, subject, reasons in conn.execute(select(handoffs.c.desk, handoffs.c.subject, handoffs.c.reasons))
        )
    engine.dispose()
    return {"ticks": ticks, "newest": newest, "waiting": waiting, "handoffs": opened}


def test_the_events_clock_decides_the_same_at_any_speed(two_stores: tuple[str, str], tmp_path: Path) -> None:
    # given the same three simulated days queued, undecided, into two fresh stores
    for url in two_stores:
        _storeops(url, tmp_path, "db", "upgrade")
        _storeops(url, tmp_path, "simulate", "--days", "3", "--start", "2026-01-05", "--seed", "5")

    # when one is worked three events a transaction and the other five hundred, on the events' clock
    slow, fast = (
        _storeops(url, tmp_path, "work", "--until-idle", "--no-outbox", "--clock", "events", "--batch", size)
        for url, size in zip(two_stores, ("3", "500"), strict=True)
    )

    # then both handled the same events, fired the same timers and opened the same handoffs
    handled = [re.search(r"handled ([\d,]+) events", out) for out in (slow, fast)]
    assert handled[0] and handled[1] and handled[0][1] == handled[1][1]
    first, second = (_outcome(url) for url in two_stores)
    assert first["ticks"] == second["ticks"]
    assert first["handoffs"] == second["handoffs"]
    assert any(key.startswith("tracking:") for key in first["ticks"]), "the test must see tracking checks fire"
    assert any(key.startswith("inventory:") or "reorder" in key for key in first["ticks"])
    assert any(reasons == ("shipping_irregularity",) for _, _, reasons in first["handoffs"])

    # and the clock never passed the newest event: every timer fired by then, none after
    for outcome in (first, second):
        assert all(at <= outcome["newest"] for at in outcome["ticks"].values())
        assert outcome["waiting"], "timers due after the newest event are still waiting"
        assert all(fire_at > outcome["newest"] for _, fire_at in outcome["waiting"])
    clock = re.search(r"events' clock at (\S+ \S+)Z", slow)
    assert clock is not None and clock[1] <= f"{first['newest']:%Y-%m-%d %H:%M}"


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database with the probe desk's table."""
    engine = create_db_engine(postgres_url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    yield engine
    engine.dispose()


def _clock_worker(engine: Engine) -> Worker:
    return Worker(engine, ROUTES, make_policy(), timer_clock=TimerClock.EVENTS)


def _timer_at(engine: Engine, at: datetime) -> None:
    with engine.begin() as conn:
        schedule(conn, key="probe:check", kind="probe.ignored", subject="probe:check", at=at)
        flush(conn)


@pytest.mark.postgres
def test_the_events_clock_waits_for_what_another_worker_is_deciding_before_the_timer(postgres_engine: Engine) -> None:
    """Issue 15, item 5: with several workers, one whose claim is empty must not fire a timer while
    another still decides an earlier event (its follow-ups would land after the timer's event)."""
    engine = postgres_engine
    with engine.begin() as conn:
        ingest(
            conn,
            [step("probe:a", 1, occurred_at=T0), step("probe:b", 1, occurred_at=T0 + timedelta(hours=2))],
            routes=ROUTES,
        )
    _timer_at(engine, T0 + timedelta(hours=1))
    waiting = _clock_worker(engine)
    with engine.connect() as other, other.begin():
        taken = claim(other, 10, now=utcnow(), before_next_timer=True)
        assert [d.event.subject for d in taken] == ["probe:a"]
        # The other worker holds probe:a (row-locked, still pending): this one's claim is empty …
        with engine.begin() as conn:
            assert claim(conn, 10, now=utcnow(), before_next_timer=True) == []
        # … yet the clock stays: the timer fires after probe:a, as with one worker.
        assert waiting.advance_event_clock() is False
        mark_finished(other, [(taken[0].id, DeliveryStatus.DONE)], now=utcnow())
    assert waiting.advance_event_clock() is True
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(timers)).scalar_one() == 0


@pytest.mark.postgres
def test_the_events_clock_does_not_wait_for_an_event_queued_behind_a_later_one(postgres_engine: Engine) -> None:
    """A subject's earlier-dated event queued after a later-dated one cannot be decided before the
    timer either (its subject's order comes first): waiting for it would wait forever."""
    engine = postgres_engine
    with engine.begin() as conn:
        ingest(conn, [step("probe:a", 1, occurred_at=T0 + timedelta(hours=3))], routes=ROUTES)
        ingest(conn, [step("probe:a", 2, occurred_at=T0)], routes=ROUTES)
    _timer_at(engine, T0 + timedelta(hours=1))
    assert _clock_worker(engine).advance_event_clock() is True
