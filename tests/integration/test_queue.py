"""The event queue: idempotent ingest, per-subject order, retries, dead letters, re-runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import DeliveryStatus, event_states, ingest, rerun
from storeops.engine.worker import Worker
from storeops.errors import Conflict, NotFound
from tests.conftest import ROUTES, step
from tests.probe_desk import probe_log


def _worker(engine: Engine, registry: Registry, policy: Policy, batch: int = 50) -> Worker:
    return Worker(engine, registry, policy, batch_size=batch)


def _statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(event_states.c.status, func.count()).group_by(event_states.c.status)).all()
    return {status: count for status, count in rows}


def test_duplicate_delivery_is_stored_and_processed_once(engine: Engine, registry: Registry, policy: Policy) -> None:
    # given the same delivery three times, twice in one call and once later
    event = step("thing:1", 1, external_id="delivery-42")
    with engine.begin() as conn:
        first = ingest(conn, [event, event], routes=ROUTES)
    with engine.begin() as conn:
        again = ingest(conn, [event], routes=ROUTES)
    # then it is stored once and the repeats are acknowledged as duplicates
    assert len(first.ids) == 1 and first.duplicates == 1
    assert again.ids == [] and again.duplicates == 1
    # when the worker runs, it is handled exactly once
    _worker(engine, registry, policy).run(until_idle=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(probe_log)).scalar_one() == 1
    assert _statuses(engine) == {"done": 1}


def test_same_external_id_from_two_sources_are_two_events(engine: Engine) -> None:
    with engine.begin() as conn:
        result = ingest(
            conn,
            [step("thing:1", 1, source="a", external_id="x"), step("thing:1", 2, source="b", external_id="x")],
            routes=ROUTES,
        )
    assert len(result.ids) == 2


def test_events_of_one_subject_are_handled_in_order_across_batches(
    engine: Engine, registry: Registry, policy: Policy
) -> None:
    # given three subjects whose events arrive interleaved
    batch = [step(f"thing:{s}", seq) for seq in range(10) for s in "abc"]
    with engine.begin() as conn:
        ingest(conn, batch, routes=ROUTES)
    # when a worker with a small batch drains the queue
    _worker(engine, registry, policy, batch=4).run(until_idle=True)
    # then each subject's steps were applied in their order, each exactly once
    with engine.connect() as conn:
        rows = conn.execute(select(probe_log.c.subject, probe_log.c.seq).order_by(probe_log.c.id)).all()
    for subject in ("thing:a", "thing:b", "thing:c"):
        assert [seq for s, seq in rows if s == subject] == list(range(10))


def test_a_failing_event_holds_back_later_events_of_its_subject_only(
    engine: Engine, registry: Registry, policy: Policy
) -> None:
    # given subject a whose first step fails once, and an unrelated subject b
    with engine.begin() as conn:
        ingest(conn, [step("thing:a", 1, fail_times=1), step("thing:a", 2), step("thing:b", 1)], routes=ROUTES)
    worker = _worker(engine, registry, policy)
    # when one batch runs
    first = worker.run_batch()
    # then a's first step failed and is pending again, a's second waited, b went through
    assert (first.claimed, first.done, first.failed) == (2, 1, 1)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(select(probe_log.c.subject, probe_log.c.seq))] == [("thing:b", 1)]
        failed = conn.execute(
            select(event_states).where(event_states.c.subject == "thing:a").order_by(event_states.c.id)
        ).first()
    assert failed is not None
    assert failed.status == "pending" and failed.attempts == 1 and "probe failure on attempt 1" in failed.last_error
    # when the retry is due, both of a's steps run, in order
    worker.run(until_idle=True)
    with engine.connect() as conn:
        rows = conn.execute(select(probe_log.c.subject, probe_log.c.seq).order_by(probe_log.c.id)).all()
    assert [tuple(r) for r in rows] == [("thing:b", 1), ("thing:a", 1), ("thing:a", 2)]


def test_an_event_is_dead_lettered_after_max_attempts_and_can_be_rerun(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    # given an event whose handler is broken (max_attempts is 3), followed by another of its subject
    bug = tmp_path / "bug"
    bug.touch()
    with engine.begin() as conn:
        [event_id] = ingest(conn, [step("thing:a", 1, fail_while_file=str(bug))], routes=ROUTES).ids
        ingest(conn, [step("thing:a", 2)], routes=ROUTES)
    _worker(engine, registry, policy).run(until_idle=True)
    # then it is dead with its attempts and error kept, and it no longer blocks its subject
    with engine.connect() as conn:
        dead = conn.execute(select(event_states).where(event_states.c.id == event_id)).one()
        applied = conn.execute(select(probe_log.c.seq)).scalars().all()
    assert dead.status == DeliveryStatus.DEAD and dead.attempts == 3
    assert f"probe broken while {bug} exists" in dead.last_error
    assert applied == [2]
    # when the bug is fixed and a person re-runs the event
    bug.unlink()
    with engine.begin() as conn:
        rerun(conn, event_id)
    _worker(engine, registry, policy).run(until_idle=True)
    # then it is handled, once
    with engine.connect() as conn:
        assert conn.execute(select(event_states.c.status).where(event_states.c.id == event_id)).scalar_one() == "done"
        assert conn.execute(select(probe_log.c.seq).order_by(probe_log.c.id)).scalars().all() == [2, 1]


def test_rerun_refuses_unknown_and_live_events(engine: Engine) -> None:
    with engine.begin() as conn:
        [event_id] = ingest(conn, [step("thing:a", 1)], routes=ROUTES).ids
    with engine.begin() as conn, pytest.raises(NotFound):
        rerun(conn, 999999)
    with engine.begin() as conn, pytest.raises(Conflict, match=r"no dead delivery \(pending at probe\)"):
        rerun(conn, event_id)


def test_one_bad_event_does_not_fail_its_batch(engine: Engine, registry: Registry, policy: Policy) -> None:
    # given a batch of ten subjects of which one fails
    with engine.begin() as conn:
        ingest(conn, [step(f"thing:{n}", 1, fail_times=1 if n == 4 else 0) for n in range(10)], routes=ROUTES)
    # when one batch runs
    stats = _worker(engine, registry, policy).run_batch()
    # then nine are done (each applied once) and only the bad one waits for its retry
    assert (stats.done, stats.failed) == (9, 1)
    with engine.connect() as conn:
        assert sorted(conn.execute(select(probe_log.c.subject)).scalars()) == sorted(
            f"thing:{n}" for n in range(10) if n != 4
        )


def test_a_defined_kind_without_handler_is_counted_unhandled(
    engine: Engine, registry: Registry, policy: Policy
) -> None:
    from datetime import UTC, datetime

    from storeops.engine.events import NewEvent

    event = NewEvent(
        source="t", external_id="1", kind="probe.ignored", subject="thing:1", occurred_at=datetime.now(UTC), payload={}
    )
    with engine.begin() as conn:
        ingest(conn, [event], routes=ROUTES)
    # a kind nobody subscribes to is known unhandled as it is stored: no worker has to claim it
    stats = _worker(engine, registry, policy).run(until_idle=True)
    assert stats.done == 0 and stats.failed == 0
    with engine.connect() as conn:
        assert conn.execute(select(event_states.c.status, event_states.c.desk)).one() == ("unhandled", "probe")


def test_evidence_that_is_not_json_fails_its_handler_not_the_batch(engine: Engine, policy: Policy) -> None:
    from datetime import UTC, datetime

    from storeops.engine.decisions import Decision
    from storeops.engine.desk import Desk
    from tests.probe_desk import DESK as PROBE

    def careless(event: Any, ctx: Any) -> Decision:
        # a datetime in the evidence: refused as the decision is built, inside the handler
        return Decision(action="careless.done", evidence={"at": datetime.now(UTC)})

    careless_desk = Desk(name="careless", kinds={}, handlers={"probe.step": careless})
    routes = Registry([PROBE, careless_desk])
    with engine.begin() as conn:
        ingest(conn, [step("thing:a", 1), step("thing:b", 1)], routes=routes)
    stats = Worker(engine, routes, policy).run(until_idle=True)
    with engine.connect() as conn:
        states = sorted(
            tuple(row)
            for row in conn.execute(select(event_states.c.desk, event_states.c.status, event_states.c.last_error))
        )
    assert stats.dead == 2 and stats.done == 2
    assert [(desk, status) for desk, status, _ in states] == [
        ("careless", "dead"),
        ("careless", "dead"),
        ("probe", "done"),
        ("probe", "done"),
    ]
    assert "evidence must be JSON" in states[0][2]


def test_a_failure_after_the_handlers_does_not_jam_the_worker(engine: Engine, policy: Policy) -> None:
    from storeops.engine.decisions import Decision
    from storeops.engine.desk import Desk
    from tests.probe_desk import DESK as PROBE

    broken: list[bool] = [True]

    def fine(event: Any, ctx: Any) -> Decision:
        return Decision(action="fragile.done", evidence={"seq": event.payload["seq"]})

    def after_batch(conn: Any, policy: Any, now: Any) -> list[Any]:
        if broken:
            raise RuntimeError("the end-of-batch work is broken")
        return []

    fragile = Desk(name="fragile", kinds={}, handlers={"probe.step": fine}, after_batch=after_batch)
    routes = Registry([PROBE, fragile])
    with engine.begin() as conn:
        ingest(conn, [step(f"thing:{n}", 1) for n in range(3)], routes=routes)
    worker = Worker(engine, routes, policy)
    # when a desk's end-of-batch work fails, the worker takes the deliveries one at a time: the
    # probe desk's go through, the fragile desk's are failed with the error (never jammed, never
    # left claimed with no attempt) until they are dead
    stats = worker.run(until_idle=True)
    with engine.connect() as conn:
        states = sorted(tuple(row) for row in conn.execute(select(event_states.c.desk, event_states.c.status)))
        errors = conn.execute(select(event_states.c.last_error).where(event_states.c.status == "dead")).scalars().all()
    assert states == [("fragile", "dead")] * 3 + [("probe", "done")] * 3
    assert stats.dead == 3 and all("end-of-batch work is broken" in error for error in errors)
    # when the cause is fixed and the events re-run, they go through
    broken.clear()
    with engine.begin() as conn:
        for event_id in range(1, 4):
            assert rerun(conn, event_id) == ["fragile"]
    worker.run(until_idle=True)
    with engine.connect() as conn:
        assert {row.status for row in conn.execute(select(event_states.c.status))} == {"done"}


@pytest.mark.postgres
def test_the_claim_is_planned_for_the_queue_as_it_is_not_as_it_was(postgres_url: str) -> None:
    """An idle worker's polls of an empty queue must not leave a plan sized for an empty table:
    the claim runs on a custom plan each time, however often the statement was prepared."""
    from sqlalchemy import text

    from storeops.clock import utcnow
    from storeops.engine.queue import claim
    from storeops.storage.db import create_db_engine
    from storeops.storage.migrate import upgrade

    engine = create_db_engine(postgres_url, pool_size=1)
    upgrade(engine)
    with engine.connect() as conn:
        for _ in range(12):  # psycopg prepares a statement on its fifth run; PostgreSQL may then cache a plan
            assert claim(conn, 100, now=utcnow()) == []
            conn.commit()
        with conn.begin():
            ingest(conn, [step(f"thing:{i}", 1) for i in range(300)], routes=ROUTES)
        with conn.begin():
            assert len(claim(conn, 100, now=utcnow())) == 100
        claims = conn.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%FROM deliveries JOIN events%SKIP LOCKED%'"
            )
        ).all()
        assert claims, "the claim was never prepared: the check below would prove nothing"
        assert all(generic == 0 for generic, _custom in claims)
        conn.rollback()
        # and the setting stays inside the claim: the rest of the transaction plans as configured
        with conn.begin():
            claim(conn, 1, now=utcnow())
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"
    engine.dispose()


@pytest.mark.postgres
def test_a_bulk_ingest_refreshes_the_planner_figures_in_its_own_transaction(postgres_url: str) -> None:
    """After a bulk load PostgreSQL's planner must know the backlog (issue 12: a claim planned from
    an empty table's figures cost 2-3x on a 20,000-delivery backlog). Small ingests leave it be."""
    from sqlalchemy import text

    from storeops.engine.queue import BULK_LOAD
    from storeops.storage.db import create_db_engine
    from storeops.storage.migrate import upgrade

    engine = create_db_engine(postgres_url)
    upgrade(engine)

    def counted() -> float:
        with engine.connect() as conn:
            return float(conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'deliveries'")).scalar_one())

    never = counted()
    with engine.begin() as conn:
        ingest(conn, [step(f"few:{i}", 1) for i in range(BULK_LOAD - 1)], routes=ROUTES)
    assert counted() == never  # under the bulk size: autovacuum's business
    with engine.begin() as conn:
        ingest(conn, [step(f"bulk:{i}", 1) for i in range(BULK_LOAD)], routes=ROUTES)
    assert counted() == 2 * BULK_LOAD - 1  # both loads, counted by the ANALYZE inside the second
    engine.dispose()
