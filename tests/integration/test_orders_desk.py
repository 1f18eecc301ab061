"""The orders desk end to end through the engine: every handoff rule at its boundary."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from storeops.desks.inventory.ledger import Cause, level, move
from storeops.desks.orders.tables import orders
from storeops.engine.audit import read_audit
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.inbox import list_handoffs, resolve_handoff
from storeops.engine.models import DeskModels
from storeops.engine.policy import Policy
from storeops.engine.queue import ingest
from storeops.engine.scheduler import fire_due
from storeops.engine.worker import Worker, default_places
from storeops.storage.schema import outbox
from tests.conftest import ROUTES, make_policy

# Recent, so the tracking timers orders start lie in the future and fire only when a test says so.
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
_ids = itertools.count(1)


def address(country: str = "FR", **overrides: Any) -> dict[str, Any]:
    base = {"name": "Ana Lima", "line1": "12 rue des Lilas", "city": "Lyon", "postal_code": "69001", "country": country}
    if country == "DE":
        base.update(city="Köln", postal_code="50667")
    return {**base, **overrides}


def order_event(
    number: str,
    *,
    total: int = 4000,
    customer: str = "c1",
    at: datetime = T0,
    currency: str = "EUR",
    lines: list[dict[str, Any]] | None = None,
    shipping: dict[str, Any] | None = None,
    billing: dict[str, Any] | None = None,
    signed_up: datetime | None = None,
    **extra: Any,
) -> NewEvent:
    return NewEvent(
        source="shop",
        external_id=f"o-{number}-{next(_ids)}",
        kind="order.created",
        subject=f"order:shop:{number}",
        occurred_at=at,
        payload={
            "order_number": number,
            "customer": {
                "id": customer,
                "email": f"{customer}@example.test",
                "created_at": (signed_up or at - timedelta(days=400)).isoformat(),
            },
            "currency": currency,
            "total_minor": total,
            "lines": lines or [{"sku": "TEE", "quantity": 1, "unit_price_minor": total}],
            "shipping_address": shipping or address(),
            "billing_address": billing or shipping or address(),
            **extra,
        },
    )


def scan(number: str, status: str, at: datetime) -> NewEvent:
    return NewEvent(
        source="carrier",
        external_id=f"s-{number}-{status}-{next(_ids)}",
        kind="shipment.scanned",
        subject=f"order:shop:{number}",
        occurred_at=at,
        payload={"order_number": number, "tracking_number": "T1", "status": status},
    )


class Store:
    """The engine with the built-in desks, one database and a policy."""

    def __init__(self, engine: Engine, registry: Registry, policy: Policy) -> None:
        self.engine, self.registry, self.policy = engine, registry, policy
        self.models: dict[str, Any] = {}
        """Models the desks are given (the rest load as a worker would)."""
        with engine.begin() as conn:
            for warehouse in ("WH-PARIS", "WH-BERLIN"):
                for sku in ("TEE", "MUG"):
                    move(conn, sku=sku, location=warehouse, cause=Cause.RECEIPT, reference="setup", at=T0, on_hand=10)

    def send(self, *new: NewEvent) -> None:
        with self.engine.begin() as conn:
            ingest(conn, list(new), routes=self.registry)
        models = DeskModels(self.registry, default_places(), given=self.models)
        Worker(self.engine, self.registry, self.policy, models=models).run(until_idle=True)

    def order(self, number: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(orders).where(orders.c.subject == f"order:shop:{number}")).one()._mapping

    def handoffs(self, number: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [h for h in list_handoffs(conn, state=None) if h["subject"] == f"order:shop:{number}"]

    def reasons(self, number: str) -> list[str]:
        return [r for h in self.handoffs(number) for r in h["reasons"]]

    def outbox(self, number: str) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.connector, outbox.c.action).where(outbox.c.subject == f"order:shop:{number}")
            )
            return sorted((r.connector, r.action) for r in rows)

    def available(self, sku: str, warehouse: str) -> int:
        with self.engine.connect() as conn:
            found = level(conn, sku, warehouse)
        assert found is not None
        return found.available

    def resolve(self, number: str, resolution: str, **kwargs: Any) -> None:
        [handoff] = [h for h in self.handoffs(number) if h["state"] == "open"]
        with self.engine.begin() as conn:
            resolve_handoff(conn, handoff["id"], resolution, "user:ana", **kwargs)
        Worker(self.engine, self.registry, self.policy).run(until_idle=True)


def store_with(engine: Engine, registry: Registry, orders_policy: dict[str, Any] | None = None) -> Store:
    return Store(engine, registry, make_policy({"orders": orders_policy or {}}))


def test_a_batch_of_orders_is_decided_in_one_transaction_not_event_by_event(
    engine: Engine, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker's fast path holds: a batch falls back to a savepoint per delivery (a statement
    or two more per order, and no write-behind) only when something in it fails. The orders desk's
    history query once made every batch fail there (a literal column read as a table of no name)."""
    store = store_with(engine, registry)
    with caplog.at_level(logging.DEBUG, logger="storeops.engine.worker"):
        store.send(*(order_event(str(n), customer=f"c{n}") for n in range(6)))
    assert [store.order(str(n))["status"] for n in range(6)] == ["fulfilling"] * 6
    assert not [r for r in caplog.records if "batch failed" in r.getMessage()]


