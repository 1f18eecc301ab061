"""Taking in storefront payloads: map them to events, validate every one, store them together.

Shared by the webhook endpoints and ``storeops ingest shopify|woocommerce`` so both run the same
path; only the webhook checks a signature. Nothing is stored unless every event is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError

from storeops import untrusted
from storeops.bootstrap import App
from storeops.connectors import shopify, woocommerce
from storeops.desks.orders.policy import OrdersPolicy
from storeops.engine.events import NewEvent, describe_validation_error, parse_new_event
from storeops.engine.queue import IngestResult, ingest
from storeops.errors import InvalidInput

SOURCES = ("shopify", "woocommerce")
MAX_DELIVERY_ID = 200
"""The longest webhook delivery id accepted (Shopify and WooCommerce send UUIDs or numbers); it
is the events' dedupe key, with a suffix per variant."""
IMPORT_CHUNK = 1000
"""Events stored per transaction by an import: big enough to be fast, small enough that a
SQLite worker running beside the import is never kept waiting long."""


def storefront_events(
    app: App, source: str, topic: str | None, body: Any, delivery_id: str | None, *, backfill: bool = False
) -> list[NewEvent]:
    """The validated events of one storefront payload; InvalidInput names what is wrong.

    ``backfill`` reads the payload as part of importing the store's existing records: the desks
    record it as the starting state (no new-SKU or anomaly handoffs, no labels for what the
    storefront already fulfilled) instead of deciding on it as news."""
    if not topic:
        raise InvalidInput("the webhook topic is missing (X-Shopify-Topic / X-WC-Webhook-Topic)", field="topic")
    if delivery_id is not None and not 0 < len(delivery_id) <= MAX_DELIVERY_ID:
        raise InvalidInput(
            f"the delivery id (X-Shopify-Webhook-Id / X-WC-Webhook-Delivery-ID) has {len(delivery_id)} characters; "
            f"1 to {MAX_DELIVERY_ID} are accepted",
            field="delivery_id",
        )
    body = untrusted.clean(body, finite=False)  # a model refuses NaN where it reads a number, naming it
    try:
        if source == "shopify":
            locations = (
                app.policy.section("orders", OrdersPolicy).shopify_locations if "orders" in app.policy.sections else {}
            )
            mapped = shopify.to_events(topic, body, delivery_id, locations, backfill=backfill)
        elif source == "woocommerce":
            mapped = woocommerce.to_events(topic, body, delivery_id, backfill=backfill)
        else:
            raise InvalidInput(f"unknown storefront {source!r}; storeops reads {', '.join(SOURCES)}", field="source")
    except ValidationError as exc:
        # The models bound every field the mapping reads; an event the mapping still could not
        # build (its subject, its key) is the payload's fault all the same: a 400, never a 500.
        message, field = describe_validation_error(exc)
        raise InvalidInput(
            f"the {source} {topic} payload makes an event that is not valid: {message}", field=field
        ) from None
    return [parse_new_event(event.model_dump(mode="json"), app.registry.payload_models) for event in mapped]


def take_in(app: App, events: list[NewEvent]) -> IngestResult:
    """Store ``events`` in one transaction (duplicates acknowledged)."""
    with app.engine.begin() as conn:
        return ingest(conn, events, routes=app.registry)


def resources(raw: bytes, topic: str) -> Iterator[tuple[str, Any]]:
    """The resources in a storefront file, each with where it sits (``line 3``, ``[12]``, ``file``).

    A file holds one webhook body or REST response (``{"product": {…}}``), a REST list
    (``{"products": [...]}``, as ``GET /products.json`` gives it), a JSON array of bodies, or JSON
    lines with one body a line (as exports stream them)."""
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        whole = untrusted.loads(text)
    except untrusted.NotJson:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise
        yield from _json_lines(text)
        return
    listed = _listed(whole, topic)
    if listed is None:
        yield "file", whole
        return
    for index, item in enumerate(listed):
        yield f"[{index}]", item


def _listed(whole: Any, topic: str) -> list[Any] | None:
    if isinstance(whole, list):
        return whole
    if isinstance(whole, dict) and len(whole) == 1:
        ((key, value),) = whole.items()
        plural = topic.replace(".", "/").split("/")[0]
        if isinstance(value, list) and key in (plural, f"{plural}s", f"{plural.rstrip('s')}s"):
            return value
    return None


def _json_lines(text: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            body = untrusted.loads(line)
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc.message}", field=exc.field) from None
        yield f"line {number}", body


def storefront_file_events(
    app: App,
    source: str,
    topic: str | None,
    raw: bytes,
    *,
    backfill: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[NewEvent]:
    """Every event of a storefront file (see ``resources``), all validated before any is stored:
    the first bad resource is named by its place in the file and nothing is returned."""
    out: list[NewEvent] = []
    for place, body in resources(raw, topic or ""):
        try:
            out.extend(storefront_events(app, source, topic, body, None, backfill=backfill))
        except InvalidInput as exc:
            where = "" if place == "file" else f"{place}: "
            raise InvalidInput(f"{where}{exc.message}", field=exc.field) from None
        if progress is not None:
            progress(1)
    return out


def store_in_chunks(app: App, events: list[NewEvent], *, progress: Callable[[int], None] | None = None) -> IngestResult:
    """Store validated ``events`` ``IMPORT_CHUNK`` at a time. An interrupted import stored whole
    chunks only, and running it again stores the rest (every event has its dedupe key)."""
    ids: list[int] = []
    duplicates = 0
    for start in range(0, len(events), IMPORT_CHUNK):
        chunk = events[start : start + IMPORT_CHUNK]
        result = take_in(app, chunk)
        ids += result.ids
        duplicates += result.duplicates
        if progress is not None:
            progress(len(chunk))
    return IngestResult(ids=ids, duplicates=duplicates)
