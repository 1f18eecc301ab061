"""Shopify webhooks (Admin REST JSON) → storeops events. Verification lives in ``storefront``.

The same mapping reads a store's existing records for an import (``backfill``): the events then
say so, and the desks record them as the starting state instead of deciding on them as news.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storeops.connectors.storefront import dedupe_key, minor, need, unwrap
from storeops.engine.events import NewEvent
from storeops.errors import InvalidInput

SOURCE = "shopify"
TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "products/create",
    "products/update",
    "inventory_levels/update",
    "customers/create",
    "customers/update",
    "fulfillments/create",
    "fulfillments/update",
    "refunds/create",
)
_RESOURCE = {
    "orders": "order",
    "products": "product",
    "inventory_levels": "inventory_level",
    "customers": "customer",
    "fulfillments": "fulfillment",
    "refunds": "refund",
}
_SHIPMENT_STATUS = {
    None: "label_created",
    "label_printed": "label_created",
    "label_purchased": "label_created",
    "confirmed": "label_created",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "attempted_delivery": "exception",
    "delivered": "delivered",
    "failure": "exception",
    "ready_for_pickup": "out_for_delivery",
}


def _when(value: Any) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"timestamp {value!r} is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _address(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {
        "name": raw.get("name") or " ".join(filter(None, [raw.get("first_name"), raw.get("last_name")])) or None,
        "line1": raw.get("address1"),
        "line2": raw.get("address2") or None,
        "city": raw.get("city"),
        "postal_code": raw.get("zip"),
        "region": raw.get("province_code") or raw.get("province"),
        "country": raw.get("country_code") or raw.get("country"),
        "phone": raw.get("phone"),
    }


def _customer(raw: dict[str, Any] | None, email: str | None, context: str) -> dict[str, Any]:
    if not raw or raw.get("id") is None:
        if not email:
            raise InvalidInput(
                f"{context}.customer is missing and there is no email to know the buyer by", field=f"{context}.customer"
            )
        return {"id": f"guest:{email.lower()}", "email": email, "tags": []}
    tags = raw.get("tags") or ""
    return {
        "id": str(raw["id"]),
        "email": raw.get("email") or email,
        "tags": [t.strip() for t in tags.split(",") if t.strip()] if isinstance(tags, str) else list(tags),
        "created_at": raw.get("created_at"),
    }


def order_number(order: dict[str, Any]) -> str:
    """The number the customer sees, without Shopify's ``#`` (``#1001`` → ``1001``), as they type it."""
    return str(order.get("name") or order.get("order_number") or order["id"]).strip().removeprefix("#")


def storefront_status(order: dict[str, Any]) -> str:
    """Where the storefront says an order is: ``cancelled``, ``fulfilled``, ``partial`` or ``open``.

    An order the storefront has already fulfilled (a point-of-sale sale, an order shipped before
    storeops was connected) must not be fulfilled again."""
    if order.get("cancelled_at"):
        return "cancelled"
    status = order.get("fulfillment_status")
    if status in ("fulfilled", "restocked"):
        return "fulfilled"
    if status == "partial":
        return "partial"
    return "open"


def _order_payload(order: dict[str, Any]) -> dict[str, Any]:
    currency = str(need(order, "currency", "order"))
    items = need(order, "line_items", "order")
    lines = []
    for index, item in enumerate(items):
        context = f"order.line_items[{index}]"
        sku = item.get("sku") or (f"shopify-variant-{item['variant_id']}" if item.get("variant_id") else None)
        if not sku:
            raise InvalidInput(f"{context}.sku is missing and the line has no variant_id", field=f"{context}.sku")
        lines.append(
            {
                "sku": sku,
                "quantity": int(need(item, "quantity", context)),
                "unit_price_minor": minor(item.get("price"), currency, f"{context}.price"),
                "grams": item.get("grams"),
                "title": item.get("title"),
            }
        )
    client = order.get("client_details") or {}
    transactions = order.get("transactions") or []
    return {
        "order_number": order_number(order),
        "customer": _customer(order.get("customer"), order.get("email"), "order"),
        "currency": currency,
        "total_minor": minor(order.get("total_price"), currency, "order.total_price"),
        "lines": lines,
        "shipping_address": _address(order.get("shipping_address")),
        "billing_address": _address(order.get("billing_address")),
        "channel": order.get("source_name") or "web",
        "ip": order.get("browser_ip") or client.get("browser_ip"),
        "payment_status": order.get("financial_status"),
        "failed_payments": sum(1 for t in transactions if t.get("status") == "failure"),
        "shopify_id": order["id"],
        "storefront_status": storefront_status(order),
    }


def identity(topic: str, data: dict[str, Any]) -> str:
    """What one resource of ``topic`` is, for the dedupe key of a payload without a webhook id.

    Most resources have an ``id``; an inventory level is the pair of its item and location (its
    body has no id, so keying it by id made every level reported at one moment the same event)."""
    resource = _RESOURCE[topic.split("/")[0]]
    if resource == "inventory_level":
        item = need(data, "inventory_item_id", "inventory_level")
        location = need(data, "location_id", "inventory_level")
        return f"{item}@{location}"
    if resource == "fulfillment":
        return f"{need(data, 'order_id', 'fulfillment')}/{data.get('id') or data.get('tracking_number') or ''}"
    return str(need(data, "id", resource))


