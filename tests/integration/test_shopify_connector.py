"""The Shopify connector against a fake shop on 127.0.0.1 speaking Admin GraphQL: the exact requests,
an order's way from webhook to fulfilment, holds, and the faults (429s, throttling, 5xx, a server
down, a timeout mid-request, user errors)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from storeops.bootstrap import App
from storeops.connectors.base import Rejected, RemoteError, RetryAfter
from storeops.connectors.http import KeepAliveTransport
from storeops.connectors.shopify_admin import API_VERSION, ShopifyAdmin, ShopifyConnector
from storeops.desks import builtin_desks
from storeops.desks.inventory.ledger import Cause, move
from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.worker import Worker
from storeops.intake import storefront_events, take_in
from storeops.settings import Settings
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import outbox
from storeops.testing import FakeShopify, Fault, serve
from tests.conftest import make_policy
from tests.integration.test_webhooks import SHOPIFY_ORDER

TOKEN = "shpat_test"


@pytest.fixture
def shop() -> Iterator[tuple[FakeShopify, str]]:
    fake = FakeShopify(TOKEN)
    with serve(fake.app) as base:
        yield fake, base


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def admin(base: str, token: str = TOKEN, **kwargs: Any) -> ShopifyAdmin:
    client = httpx.Client(timeout=kwargs.pop("timeout", 5.0), transport=KeepAliveTransport())
    _CLIENTS.append(client)
    return ShopifyAdmin(base, token, client, sleep=lambda s: None, **kwargs)


def _policy(**orders: Any) -> Policy:
    return make_policy(
        {
            "orders": {"exchange_rates": {"USD": "0.92"}, **orders},
            "outbox": {"retry_base_seconds": 0.001, "retry_max_seconds": 0.001},
        }
    )


@pytest.fixture
def store(sqlite_url: str, tmp_path: Any) -> Iterator[tuple[Engine, Registry]]:
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        for sku in ("IPOD2008GREEN", "IPOD2008RED"):
            move(
                conn,
                sku=sku,
                location="WH-PARIS",
                cause=Cause.RECEIPT,
                reference="setup",
                at=datetime.now(UTC),
                on_hand=5,
            )
    yield engine, Registry(builtin_desks())
    engine.dispose()


def _app(engine: Engine, registry: Registry, base: str, policy: Policy, tmp_path: Any) -> App:
    settings = Settings(
        database_url=str(engine.url),
        shopify_shop_url=base,
        shopify_access_token=TOKEN,
        outbox_dir=tmp_path / "outbox",
    )
    return App(settings=settings, engine=engine, desks=builtin_desks(), registry=registry, policy=policy)


def _order_webhook(app: App, body: dict[str, Any], delivery: str) -> None:
    take_in(app, storefront_events(app, "shopify", "orders/create", json.loads(json.dumps(body)), delivery))


def _drain(worker: Worker, engine: Engine, rounds: int = 50) -> None:
    """Send until nothing is pending (retries are due within milliseconds here)."""
    for _ in range(rounds):
        worker.send_outbox()
        with engine.connect() as conn:
            if not conn.execute(select(outbox.c.id).where(outbox.c.status == "pending")).first():
                return
        time.sleep(0.02)
    raise AssertionError("the outbox did not drain")


def test_a_clean_order_is_fulfilled_once_with_its_tracking_after_429s(
    store: tuple[Engine, Registry], shop: tuple[FakeShopify, str], tmp_path: Any
) -> None:
    engine, registry = store
    fake, base = shop
    fake.add_order(450789469, "#1001")
    # given a shop that answers the first five requests with 429 Too Many Requests
    fake.faults = [Fault(429, {"Retry-After": "0.01"}) for _ in range(5)]
    policy = _policy()
    app = _app(engine, registry, base, policy, tmp_path)
    _order_webhook(app, SHOPIFY_ORDER, "w-1")
    worker = Worker(engine, registry, policy, connectors=app.connectors())
    # when the worker decides and sends
    worker.run(until_idle=True)
    _drain(worker, engine)
    worker.close()
    # then exactly one fulfilment request reached Shopify, for the order's fulfilment order, with
    # the tracking number storeops chose and the access token
    [create] = fake.operations("StoreopsFulfil")
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.action == "fulfilment.create")).one()
    assert row.status == "sent" and row.attempts == 1  # the 429s were waits, not failed attempts
    assert create["path"] == f"/admin/api/{API_VERSION}/graphql.json"
    assert create["headers"]["x-shopify-access-token"] == TOKEN
    assert "fulfillmentCreate(fulfillment: $fulfillment" in create["query"]
    fulfillment = create["variables"]["fulfillment"]
    assert fulfillment["lineItemsByFulfillmentOrder"] == [
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/4507894690"}
    ]
    assert fulfillment["trackingInfo"]["company"] == "DHL"
    assert fulfillment["trackingInfo"]["numbers"] == [row.payload["tracking_numbers"][0]]
    assert fulfillment["notifyCustomer"] is True
    assert fake.orders[450789469].fulfillments[0]["trackingInfo"][0]["number"] == row.payload["tracking_numbers"][0]
    # and the same message sent again (a lost answer, a killed sender) creates nothing more
    ShopifyConnector(admin(base)).send("fulfilment.create", dict(row.payload), row.idempotency_key)
    assert len(fake.operations("StoreopsFulfil")) == 1 and len(fake.orders[450789469].fulfillments) == 1


def test_a_held_order_gets_a_hold_and_a_tag_and_no_fulfilment(
    store: tuple[Engine, Registry], shop: tuple[FakeShopify, str], tmp_path: Any
) -> None:
    engine, registry = store
    fake, base = shop
    fake.add_order(450789469, "#1001")
    policy = _policy(high_value_threshold="100.00")
    app = _app(engine, registry, base, policy, tmp_path)
    _order_webhook(app, SHOPIFY_ORDER, "w-2")
    worker = Worker(engine, registry, policy, connectors=app.connectors())
    worker.run(until_idle=True)
    _drain(worker, engine)
    worker.close()
    order = fake.orders[450789469]
    [hold] = fake.operations("StoreopsHold")
    assert hold["variables"]["id"] == "gid://shopify/FulfillmentOrder/4507894690"
    assert hold["variables"]["fulfillmentHold"]["reason"] == "OTHER"
    assert "order_value_over_threshold" in hold["variables"]["fulfillmentHold"]["reasonNotes"]
    assert order.fulfillment_orders[0]["status"] == "ON_HOLD"
    assert order.tags == ["storeops:order_value_over_threshold"]
    assert fake.operations("StoreopsFulfil") == [] and order.fulfillments == []
    # a person approves: the fulfilment releases the hold first, then fulfils
    connector = ShopifyConnector(admin(base))
    payload = {"source": "shopify", "order": "1001", "subject": "order:shopify:450789469", "tracking_numbers": ["T1"]}
    connector.send("fulfilment.create", payload, "k-approve")
    assert [r["operation"] for r in fake.requests[-3:]] == ["StoreopsOrderState", "StoreopsRelease", "StoreopsFulfil"]
    assert order.fulfillment_orders[0]["status"] == "CLOSED" and len(order.fulfillments) == 1


def test_a_timeout_mid_request_is_retried_and_takes_effect_once(shop: tuple[FakeShopify, str]) -> None:
    fake, base = shop
    fake.add_order(7, "#7")
    # the shop applies the fulfilment, then answers too late for the client
    fake.hang["StoreopsFulfil"] = 1.0
    connector = ShopifyConnector(admin(base, timeout=0.3))
    payload = {
        "source": "shopify",
        "order": "7",
        "subject": "order:shopify:7",
        "tracking_numbers": ["TRK7"],
        "carrier": "colis",
    }
    with pytest.raises(RemoteError, match="no answer in time"):
        connector.send("fulfilment.create", payload, "k-7")
    fake.hang.clear()
    connector.send("fulfilment.create", payload, "k-7")  # the outbox's retry: looks, finds it, stops
    assert len(fake.orders[7].fulfillments) == 1 and len(fake.operations("StoreopsFulfil")) == 1


def test_faults_become_the_outbox_kinds_of_failure(shop: tuple[FakeShopify, str]) -> None:
    fake, base = shop
    fake.add_order(8, "#8")
    connector = ShopifyConnector(admin(base))
    payload = {"source": "shopify", "order": "8", "subject": "order:shopify:8", "reason": "rejected by a person"}
    # 5xx: a failed attempt, retried
    fake.faults = [Fault(502)]
    with pytest.raises(RemoteError, match="HTTP 502"):
        connector.send("order.cancel", payload, "k-8")
    # a long Retry-After: the message waits that long, without counting an attempt
    fake.faults = [Fault(429, {"Retry-After": "30"})]
    with pytest.raises(RetryAfter) as waited:
        connector.send("order.cancel", payload, "k-8")
    assert waited.value.seconds == 30
    # a THROTTLED answer (cost bucket empty) is waited out and asked again
    fake.faults = [Fault(200, throttled=True)]
    connector.send("order.cancel", payload, "k-8")
    [cancel] = fake.operations("StoreopsCancel")
    assert cancel["variables"]["reason"] == "OTHER" and cancel["variables"]["restock"] is True
    assert cancel["variables"]["refundMethod"] == {"originalPaymentMethodsRefund": False}
    # sending it again finds the order cancelled and does nothing
    connector.send("order.cancel", payload, "k-8")
    assert len(fake.operations("StoreopsCancel")) == 1
    # user errors are Shopify's refusal, dead at once with its words
    fake.orders[8].fulfillment_orders[0]["status"] = "CLOSED"
    with pytest.raises(Rejected, match="order #8 was cancelled in Shopify"):
        connector.send("fulfilment.create", {**payload, "tracking_numbers": ["X"]}, "k-8b")
    # a hold sent twice holds once (the second finds the fulfilment order on hold)
    fake.add_order(9, "#9")
    connector.send("fulfilment.hold", {"subject": "order:shopify:9", "reasons": ["fraud_signal"]}, "k-9")
    connector.send("fulfilment.hold", {"subject": "order:shopify:9", "reasons": ["fraud_signal"]}, "k-9")
    assert len(fake.operations("StoreopsHold")) == 1
    # a wrong token: the credentials were refused (retried, so a fixed token lets the message through)
    with pytest.raises(RemoteError, match="credentials were refused"):
        ShopifyConnector(admin(base, "wrong")).send("order.tag", {"subject": "order:shopify:8", "tags": ["a"]}, "k")


def test_a_shop_that_is_down_is_a_failed_attempt() -> None:
    from storeops.testing import free_port

    connector = ShopifyConnector(admin(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(RemoteError, match="cannot reach"):
        connector.send("order.tag", {"subject": "order:shopify:1", "tags": ["a"]}, "k")


def test_refunds_and_stock_use_shopify_idempotency_keys(shop: tuple[FakeShopify, str]) -> None:
    fake, base = shop
    fake.add_order(10, "#10", paid="50.00")
    fake.variants_by_sku["MUG"] = "gid://shopify/InventoryItem/77"
    connector = ShopifyConnector(admin(base), locations={"1": "WH-PARIS"})
    refund = {
        "source": "shopify",
        "order": "10",
        "subject": "order:shopify:10",
        "amount_minor": 6000,
        "currency": "EUR",
    }
    connector.send("refund.create", refund, "k-refund")
    connector.send("refund.create", refund, "k-refund")  # a second send finds the first by its note
    [created] = fake.operations("StoreopsRefund")
    assert '@idempotent(key: "' in created["query"]
    [transaction] = created["variables"]["input"]["transactions"]
    # never more than was captured
    assert transaction == {
        "orderId": "gid://shopify/Order/10",
        "parentId": "gid://shopify/OrderTransaction/101",
        "gateway": "shopify_payments",
        "kind": "REFUND",
        "amount": "50.00",
    }
    assert len(fake.orders[10].refunds) == 1
    connector.send("stock.set", {"channel": "shopify", "sku": "MUG", "location": "WH-PARIS", "available": 12}, "k-s")
    [stock] = fake.operations("StoreopsSetStock")
    assert "@idempotent" in stock["query"]
    assert stock["variables"]["input"]["quantities"] == [
        {
            "inventoryItemId": "gid://shopify/InventoryItem/77",
            "locationId": "gid://shopify/Location/1",
            "quantity": 12,
            "changeFromQuantity": None,
        }
    ]
    assert fake.stock[("gid://shopify/InventoryItem/77", "gid://shopify/Location/1")] == 12
    with pytest.raises(Rejected, match="no variant with SKU 'NOPE'"):
        connector.send("stock.set", {"channel": "shopify", "sku": "NOPE", "location": "WH-PARIS", "available": 1}, "k")
