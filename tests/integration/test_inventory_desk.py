"""The inventory desk through the engine: anomalies, new SKUs, supplier changes and reorders at their boundaries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from storeops.desks.inventory.ledger import Cause, level, move
from storeops.desks.inventory.reorder import round_order
from storeops.desks.inventory.tables import products, purchase_orders
from storeops.engine.audit import read_audit
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.inbox import list_handoffs, resolve_handoff
from storeops.engine.queue import ingest
from storeops.engine.scheduler import fire_due
from storeops.engine.worker import Worker
from storeops.storage.schema import outbox, timers
from tests.conftest import ROUTES, make_policy

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def event(kind: str, sku: str, payload: dict[str, Any], at: datetime = T0) -> NewEvent:
    return NewEvent(
        source="test",
        external_id=f"{kind}-{next(_ids)}",
        kind=kind,
        subject=f"sku:{sku}",
        occurred_at=at,
        payload={"sku": sku, **payload},
    )


def product(sku: str, *, backfill: bool = False, at: datetime = T0, **facts: Any) -> NewEvent:
    base = {"title": sku.title(), "supplier": "Acme", "cost_minor": 500, "lead_time_days": 7}
    return event("product.updated", sku, {**base, **facts, "backfill": backfill}, at)


def run(engine: Engine, registry: Registry, *events: NewEvent, policy: dict[str, Any] | None = None) -> Worker:
    with engine.begin() as conn:
        ingest(conn, list(events), routes=ROUTES)
    worker = Worker(engine, registry, make_policy(policy or {}))
    worker.run(until_idle=True)
    return worker


def open_reasons(engine: Engine) -> list[tuple[str, list[str]]]:
    with engine.connect() as conn:
        return [(h["subject"], h["reasons"]) for h in list_handoffs(conn, desk="inventory")]


@pytest.mark.parametrize(("counted", "anomaly"), [(48, False), (46, False), (50, False), (45, True), (51, True)])
def test_a_count_beyond_the_tolerance_is_an_anomaly(
    engine: Engine, registry: Registry, counted: int, anomaly: bool
) -> None:
    with engine.begin() as conn:
        move(conn, sku="MUG", location="WH", cause=Cause.RECEIPT, reference="r", at=T0, on_hand=48)
    run(engine, registry, event("stock.counted", "MUG", {"location": "WH", "counted": counted}))  # tolerance 2
    assert open_reasons(engine) == ([("sku:MUG", ["stock_anomaly"])] if anomaly else [])
    with engine.connect() as conn:
        assert level(conn, "MUG", "WH").on_hand == counted  # the count is the truth either way


def test_stock_below_zero_is_an_anomaly_unless_backorders_are_allowed(engine: Engine, registry: Registry) -> None:
    down = {"location": "WH", "quantity_delta": -1, "cause": "damage"}
    run(engine, registry, event("stock.adjusted", "MUG", down))
    assert open_reasons(engine) == [("sku:MUG", ["stock_anomaly"])]
    run(engine, registry, event("stock.adjusted", "CUP", down), policy={"inventory": {"allow_backorders": True}})
    assert [s for s, _ in open_reasons(engine)] == ["sku:MUG"]


@pytest.mark.parametrize(("reported", "anomaly"), [(10, False), (8, False), (12, False), (7, True), (13, True)])
def test_channel_drift_is_corrected_and_beyond_the_tolerance_handed_off(
    engine: Engine, registry: Registry, reported: int, anomaly: bool
) -> None:
    with engine.begin() as conn:
        move(conn, sku="MUG", location="WH", cause=Cause.RECEIPT, reference="r", at=T0, on_hand=10)
    report = {"channel": "shopify", "location": "WH", "available": reported}
    run(engine, registry, event("channel.stock_reported", "MUG", report))
    assert open_reasons(engine) == ([("sku:MUG", ["stock_anomaly"])] if anomaly else [])
    with engine.connect() as conn:
        assert level(conn, "MUG", "WH").available == reported


def test_the_catalogue_import_is_recorded_and_a_later_new_sku_handed_off_until_set_up(
    engine: Engine, registry: Registry
) -> None:
    run(engine, registry, product("MUG", backfill=True), product("CUP", backfill=True))
    assert open_reasons(engine) == []
    run(engine, registry, product("BOWL", supplier=None, lead_time_days=None, at=T0 + timedelta(days=3)))
    assert open_reasons(engine) == [("sku:BOWL", ["new_sku"])]
    with engine.connect() as conn:
        reorder = dict(conn.execute(select(products.c.sku, products.c.reorder)).all())
        [handoff] = list_handoffs(conn, desk="inventory")
    assert reorder == {"MUG": True, "CUP": True, "BOWL": False}
    with engine.begin() as conn:
        resolve_handoff(
            conn, handoff["id"], "modify", "user:p", changes={"supplier": "Clay Co", "lead_time_days": 10, "moq": 12}
        )
    run(engine, registry)
    with engine.connect() as conn:
        row = conn.execute(select(products).where(products.c.sku == "BOWL")).one()
    assert (row.supplier, row.lead_time_days, row.moq, row.reorder) == ("Clay Co", 10, 12, True)


def test_a_supplier_change_is_handed_off_and_rejecting_it_restores_the_old_terms(
    engine: Engine, registry: Registry
) -> None:
    run(engine, registry, product("MUG", backfill=True))
    run(engine, registry, product("MUG", title="Mug, blue"))  # same terms: nothing to decide
    assert open_reasons(engine) == []
    run(engine, registry, product("MUG", supplier="Other", lead_time_days=21))
    assert open_reasons(engine) == [("sku:MUG", ["supplier_change"])]
    with engine.connect() as conn:
        [handoff] = list_handoffs(conn, desk="inventory")
    assert handoff["evidence"]["changes"]["lead_time_days"] == {"from": 7, "to": 21}
    with engine.begin() as conn:
        resolve_handoff(conn, handoff["id"], "reject", "user:p", note="keep Acme")
    run(engine, registry)
    with engine.connect() as conn:
        row = conn.execute(select(products).where(products.c.sku == "MUG")).one()
    assert (row.supplier, row.lead_time_days) == ("Acme", 7)


@pytest.mark.parametrize(
    ("quantity", "moq", "pack", "expected"),
    [(0, 1, 1, 0), (-3, 10, 6, 0), (0.2, 1, 1, 1), (7, 10, 1, 10), (11, 10, 6, 12), (12, 1, 6, 12), (12.01, 1, 6, 18)],
)
def test_order_quantities_round_up_to_case_packs_and_the_moq(
    quantity: float, moq: int, pack: int, expected: int
) -> None:
    assert round_order(quantity, moq, pack) == expected


def _sales_history(engine: Engine, sku: str, per_day: int, days: int, end: datetime, on_hand_after: int) -> None:
    """``days`` of steady sales ending the day before ``end``, then ``on_hand_after`` units on the shelf."""
    with engine.begin() as conn:
        start = end - timedelta(days=days)
        move(conn, sku=sku, location="WH", cause=Cause.RECEIPT, reference="open", at=start, on_hand=per_day * days)
        for day in range(days):
            at = start + timedelta(days=day, hours=12)
            move(conn, sku=sku, location="WH", cause=Cause.SALE, reference=f"s{day}", at=at, on_hand=-per_day)
        move(
            conn,
            sku=sku,
            location="WH",
            cause=Cause.RECEIPT,
            reference="top",
            at=end - timedelta(hours=1),
            on_hand=on_hand_after,
        )


def test_the_daily_run_drafts_one_purchase_order_per_supplier_and_confirming_sends_it(
    engine: Engine, registry: Registry
) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # 4 a day, 7 days' lead time: the reorder point is above 28, so 20 on hand needs an order;
    # 400 on hand does not. TEA comes from another supplier.
    _sales_history(engine, "MUG", 4, 120, now, 20)
    _sales_history(engine, "CUP", 4, 120, now, 400)
    _sales_history(engine, "TEA", 2, 120, now, 3)
    run(
        engine,
        registry,
        product("MUG", backfill=True, case_pack=6),
        product("CUP", backfill=True),
        product("TEA", backfill=True, supplier="Leaf Ltd", lead_time_days=14),
    )
    with engine.connect() as conn:
        timer = conn.execute(select(timers).where(timers.c.key == "inventory:reorder")).one()
    assert timer.interval_minutes == 1440
    with engine.begin() as conn:
        conn.execute(timers.update().where(timers.c.id == timer.id).values(fire_at=now - timedelta(minutes=1)))
        fire_due(conn, now=now)
    run(engine, registry)
    with engine.connect() as conn:
        pos = {row.supplier: row for row in conn.execute(select(purchase_orders))}
        waiting = list_handoffs(conn, desk="inventory")
    assert set(pos) == {"Acme", "Leaf Ltd"}
    [mug] = pos["Acme"].lines
    assert mug["sku"] == "MUG" and mug["quantity"] % 6 == 0
    assert mug["reorder_point"] > mug["position"] == 20
    assert mug["quantity"] + 20 >= mug["order_up_to"]
    assert 3.0 <= mug["forecast_per_day"] <= 5.0
    assert {h["reasons"][0] for h in waiting} == {"reorder_confirmation"}
    acme = next(h for h in waiting if h["subject"] == f"po:{pos['Acme'].number}")
    assert acme["amount_minor"] == mug["quantity"] * 500
    assert acme["evidence"]["first_stockout_date"] is not None

    with engine.begin() as conn:
        resolve_handoff(conn, acme["id"], "modify", "user:p", changes={"quantities": {"MUG": 60}})
    worker = run(engine, registry)
    worker.send_outbox()
    with engine.connect() as conn:
        confirmed = conn.execute(select(purchase_orders).where(purchase_orders.c.supplier == "Acme")).one()
        sent = conn.execute(select(outbox).where(outbox.c.connector == "suppliers")).all()
    assert confirmed.state == "confirmed" and confirmed.lines[0]["quantity"] == 60
    assert [row.payload["lines"][0]["quantity"] for row in sent] == [60]

    # The next run counts the 60 on order and does not order MUG again.
    receipt = {"location": "WH", "quantity": 60, "supplier": "Acme", "purchase_order": confirmed.number}
    with engine.begin() as conn:
        conn.execute(timers.update().where(timers.c.key == "inventory:reorder").values(fire_at=now))
        fire_due(conn, now=now + timedelta(minutes=1))
    run(engine, registry)
    with engine.connect() as conn:
        drafts = conn.execute(select(purchase_orders.c.lines).where(purchase_orders.c.state == "draft")).scalars().all()
    assert all(line["sku"] != "MUG" for lines in drafts for line in lines)
    run(engine, registry, event("delivery.received", "MUG", receipt))
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(purchase_orders.c.state).where(purchase_orders.c.number == confirmed.number)
            ).scalar_one()
            == "received"
        )


def _pushes(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            row.payload
            for row in conn.execute(select(outbox).where(outbox.c.action == "stock.set").order_by(outbox.c.id))
        ]


class Channel:
    """The sales channels' side of the outbox (the outside world): records what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, int]] = []

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        self.told.append((payload["channel"], payload["available"]))