def to_events(
    topic: str,
    body: Any,
    delivery_id: str | None,
    locations: dict[str, str] | None = None,
    *,
    backfill: bool = False,
) -> list[NewEvent]:
    """The storeops events of one Shopify webhook. ``delivery_id`` is X-Shopify-Webhook-Id (the
    dedupe key); without it (a file or an import) the resource's own identity, its update time and
    a digest of the body stand in, so two different reports never share a key and the same report
    sent twice is stored once. ``backfill`` marks the events as part of importing the store."""
    if topic not in TOPICS:
        raise InvalidInput(f"unsupported Shopify topic {topic!r}; supported: {', '.join(TOPICS)}", field="topic")
    resource = _RESOURCE[topic.split("/")[0]]
    data = unwrap(body, resource)
    key = delivery_id or dedupe_key(
        topic, identity(topic, data), data.get("updated_at") or data.get("created_at"), data
    )
    locations = locations or {}
    imported = {"backfill": True} if backfill else {}

    def event(kind: str, subject: str, at: Any, payload: dict[str, Any], suffix: str = "") -> NewEvent:
        return NewEvent(
            source=SOURCE,
            external_id=f"{key}{suffix}",
            kind=kind,
            subject=subject,
            occurred_at=_when(at),
            payload={**payload, **imported},
        )

    if resource == "order":
        order_id = need(data, "id", "order")
        subject = f"order:shopify:{order_id}"
        if topic in ("orders/create", "orders/updated"):
            kind = "order.created" if topic == "orders/create" else "order.updated"
            return [event(kind, subject, data.get("created_at"), _order_payload(data))]
        number = order_number(data)
        if topic == "orders/cancelled":
            return [
                event(
                    "order.cancelled",
                    subject,
                    data.get("cancelled_at"),
                    {"order_number": number, "reason": data.get("cancel_reason")},
                )
            ]
        return [event("order.paid", subject, data.get("updated_at"), {"order_number": number})]
    if resource == "fulfillment":
        order_id = need(data, "order_id", "fulfillment")
        status = data.get("shipment_status")
        return [
            event(
                "shipment.scanned",
                f"order:shopify:{order_id}",
                data.get("updated_at"),
                {
                    "order_number": str(order_id),
                    "tracking_number": str(data.get("tracking_number") or data.get("id")),
                    "status": _SHIPMENT_STATUS.get(status, "in_transit"),
                    "shopify_status": status,
                },
            )
        ]
    if resource == "product":
        out = []
        for variant in data.get("variants") or []:
            # A variant without a SKU is still sold: it is known by the name its order lines get.
            sku = variant.get("sku") or (f"shopify-variant-{variant['id']}" if variant.get("id") else None)
            if not sku:
                continue
            payload: dict[str, Any] = {
                "sku": sku,
                "title": f"{data.get('title')} - {variant.get('title')}",
                "shopify_product_id": data.get("id"),
            }
            if variant.get("inventory_item_id"):
                payload["channel_items"] = {"shopify": str(variant["inventory_item_id"])}
            # The variant's store-wide quantity: an opening figure for a SKU no level has reached
            # yet (a store with one location and no inventory_levels webhooks), never a report.
            tracked = "inventory_management" not in variant or variant["inventory_management"] is not None
            if variant.get("inventory_quantity") is not None and tracked:
                payload["storefront_quantity"] = int(variant["inventory_quantity"])
            out.append(
                event(
                    "product.updated",
                    f"sku:{sku}",
                    variant.get("updated_at") or data.get("updated_at"),
                    payload,
                    suffix=f"#{variant.get('id') or sku}",
                )
            )
        return out
    if resource == "inventory_level":
        location = str(need(data, "location_id", "inventory_level"))
        payload = {
            "channel": "shopify",
            "location": locations.get(location, location),
            "available": int(data.get("available") or 0),
            "inventory_item_id": str(need(data, "inventory_item_id", "inventory_level")),
        }
        return [
            event(
                "channel.stock_reported",
                f"stock:shopify:{payload['inventory_item_id']}",
                data.get("updated_at"),
                payload,
            )
        ]
    if resource == "customer":
        customer = _customer(data, data.get("email"), "customer")
        currency = data.get("currency") or "USD"
        spent = data.get("total_spent")
        payload = {
            "customer": customer,
            "total_spent_minor": minor(spent, currency, "customer.total_spent") if spent else None,
            "currency": currency if spent else None,
        }
        return [event("customer.updated", f"customer:shopify:{customer['id']}", data.get("updated_at"), payload)]
    # refunds/create
    order_id = need(data, "order_id", "refund")
    transactions = data.get("transactions") or []
    currency = next((t.get("currency") for t in transactions if t.get("currency")), None) or "USD"
    amount = sum(
        minor(t.get("amount"), currency, "refund.transactions.amount")
        for t in transactions
        if t.get("kind") == "refund"
    )
    return [
        event(
            "refund.created",
            f"order:shopify:{order_id}",
            data.get("created_at"),
            {"order_number": str(order_id), "amount_minor": amount, "currency": currency, "note": data.get("note")},
        )
    ]
