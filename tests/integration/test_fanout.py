"""One event, several desks: each subscribing desk gets its own delivery, in order per subject,
with its own retries and dead letters, so a desk that fails or lags holds back only itself."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from storeops.desks import builtin_desks
from storeops.desks.inventory.ledger import Cause, move
from storeops.desks.orders.tables import orders
from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import event_states, ingest, rerun
from storeops.engine.worker import Worker
from tests.conftest import make_policy, step
from tests.integration.test_orders_desk import T0, order_event
from tests.probe_desk import DESK as PROBE_DESK
from tests.probe_desk import SHADOW_DESK, probe_log, probe_metadata, shadow_log

FANNED = Registry([*builtin_desks(), PROBE_DESK, SHADOW_DESK])


def fast_retries() -> Policy:
    return make_policy({"engine": {"retry_base_seconds": 0.001, "retry_max_seconds": 0.001, "max_attempts": 3}})


def test_a_second_desk_gets_every_order_once_beside_the_orders_desk(engine: Engine) -> None:
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        move(conn, sku="TEE", location="WH-PARIS", cause=Cause.RECEIPT, reference="setup", at=T0, on_hand=100)
        ingest(conn, [order_event(str(1000 + n), customer=f"c{n % 7}") for n in range(30)], routes=FANNED)
    Worker(engine, FANNED, fast_retries()).run(until_idle=True)
    with engine.connect() as conn:
        decided = conn.execute(select(func.count()).select_from(orders)).scalar_one()
        seen = conn.execute(select(shadow_log.c.event_id, shadow_log.c.kind)).all()
        states = conn.execute(
            select(event_states.c.desk, event_states.c.status, func.count()).group_by(
                event_states.c.desk, event_states.c.status
            )
        ).all()
    assert decided == 30
    assert len(seen) == 30 and len({event_id for event_id, _ in seen}) == 30
    assert {kind for _, kind in seen} == {"order.created"}
    assert sorted(tuple(row) for row in states) == [("orders", "done", 30), ("shadow", "done", 30)]


def test_a_failing_desk_holds_back_only_itself(engine: Engine, tmp_path: Path) -> None:
    probe_metadata.create_all(engine)
    bug = tmp_path / "shadow-bug"
    bug.touch()
    # given a subject's three steps; the shadow desk cannot handle the first one
    with engine.begin() as conn:
        first = ingest(conn, [step("thing:a", 1, shadow_fail_while_file=str(bug))], routes=FANNED).ids[0]
        ingest(conn, [step("thing:a", 2), step("thing:a", 3)], routes=FANNED)
    worker = Worker(engine, FANNED, fast_retries())
    # when one batch runs, the probe desk goes ahead while the shadow desk waits on its retry
    batch = worker.run_batch()
    assert (batch.done, batch.failed) == (1, 1)
    worker.run(until_idle=True)
    with engine.connect() as conn:
        probe_seqs = conn.execute(select(probe_log.c.seq).order_by(probe_log.c.id)).scalars().all()
        shadow_seqs = conn.execute(select(shadow_log.c.seq).order_by(shadow_log.c.id)).scalars().all()
        dead = conn.execute(
            select(event_states.c.desk, event_states.c.attempts).where(event_states.c.status == "dead")
        ).all()
    # then the probe desk handled all three in order; the shadow desk's first delivery is dead
    # after its own three attempts and no longer holds back its later ones
    assert probe_seqs == [1, 2, 3]
    assert shadow_seqs == [2, 3]
    assert [tuple(row) for row in dead] == [("shadow", 3)]
    # when the bug is fixed and the shadow desk's delivery is re-run, only the shadow desk runs again
    bug.unlink()
    with engine.begin() as conn:
        assert rerun(conn, first) == ["shadow"]
    worker.run(until_idle=True)
    with engine.connect() as conn:
        assert conn.execute(select(shadow_log.c.seq).order_by(shadow_log.c.id)).scalars().all() == [2, 3, 1]
        assert conn.execute(select(func.count()).select_from(probe_log)).scalar_one() == 3


def test_a_desk_may_subscribe_only_to_kinds_some_desk_defines() -> None:
    import pytest

    from storeops.engine.desk import Desk
    from storeops.errors import StoreopsError

    stray = Desk(name="stray", kinds={}, handlers={"nobody.defines": SHADOW_DESK.handlers["probe.step"]})
    with pytest.raises(StoreopsError, match="no desk defines"):
        Registry([*builtin_desks(), stray])
    assert FANNED.subscribers("order.created", {}) == [("orders", True), ("shadow", True)]
    assert FANNED.subscribers("probe.ignored", {}) == [("probe", False)]
    assert FANNED.subscribers("handoff.resolved", {"desk": "orders"}) == [("orders", True)]
