"""What storefront webhooks have in common: signatures and amounts."""

from __future__ import annotations

import hmac
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