def test_a_burst_of_sales_is_one_push_per_channel_with_the_final_figure(engine: Engine, registry: Registry) -> None:
    from storeops.engine.outbox import dispatch

    channels = {"inventory": {"channels": {"shopify": 2, "amazon": 5}}}
    channel = Channel()

    def step(*events: NewEvent) -> list[tuple[str, int]]:
        run(engine, registry, *events, policy=channels)
        before = len(channel.told)
        dispatch(engine, {"channels": channel})
        return channel.told[before:]

    receipt = {"location": "WH", "quantity_delta": 150, "cause": "receipt"}
    assert step(event("stock.adjusted", "MUG", receipt)) == [("amazon", 145), ("shopify", 148)]
    sale = {"location": "WH", "quantity_delta": -1, "cause": "sale"}
    # 100 sales, decided one batch each (one subject), while nothing is sent: one push per channel.
    assert step(*[event("stock.adjusted", "MUG", sale) for _ in range(100)]) == [("amazon", 45), ("shopify", 48)]
    assert len(_pushes(engine)) == 4
    # A count that changes nothing pushes nothing.
    assert step(event("stock.counted", "MUG", {"location": "WH", "counted": 50})) == []
    # Below its buffer a channel shows zero, and is not told zero again.
    assert step(event("stock.adjusted", "MUG", {**sale, "quantity_delta": -47})) == [("amazon", 0), ("shopify", 1)]
    assert step(event("stock.adjusted", "MUG", sale)) == [("shopify", 0)]


