"""The stock ledger's invariants, for any sequence of operations and under concurrent orders."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, select

from storeops.desks.inventory.ledger import Cause, levels, move, release_reference, reserve_all, stock_levels
from storeops.desks.inventory.ledger import stock_movements as movements
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade

AT = datetime(2026, 6, 1, tzinfo=UTC)
SKUS = ("MUG", "CUP")


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


operation = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(SKUS), st.integers(1, 20)),
    st.tuples(
        st.just("order"),
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=2, unique_by=lambda x: x[0]),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("ship"), st.integers(0, 30)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations=st.lists(operation, max_size=40))
def test_reservations_never_oversell_and_levels_are_the_sum_of_their_movements(
    sqlite_engine: Engine, operations: list[tuple[Any, ...]]
) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(delete(movements))
        conn.execute(delete(stock_levels))
    orders: list[str] = []
    for number, op in enumerate(operations):
        with sqlite_engine.begin() as conn:
            if op[0] == "receive":
                move(conn, sku=op[1], location="WH", cause=Cause.RECEIPT, reference=f"po{number}", at=AT, on_hand=op[2])
            elif op[0] == "order":
                reference = f"order{number}"
                if (
                    reserve_all(conn, [(sku, "WH", quantity) for sku, quantity in op[1]], reference=reference, at=AT)
                    is None
                ):
                    orders.append(reference)
            elif orders:
                reference = orders.pop(op[1] % len(orders))
                release_reference(conn, reference, at=AT, cause=Cause.SALE if op[0] == "ship" else Cause.RELEASE)
        with sqlite_engine.connect() as conn:
            for sku_levels in levels(conn, list(SKUS)).values():
                for level in sku_levels:
                    assert level.available >= 0 and level.reserved >= 0, (op, level)
    with sqlite_engine.connect() as conn:
        sums = {
            (row.sku, row.location): (row.on_hand, row.reserved)
            for row in conn.execute(
                select(
                    movements.c.sku,
                    movements.c.location,
                    func.sum(movements.c.on_hand_delta).label("on_hand"),
                    func.sum(movements.c.reserved_delta).label("reserved"),
                ).group_by(movements.c.sku, movements.c.location)
            )
        }
        stored = {(r.sku, r.location): (r.on_hand, r.reserved) for r in conn.execute(select(stock_levels))}
        causes = set(conn.execute(select(movements.c.cause).distinct()).scalars())
        unexplained = conn.execute(select(func.count()).where(movements.c.reference == "")).scalar_one()
    assert stored == sums
    assert causes <= {cause.value for cause in Cause} and unexplained == 0


def test_concurrent_orders_never_take_more_than_is_there(engine: Engine) -> None:
    with engine.begin() as conn:
        move(conn, sku="MUG", location="WH", cause=Cause.RECEIPT, reference="po", at=AT, on_hand=10)
    won: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def buyer(number: int) -> None:
        start.wait()
        for attempt in range(5):
            reference = f"order{number}-{attempt}"
            with engine.begin() as conn:
                short = reserve_all(conn, [("MUG", "WH", 1)], reference=reference, at=AT)
            if short is None:
                with lock:
                    won.append(reference)

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        [level] = levels(conn, ["MUG"])["MUG"]
    assert len(won) == 10 and (level.on_hand, level.reserved, level.available) == (10, 10, 0)


def test_inside_a_batch_the_ledger_readers_see_movements_still_waiting(engine: Engine) -> None:
    from storeops.desks.inventory.reorder import daily_sales
    from storeops.engine.writebehind import buffered

    day = datetime(2026, 6, 1, 9, tzinfo=UTC)
    with engine.begin() as conn, buffered(conn):
        move(conn, sku="MUG", location="WH", cause=Cause.RECEIPT, reference="r", at=day, on_hand=10)
        assert reserve_all(conn, [("MUG", "WH", 3)], reference="order:1", at=day) is None
        assert release_reference(conn, "order:1", at=day, cause=Cause.SALE) == 3
        sold, _ = daily_sales(conn, [("MUG", "WH")], day.date() + timedelta(days=1), 2)[("MUG", "WH")]
        assert list(sold) == [0, 3]


@pytest.mark.parametrize("count", [1, 8, 9, 30])
def test_levels_of_few_and_many_skus_read_the_same(engine: Engine, count: int) -> None:
    day = datetime(2026, 6, 1, 9, tzinfo=UTC)
    skus = [f"S{n:02d}" for n in range(count)]
    with engine.begin() as conn:
        for n, sku in enumerate(skus):
            move(conn, sku=sku, location="WH", cause=Cause.RECEIPT, reference="r", at=day, on_hand=n + 1)
        found = levels(conn, [*reversed(skus), skus[0], "NEVER-STOCKED"])
    assert sorted(found) == skus
    assert [found[sku][0].on_hand for sku in skus] == list(range(1, count + 1))
