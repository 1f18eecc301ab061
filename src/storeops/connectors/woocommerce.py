"""WooCommerce webhooks (REST API v3 JSON) → storeops events; with ``backfill``, a store's existing
records read as the starting state of an import (see ``shopify``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storeops.connectors.storefront import dedupe_key, minor, need, unwrap
from storeops.engine.events import NewEvent
from storeops.errors import InvalidInput

SOURCE = "woocommerce"
TOPICS = (
    "order.created",
    "order.updated",
    "product.created",
    "product.updated",
    "customer.created",
    "customer.updated",
)
_STATUS = {
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "refunded": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
}
"""WooCommerce order statuses storeops must not fulfil; every other (pending, processing, on-hold) is open."""


def _when(gmt: Any) -> datetime:
    """WooCommerce sends ``date_created_gmt`` without an offset; it is UTC."""
    if not gmt:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(gmt))
    except ValueError:
        raise InvalidInput(f"timestamp {gmt!r} is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _address(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw or not any(raw.get(k) for k in ("address_1", "city", "country")):
        return None
    return {
        "name": " ".join(filter(None, [raw.get("first_name"), raw.get("last_name")])) or None,
        "line1": raw.get("address_1"),
        "line2": raw.get("address_2") or None,
        "city": raw.get("city"),
        "postal_code": raw.get("postcode"),
        "region": raw.get("state"),
        "country": raw.get("country"),
        "phone": raw.get("phone") or None,
    }


def to_events(topic: str, body: Any, delivery_id: str | None, *, backfill: bool = False) -> list[NewEvent]:
    """The storeops events of one WooCommerce webhook (``delivery_id``: X-WC-Webhook-Delivery-ID;
    without it, the resource's id, modification time and a digest of the body)."""
    if topic not in TOPICS:
        raise InvalidInput(f"unsupported WooCommerce topic {topic!r}; supported: {', '.join(TOPICS)}", field="topic")
    resource = topic.split(".")[0]
    data = unwrap(body, resource)
    key = delivery_id or dedupe_key(topic, str(need(data, "id", resource)), data.get("date_modified_gmt"), data)
    imported = {"backfill": True} if backfill else {}
    if resource == "customer":
        return [_customer_event(data, key, imported)]
    if resource == "product":
        # A product without a SKU is still one the store sells: it is known by the same name its
        # order lines get (see the order mapping below).
        sku = data.get("sku") or f"woocommerce-product-{need(data, 'id', 'product')}"
        payload = {"sku": sku, "title": data.get("name"), "woocommerce_product_id": data.get("id"), **imported}
        when = _when(data.get("date_modified_gmt"))
        out = [
            NewEvent(
                source=SOURCE,
                external_id=key,
                kind="product.updated",
                subject=f"sku:{sku}",
                occurred_at=when,
                payload=payload,
            )
        ]
        if data.get("manage_stock") and data.get("stock_quantity") is not None:
            # WooCommerce keeps one figure per product; "*" lets the inventory desk map it to the
            # ledger location of [inventory] channel_locations. Its subject is the product's stock,
            # not the SKU, so an order queued after it is never decided before it (a second event
            # of the SKU's subject would wait behind the product event for the next batch).
            stock = {
                "channel": SOURCE,
                "location": "*",
                "available": int(data["stock_quantity"]),
                "sku": sku,
                **imported,
            }
            out.append(
                NewEvent(
                    source=SOURCE,
                    external_id=f"{key}#stock",
                    kind="channel.stock_reported",
                    subject=f"stock:{SOURCE}:{data.get('id')}",
                    occurred_at=when,
                    payload=stock,
                )
            )
        return out
    order_id = need(data, "id", "order")
    subject = f"order:woocommerce:{order_id}"
    status = data.get("status")
    when = _when(data.get("date_created_gmt"))
    if status in ("cancelled", "failed") and topic == "order.updated" and not backfill:
        return [
            NewEvent(
                source=SOURCE,
                external_id=key,
                kind="order.cancelled",
                subject=subject,
                occurred_at=_when(data.get("date_modified_gmt")),
                payload={"order_number": str(order_id), "reason": status, **imported},
            )
        ]
    currency = str(need(data, "currency", "order"))
    billing = data.get("billing") or {}
    lines = []
    for index, item in enumerate(need(data, "line_items", "order")):
        context = f"order.line_items[{index}]"
        quantity = int(need(item, "quantity", context))
        sku = item.get("sku") or f"woocommerce-product-{item.get('variation_id') or item.get('product_id')}"
        total = minor(item.get("total"), currency, f"{context}.total")
        lines.append(
            {"sku": sku, "quantity": quantity, "unit_price_minor": total // quantity, "title": item.get("name")}
        )
    customer_id = data.get("customer_id")
    email = str(billing.get("email") or "")
    if not customer_id and not email:
        raise InvalidInput(
            "order.billing.email is missing for a guest order (customer_id 0)", field="order.billing.email"
        )
    payload = {
        "order_number": str(data.get("number") or order_id),
        "customer": {"id": str(customer_id) if customer_id else f"guest:{email.lower()}", "email": email, "tags": []},
        "currency": currency,
        "total_minor": minor(data.get("total"), currency, "order.total"),
        "lines": lines,
        "shipping_address": _address(data.get("shipping")),
        "billing_address": _address(billing),
        "channel": "woocommerce",
        "ip": data.get("customer_ip_address") or None,
        "payment_status": "paid" if data.get("date_paid_gmt") else (status or "pending"),
        "woocommerce_id": order_id,
        "storefront_status": _STATUS.get(str(status), "open"),
        **imported,
    }
    kind = "order.created" if topic == "order.created" else "order.updated"
    return [NewEvent(source=SOURCE, external_id=key, kind=kind, subject=subject, occurred_at=when, payload=payload)]


def _customer_event(data: dict[str, Any], key: str, imported: dict[str, Any]) -> NewEvent:
    """A WooCommerce customer (REST v3 ``customer``): who they are and when they signed up."""
    customer_id = need(data, "id", "customer")
    email = data.get("email") or (data.get("billing") or {}).get("email")
    signed_up = data.get("date_created_gmt")
    payload = {
        "customer": {
            "id": str(customer_id),
            "email": email or None,
            "tags": [str(data["role"])] if data.get("role") and data.get("role") != "customer" else [],
            "created_at": _when(signed_up).isoformat() if signed_up else None,
        },
        **imported,
    }
    return NewEvent(
        source=SOURCE,
        external_id=key,
        kind="customer.updated",
        subject=f"customer:{SOURCE}:{customer_id}",
        occurred_at=_when(data.get("date_modified_gmt") or signed_up),
        payload=payload,
    )