def test_a_waiting_push_a_sender_already_leased_is_not_rewritten_but_followed(
    engine: Engine, registry: Registry
) -> None:
    from sqlalchemy import update

    channels = {"inventory": {"channels": {"shopify": 2, "amazon": 5}}}
    receipt = {"location": "WH", "quantity_delta": 150, "cause": "receipt"}
    run(engine, registry, event("stock.adjusted", "MUG", receipt), policy=channels)
    with engine.begin() as conn:
        # A sender has taken amazon's message (attempted once); shopify's still waits.
        conn.execute(update(outbox).where(outbox.c.payload["channel"].as_string() == "amazon").values(attempts=1))
    sale = {"location": "WH", "quantity_delta": -1, "cause": "sale"}
    run(engine, registry, event("stock.adjusted", "MUG", sale), policy=channels)
    figures = [(p["channel"], p["available"]) for p in _pushes(engine)]
    assert sorted(figures) == [("amazon", 144), ("amazon", 145), ("shopify", 147)]


def test_an_order_reservation_reaches_the_channels_too(engine: Engine, registry: Registry) -> None:
    from tests.integration.test_orders_desk import order_event

    with engine.begin() as conn:
        move(conn, sku="TEE", location="WH-PARIS", cause=Cause.RECEIPT, reference="r", at=T0, on_hand=10)
    run(engine, registry, order_event("1001", lines=[{"sku": "TEE", "quantity": 3, "unit_price_minor": 1000}]))
    pushed = [(p["sku"], p["location"], p["available"]) for p in _pushes(engine)]
    assert pushed[-1] == ("TEE", "WH-PARIS", 7)