def test_the_tables_a_statement_touches_are_tables() -> None:
    from storeops.desks.orders.risk import HISTORY
    from storeops.engine.writebehind import tables_of

    assert tables_of(HISTORY) == {"orders"}


@pytest.mark.parametrize(("total", "held"), [(49999, False), (50000, True), (50001, True)])
def test_order_value_threshold_boundary(engine: Engine, registry: Registry, total: int, held: bool) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", total=total))
    assert store.order("1")["status"] == ("held" if held else "fulfilling")
    assert store.reasons("1") == (["order_value_over_threshold"] if held else [])
    if held:
        [handoff] = store.handoffs("1")
        assert handoff["evidence"]["threshold_minor"] == 50000 and handoff["evidence"]["store_total_minor"] == total
        assert (handoff["amount_minor"], handoff["currency"]) == (total, "EUR")


@pytest.mark.parametrize(("threshold", "held"), [(0.56, False), (0.55, True), (0.54, True)])
def test_fraud_signal_threshold_boundary(engine: Engine, registry: Registry, threshold: float, held: bool) -> None:
    # the cold-start rules score a purchase 30 s after sign-up at exactly 0.55
    store = store_with(engine, registry, {"risk_threshold": threshold})
    store.send(order_event("1", signed_up=T0 - timedelta(seconds=30)))
    assert store.order("1")["risk_score"] == 0.55
    assert ("fraud_signal" in store.reasons("1")) is held
    if held:
        [handoff] = store.handoffs("1")
        factors = handoff["evidence"]["risk"]["factors"]
        assert factors[0]["factor"] == "account_age_seconds" and "30 s after signing up" in factors[0]["why"]
        assert handoff["priority"] == 1


def test_repeated_address_mismatch_counts_this_order_within_the_window(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry, {"address_mismatch_repeat": 3, "address_mismatch_window_days": 30})
    away = {"shipping": address("DE"), "billing": address("FR")}
    # an old mismatch, outside the window, does not count
    store.send(order_event("0", at=T0 - timedelta(days=31), **away))
    store.send(order_event("1", at=T0, **away))
    store.send(order_event("2", at=T0 + timedelta(days=1), **away))
    assert store.reasons("1") == [] and store.reasons("2") == []
    # a matching order in between does not count either
    store.send(order_event("3", at=T0 + timedelta(days=2)))
    store.send(order_event("4", at=T0 + timedelta(days=3), **away))
    assert store.reasons("4") == ["repeated_address_mismatch"]
    evidence = store.handoffs("4")[0]["evidence"]["address"]
    assert (evidence["mismatches_in_window"], evidence["repeat"], evidence["window_days"]) == (3, 3, 30)


