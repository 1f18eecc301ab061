"""The WooCommerce connector against a fake store on 127.0.0.1 speaking REST v3: the requests it
makes, and that a message sent twice (no idempotency keys there) takes effect once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storeops.connectors.base import Rejected, RemoteError
from storeops.connectors.woocommerce_rest import WooCommerceConnector, WooCommerceRest
from storeops.testing import FakeWooCommerce, Fault, serve


@pytest.fixture
def woo() -> Iterator[tuple[FakeWooCommerce, WooCommerceConnector]]:
    fake = FakeWooCommerce("ck_1", "cs_1")
    fake.orders[727] = {"id": 727, "number": "727", "status": "processing"}
    fake.products = [{"id": 93, "sku": "MUG", "manage_stock": True, "stock_quantity": 3}]
    with serve(fake.app) as base:
        rest = WooCommerceRest(base, "ck_1", "cs_1")
        yield fake, WooCommerceConnector(rest)
        rest.client.close()


def test_fulfil_hold_cancel_refund_and_stock_take_effect_once(
    woo: tuple[FakeWooCommerce, WooCommerceConnector],
) -> None:
    fake, connector = woo
    order = {"source": "woocommerce", "order": "727", "subject": "order:woocommerce:727"}
    hold = {**order, "reasons": ["fraud_signal"]}
    connector.send("fulfilment.hold", hold, "k-hold")
    connector.send("fulfilment.hold", hold, "k-hold")
    assert fake.orders[727]["status"] == "on-hold" and len(fake.notes[727]) == 1
    assert "fraud_signal" in fake.notes[727][0]["note"]
    fulfil = {**order, "tracking_numbers": ["DHL123"], "carrier": "dhl"}
    connector.send("fulfilment.create", fulfil, "k-ship")
    connector.send("fulfilment.create", fulfil, "k-ship")
    assert fake.orders[727]["status"] == "completed"
    shipped = [n for n in fake.notes[727] if "DHL123" in n["note"]]
    assert len(shipped) == 1 and shipped[0]["customer_note"] is True
    refund = {**order, "amount_minor": 1999, "currency": "EUR", "reason": "rejected by a person"}
    connector.send("refund.create", refund, "k-refund")
    connector.send("refund.create", refund, "k-refund")
    [made] = fake.refunds[727]
    assert made["amount"] == "19.99" and "rejected by a person" in made["reason"]
    [posted] = [r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/refunds")]
    assert posted["json"]["api_refund"] is True
    assert posted["headers"]["authorization"].startswith("Basic ")
    connector.send("stock.set", {"channel": "woocommerce", "sku": "MUG", "location": "WH", "available": 7}, "k-s")
    assert fake.products[0]["stock_quantity"] == 7
    with pytest.raises(Rejected, match="no product with SKU 'NOPE'"):
        connector.send("stock.set", {"channel": "woocommerce", "sku": "NOPE", "location": "WH", "available": 1}, "k")
    connector.send("order.cancel", {**order, "reason": "customer asked"}, "k-cancel")
    assert fake.orders[727]["status"] == "cancelled"
    with pytest.raises(Rejected, match="order 727 is cancelled"):
        connector.send("fulfilment.create", fulfil, "k-ship-2")


def test_woocommerce_faults(woo: tuple[FakeWooCommerce, WooCommerceConnector]) -> None:
    fake, connector = woo
    fake.faults = [Fault(500)]
    with pytest.raises(RemoteError, match="HTTP 500"):
        connector.send("order.tag", {"subject": "order:woocommerce:727", "tags": ["x"]}, "k")
    with pytest.raises(Rejected, match="HTTP 404"):
        connector.send("order.cancel", {"subject": "order:woocommerce:1"}, "k2")