def test_shopify_inventory_levels_are_read_through_the_products_inventory_item(
    engine: Engine, registry: Registry
) -> None:
    import json
    from pathlib import Path

    from storeops.connectors import shopify
    from storeops.engine.events import parse_new_event

    product_body = {
        "product": {
            "id": 632910392,
            "title": "IPod Nano - 8GB",
            "updated_at": "2018-05-07T15:40:00-04:00",
            "variants": [{"title": "Pink", "sku": "IPOD2008PINK", "inventory_item_id": 808950810}],
        }
    }
    fixture = Path(__file__).resolve().parents[3] / "shared" / "data" / "shopify-payloads" / "inventory_level.json"
    level_body = (
        json.loads(fixture.read_text())
        if fixture.is_file()
        else {"inventory_level": {"inventory_item_id": 808950810, "location_id": 905684977, "available": 6}}
    )
    locations = {"905684977": "WH"}

    def events(topic: str, body: dict[str, Any], delivery: str) -> list[NewEvent]:
        raw = shopify.to_events(topic, body, delivery, locations)
        return [parse_new_event(e.model_dump(mode="json"), registry.payload_models) for e in raw]

    with engine.begin() as conn:
        move(conn, sku="IPOD2008PINK", location="WH", cause=Cause.RECEIPT, reference="r", at=T0, on_hand=10)
    run(engine, registry, *events("products/update", product_body, "d1"))
    run(engine, registry, *events("inventory_levels/update", level_body, "d2"))  # 6 where the ledger has 10
    # The report arrives about Shopify's inventory item; the decision is about the SKU.
    # one open handoff per SKU: the drift joins the new SKU's
    assert open_reasons(engine) == [("sku:IPOD2008PINK", ["new_sku", "stock_anomaly"])]
    with engine.connect() as conn:
        assert level(conn, "IPOD2008PINK", "WH").available == 6
        drift = [e for e in read_audit(conn, subject="sku:IPOD2008PINK") if e["action"] == "stock.channel_drift"]
    assert len(drift) == 1 and drift[0]["evidence"]["channel_available"] == 6


def _daily_sales(engine: Engine, sku: str, sales: list[int], end: datetime, stock: int) -> None:
    """One sale movement a day ending yesterday (``sales[-1]``), with ``stock`` left afterwards."""
    with engine.begin() as conn:
        start = end - timedelta(days=len(sales))
        move(conn, sku=sku, location="WH", cause=Cause.RECEIPT, reference="open", at=start, on_hand=sum(sales) + stock)
        for day, units in enumerate(sales):
            if units:
                at = start + timedelta(days=day, hours=12)
                move(conn, sku=sku, location="WH", cause=Cause.SALE, reference=f"s{day}", at=at, on_hand=-units)


