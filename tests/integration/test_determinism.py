"""The same decisions from one worker or many: shared state (a SKU's stock) is read in the events' order."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.determinism import compare, idle, outcomes, simulate
from sqlalchemy import Engine

from storeops.clock import utcnow
from storeops.desks.inventory.ledger import Cause, level, move
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.inbox import list_handoffs
from storeops.engine.queue import DeliveryStatus, claim, ingest, mark_failed, mark_finished, rerun
from storeops.engine.worker import Worker
from storeops.storage.db import create_db_engine, read_only
from storeops.storage.migrate import upgrade
from tests.conftest import ROUTES, _create_database, _drop_database, make_policy

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
_ids = itertools.count(1)


def order(number: str, sku: str, customer: str, at: datetime) -> NewEvent:
    return NewEvent(
        source="shop",
        external_id=f"o-{number}-{next(_ids)}",
        kind="order.created",
        subject=f"order:shop:{number}",
        occurred_at=at,
        payload={
            "order_number": number,
            "customer": {"id": customer, "email": f"{customer}@example.test"},
            "currency": "EUR",
            "total_minor": 100,
            "lines": [{"sku": sku, "quantity": 1, "unit_price_minor": 100}],
        },
    )


def cancelled(number: str, at: datetime) -> NewEvent:
    return NewEvent(
        source="shop",
        external_id=f"c-{number}-{next(_ids)}",
        kind="order.cancelled",
        subject=f"order:shop:{number}",
        occurred_at=at,
        payload={"order_number": number, "reason": "customer"},
    )


def several_per_key(engine: Engine) -> bool:
    """SQLite's one writer decides one batch at a time: a batch may hold several deliveries of a
    key. PostgreSQL's workers share the queue: a batch takes one per key."""
    return engine.dialect.name != "postgresql"


def claimed_orders(engine: Engine) -> list[tuple[str, str]]:
    """What one claim hands the orders desk now (the transaction is rolled back: nothing is taken)."""
    with engine.connect() as conn:
        batch = claim(conn, 20, now=utcnow())
        conn.rollback()
    return [(d.event.subject, d.event.kind) for d in batch if d.desk == "orders"]


def finish(engine: Engine, subject: str) -> None:
    with engine.begin() as conn:
        [delivery] = [d for d in claim(conn, 20, now=utcnow()) if d.desk == "orders" and d.event.subject == subject]
        mark_finished(conn, [(delivery.id, DeliveryStatus.DONE)], now=utcnow())


def test_orders_sharing_a_sku_are_claimed_in_their_events_order(engine: Engine) -> None:
    with engine.begin() as conn:
        ingest(
            conn,
            [
                order("1", "LAST", "c1", T0),
                cancelled("1", T0 + timedelta(minutes=5)),
                order("2", "LAST", "c2", T0 + timedelta(minutes=10)),
                order("3", "OTHER", "c3", T0 + timedelta(minutes=15)),
            ],
            routes=ROUTES,
        )
    # Order 2 shares LAST with order 1: it waits, while order 3 (another SKU, another customer) goes.
    assert claimed_orders(engine) == [("order:shop:1", "order.created"), ("order:shop:3", "order.created")]
    finish(engine, "order:shop:1")
    # The cancellation names no SKU, yet gives LAST back: it keeps its order's keys and goes first;
    # order 2 may share its batch, after it (a worker decides its batch in order).
    assert claimed_orders(engine) == [
        ("order:shop:1", "order.cancelled"),
        *([("order:shop:2", "order.created")] if several_per_key(engine) else []),
        ("order:shop:3", "order.created"),
    ]
    finish(engine, "order:shop:1")
    assert ("order:shop:2", "order.created") in claimed_orders(engine)


def test_a_batch_holds_several_deliveries_of_one_key_only_when_it_holds_every_earlier_one(engine: Engine) -> None:
    if not several_per_key(engine):
        pytest.skip("a PostgreSQL batch takes one delivery per key")
    with engine.begin() as conn:
        ingest(
            conn,
            [order(str(n), "LAST", f"c{n}", T0 + timedelta(minutes=n)) for n in range(1, 5)],
            routes=ROUTES,
        )
    # One worker on a backlog: the four orders of one SKU are one batch, in their events' order.
    assert [subject for subject, _ in claimed_orders(engine)] == [f"order:shop:{n}" for n in range(1, 5)]
    # Order 2 waits for a retry: orders 3 and 4 wait behind it, order 1 still goes.
    with engine.begin() as conn:
        second = [d for d in claim(conn, 20, now=utcnow()) if d.desk == "orders"][1]
        mark_failed(conn, second, "boom", now=utcnow(), max_attempts=5, base_seconds=600, max_seconds=600)
    assert claimed_orders(engine) == [("order:shop:1", "order.created")]


