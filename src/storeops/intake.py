"""Taking in storefront payloads: map them to events, validate every one, store them together.

Shared by the webhook endpoints and ``storeops ingest shopify|woocommerce`` so both run the same
path; only the webhook checks a signature. Nothing is stored unless every event is valid.
"""

from __future__ import annotations

from typing import Any

from storeops.bootstrap import App
from storeops.connectors import shopify, woocommerce
from storeops.desks.orders.policy import OrdersPolicy
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.queue import IngestResult, ingest
from storeops.errors import InvalidInput

SOURCES = ("shopify", "woocommerce")


def storefront_events(app: App, source: str, topic: str | None, body: Any, delivery_id: str | None) -> list[NewEvent]:
    """The validated events of one storefront payload; InvalidInput names what is wrong."""
    if not topic:
        raise InvalidInput("the webhook topic is missing (X-Shopify-Topic / X-WC-Webhook-Topic)", field="topic")
    if source == "shopify":
        locations = (
            app.policy.section("orders", OrdersPolicy).shopify_locations if "orders" in app.policy.sections else {}
        )
        mapped = shopify.to_events(topic, body, delivery_id, locations)
    elif source == "woocommerce":
        mapped = woocommerce.to_events(topic, body, delivery_id)
    else:
        raise InvalidInput(f"unknown storefront {source!r}; storeops reads {', '.join(SOURCES)}", field="source")
    return [parse_new_event(event.model_dump(mode="json"), app.registry.payload_models) for event in mapped]


def take_in(app: App, events: list[NewEvent]) -> IngestResult:
    """Store ``events`` in one transaction (duplicates acknowledged)."""
    with app.engine.begin() as conn:
        return ingest(conn, events)
