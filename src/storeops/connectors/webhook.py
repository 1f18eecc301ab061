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