def test_a_small_batch_looks_past_deliveries_waiting_behind_a_key(engine: Engine) -> None:
    """The first deliveries by id may all wait behind a retry of their key: a claim of one still
    finds the next claimable delivery, rather than coming back empty while work is due (on the
    events' clock an empty claim moves the clock, and the clock would wait for that work)."""
    with engine.begin() as conn:
        ingest(
            conn,
            [order("1", "LAST", "c1", T0), order("2", "LAST", "c2", T0 + timedelta(minutes=1))],
            routes=ROUTES,
        )
        ingest(conn, [order("3", "OTHER", "c3", T0 + timedelta(minutes=2))], routes=ROUTES)
    with engine.begin() as conn:
        for delivery in claim(conn, 20, now=utcnow()):
            if delivery.event.subject == "order:shop:1":
                mark_failed(conn, delivery, "boom", now=utcnow(), max_attempts=5, base_seconds=600, max_seconds=600)
    with engine.begin() as conn:
        taken = claim(conn, 1, now=utcnow())
    assert [d.event.subject for d in taken] == ["order:shop:3"]


def test_a_delivery_left_undecided_holds_back_the_later_ones_of_its_batch_sharing_a_key(engine: Engine) -> None:
    if not several_per_key(engine):
        pytest.skip("a PostgreSQL batch takes one delivery per key")
    from storeops.engine.queue import Delivery
    from storeops.engine.worker import Worker
    from tests.conftest import make_policy

    with engine.begin() as conn:
        ingest(conn, [order(str(n), "LAST", f"c{n}", T0 + timedelta(minutes=n)) for n in range(1, 4)], routes=ROUTES)
    calls: list[str] = []
    original = ROUTES.desks["orders"].handlers["order.created"]

    def failing_first(event: Any, ctx: Any) -> Any:
        calls.append(event.subject)
        if event.subject == "order:shop:1":
            raise RuntimeError("the first order fails")
        return original(event, ctx)

    worker = Worker(engine, ROUTES, make_policy({"engine": {"retry_base_seconds": 60}}))
    ROUTES.desks["orders"].handlers["order.created"] = failing_first
    try:
        with engine.begin() as conn:
            batch: list[Delivery] = []
            stats = worker._handle_batch(conn, careful=True, limit=20, claimed=batch)
    finally:
        ROUTES.desks["orders"].handlers["order.created"] = original
    # Order 1 failed (it retries later); orders 2 and 3 share LAST with it and were not decided before it.
    assert calls == ["order:shop:1"] and stats.failed == 1 and stats.deferred == 2


def test_a_message_waits_for_the_orders_its_writer_placed_before_it(engine: Engine) -> None:
    def message(conversation: str, customer: str) -> NewEvent:
        return NewEvent(
            source="shop",
            external_id=f"m-{next(_ids)}",
            kind="ticket.message_received",
            subject=f"conversation:{conversation}",
            occurred_at=T0 + timedelta(hours=1),
            payload={
                "conversation_id": conversation,
                "text": "where is order 1?",
                "customer_email": f"{customer.upper()}@example.test",  # the address, whatever its case
                "order_number": "1",
            },
        )

    with engine.begin() as conn:
        ingest(conn, [order("1", "LAST", "c1", T0), message("a", "c1"), message("b", "c2")], routes=ROUTES)
    with engine.connect() as conn:
        batch = claim(conn, 20, now=utcnow())
        conn.rollback()
    # c1's message reads c1's order: it comes after it — here in the same batch, which a worker
    # decides in order. c2's message shares nothing with either.
    assert [(d.desk, d.event.subject) for d in batch] == [
        ("orders", "order:shop:1"),
        *([("support", "conversation:a")] if several_per_key(engine) else []),
        ("support", "conversation:b"),
    ]
    with engine.begin() as conn:
        [first] = [d for d in claim(conn, 20, now=utcnow()) if d.desk == "orders"]
        mark_failed(conn, first, "boom", now=utcnow(), max_attempts=5, base_seconds=600, max_seconds=600)
    with engine.connect() as conn:
        batch = claim(conn, 20, now=utcnow())
        conn.rollback()
    # The order waits for its retry: c1's message waits with it.
    assert [(d.desk, d.event.subject) for d in batch] == [("support", "conversation:b")]


