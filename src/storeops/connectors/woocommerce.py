"""WooCommerce webhooks (REST API v3 JSON) → storeops events; with ``backfill``, a store's existing
records read as the starting state of an import (see ``shopify``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storeops.connectors import woocommerce_models as models
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


_MODELS: dict[str, type[StorefrontModel]] = {
    "order": models.Order,
    "product": models.Product,
    "customer": models.Customer,
}


def _when(gmt: datetime | None) -> datetime:
    """WooCommerce sends ``*_gmt`` times without an offset; the model reads them as UTC."""
    return gmt or datetime.now(UTC)


def _address(raw: models.Address | None) -> dict[str, Any] | None:
    if raw is None or not any((raw.address_1, raw.city, raw.country)):
        return None
    return {
        "name": " ".join(filter(None, [raw.first_name, raw.last_name])) or None,
        "line1": raw.address_1,
        "line2": raw.address_2 or None,
        "city": raw.city,
        "postal_code": raw.postcode,
        "region": raw.state,
        "country": raw.country,
        "phone": raw.phone or None,
    }


def to_events(topic: str, body: Any, delivery_id: str | None, *, backfill: bool = False) -> list[NewEvent]:
    """The storeops events of one WooCommerce webhook (``delivery_id``: X-WC-Webhook-Delivery-ID;
    without it, the resource's id, modification time and a digest of the body)."""
    if topic not in TOPICS:
        raise InvalidInput(f"unsupported WooCommerce topic {topic!r}; supported: {', '.join(TOPICS)}", field="topic")
    resource = topic.split(".")[0]
    data = unwrap(body, resource)
    parsed = read(_MODELS[resource], data, resource)
    key = delivery_id or dedupe_key(topic, str(need(data, "id", resource)), data.get("date_modified_gmt"), data)
    imported = {"backfill": True} if backfill else {}
    if isinstance(parsed, models.Customer):
        return [_customer_event(parsed, key, imported)]
    if isinstance(parsed, models.Product):
        # A product without a SKU is still one the store sells: it is known by the same name its
        # order lines get (see the order mapping below).
        product_id = required(parsed.id, "product.id")
        sku = parsed.sku or f"woocommerce-product-{product_id}"
        payload = {
            "sku": sku,
            "title": display_title(parsed.name),
            "woocommerce_product_id": data.get("id"),
            **imported,
        }
        when = _when(parsed.date_modified_gmt)
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
        if parsed.manage_stock and parsed.stock_quantity is not None:
            # WooCommerce keeps one figure per product; "*" lets the inventory desk map it to the
            # ledger location of [inventory] channel_locations. Its subject is the product's stock,
            # not the SKU, so an order queued after it is never decided before it (a second event
            # of the SKU's subject would wait behind the product event for the next batch).
            stock = {
                "channel": SOURCE,
                "location": "*",
                "available": parsed.stock_quantity,
                "sku": sku,
                **imported,
            }
            out.append(
                NewEvent(
                    source=SOURCE,
                    external_id=f"{key}#stock",
                    kind="channel.stock_reported",
                    subject=f"stock:{SOURCE}:{product_id}",
                    occurred_at=when,
                    payload=stock,
                )
            )
        return out
    assert isinstance(parsed, models.Order)
    order_id = required(parsed.id, "order.id")
    subject = f"order:woocommerce:{order_id}"
    status = parsed.status
    when = _when(parsed.date_created_gmt)
    if status in ("cancelled", "failed") and topic == "order.updated" and not backfill:
        return [
            NewEvent(
                source=SOURCE,
                external_id=key,
                kind="order.cancelled",
                subject=subject,
                occurred_at=_when(parsed.date_modified_gmt),
                payload={"order_number": order_id, "reason": status, **imported},
            )
        ]
    currency = str(required(parsed.currency, "order.currency"))
    billing = parsed.billing or models.Address()
    lines = []
    for index, item in enumerate(required(parsed.line_items, "order.line_items")):
        context = f"order.line_items[{index}]"
        quantity = required(item.quantity, f"{context}.quantity")
        sku = item.sku or f"woocommerce-product-{item.variation_id or item.product_id}"
        total = minor(item.total, currency, f"{context}.total")
        lines.append(
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price_minor": total // quantity,
                # the exact line total (after the line's discounts): the unit price above is rounded down
                "total_minor": total,
                "title": item.name,
            }
        )
    customer_id = parsed.customer_id
    email = billing.email or ""
    if not customer_id and not email:
        raise InvalidInput(
            "order.billing.email is missing for a guest order (customer_id 0)", field="order.billing.email"
        )
    payload = {
        "order_number": parsed.number or order_id,
        "customer": {"id": customer_id or f"guest:{email.lower()}", "email": email, "tags": []},
        "currency": currency,
        "total_minor": minor(parsed.total, currency, "order.total"),
        "lines": lines,
        "shipping_address": _address(parsed.shipping),
        "billing_address": _address(billing),
        "channel": "woocommerce",
        "ip": parsed.customer_ip_address or None,
        "payment_status": "paid" if parsed.date_paid_gmt else (status or "pending"),
        "woocommerce_id": data.get("id"),
        "storefront_status": _STATUS.get(str(status), "open"),
        **_breakdown(parsed, currency),
        **imported,
    }
    kind = "order.created" if topic == "order.created" else "order.updated"
    order_event = NewEvent(
        source=SOURCE, external_id=key, kind=kind, subject=subject, occurred_at=when, payload=payload
    )
    return [order_event, *_refund_events(parsed, subject, currency, imported)]