def _noon_yesterday() -> datetime:
    """When the anomaly tests run the daily reorder run: ``_daily_run`` fires it a minute before
    ``now``, which must fall on ``now``'s own day — at 00:xx UTC a minute before the hour is the
    day before, and the run would judge the sales a day early."""
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)


def _daily_run(engine: Engine, registry: Registry, now: datetime) -> None:
    from storeops.desks.inventory.handlers import REORDER_TIMER

    run(engine, registry, product("ANY", backfill=True, at=now - timedelta(days=1)))
    with engine.begin() as conn:
        conn.execute(timers.update().where(timers.c.key == REORDER_TIMER).values(fire_at=now - timedelta(minutes=1)))
        fire_due(conn, now=now)
    run(engine, registry)


@pytest.mark.parametrize(
    ("recent", "stock", "kind"),
    [
        ([4, 4, 4, 4, 4, 4, 40], 50, "sales_spike"),
        ([4, 4, 4, 4, 4, 4, 6], 50, None),
        ([4, 4, 4, 4, 4, 4, 4], 50, None),
        ([0, 0, 0, 0, 0, 0, 0], 50, "sales_collapse"),
        ([0, 0, 0, 0, 0, 0, 0], 0, None),  # nothing to sell is a stock-out, not a collapse
    ],
)
def test_sales_far_outside_the_forecast_are_anomalies(
    engine: Engine, registry: Registry, recent: list[int], stock: int, kind: str | None
) -> None:
    now = _noon_yesterday()
    rhythm = [3, 5, 4, 4, 5, 3, 4]
    _daily_sales(engine, "MUG", rhythm * 16 + recent, now.replace(hour=0), stock)
    _daily_run(engine, registry, now)
    with engine.connect() as conn:
        found = [h["evidence"] for h in list_handoffs(conn, desk="inventory") if h["subject"] == "sku:MUG"]
    assert [f["kind"] for f in found] == ([kind] if kind else [])
    if kind == "sales_spike":
        assert found[0]["sold"] == 40 and found[0]["expected_range"][1] < 40


def test_a_new_skus_first_sales_are_not_a_spike(engine: Engine, registry: Registry) -> None:
    now = _noon_yesterday()
    _daily_sales(engine, "NEW", [0] * 100 + [4] * 20 + [40], now.replace(hour=0), 50)  # 28 days not yet reached
    _daily_run(engine, registry, now)
    with engine.connect() as conn:
        assert [h for h in list_handoffs(conn, desk="inventory") if h["subject"] == "sku:NEW"] == []


@pytest.mark.parametrize("mapped", [True, False])
def test_woocommerce_stock_is_read_at_the_location_the_policy_maps_it_to(
    engine: Engine, registry: Registry, mapped: bool
) -> None:
    from storeops.connectors import woocommerce
    from storeops.engine.events import parse_new_event

    body = {
        "id": 799,
        "sku": "MUG",
        "name": "Mug",
        "manage_stock": True,
        "stock_quantity": 7,
        "date_modified_gmt": "2026-06-01T10:00:00",
    }
    events = [
        parse_new_event(e.model_dump(mode="json"), registry.payload_models)
        for e in woocommerce.to_events("product.updated", body, "wc-1")
    ]
    assert [e.kind for e in events] == ["product.updated", "channel.stock_reported"]
    with engine.begin() as conn:
        move(conn, sku="MUG", location="WH-PARIS", cause=Cause.RECEIPT, reference="r", at=T0, on_hand=8)
    policy = {"inventory": {"channel_locations": {"woocommerce": "WH-PARIS"}}} if mapped else {}
    run(engine, registry, product("MUG", backfill=True), policy=policy)
    run(engine, registry, events[1], policy=policy)
    with engine.connect() as conn:
        assert level(conn, "MUG", "WH-PARIS").on_hand == (7 if mapped else 8)  # within tolerance: corrected quietly
    assert open_reasons(engine) == []