def test_a_key_longer_than_its_column_is_kept_by_its_digest(engine: Engine) -> None:
    long_sku = "S" * 300  # stock:<sku> passes the 255 characters of the key column
    with engine.begin() as conn:
        ingest(conn, [order("1", long_sku, "c1", T0), order("2", long_sku, "c2", T0)], routes=ROUTES)
        first = next(d for d in claim(conn, 20, now=utcnow()) if d.desk == "orders")
        mark_failed(conn, first, "boom", now=utcnow(), max_attempts=5, base_seconds=600, max_seconds=600)
    # Order 1 waits for its retry; order 2 shares the (digested) key and waits behind it.
    assert claimed_orders(engine) == []


def test_a_dead_delivery_holds_back_no_other_subject(engine: Engine) -> None:
    with engine.begin() as conn:
        ingest(conn, [order("1", "LAST", "c1", T0), order("2", "LAST", "c2", T0)], routes=ROUTES)
        first = next(d for d in claim(conn, 20, now=utcnow()) if d.desk == "orders")
        mark_failed(conn, first, "boom", now=utcnow(), max_attempts=1, base_seconds=1, max_seconds=1)
    assert claimed_orders(engine) == [("order:shop:2", "order.created")]
    # Re-run, it is ordered by its keys again: ahead of order 2, which shares LAST.
    with engine.begin() as conn:
        rerun(conn, first.event.id)
    assert claimed_orders(engine) == [("order:shop:1", "order.created")] + (
        [("order:shop:2", "order.created")] if several_per_key(engine) else []
    )


def test_a_count_is_judged_against_the_ledger_as_of_its_own_time(engine: Engine, registry: Registry) -> None:
    with engine.begin() as conn:
        move(conn, sku="MUG", location="WH", cause=Cause.RECEIPT, reference="opening", at=T0, on_hand=40)

    def stock(kind: str, at: datetime, **payload: Any) -> NewEvent:
        return NewEvent(
            source="test",
            external_id=f"{kind}-{next(_ids)}",
            kind=kind,
            subject="sku:MUG",
            occurred_at=at,
            payload={"sku": "MUG", "location": "WH", **payload},
        )

    # A delivery at 11:00 is decided before a 10:00 count of the same shelf (it arrived first).
    receipt = stock("delivery.received", T0 + timedelta(hours=2), quantity=36, supplier="Acme")
    count = stock("stock.counted", T0 + timedelta(hours=1), counted=40)
    with engine.begin() as conn:
        ingest(conn, [receipt, count], routes=ROUTES)
    Worker(engine, registry, make_policy()).run(until_idle=True)
    with engine.connect() as conn:
        assert list_handoffs(conn, desk="inventory") == []  # the counter saw 40, as the ledger had at 10:00
        assert level(conn, "MUG", "WH").on_hand == 76  # and the delivery after the count is still on the shelf


def _decide(url: str, workers: int) -> None:
    env = {
        **os.environ,
        "STOREOPS_DATABASE_URL": url,
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
    }
    env.pop("STOREOPS_POLICY_FILE", None)
    env.pop("STOREOPS_DESKS", None)
    processes = [
        subprocess.Popen(
            # On the events' clock, as bench.determinism: a backlog's timers fire in its own time,
            # so what is decided cannot depend on how fast each worker got there.
            [sys.executable, "-m", "storeops.cli.main", "work", "--no-outbox", "--clock", "events"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    engine = create_db_engine(url)
    try:
        deadline = time.monotonic() + 120
        quiet = 0
        while quiet < 2:  # empty twice in a row: follow-ups and timers have landed too
            assert time.monotonic() < deadline, "the workers did not drain the backlog in time"
            time.sleep(0.5)
            quiet = quiet + 1 if idle(engine, "events") else 0
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        engine.dispose()


@pytest.mark.slow
def test_one_worker_and_four_decide_a_simulated_backlog_alike(postgres_server: str, support_models: object) -> None:
    runs = []
    for workers in (1, 4):
        url = _create_database(postgres_server)
        try:
            engine = create_db_engine(url)
            upgrade(engine)
            simulate(url, days=3, seed=9, start="2026-01-05")
            _decide(url, workers)
            with read_only(engine).connect() as conn:
                runs.append(outcomes(conn))
            engine.dispose()
        finally:
            _drop_database(postgres_server, url)
    one, four = runs
    assert sum(one.handoffs.values()) > 0 and one.stock  # the run decided something
    differences = compare(one, four)
    assert differences.none, differences.examples
