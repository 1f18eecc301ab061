"""Connectors speak HTTP through an injectable httpx client; the far side here is a MockTransport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from storeops.connectors.webhook import WebhookConnector, sign


def test_webhook_posts_signed_json_with_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    connector = WebhookConnector(
        "warehouse", "https://wms.example.test/hook", "s3cret", httpx.Client(transport=httpx.MockTransport(endpoint))
    )
    connector.send("order.ship", {"order": "1042"}, "sim:e-1:order.ship:0")
    [request] = seen
    body = request.read()
    assert json.loads(body) == {"action": "order.ship", "payload": {"order": "1042"}}
    assert request.headers["Idempotency-Key"] == "sim:e-1:order.ship:0"
    assert request.headers["X-Storeops-Signature"] == sign("s3cret", body)


def test_webhook_raises_on_a_refusal_so_the_outbox_retries() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    with pytest.raises(httpx.HTTPStatusError):
        WebhookConnector("warehouse", "https://wms.example.test/hook", "s3cret", client).send("a", {}, "k")


def test_sign_matches_a_known_hmac() -> None:
    # base64(HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"))
    assert sign("key", b"The quick brown fox jumps over the lazy dog") == "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="


def test_a_purchase_order_is_one_csv_file_and_a_retry_rewrites_it(tmp_path: Path) -> None:
    from storeops.connectors.supplier_csv import SupplierCsvConnector

    connector = SupplierCsvConnector(tmp_path)
    order = {
        "number": "PO-20260601-ACME",
        "supplier": "Acme",
        "currency": "EUR",
        "expected_at": "2026-06-08T06:00:00+00:00",
        "lines": [
            {"sku": "MUG", "location": "WH", "quantity": 60, "cost_minor": 450},
            {"sku": "CUP", "location": "WH", "quantity": 12, "cost_minor": 1999},
        ],
    }
    connector.send("purchase_order.send", order, "k1")
    connector.send("purchase_order.send", order, "k1")
    [path] = (tmp_path / "suppliers").iterdir()
    assert path.name == "PO-20260601-ACME.csv"
    assert path.read_text().splitlines() == [
        "sku,location,quantity,unit_cost,line_total,currency,expected_at",
        "MUG,WH,60,4.50,270.00,EUR,2026-06-08",
        "CUP,WH,12,19.99,239.88,EUR,2026-06-08",
    ]
