"""Connectors speak HTTP through an injectable httpx client; the far side here is a MockTransport."""

from __future__ import annotations

import json

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
