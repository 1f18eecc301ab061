"""The same decisions from one worker or many: shared state (a SKU's stock) is read in the events' order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from storeops.desks.inventory.ledger import Cause, level, move
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.inbox import list_handoffs
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from tests.conftest import ROUTES, make_policy

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


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
