"""The returns desk through the engine: each rule at its boundary, the automatic path from request
to refund and restock, and people's decisions taking effect."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from storeops.commands.handoffs import resolve
from storeops.desks.inventory.ledger import level
from storeops.desks.returns.tables import returns
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.inbox import list_handoffs
from storeops.errors import InvalidInput
from storeops.storage.schema import outbox
from tests.conftest import make_policy
from tests.integration.test_orders_desk import T0, Store, address, order_event, scan
from tests.integration.test_resolutions import OPS, application

_ids = itertools.count()
DELIVERED = T0 - timedelta(days=40)


def shop(engine: Engine, registry: Registry, **returns_policy: Any) -> Store:
    return Store(engine, registry, make_policy({"returns": returns_policy} if returns_policy else {}))


def delivered_order(
    store: Store,
    number: str,
    *,
    customer: str = "c1",
    lines: list[dict[str, Any]] | None = None,
    total: int | None = None,
    delivered: datetime = DELIVERED,
    **extra: Any,
) -> None:
    lines = lines or [{"sku": "TEE", "quantity": 1, "unit_price_minor": 4000}]
    total = total if total is not None else sum(line["unit_price_minor"] * line["quantity"] for line in lines)
    placed = delivered - timedelta(days=3)
    store.send(order_event(number, customer=customer, total=total, lines=lines, at=placed, **extra))
    store.send(scan(number, "in_transit", placed + timedelta(days=1)), scan(number, "delivered", delivered))


def ask(
    store: Store,
    number: str,
    *,
    at: datetime,
    customer: str = "c1",
    lines: list[tuple[str, int]] | None = None,
    reason: str = "It is too small for me",
    email: str | None = None,
) -> dict[str, Any]:
    rma = f"R-T{next(_ids)}"
    store.send(
        NewEvent(
            source="portal",
            external_id=rma,
            kind="return.requested",
            subject=f"return:{rma}",
            occurred_at=at,
            payload={
                "rma": rma,
                "order_number": number,
                "customer_email": email or f"{customer}@example.test",
                "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines or []],
                "reason": reason,
                "channel": "portal",
            },
        )
    )
    return the_return(store, rma)


def receive(store: Store, rma: str, condition: str) -> dict[str, Any]:
    store.send(
        NewEvent(
            source="warehouse",
            external_id=f"in-{rma}",
            kind="return.received",
            subject=f"return:{rma}",
            occurred_at=T0,
            payload={"rma": rma, "condition": condition},
        )
    )
    return the_return(store, rma)


def the_return(store: Store, rma: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(returns).where(returns.c.rma == rma)).one()._mapping)


def handoff_of(store: Store, rma: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        found = [h for h in list_handoffs(conn, state=None) if h["subject"] == f"return:{rma}"]
    return found[-1] if found else None


def on_hand(engine: Engine, sku: str) -> int:
    with engine.connect() as conn:
        found = [level(conn, sku, warehouse) for warehouse in ("WH-PARIS", "WH-BERLIN")]
    return sum(found_level.on_hand for found_level in found if found_level is not None)


def sent(store: Store, rma: str) -> list[tuple[str, str, dict[str, Any]]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.connector, outbox.c.action, outbox.c.payload)
            .where(outbox.c.subject == f"return:{rma}")
            .order_by(outbox.c.id)
        )
        # handoff notices to the team are the engine's, not the desk's effects on the customer
        return [(r.connector, r.action, dict(r.payload)) for r in rows if not r.action.startswith("handoff.")]


@pytest.mark.parametrize(("days", "state"), [(30, "authorized"), (30.0001, "held")])
def test_the_window_counts_from_the_delivery_scan_and_its_last_moment_is_still_on_time(
    engine: Engine, registry: Registry, days: float, state: str
) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7001")
    found = ask(store, "7001", at=DELIVERED + timedelta(days=days))
    assert found["state"] == state
    if state == "held":
        handoff = handoff_of(store, found["rma"])
        assert handoff is not None and handoff["reasons"] == ["outside_policy"]
        assert handoff["evidence"]["window"]["late"] is True and handoff["evidence"]["window"]["from"] == "delivery"


def test_without_a_delivery_scan_the_window_counts_from_shipping_plus_the_margin(
    engine: Engine, registry: Registry
) -> None:
    store = shop(engine, registry, delivery_margin_days=5)
    shipped = T0 - timedelta(days=50)
    store.send(order_event("7002", total=4000, at=shipped - timedelta(hours=2)))
    store.send(scan("7002", "in_transit", shipped))
    on_time = ask(store, "7002", at=shipped + timedelta(days=35))
    assert on_time["state"] == "authorized"
    late = ask(store, "7002", at=shipped + timedelta(days=35, seconds=1), lines=[("TEE", 1)])
    assert late["state"] == "held"  # late, and the only unit is already on its way back


@pytest.mark.parametrize(("price", "held"), [(15000, False), (15001, True)])
def test_a_refund_exactly_at_the_limit_is_automatic_and_one_minor_unit_more_goes_to_a_person(
    engine: Engine, registry: Registry, price: int, held: bool
) -> None:
    store = shop(engine, registry, auto_refund_max="150.00")
    delivered_order(store, "7003", lines=[{"sku": "TEE", "quantity": 1, "unit_price_minor": price}])
    found = ask(store, "7003", at=DELIVERED + timedelta(days=2))
    assert found["refund_minor"] == price
    assert found["state"] == ("held" if held else "authorized")
    handoff = handoff_of(store, found["rma"])
    assert (handoff["reasons"] if handoff else []) == (["refund_over_threshold"] if held else [])


def test_units_already_returned_cannot_be_returned_again(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7004", lines=[{"sku": "TEE", "quantity": 3, "unit_price_minor": 1000}])
    first = ask(store, "7004", at=DELIVERED + timedelta(days=1), lines=[("TEE", 2)])
    assert first["state"] == "authorized" and first["refund_minor"] == 2000
    too_many = ask(store, "7004", at=DELIVERED + timedelta(days=2), lines=[("TEE", 2)])
    assert too_many["state"] == "held"
    handoff = handoff_of(store, too_many["rma"])
    assert handoff is not None and handoff["reasons"] == ["suspicious_return_pattern"]
    [pattern] = handoff["evidence"]["patterns"]
    assert pattern == {"pattern": "more_than_bought", "sku": "TEE", "asked": 2, "bought": 3, "left": 1}
    assert too_many["refund_minor"] == 1000  # only the unit left counts
    last = ask(store, "7004", at=DELIVERED + timedelta(days=3), lines=[("TEE", 1)])
    # the held request counts as on its way back: nothing is left for a third one
    assert last["state"] == "held"


def test_an_item_that_was_not_in_the_order_is_a_suspicious_pattern(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7005")
    found = ask(store, "7005", at=DELIVERED + timedelta(days=1), lines=[("MUG", 1)])
    handoff = handoff_of(store, found["rma"])
    assert found["state"] == "held" and found["refund_minor"] == 0
    assert handoff is not None and [p["pattern"] for p in handoff["evidence"]["patterns"]] == ["item_not_in_order"]


@pytest.mark.parametrize(("price", "returnless"), [(999, True), (1000, False)])
def test_an_item_worth_less_than_returnless_max_is_refunded_without_coming_back(
    engine: Engine, registry: Registry, price: int, returnless: bool
) -> None:
    store = shop(engine, registry, returnless_max="10.00")
    delivered_order(store, "7006", lines=[{"sku": "TEE", "quantity": 1, "unit_price_minor": price}])
    found = ask(store, "7006", at=DELIVERED + timedelta(days=1))
    actions = [(connector, action) for connector, action, _ in sent(store, found["rma"])]
    if returnless:
        assert found["state"] == "refunded" and found["returnless"]
        assert actions == [("payments", "refund.create"), ("email", "return.refunded")]
        assert sent(store, found["rma"])[0][2]["amount_minor"] == 999
    else:
        assert found["state"] == "authorized"
        assert actions == [("carrier", "label.create"), ("email", "return.authorized")]


def test_a_stranger_learns_nothing_and_nothing_is_sent(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7007")
    found = ask(store, "7007", at=DELIVERED + timedelta(days=1), email="someone@else.test")
    assert found["state"] == "refused" and found["lines"] == [] and found["order_subject"] is None
    assert sent(store, found["rma"]) == []


def test_a_parcel_back_as_new_is_restocked_and_refunded_and_an_empty_box_goes_to_a_person(
    engine: Engine, registry: Registry
) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7008", lines=[{"sku": "TEE", "quantity": 2, "unit_price_minor": 2500}])
    delivered_order(store, "7009", customer="c2", lines=[{"sku": "TEE", "quantity": 1, "unit_price_minor": 2500}])
    before = on_hand(engine, "TEE")
    good = ask(store, "7008", at=DELIVERED + timedelta(days=2))
    done = receive(store, good["rma"], "new")
    assert done["state"] == "refunded" and done["condition"] == "new"
    refund = [p for c, a, p in sent(store, good["rma"]) if a == "refund.create"]
    assert [r["amount_minor"] for r in refund] == [5000]
    assert on_hand(engine, "TEE") == before + 2

    empty = ask(store, "7009", customer="c2", at=DELIVERED + timedelta(days=2))
    held = receive(store, empty["rma"], "empty")
    assert held["state"] == "received"
    handoff = handoff_of(store, empty["rma"])
    assert handoff is not None and handoff["evidence"]["patterns"] == [{"pattern": "empty_box"}]
    assert [a for _, a, _ in sent(store, empty["rma"])] == ["label.create", "return.authorized"]  # no refund


@pytest.mark.parametrize(("days", "pattern"), [(7, "wardrobing"), (8, "worn_item")])
def test_a_worn_item_asked_back_right_after_delivery_is_wardrobing(
    engine: Engine, registry: Registry, days: int, pattern: str
) -> None:
    store = shop(engine, registry, wardrobing_days=7)
    delivered_order(store, "7010")
    found = ask(store, "7010", at=DELIVERED + timedelta(days=days))
    receive(store, found["rma"], "worn")
    handoff = handoff_of(store, found["rma"])
    assert handoff is not None and handoff["evidence"]["patterns"][0]["pattern"] == pattern


@pytest.mark.parametrize(("returned_orders", "flagged"), [(2, False), (3, True)])
def test_a_serial_returner_is_flagged_above_the_rate_over_enough_orders(
    engine: Engine, registry: Registry, returned_orders: int, flagged: bool
) -> None:
    store = shop(engine, registry, serial_returner_rate=0.5, serial_returner_min_orders=4)
    for n in range(4):
        delivered_order(store, f"71{n}")
    found = {}
    for n in range(returned_orders):
        found = ask(store, f"71{n}", at=DELIVERED + timedelta(days=1 + n))
    handoff = handoff_of(store, found["rma"])
    patterns = [p["pattern"] for p in handoff["evidence"]["patterns"]] if handoff else []
    assert ("serial_returner" in patterns) is flagged


def test_several_accounts_returning_to_one_address_are_flagged(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry, shared_address_accounts=3)
    same = address(line1="9 rue du Port")
    for n in range(3):
        delivered_order(store, f"720{n}", customer=f"acct{n}", shipping_address=same)
    states = [ask(store, f"720{n}", customer=f"acct{n}", at=DELIVERED + timedelta(days=1)) for n in range(3)]
    assert [s["state"] for s in states] == ["authorized", "authorized", "held"]
    handoff = handoff_of(store, states[2]["rma"])
    assert handoff is not None and handoff["evidence"]["patterns"][0]["pattern"] == "shared_address"
    assert handoff["evidence"]["patterns"][0]["accounts"] == 3


def test_final_sale_and_a_request_for_an_exception_go_to_a_person(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry, final_sale_skus=["CLEAR-*"])
    delivered_order(store, "7301", lines=[{"sku": "CLEAR-TEE", "quantity": 1, "unit_price_minor": 2000}])
    delivered_order(store, "7302")
    final = ask(store, "7301", at=DELIVERED + timedelta(days=1))
    handoff = handoff_of(store, final["rma"])
    assert handoff is not None and handoff["reasons"] == ["outside_policy"]
    assert handoff["evidence"]["final_sale"] == ["CLEAR-TEE"]
    goodwill = ask(
        store,
        "7302",
        at=DELIVERED + timedelta(days=45),
        reason="I know it's past the window, could you make an exception?",
    )
    handoff = handoff_of(store, goodwill["rma"])
    assert handoff is not None and handoff["reasons"] == ["outside_policy", "goodwill_request"]


def test_a_refund_made_at_the_storefront_lowers_what_a_return_may_refund(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7401", lines=[{"sku": "TEE", "quantity": 2, "unit_price_minor": 3000}])
    store.send(
        NewEvent(
            source="shop",
            external_id="refund-1",
            kind="refund.created",
            subject="order:shop:7401",
            occurred_at=DELIVERED + timedelta(days=1),
            payload={"order_number": "7401", "amount_minor": 5000, "currency": "EUR", "note": "partial goodwill"},
        )
    )
    found = ask(store, "7401", at=DELIVERED + timedelta(days=2))
    assert found["refund_minor"] == 1000  # 6000 paid, 5000 refunded already
    handoff = handoff_of(store, found["rma"])
    assert handoff is not None and "refund_above_paid" in [p["pattern"] for p in handoff["evidence"]["patterns"]]


def test_order_discounts_are_shared_out_so_a_line_never_refunds_more_than_it_cost(
    engine: Engine, registry: Registry
) -> None:
    store = shop(engine, registry)
    lines = [
        {"sku": "TEE", "quantity": 3, "unit_price_minor": 1000},
        {"sku": "MUG", "quantity": 1, "unit_price_minor": 1000},
    ]
    delivered_order(store, "7501", lines=lines, total=3000)  # 25 % off the whole order
    refunds = [
        ask(store, "7501", at=DELIVERED + timedelta(days=1 + n), lines=[("TEE", 1)])["refund_minor"] for n in range(3)
    ]
    assert refunds == [750, 750, 750] and sum(refunds) == 2250


def test_people_approve_reject_and_modify_and_the_customer_sees_the_effect(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry, auto_refund_max="10.00")
    for number in ("7601", "7602", "7603"):
        delivered_order(store, number)
    approved = ask(store, "7601", at=DELIVERED + timedelta(days=1))
    rejected = ask(store, "7602", at=DELIVERED + timedelta(days=1))
    modified = ask(store, "7603", at=DELIVERED + timedelta(days=1), reason="the stitching came apart")
    app = application(store)

    resolve(app, OPS, handoff_of(store, approved["rma"])["id"], "approve")  # type: ignore[index]
    assert the_return(store, approved["rma"])["state"] == "authorized"
    assert [a for _, a, _ in sent(store, approved["rma"])] == ["return.reviewing", "label.create", "return.authorized"]
    assert receive(store, approved["rma"], "new")["state"] == "refunded"  # approved once: no second handoff

    resolve(app, OPS, handoff_of(store, rejected["rma"])["id"], "reject", changes={"note": "It was worn."})  # type: ignore[index]
    assert the_return(store, rejected["rma"])["state"] == "rejected"
    [(_, _, mail)] = [s for s in sent(store, rejected["rma"]) if s[1] == "return.rejected"]
    assert mail["why"] == "It was worn."

    handoff = handoff_of(store, modified["rma"])
    assert handoff is not None
    with pytest.raises(InvalidInput) as refused:
        resolve(app, OPS, handoff["id"], "modify", changes={"refund_minor": 4001})
    assert refused.value.field == "changes.refund_minor"
    resolve(
        app,
        OPS,
        handoff["id"],
        "modify",
        changes={
            "refund_minor": 2000,
            "settlement": "store_credit",
            "returnless": True,
            "reason_category": "damaged_defective",
        },
    )
    done = the_return(store, modified["rma"])
    assert done["state"] == "refunded" and done["settlement"] == "store_credit" and done["refund_minor"] == 2000
    assert done["reason_corrected"] == "damaged_defective"
    assert [(a, p["amount_minor"]) for _, a, p in sent(store, modified["rma"]) if a == "store_credit.issue"] == [
        ("store_credit.issue", 2000)
    ]


def test_a_shopify_stores_own_return_and_refund_webhooks_reach_the_returns_desk(
    engine: Engine, registry: Registry
) -> None:
    import copy
    import json
    from pathlib import Path

    from storeops.connectors import shopify

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    order = json.loads((fixtures / "shopify" / "order.json").read_text())["order"]
    store = Store(
        engine, registry, make_policy({"store": {"currency": "USD"}, "returns": {"auto_refund_max": "1000.00"}})
    )
    # the store's order, already fulfilled and delivered before the customer asked
    order = {**copy.deepcopy(order), "fulfillment_status": "fulfilled", "created_at": "2026-11-10T10:00:00Z"}
    store.send(*shopify.to_events("orders/create", order, "w-order", backfill=True))
    store.send(
        NewEvent(
            source="shopify",
            external_id="w-delivered",
            kind="shipment.scanned",
            subject="order:shopify:450789469",
            occurred_at=datetime.fromisoformat("2026-11-14T10:00:00+00:00"),
            payload={"order_number": "450789469", "tracking_number": "1Z", "status": "delivered"},
        )
    )
    body = json.loads((fixtures / "returns" / "shopify_return_request.json").read_text())
    store.send(*shopify.to_events("returns/request", body, "w-return"))
    found = the_return(store, "shopify-945000957")
    assert found["state"] == "authorized" and found["channel"] == "shopify"
    assert [(line["sku"], line["accepted"]) for line in found["lines"]] == [("IPOD2008RED", 1)]
    assert found["reason_category"] == "not_as_described"
    assert found["refund_minor"] > 0

    from storeops.desks.returns.tables import refunds

    refund = json.loads((fixtures / "shopify" / "refund.json").read_text())["refund"]
    store.send(*shopify.to_events("refunds/create", refund, "w-refund"))
    store.send(*shopify.to_events("refunds/create", refund, "w-refund"))  # Shopify retries: stored once
    with engine.connect() as conn:
        recorded = conn.execute(select(refunds.c.order_subject, refunds.c.origin)).all()
    assert [tuple(row) for row in recorded] == [("order:shopify:450789469", "storefront")]


def test_the_inbox_offers_the_desks_own_reason_categories() -> None:
    from storeops.desks.returns.classify import CATEGORIES
    from storeops.web.pages import RETURN_REASON_CATEGORIES, resolution_form

    assert RETURN_REASON_CATEGORIES == CATEGORIES
    form = resolution_form({"desk": "returns", "reasons": ["refund_over_threshold"]})
    assert form["select"] == ("reason_category", ("", *CATEGORIES))
    assert [name for name, _ in form["fields"]] == ["refund_minor", "settlement", "returnless"]


def test_an_inspection_joins_the_case_a_person_is_already_deciding(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry, auto_refund_max="10.00")
    delivered_order(store, "7701")
    held = ask(store, "7701", at=DELIVERED + timedelta(days=1))
    assert handoff_of(store, held["rma"])["reasons"] == ["refund_over_threshold"]  # type: ignore[index]
    receive(store, held["rma"], "empty")
    handoff = handoff_of(store, held["rma"])
    assert handoff is not None and handoff["state"] == "open"
    assert handoff["reasons"] == ["refund_over_threshold", "suspicious_return_pattern"]
    assert handoff["evidence"]["patterns"] == [{"pattern": "empty_box"}]
    assert the_return(store, held["rma"])["condition"] == "empty"


def test_defects_are_counted_per_supplier_for_the_vendors_desk(engine: Engine, registry: Registry) -> None:
    from storeops.desks.inventory.tables import products
    from storeops.desks.returns.api import vendor_defects

    store = shop(engine, registry)
    with engine.begin() as conn:
        conn.execute(
            products.insert(),
            [
                {"sku": sku, "supplier": supplier, "reorder": True, "moq": 1, "case_pack": 1, "first_seen_at": T0,
                 "updated_at": T0}
                for sku, supplier in (("TEE", "Cotton Co"), ("MUG", "Clay Ltd"))
            ],
        )  # fmt: skip
    lines = [
        {"sku": "TEE", "quantity": 2, "unit_price_minor": 1000},
        {"sku": "MUG", "quantity": 1, "unit_price_minor": 900},
    ]
    delivered_order(store, "7801", lines=lines)
    ask(
        store, "7801", at=DELIVERED + timedelta(days=1), lines=[("TEE", 1)], reason="the seam ripped open on first wear"
    )
    ask(store, "7801", at=DELIVERED + timedelta(days=2), lines=[("TEE", 1), ("MUG", 1)], reason="too small for me")
    with engine.connect() as conn:
        found = {v.supplier: v for v in vendor_defects(conn, since=DELIVERED, until=DELIVERED + timedelta(days=10))}
    assert (found["Cotton Co"].units_returned, found["Cotton Co"].defect_units) == (2, 1)
    assert (found["Clay Ltd"].units_returned, found["Clay Ltd"].defect_units) == (1, 0)


def test_an_exchange_sends_the_other_size_through_the_orders_desk_once_the_parcel_is_back(
    engine: Engine, registry: Registry
) -> None:
    from storeops.connectors.smtp import SmtpConnector
    from storeops.desks.orders.tables import orders

    store = shop(engine, registry)
    delivered_order(store, "7901", lines=[{"sku": "TEE", "quantity": 1, "unit_price_minor": 2500}])
    rma = f"R-X{next(_ids)}"
    store.send(
        NewEvent(
            source="portal",
            external_id=rma,
            kind="return.requested",
            subject=f"return:{rma}",
            occurred_at=DELIVERED + timedelta(days=2),
            payload={
                "rma": rma,
                "order_number": "7901",
                "customer_email": "c1@example.test",
                "lines": [{"sku": "TEE", "quantity": 1, "exchange_sku": "MUG"}],
                "reason": "too small, I need the next size up",
            },
        )
    )
    asked = the_return(store, rma)
    assert asked["state"] == "authorized" and asked["refund_minor"] == 0
    assert asked["lines"][0]["exchange_sku"] == "MUG"
    done = receive(store, rma, "new")
    assert done["state"] == "refunded"
    assert [a for _, a, _ in sent(store, rma)] == ["label.create", "return.authorized", "return.refunded"]  # no payment
    with engine.connect() as conn:
        replacement = conn.execute(select(orders).where(orders.c.number == f"7901-{rma}")).one()._mapping
    assert replacement["status"] == "fulfilling" and [line["sku"] for line in replacement["lines"]] == ["MUG"]
    assert replacement["total_minor"] == 0 and replacement["email"] == "c1@example.test"
    mail = next(p for _, a, p in sent(store, rma) if a == "return.refunded")
    text = SmtpConnector("smtp://127.0.0.1:2525", "Shop <s@shop.example>").render("return.refunded", mail, "k")
    assert "MUG × 1" in text.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_refusal_does_not_tell_a_stranger_the_orders_currency(engine: Engine, registry: Registry) -> None:
    store = shop(engine, registry)
    delivered_order(store, "7951", currency="USD")
    stranger = ask(store, "7951", at=DELIVERED + timedelta(days=1), email="eve@example.test")
    unknown = ask(store, "79519", at=DELIVERED + timedelta(days=1), email="eve@example.test")
    assert (stranger["state"], stranger["currency"]) == (unknown["state"], unknown["currency"]) == ("refused", "EUR")
