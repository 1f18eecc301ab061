"""What storefront webhooks have in common: signatures and amounts."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from storeops.connectors.webhook import sign
from storeops.errors import InvalidInput
from storeops.money import Money


def verify(secret: str | None, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the base64 HMAC-SHA256 of the raw ``body`` under ``secret``
    (constant-time compare; no secret or no header is never valid)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def minor(value: Any, currency: str, field: str) -> int:
    """A storefront's decimal amount (``"409.94"``) as minor units, or InvalidInput naming the field."""
    if value is None or value == "":
        raise InvalidInput(f"{field} is missing", field=field)
    try:
        return Money.parse(str(value), currency).minor
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}", field=field) from None


def need(data: dict[str, Any], key: str, context: str) -> Any:
    """``data[key]``, or InvalidInput naming ``context.key`` when it is missing or empty."""
    value = data.get(key)
    if value is None or value == "" or value == []:
        raise InvalidInput(f"{context}.{key} is missing; a storefront order needs it", field=f"{context}.{key}")
    return value


def unwrap(body: Any, resource: str) -> dict[str, Any]:
    """A webhook body is the bare resource; a REST response wraps it as ``{resource: {...}}``."""
    if isinstance(body, dict) and set(body) == {resource} and isinstance(body[resource], dict):
        inner: dict[str, Any] = body[resource]
        return inner
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object (a {resource}), got {type(body).__name__}")
    return body


def dedupe_key(topic: str, identity: str, updated_at: Any, body: Any) -> str:
    """The dedupe key of a payload that came without a delivery id (a file, an import, a pull).

    The resource's own identity and update time, plus a digest of the body: a report sent twice is
    stored once, and two different reports never share a key (an inventory level has no id of
    its own, and levels of many items are reported at one moment). Long identities are digested
    so the key fits the queue's column."""
    digest = hashlib.blake2b(json.dumps(body, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()
    key = f"{topic}:{identity}:{updated_at or ''}:{digest}"
    if len(key) > 200:
        key = f"{topic}:{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}"
    return key
