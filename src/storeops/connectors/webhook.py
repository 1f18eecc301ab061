"""A generic signed-webhook connector: POSTs JSON with an HMAC signature and an idempotency key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx


def sign(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of ``body`` (the scheme Shopify and WooCommerce use)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookConnector:
    """POSTs ``{"action", "payload"}`` to ``url``; any non-2xx answer raises so the outbox retries."""

    def __init__(self, name: str, url: str, secret: str, client: httpx.Client | None = None) -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self.client = client or httpx.Client(timeout=10.0)

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        body = json.dumps({"action": action, "payload": payload}, sort_keys=True).encode()
        response = self.client.post(
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
                "X-Storeops-Signature": sign(self.secret, body),
            },
        )
        response.raise_for_status()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``<id>.<timestamp>.<body>`` under a Standard Webhooks secret
    (``whsec_<base64 key>``; a secret without the prefix is used as its bytes)."""
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class StandardWebhookConnector:
    """POSTs ``{"type": <action>, "timestamp", "data": <payload>}`` signed the Standard Webhooks way
    (``webhook-id`` = a digest of the idempotency key, the same on every retry so the receiver can
    drop duplicates; ``webhook-timestamp``; ``webhook-signature``). A connector of any name: a tool
    that wants storeops' messages of that name configures its URL (``STOREOPS_OUTGOING_WEBHOOKS``)."""

    def __init__(
        self, name: str, url: str, secret: str, client: httpx.Client | None = None, *, clock: Any = None
    ) -> None:
        from storeops.connectors.http import make_client

        self.name = name
        self.url = url
        self.secret = secret
        self.client = make_client(client)
        self.clock = clock

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        import time

        from storeops.connectors.http import request

        timestamp = int(self.clock() if self.clock else time.time())
        message_id = "msg_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        body = json.dumps({"type": action, "timestamp": timestamp, "data": payload}, sort_keys=True).encode()
        request(
            self.client,
            f"webhook {self.name}",
            "POST",
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": standard_signature(self.secret, message_id, timestamp, body),
            },
        )