def test_a_single_gift_order_is_not_stopped(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", shipping=address("DE", name="A Friend"), billing=address("FR")))
    assert store.order("1")["status"] == "fulfilling" and store.reasons("1") == []


@pytest.mark.parametrize(("usd_minor", "held"), [(54347, False), (54348, True)])
def test_foreign_currency_is_converted_before_the_threshold(
    engine: Engine, registry: Registry, usd_minor: int, held: bool
) -> None:
    # 543.47 USD × 0.92 = 499.99 EUR (below); 543.48 × 0.92 = 500.00 EUR (at)
    store = store_with(engine, registry, {"exchange_rates": {"USD": "0.92"}})
    store.send(order_event("1", total=usd_minor, currency="USD"))
    assert store.order("1")["store_total_minor"] == (50000 if held else 49999)
    assert ("order_value_over_threshold" in store.reasons("1")) is held


def test_an_unknown_currency_goes_to_a_person(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", total=100, currency="CHF"))
    [handoff] = store.handoffs("1")
    assert handoff["reasons"] == ["order_value_over_threshold"]
    assert handoff["evidence"]["store_total_minor"] is None and handoff["evidence"]["currency"] == "CHF"


def test_fixable_problems_are_fixed_and_recorded(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", shipping=address("France"), billing=address("France")))
    order = store.order("1")
    assert order["status"] == "fulfilling" and order["shipping_address"]["country"] == "FR"
    with engine.connect() as conn:
        [decision] = read_audit(conn, subject="order:shop:1")
    assert "shipping country 'France' → FR" in decision["evidence"]["fixes"]
    assert decision["action"] == "order.fulfil" and decision["task"] == "order.fulfil"


def test_an_undeliverable_address_is_handed_off_and_fixed_by_modify(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", shipping=address(postal_code="6900")))
    [handoff] = store.handoffs("1")
    assert handoff["reasons"] == ["order_invalid"]
    assert handoff["evidence"]["problems"] == ["shipping_postal_code_invalid"]
    assert store.available("TEE", "WH-PARIS") == 10  # nothing reserved for an order that cannot ship
    store.resolve("1", "modify", changes={"shipping_address": {"postal_code": "69001"}})
    assert store.order("1")["status"] == "fulfilling"
    assert store.order("1")["shipping_address"]["postal_code"] == "69001"


def test_unknown_sku_and_no_stock_are_handed_off_without_reserving(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", lines=[{"sku": "GHOST", "quantity": 1, "unit_price_minor": 100}], total=100))
    store.send(
        order_event(
            "2",
            lines=[
                {"sku": "TEE", "quantity": 1, "unit_price_minor": 100},
                {"sku": "MUG", "quantity": 25, "unit_price_minor": 100},
            ],
            total=2600,
        )
    )
    assert store.handoffs("1")[0]["evidence"]["problems"] == ["unknown_sku:GHOST"]
    assert store.handoffs("2")[0]["evidence"]["problems"] == ["out_of_stock:MUG"]
    assert store.available("TEE", "WH-PARIS") == 10 and store.available("TEE", "WH-BERLIN") == 10


def test_routing_prefers_one_domestic_parcel_and_splits_only_when_it_must(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(
        order_event("1", shipping=address("DE"), lines=[{"sku": "TEE", "quantity": 2, "unit_price_minor": 2000}])
    )
    [parcel] = store.order("1")["allocation"]
    assert (parcel["warehouse"], parcel["carrier"], parcel["service"], parcel["price"]) == (
        "WH-BERLIN",
        "colis",
        "standard",
        "4.90",
    )
    assert store.available("TEE", "WH-BERLIN") == 8
    # 15 mugs: neither warehouse has them all, and one line is never split across parcels
    store.send(order_event("2", lines=[{"sku": "MUG", "quantity": 15, "unit_price_minor": 100}], total=1500))
    assert store.handoffs("2")[0]["evidence"]["problems"] == ["out_of_stock:MUG"]
    # socks only in Paris, hats only in Berlin: two parcels
    with engine.begin() as conn:
        move(conn, sku="SOCK", location="WH-PARIS", cause=Cause.RECEIPT, reference="setup", at=T0, on_hand=5)
        move(conn, sku="HAT", location="WH-BERLIN", cause=Cause.RECEIPT, reference="setup", at=T0, on_hand=5)
    lines = [
        {"sku": "SOCK", "quantity": 1, "unit_price_minor": 900},
        {"sku": "HAT", "quantity": 1, "unit_price_minor": 900},
    ]
    store.send(order_event("3", lines=lines, total=1800))
    parcels = store.order("3")["allocation"]
    assert sorted((p["warehouse"], [line["sku"] for line in p["lines"]], p["price"]) for p in parcels) == [
        ("WH-BERLIN", ["HAT"], "9.90"),
        ("WH-PARIS", ["SOCK"], "4.90"),
    ]
    assert len(store.order("3")["tracking_number"].split(",")) == 2


def _outbox_payloads(engine: Engine, subject: str, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.subject == subject, outbox.c.action == action))
        return [dict(row.payload) for row in rows]


def test_the_customer_gets_one_shipping_mail_unless_the_storefront_sends_its_own(
    engine: Engine, registry: Registry
) -> None:
    store = store_with(engine, registry)
    # an order from a source that mails nobody: storeops mails the tracking numbers it fulfilled with
    store.send(order_event("1"))
    [mail] = _outbox_payloads(engine, "order:shop:1", "order.shipped")
    [fulfilment] = _outbox_payloads(engine, "order:shop:1", "fulfilment.create")
    assert mail["to"] == "c1@example.test" and mail["order"] == "1"
    assert mail["tracking_numbers"] == fulfilment["tracking_numbers"] and mail["carrier"] == fulfilment["carrier"]
    # a Shopify order: Shopify's own shipping confirmation goes out with the fulfilment, no second mail
    shopify = order_event("2").model_copy(update={"source": "shopify", "subject": "order:shopify:2"})
    store.send(shopify)
    assert _outbox_payloads(engine, "order:shopify:2", "fulfilment.create")
    assert _outbox_payloads(engine, "order:shopify:2", "order.shipped") == []


def test_approve_ships_a_held_order(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", total=90000))
    assert store.order("1")["status"] == "held"
    assert store.available("TEE", "WH-PARIS") == 9  # stock is held for the person's decision
    # the storefront is told to hold it too, and its staff see why (a tag)
    assert store.outbox("1") == [("storefront", "fulfilment.hold"), ("storefront", "order.tag")]
    store.resolve("1", "approve", note="known customer")
    assert store.order("1")["status"] == "fulfilling"
    assert store.outbox("1") == [
        ("carrier", "label.create"),
        ("email", "order.shipped"),  # a "shop" order: no storefront mails its customer for us
        ("storefront", "fulfilment.create"),
        ("storefront", "fulfilment.hold"),
        ("storefront", "order.tag"),
        ("warehouse", "fulfilment.request"),
    ]
    with engine.connect() as conn:
        actions = [(a["actor"], a["action"]) for a in read_audit(conn, subject="order:shop:1")]
    assert actions == [
        ("automation:orders@rules-1", "order.hold"),
        ("user:ana", "handoff.approve"),
        ("automation:orders", "order.fulfil"),
    ]


def test_reject_cancels_releases_and_refunds(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", total=90000))
    store.resolve("1", "reject", note="stolen card")
    assert store.order("1")["status"] == "cancelled"
    assert store.available("TEE", "WH-PARIS") == 10
    assert store.outbox("1") == [
        ("email", "order.cancelled"),
        ("payments", "refund.create"),
        ("storefront", "fulfilment.hold"),
        ("storefront", "order.cancel"),
        ("storefront", "order.tag"),
    ]


def test_duplicate_order_minutes_apart(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry, {"duplicate_window_minutes": 10})
    store.send(order_event("1"))
    store.send(order_event("2", at=T0 + timedelta(minutes=10)))
    store.send(order_event("3", at=T0 + timedelta(minutes=21)))
    assert store.reasons("2") == ["duplicate_order"]
    assert store.handoffs("2")[0]["evidence"]["duplicate_of"] == "order:shop:1"
    assert store.reasons("3") == []


def test_tracking_exception_and_silence_become_shipping_irregularities(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry, {"tracking_stale_days": 5})
    store.send(order_event("1"), order_event("2", customer="c2"), order_event("3", customer="c3"))
    store.send(scan("1", "in_transit", T0 + timedelta(days=1)), scan("1", "exception", T0 + timedelta(days=2)))
    assert store.reasons("1") == ["shipping_irregularity"]
    assert store.handoffs("1")[0]["evidence"]["scan"] == "exception"
    # order 2 is delivered: no timer is left to fire
    store.send(scan("2", "in_transit", T0 + timedelta(days=1)), scan("2", "delivered", T0 + timedelta(days=2)))
    assert store.order("2")["status"] == "delivered"
    # orders 1 and 2 were sold from Paris (on hand 8) and order 3 still reserves one unit there
    assert store.available("TEE", "WH-PARIS") == 7
    # order 3 goes quiet after its first scan; its timer fires 5 days after that scan
    store.send(scan("3", "in_transit", T0 + timedelta(days=1)))
    with engine.begin() as conn:
        assert fire_due(conn, now=T0 + timedelta(days=6) - timedelta(minutes=1)) == 0
    with engine.begin() as conn:
        assert fire_due(conn, now=T0 + timedelta(days=6)) == 1
    Worker(engine, registry, store.policy).run(until_idle=True)
    assert store.reasons("3") == ["shipping_irregularity"]
    assert store.handoffs("3")[0]["evidence"]["days_without_scan"] == 5.0
    assert store.reasons("2") == []


def test_silence_is_flagged_when_the_last_scan_came_mid_minute(engine: Engine, registry: Registry) -> None:
    # Timers fire on whole minutes; one set for 5 days after a scan at hh:mm:56 must fire at the
    # next minute (rounded up), not 4 s early — where it would find 4 days 23:59 and stay silent.
    store = store_with(engine, registry, {"tracking_stale_days": 5})
    store.send(order_event("1"))
    last_scan = T0 + timedelta(days=1, seconds=56)
    store.send(scan("1", "in_transit", last_scan))
    with engine.begin() as conn:
        assert fire_due(conn, now=last_scan + timedelta(days=5) - timedelta(seconds=1)) == 0
    with engine.begin() as conn:
        assert fire_due(conn, now=T0 + timedelta(days=6, minutes=1)) == 1
    Worker(engine, registry, store.policy).run(until_idle=True)
    assert store.reasons("1") == ["shipping_irregularity"]
    assert store.handoffs("1")[0]["evidence"]["days_without_scan"] >= 5


def test_the_last_unit_goes_to_one_order_only(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    with engine.begin() as conn:
        move(conn, sku="LAST", location="WH-PARIS", cause=Cause.RECEIPT, reference="setup", at=T0, on_hand=1)
    line = [{"sku": "LAST", "quantity": 1, "unit_price_minor": 100}]
    store.send(order_event("1", lines=line, total=100), order_event("2", customer="c2", lines=line, total=100))
    assert sorted([store.order("1")["status"], store.order("2")["status"]]) == ["fulfilling", "held"]
    assert store.available("LAST", "WH-PARIS") == 0


def test_a_crash_mid_order_leaves_nothing_half_done(
    engine: Engine, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storeops.desks.orders import fulfilment

    store = store_with(engine, registry)
    real_plan = fulfilment.plan
    calls = {"n": 0}

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("warehouse API timed out")
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(fulfilment, "plan", crash_once)
    store.send(order_event("1"))
    assert store.order("1")["status"] == "fulfilling"
    assert store.available("TEE", "WH-PARIS") == 9  # reserved once, not twice
    with engine.connect() as conn:
        assert len(read_audit(conn, subject="order:shop:1")) == 1


def test_people_s_resolutions_train_the_store_s_own_risk_model(
    engine: Engine, registry: Registry, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storeops.desks.orders.risk import load_risk_model
    from storeops.desks.orders.training import train_from_resolutions
    from storeops.errors import InvalidInput

    store = store_with(engine, registry)
    # given 12 held orders from brand-new accounts that people rejected, and 12 old customers' they approved
    for n in range(24):
        fresh = n % 2 == 0
        number = f"h{n}"
        store.send(
            order_event(
                number,
                customer=f"k{n}",
                total=60000 + n,
                at=T0 + timedelta(minutes=n),
                signed_up=T0 + timedelta(minutes=n) - timedelta(seconds=20 if fresh else 10**7),
            )
        )
        if n < 4:
            with engine.connect() as conn, pytest.raises(InvalidInput, match="not enough decisions"):
                train_from_resolutions(conn)
        store.resolve(number, "reject" if fresh else "approve")
    with engine.connect() as conn:
        model, data = train_from_resolutions(conn, now=T0)
    assert (data.rejected, data.approved) == (12, 12)
    # when it is saved and loaded, it scores like the people decided and explains why
    model.save(tmp_path)
    loaded = load_risk_model(tmp_path)
    assert loaded.version == T0.strftime("%Y%m%d%H%M%S")
    with engine.connect() as conn:
        fresh_features = conn.execute(select(orders.c.features).where(orders.c.number == "h0")).scalar_one()
        old_features = conn.execute(select(orders.c.features).where(orders.c.number == "h1")).scalar_one()
    assert loaded.score(fresh_features) > 0.5 > loaded.score(old_features)
    assert loaded.explain(fresh_features)[0]["factor"] == "account_age_seconds"
    # and the next decision records that model's version
    store.models = {"orders": loaded}
    store.send(order_event("next", customer="new", total=1000))
    with engine.connect() as conn:
        [decision] = read_audit(conn, subject="order:shop:next")
    assert decision["actor"] == f"automation:orders@{loaded.version}"
    assert decision["evidence"]["risk"]["model"] == loaded.version


@pytest.mark.postgres
def test_two_workers_on_shared_stock_account_for_every_unit(postgres_url: str, registry: Registry) -> None:
    import threading

    from storeops.storage.db import create_db_engine
    from storeops.storage.migrate import upgrade

    engine = create_db_engine(postgres_url)
    upgrade(engine)
    store = store_with(engine, registry)
    with engine.begin() as conn:
        for sku in ("MUG", "TEE"):
            move(conn, sku=sku, location="WH-PARIS", cause=Cause.RECEIPT, reference="more", at=T0, on_hand=1000)
    # given 300 one-line orders alternating MUG and TEE, so every batch takes the two rows in turn
    new = [
        order_event(
            f"d{n}",
            customer=f"c{n}",
            total=100,
            lines=[{"sku": "MUG" if n % 2 else "TEE", "quantity": 1, "unit_price_minor": 100}],
        )
        for n in range(300)
    ]
    with engine.begin() as conn:
        ingest(conn, new, routes=ROUTES)
    # when two workers decide them at once, in small batches
    workers = [Worker(engine, registry, store.policy, batch_size=6) for _ in range(2)]
    threads = [threading.Thread(target=w.run, kwargs={"until_idle": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    # then no batch failed (a deadlock would abort one) and every unit is accounted for
    assert sum(w.stats.failed for w in workers) == 0
    assert sum(w.stats.done for w in workers) == 300
    with engine.connect() as conn:
        assert conn.execute(select(orders.c.status)).scalars().all() == ["fulfilling"] * 300
    assert store.available("MUG", "WH-PARIS") + store.available("TEE", "WH-PARIS") == 2020 - 300
    engine.dispose()


def test_the_orders_desk_reports_its_own_fulfilment_accuracy(engine: Engine, registry: Registry) -> None:
    from storeops.engine.metrics import compute_report

    store = store_with(engine, registry)
    # four orders sent to fulfilment; one parcel's carrier reports an exception
    store.send(*(order_event(f"fa{n}", customer=f"fa{n}") for n in range(4)))
    store.send(scan("fa0", "exception", T0 + timedelta(days=1)))
    with engine.connect() as conn:
        report = compute_report(conn, store.policy, desk_names=["orders", "inventory"], desk_figures=registry.figures())
        without = compute_report(conn, store.policy, desk_names=["orders"])
    orders_report = next(desk for desk in report.desks if desk.desk == "orders")
    assert orders_report.figures == {"fulfilment_accuracy": 0.75}
    assert report.fulfilment_accuracy == 0.75
    # the engine knows no desk's figures of its own
    assert without.fulfilment_accuracy is None
