"""A simulated store lived through the engine: the simulated warehouse ships only what storeops
sent it, and the store's history is recorded, charted and reported on the days it happened."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select

from storeops.desks import builtin_desks
from storeops.desks.orders.tables import orders
from storeops.engine.desk import Registry
from storeops.engine.metrics import compute_report, daily_figures
from storeops.engine.policy import build_policy
from storeops.engine.worker import Worker
from storeops.simulate.run import SentReader, Simulation, replay
from storeops.simulate.team import ACTOR
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import audit_log, events, handoffs, outbox
from tests.conftest import _create_database, _drop_database

START = datetime(2026, 1, 5, tzinfo=UTC)
POLICY = build_policy({}, builtin_desks())
DAYS = 2
SEED = 3  # within two days: holds left open, approved (some shipped) and rejected
NOT_HOLDS = {"shipping_irregularity", "cancellation_too_late"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lived(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A store simulated through the engine, storeops deciding day by day and a simulated person
    resolving the orders desk's handoffs; decided once per database for the tests that read it."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('lived') / 'storeops.db'}", None
    else:
        server = str(request.getfixturevalue("postgres_server"))
        url = _create_database(server)
        drop = server
    engine = create_db_engine(url)
    upgrade(engine)
    registry = Registry(builtin_desks())
    replay(engine, DAYS, SEED, START, Worker(engine, registry, POLICY), team=True, routes=registry)
    yield engine
    engine.dispose()
    if drop is not None:
        _drop_database(drop, url)


def test_an_order_ships_only_once_storeops_sent_it_to_the_warehouse(lived: Engine) -> None:
    # given a simulated store (see ``lived``)
    engine = lived
    with engine.connect() as conn:
        holds = [
            row
            for row in conn.execute(select(handoffs).where(handoffs.c.desk == "orders"))
            if not set(row.reasons) & NOT_HOLDS
        ]
        first_scan = dict(
            conn.execute(
                select(events.c.subject, func.min(events.c.occurred_at))
                .where(events.c.kind == "shipment.scanned")
                .group_by(events.c.subject)
            ).all()
        )
        status = dict(conn.execute(select(orders.c.subject, orders.c.status)).all())
        fulfilled = set(conn.execute(select(audit_log.c.subject).where(audit_log.c.action == "order.fulfil")).scalars())
    waiting = [h for h in holds if h.state == "open"]
    rejected = [h for h in holds if h.resolution == "reject"]
    approved = [h for h in holds if h.resolution == "approve"]
    assert waiting and rejected and approved
    # then an order held for a person, or rejected by one, never gets a scan nor ships
    for handoff in waiting + rejected:
        assert handoff.subject not in first_scan, handoff.subject
        assert status[handoff.subject] == ("held" if handoff.state == "open" else "cancelled")
    # and an approved one ships only after the approval
    shipped = [h for h in approved if h.subject in first_scan]
    assert shipped
    for handoff in shipped:
        assert first_scan[handoff.subject] > handoff.resolved_at
        assert handoff.resolved_by == ACTOR
    # and every order scanned is one storeops sent to fulfilment
    assert set(first_scan) <= fulfilled
    # and nothing scanned is still held
    assert all(status[subject] not in ("held", "cancelled") for subject in first_scan)


def test_the_history_is_recorded_charted_and_reported_on_the_days_it_happened(lived: Engine) -> None:
    # given simulated days decided now, long after they happened
    engine, policy = lived, POLICY
    recorded_after = datetime.now(UTC) - timedelta(hours=1)
    with engine.connect() as conn:
        decisions = conn.execute(
            select(audit_log.c.occurred_at, audit_log.c.at, events.c.occurred_at.label("event_at")).join(
                events, events.c.id == audit_log.c.event_id
            )
        ).all()
        opened = conn.execute(
            select(handoffs.c.desk, handoffs.c.created_at, handoffs.c.due_at, events.c.occurred_at).join(
                events, events.c.id == handoffs.c.event_id
            )
        ).all()
        series = daily_figures(conn, since=START, until=START + timedelta(days=DAYS))
        day_two = compute_report(conn, policy, since=START + timedelta(days=1), until=START + timedelta(days=2))
        everything = compute_report(conn, policy)
        decided_on_day_two = conn.execute(
            select(func.count()).where(
                audit_log.c.outcome.in_(["automatic", "handoff"]),
                audit_log.c.event_id.in_(
                    select(events.c.id).where(
                        events.c.occurred_at >= START + timedelta(days=1),
                        events.c.occurred_at < START + timedelta(days=2),
                    )
                ),
            )
        ).scalar_one()
    # then each decision carries its event's own time and the time it was recorded
    assert decisions
    assert all(row.occurred_at == row.event_at and row.at >= recorded_after for row in decisions)
    # and each handoff arose, and falls due, by its event's time
    assert opened
    for row in opened:
        assert row.created_at == row.occurred_at
        assert row.due_at == row.occurred_at + timedelta(minutes=policy.sla_minutes(row.desk))
    # and the chart has a bar on each simulated day, adding up to every decision of the period
    assert [d.day for d in series] == [(START + timedelta(days=n)).date().isoformat() for n in range(DAYS + 1)]
    assert all(d.automatic + d.handed_off > 0 for d in series[:DAYS])
    assert series[DAYS].automatic + series[DAYS].handed_off == 0  # the day after the simulation
    # and a report of the second day counts that day's decisions only
    assert day_two.overall.automatic + day_two.overall.handed_off == decided_on_day_two
    assert 0 < decided_on_day_two < everything.overall.automatic + everything.overall.handed_off
    # and the simulated person's resolutions count on the days they were made
    assert sum(d.human for d in series) == everything.overall.human_actions > 0


def test_the_simulation_reads_the_labels_storeops_sent_for_its_own_returns_only(engine: Engine) -> None:
    # given storeops' outbox holding return labels of this simulation, of another seed's, and mail
    simulation = Simulation(seed=3)
    at = START + timedelta(days=4, hours=10)
    with engine.begin() as conn:
        event_id = conn.execute(
            insert(events).values(
                source="sim",
                external_id="x-1",
                kind="return.requested",
                subject="return:R-SIM3-1001",
                occurred_at=at,
                received_at=at,
                payload={},
            )
        ).inserted_primary_key[0]
        for connector, action, subject in (
            ("carrier", "label.create", "return:R-SIM3-1001"),
            ("carrier", "label.create", "return:R-SIM31-1001"),
            ("email", "return.authorized", "return:R-SIM3-1001"),
        ):
            conn.execute(
                insert(outbox).values(
                    connector=connector,
                    action=action,
                    idempotency_key=f"{subject}:{action}",
                    subject=subject,
                    payload={"ship_to": {"line1": "Returns"}},
                    status="pending",
                    attempts=0,
                    next_attempt_at=at,
                    created_at=at,
                    event_id=event_id,
                )
            )
    # when the simulation reads what storeops sent
    read = SentReader(engine, simulation.order_prefix, simulation.return_prefix).read()
    # then it takes the label of its own return, dated by the request that sent it
    assert [(m.action, m.subject, m.at) for m in read] == [("label.create", "return:R-SIM3-1001", at)]