def _refund_events(order: models.Order, subject: str, currency: str, imported: dict[str, Any]) -> list[NewEvent]:
    """The order's refunds (WooCommerce has no refund webhook: they ride on the order). Each is
    keyed by its own id, so an order sent again after more refunds stores only the new ones."""
    out = []
    order_id = required(order.id, "order.id")
    for index, refund in enumerate(order.refunds or []):
        context = f"order.refunds[{index}]"
        refund_id = required(refund.id, f"{context}.id")
        total = str(required(refund.total, f"{context}.total")).strip().removeprefix("-")
        amount = minor(total, currency, f"{context}.total")
        out.append(
            NewEvent(
                source=SOURCE,
                external_id=f"refund:{order_id}:{refund_id}",
                kind="refund.created",
                subject=subject,
                occurred_at=_when(order.date_modified_gmt),
                payload={
                    "order_number": str(order.number or order_id),
                    "amount_minor": amount,
                    "currency": currency,
                    "note": refund.reason or None,
                    **imported,
                },
            )
        )
    return out


def _breakdown(order: models.Order, currency: str) -> dict[str, int]:
    """What besides the lines makes up the order's total, for the orders desk's check that the
    lines add up. WooCommerce's line totals are already after discounts (its ``discount_total``
    is in them), so no discount is taken off again; fees may be negative (a discount as a fee)."""
    if order.shipping_total is None and order.total_tax is None and order.fee_lines is None:
        return {}
    fees = sum(
        minor_or_none(fee.total, currency, f"order.fee_lines[{index}].total") or 0
        for index, fee in enumerate(order.fee_lines or [])
    )
    return {
        "shipping_minor": minor_or_none(order.shipping_total, currency, "order.shipping_total") or 0,
        "tax_minor": minor_or_none(order.total_tax, currency, "order.total_tax") or 0,
        "discount_minor": 0,
        "fees_minor": fees,
    }


def _customer_event(data: models.Customer, key: str, imported: dict[str, Any]) -> NewEvent:
    """A WooCommerce customer (REST v3 ``customer``): who they are and when they signed up."""
    customer_id = required(data.id, "customer.id")
    email = data.email or (data.billing.email if data.billing else None)
    signed_up = data.date_created_gmt
    payload = {
        "customer": {
            "id": customer_id,
            "email": email or None,
            "tags": [data.role] if data.role and data.role != "customer" else [],
            "created_at": signed_up.isoformat() if signed_up else None,
        },
        **imported,
    }
    return NewEvent(
        source=SOURCE,
        external_id=key,
        kind="customer.updated",
        subject=f"customer:{SOURCE}:{customer_id}",
        occurred_at=_when(data.date_modified_gmt or signed_up),
        payload=payload,
    )
