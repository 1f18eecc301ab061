"""Shopify webhooks (Admin REST JSON) → storeops events. Verification lives in ``storefront``.

The same mapping reads a store's existing records for an import (``backfill``): the events then
say so, and the desks record them as the starting state instead of deciding on them as news.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from storeops.connectors import shopify_models as models
from storeops.connectors.storefront import (
    StorefrontModel,
    dedupe_key,
    display_title,
    minor,
    minor_or_none,
    need,
    read,
    required,
    unwrap,
)
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
    "returns/request",
)
_RESOURCE = {
    "orders": "order",
    "products": "product",
    "inventory_levels": "inventory_level",
    "customers": "customer",
    "fulfillments": "fulfillment",
    "refunds": "refund",
    "returns": "return",
}
_MODELS: dict[str, type[StorefrontModel]] = {
    "order": models.Order,
    "product": models.Product,
    "inventory_level": models.InventoryLevel,
    "customer": models.Customer,
    "fulfillment": models.Fulfillment,
    "refund": models.Refund,
    "return": models.Return,
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


def _when(value: datetime | None) -> datetime:
    return value or datetime.now(UTC)


def _address(raw: models.Address | None) -> dict[str, Any] | None:
    if raw is None or not raw.model_fields_set:
        return None
    return {
        "name": raw.name or " ".join(filter(None, [raw.first_name, raw.last_name])) or None,
        "line1": raw.address1,
        "line2": raw.address2 or None,
        "city": raw.city,
        "postal_code": raw.zip,
        "region": raw.province_code or raw.province,
        "country": raw.country_code or raw.country,
        "phone": raw.phone,
    }


def _customer(raw: models.Customer | None, email: str | None, context: str) -> dict[str, Any]:
    if raw is None or raw.id is None:
        if not email:
            raise InvalidInput(
                f"{context}.customer is missing and there is no email to know the buyer by", field=f"{context}.customer"
            )
        return {"id": f"guest:{email.lower()}", "email": email, "tags": []}
    return {
        "id": raw.id,
        "email": raw.email or email,
        "tags": raw.tags or [],
        "created_at": raw.created_at.isoformat() if raw.created_at else None,
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


def _order_payload(order: models.Order, raw: dict[str, Any]) -> dict[str, Any]:
    currency = str(required(order.currency, "order.currency"))
    items = required(order.line_items, "order.line_items")
    lines = []
    for index, item in enumerate(items):
        context = f"order.line_items[{index}]"
        sku = item.sku or (f"shopify-variant-{item.variant_id}" if item.variant_id else None)
        if not sku:
            raise InvalidInput(f"{context}.sku is missing and the line has no variant_id", field=f"{context}.sku")
        lines.append(
            {
                "sku": sku,
                "quantity": required(item.quantity, f"{context}.quantity"),
                "unit_price_minor": minor(item.price, currency, f"{context}.price"),
                "grams": item.grams,
                "title": item.title,
                # what Shopify's own returns name the line by (returns/request)
                "line_item_id": str(item.id) if item.id is not None else None,
            }
        )
    transactions = order.transactions or []
    return {
        "order_number": order_number(raw),
        "customer": _customer(order.customer, order.email, "order"),
        "currency": currency,
        "total_minor": minor(order.total_price, currency, "order.total_price"),
        "lines": lines,
        "shipping_address": _address(order.shipping_address),
        "billing_address": _address(order.billing_address),
        "channel": order.source_name or "web",
        "ip": order.browser_ip or (order.client_details.browser_ip if order.client_details else None),
        "payment_status": order.financial_status,
        "failed_payments": sum(1 for t in transactions if t.status == "failure"),
        "shopify_id": raw.get("id"),
        "storefront_status": storefront_status(raw),
        **_breakdown(order, currency),
    }


def _breakdown(order: models.Order, currency: str) -> dict[str, int]:
    """What besides the lines makes up the order's total, for the orders desk's check that the
    lines add up (``desks.orders.validate.check_totals``). Only when Shopify sent the figures:
    an order without them (a trimmed test body, an old export) is not checked."""
    figures = (order.total_tax, order.total_discounts, order.shipping_lines, order.total_tip_received)
    if all(figure is None for figure in figures):
        return {}
    out = {
        "tax_minor": 0 if order.taxes_included else minor_or_none(order.total_tax, currency, "order.total_tax") or 0,
        "discount_minor": minor_or_none(order.total_discounts, currency, "order.total_discounts") or 0,
        "fees_minor": minor_or_none(order.total_tip_received, currency, "order.total_tip_received") or 0,
        "shipping_minor": 0,
        "shipping_discount_minor": 0,
    }
    for index, line in enumerate(order.shipping_lines or []):
        price = minor_or_none(line.price, currency, f"order.shipping_lines[{index}].price") or 0
        discounted = minor_or_none(line.discounted_price, currency, f"order.shipping_lines[{index}].discounted_price")
        out["shipping_minor"] += price
        out["shipping_discount_minor"] += max(0, price - discounted) if discounted is not None else 0
    return out


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
    parsed = read(_MODELS[resource], data, resource)
    key = delivery_id or dedupe_key(
        topic, identity(topic, data), data.get("updated_at") or data.get("created_at"), data
    )
    locations = locations or {}
    imported = {"backfill": True} if backfill else {}

    def event(kind: str, subject: str, at: datetime | None, payload: dict[str, Any], suffix: str = "") -> NewEvent:
        return NewEvent(
            source=SOURCE,
            external_id=f"{key}{suffix}",
            kind=kind,
            subject=subject,
            occurred_at=_when(at),
            payload={**payload, **imported},
        )

    if isinstance(parsed, models.Order):
        order_id = required(parsed.id, "order.id")
        subject = f"order:shopify:{order_id}"
        if topic in ("orders/create", "orders/updated"):
            kind = "order.created" if topic == "orders/create" else "order.updated"
            return [event(kind, subject, parsed.created_at, _order_payload(parsed, data))]
        number = order_number(data)
        if topic == "orders/cancelled":
            return [
                event(
                    "order.cancelled",
                    subject,
                    parsed.cancelled_at,
                    {"order_number": number, "reason": parsed.cancel_reason},
                )
            ]
        return [event("order.paid", subject, parsed.updated_at, {"order_number": number})]
    if isinstance(parsed, models.Fulfillment):
        order_id = required(parsed.order_id, "fulfillment.order_id")
        status = parsed.shipment_status
        tracking = parsed.tracking_number or parsed.id
        return [
            event(
                "shipment.scanned",
                f"order:shopify:{order_id}",
                parsed.updated_at,
                {
                    "order_number": order_id,
                    "tracking_number": str(required(tracking, "fulfillment.tracking_number")),
                    "status": _SHIPMENT_STATUS.get(status, "in_transit"),
                    "shopify_status": status,
                },
            )
        ]
    if isinstance(parsed, models.Product):
        out = []
        for variant in parsed.variants or []:
            # A variant without a SKU is still sold: it is known by the name its order lines get.
            sku = variant.sku or (f"shopify-variant-{variant.id}" if variant.id else None)
            if not sku:
                continue
            payload: dict[str, Any] = {
                "sku": sku,
                "title": display_title(f"{parsed.title} - {variant.title}"),
                "shopify_product_id": data.get("id"),
            }
            if variant.inventory_item_id:
                payload["channel_items"] = {"shopify": variant.inventory_item_id}
            # The variant's store-wide quantity: an opening figure for a SKU no level has reached
            # yet (a store with one location and no inventory_levels webhooks), never a report.
            tracked = "inventory_management" not in variant.model_fields_set or variant.inventory_management is not None
            if variant.inventory_quantity is not None and tracked:
                payload["storefront_quantity"] = variant.inventory_quantity
            out.append(
                event(
                    "product.updated",
                    f"sku:{sku}",
                    variant.updated_at or parsed.updated_at,
                    payload,
                    suffix=f"#{variant.id or sku}",
                )
            )
        return out
    if isinstance(parsed, models.InventoryLevel):
        location = required(parsed.location_id, "inventory_level.location_id")
        payload = {
            "channel": "shopify",
            "location": locations.get(location, location),
            "available": parsed.available or 0,
            "inventory_item_id": required(parsed.inventory_item_id, "inventory_level.inventory_item_id"),
        }
        return [
            event(
                "channel.stock_reported",
                f"stock:shopify:{payload['inventory_item_id']}",
                parsed.updated_at,
                payload,
            )
        ]
    if isinstance(parsed, models.Customer):
        customer = _customer(parsed, parsed.email, "customer")
        currency = parsed.currency or "USD"
        spent = parsed.total_spent
        payload = {
            "customer": customer,
            "total_spent_minor": minor(spent, currency, "customer.total_spent") if spent else None,
            "currency": currency if spent else None,
        }
        return [event("customer.updated", f"customer:shopify:{customer['id']}", parsed.updated_at, payload)]
    if isinstance(parsed, models.Return):
        return [_return_event(parsed, event)]
    assert isinstance(parsed, models.Refund)
    order_id = required(parsed.order_id, "refund.order_id")
    transactions = parsed.transactions or []
    currency = next((t.currency for t in transactions if t.currency), None) or "USD"
    amount = sum(
        minor(t.amount, currency, f"refund.transactions[{index}].amount")
        for index, t in enumerate(transactions)
        if t.kind == "refund"
    )
    return [
        event(
            "refund.created",
            f"order:shopify:{order_id}",
            parsed.created_at,
            {"order_number": order_id, "amount_minor": amount, "currency": currency, "note": parsed.note},
        )
    ]


_REASON_WORDS = {
    "SIZE_TOO_SMALL": "too small",
    "SIZE_TOO_LARGE": "too large",
    "UNWANTED": "changed my mind, no longer needed",
    "NOT_AS_DESCRIBED": "not as described",
    "WRONG_ITEM": "wrong item sent",
    "DEFECTIVE": "arrived defective",
    "STYLE": "did not like the style",
    "COLOR": "did not like the colour",
    "OTHER": "",
    "UNKNOWN": "",
}


def _return_event(parsed: models.Return, event: Callable[..., NewEvent]) -> NewEvent:
    """A return asked in Shopify's own returns: the lines by their order line ids, the customer's
    words (their note, else Shopify's reason in plain words). Shopify checked who asked."""
    order_id = required(parsed.order.id if parsed.order else None, "return.order.id")
    return_id = required(parsed.id, "return.id")
    lines, words = [], []
    for index, item in enumerate(parsed.return_line_items or []):
        context = f"return.return_line_items[{index}]"
        line_item = item.fulfillment_line_item.line_item if item.fulfillment_line_item else None
        if line_item is None or (line_item.id is None and not line_item.sku):
            raise InvalidInput(f"{context}.fulfillment_line_item.line_item is missing", field=context)
        line: dict[str, Any] = {"quantity": required(item.quantity, f"{context}.quantity")}
        if line_item.sku:
            line["sku"] = line_item.sku
        else:
            line["line_item_id"] = str(line_item.id)
        lines.append(line)
        said = item.customer_note or item.return_reason_note or _REASON_WORDS.get(str(item.return_reason or ""), "")
        if said and said not in words:
            words.append(said)
    if not lines:
        raise InvalidInput("return.return_line_items is empty", field="return.return_line_items")
    rma = f"shopify-{return_id}"
    return event(
        "return.requested",
        f"return:{rma}",
        parsed.created_at,
        {
            "rma": rma,
            "order_number": str(order_id),
            "order_subject": f"order:shopify:{order_id}",
            "lines": lines,
            "reason": " ".join(words)[:5000],
            "channel": "shopify",
        },
    )
