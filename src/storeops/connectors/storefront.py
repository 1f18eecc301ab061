"""What storefront webhooks have in common: signatures, amounts, and the field types of their models.

Each storefront's resources are read through pydantic models of only the fields storeops uses
(``shopify_models``, ``woocommerce_models``), each with its type and bounds, so a body of the wrong
shape is a 400 naming the field (``order.line_items[0].quantity``), never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from storeops.bounds import MAX_ID_LENGTH, bounded_utc
from storeops.connectors.webhook import sign
from storeops.errors import InvalidInput
from storeops.money import Money

MAX_TEXT = 4096
"""The longest text field read from a storefront (titles, names, notes, address lines)."""
MAX_AMOUNT_TEXT = 40
"""The longest decimal amount (``"12345.67"``): enough for any real price, too short for a probe."""


class StorefrontModel(BaseModel):
    """A storefront resource as storeops reads it: fields it does not read are ignored (the raw
    body is kept for the dedupe digest); the ones it reads are typed and bounded."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def id_text(value: Any) -> str:
    """A storefront id as text; ValueError for a bool, a float, an empty or an over-long one."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be a number or a string, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_ID_LENGTH:
        raise ValueError(f"has {len(text)} characters; an id has at most {MAX_ID_LENGTH}")
    if any(character.isspace() for character in text):
        raise ValueError("must not contain spaces (it becomes part of a subject such as order:shopify:<id>)")
    return text


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise ValueError(f"has {len(value):,} characters; at most {MAX_TEXT:,}")
    return value


def _amount(value: Any) -> str:
    # Storefronts send amounts as decimal strings; a bare JSON number is read the same way.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f'must be a decimal amount such as "19.99", got {type(value).__name__}')
    text = str(value).strip()
    if len(text) > MAX_AMOUNT_TEXT:
        raise ValueError(f"has {len(text)} characters; not an amount")
    return text


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not an ISO 8601 timestamp") from None
    else:
        raise ValueError(f"must be an ISO 8601 timestamp string, got {type(value).__name__}")
    # Storefronts' *_gmt fields carry no offset: they are UTC.
    return bounded_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {type(value).__name__}")
    return value


Id = Annotated[str, BeforeValidator(id_text)]
"""A resource id: a JSON number or string, at most MAX_ID_LENGTH characters, read as text."""
Text = Annotated[str, BeforeValidator(_text)]
Amount = Annotated[str, BeforeValidator(_amount)]
"""A decimal amount as sent; ``minor`` turns it into minor units of the order's currency."""
Time = Annotated[datetime, BeforeValidator(_time)]
"""An ISO 8601 timestamp (UTC when it has no offset), within the years storeops accepts."""
Flag = Annotated[bool, BeforeValidator(_flag)]

M = TypeVar("M", bound=BaseModel)


def read(model: type[M], data: dict[str, Any], resource: str) -> M:
    """``data`` as ``model``, or InvalidInput naming the first bad field as the storefront
    spells it (``order.line_items[1].quantity``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        field = resource + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidInput(f"{field}: {first['msg']}{more}", field=field) from None


def required(value: Any, field: str) -> Any:
    """``value``, or InvalidInput saying ``field`` is missing when it is None, empty or []."""
    if value is None or value == "" or value == []:
        raise InvalidInput(f"{field} is missing; storeops needs it", field=field)
    return value


def verify(secret: str | None, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the base64 HMAC-SHA256 of the raw ``body`` under ``secret``
    (constant-time compare; no secret or no header is never valid)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def minor(value: Any, currency: str, field: str) -> int:
    """A storefront's decimal amount (``"409.94"``) as minor units, or InvalidInput naming the
    field when it is missing, not an amount, too precise for the currency or out of bounds."""
    if value is None or value == "":
        raise InvalidInput(f"{field} is missing", field=field)
    try:
        return Money.parse(str(value), currency).minor
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}", field=field) from None


def minor_or_none(value: str | None, currency: str, field: str) -> int | None:
    """``minor`` of an amount the storefront may leave out."""
    return None if value is None or value == "" else minor(value, currency, field)


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


MAX_TITLE = 255
"""The catalogue keeps a title in 255 characters."""


def display_title(text: str | None) -> str | None:
    """A product title for display, within the catalogue's MAX_TITLE characters (Shopify allows 255
    for a product and 255 more for a variant): a longer one is cut with an ellipsis, as people read it."""
    if text is None or len(text) <= MAX_TITLE:
        return text
    return text[: MAX_TITLE - 1] + "…"
