"""The simulated warehouse, carrier and storefront back end: they act on what storeops sent them.

The loop closes here. An order ships only when storeops has sent its warehouse a
``fulfilment.request`` (an order it holds waits for a person's approval, one it rejects never
ships); the warehouse picks it the next day, and the carrier's tracking scans follow with the
fates a real parcel meets. A ``fulfilment.cancel`` that arrives before the pick stops it; an
``order.cancel`` sent to the storefront puts the order's units back on sale. A customer sends a
return back only once storeops has sent them its prepaid label (``label.create``): the parcel
reaches the warehouse the label names (else the first), which inspects it and puts what it can
sell again back on the shelf (``simulate.returns``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storeops.engine.events import NewEvent
from storeops.simulate import returns
from storeops.simulate.truth import Truth
from storeops.simulate.world import World

LISTENS_TO = {
    ("warehouse", "fulfilment.request"),
    ("warehouse", "fulfilment.cancel"),
    ("storefront", "order.cancel"),
    ("carrier", "label.create"),
}
"""The (connector, action) pairs of storeops' outbox the simulated outside world acts on."""


@dataclass(frozen=True)
class Sent:
    """One message storeops sent to the simulated store's outside world."""

    connector: str
    action: str
    subject: str
    """The order it is about (``order:sim:<number>``), or the return (``return:<rma>``)."""
    payload: dict[str, Any]
    key: str
    """Its idempotency key: a message delivered twice is acted on once."""
    at: datetime
    """When storeops sent it: the time of the event it decided (an order placed, a person's approval)."""


def receive(world: World, messages: list[Sent]) -> None:
    """Take in messages storeops sent; each is acted on at the start of the day after it was sent."""
    for message in messages:
        if message.key not in world.received and (message.connector, message.action) in LISTENS_TO:
            world.received.add(message.key)
            world.sent.append(message)
    world.sent.sort(key=lambda m: (m.at, m.key))


def day_events(world: World, day: datetime) -> list[tuple[NewEvent, list[Truth]]]:
    """The day's work of the warehouse and the carrier: every order storeops sent before today is
    picked (unless cancelled meanwhile) and its parcels' scans follow, today and after."""
    due = [m for m in world.sent if m.at < day]
    world.sent = [m for m in world.sent if m.at >= day]
    for message in due:
        number = _number(message.subject)
        if message.action == "order.cancel":
            world.release(number)  # the storefront sells its units again
        elif message.action == "fulfilment.cancel":
            world.stopped.add(number)
    out: list[tuple[NewEvent, list[Truth]]] = []
    for message in due:
        if message.action == "fulfilment.request" and _number(message.subject) not in world.stopped:
            out.extend(_ship(world, message, day))
        elif message.action == "label.create":
            # The label names the store's returns location when it has one (else: its first warehouse).
            to = str((message.payload.get("ship_to") or {}).get("line1") or "")
            out.extend(returns.parcel_back(world, message.subject, day, to if to in world.warehouses else None))
    return out


def _number(subject: str) -> str:
    return subject.removeprefix("order:sim:")


def _ship(world: World, request: Sent, day: datetime) -> list[tuple[NewEvent, list[Truth]]]:
    """Pick one parcel and hand it to the carrier; its scans, with the parcel's fate as truth.

    The parcel's own random stream (seeded by the request's idempotency key) draws its times and
    fate, so what happens to one order never shifts what happens to another."""
    rng = random.Random(f"{world.seed}:{request.key}")
    subject = request.subject
    world.release(_number(subject))
    handed_over = day + timedelta(hours=8, minutes=rng.randint(0, 180))
    picked = handed_over + timedelta(hours=5)  # the carrier collects: units leave the shelf
    warehouse = str(request.payload.get("warehouse"))
    units: dict[str, int] = {}
    for line in request.payload.get("lines") or []:
        key = (str(line["sku"]), warehouse)
        # A warehouse cannot pick what is not there (shrinkage nobody recorded): it sends less.
        quantity = min(int(line["quantity"]), max(0, world.stock.get(key, 0)))
        if quantity:
            world.happens(key, picked, -quantity)
            units[key[0]] = units.get(key[0], 0) + quantity
    scans: list[tuple[str, datetime]] = [("label_created", handed_over), ("in_transit", picked)]
    fate = rng.random()
    truth: list[Truth] = []
    if fate < 0.03:
        scans.append(("exception", picked + timedelta(days=1)))
        truth = [Truth(subject, "shipping_irregularity", {"scan": "exception"})]
    elif fate < 0.04:
        scans.append(("returned_to_sender", picked + timedelta(days=3)))
        truth = [Truth(subject, "shipping_irregularity", {"scan": "returned_to_sender"})]
    elif fate < 0.06:
        truth = [Truth(subject, "shipping_irregularity", {"scan": "stale"})]
    else:
        scans.append(("out_for_delivery", picked + timedelta(hours=21)))
        scans.append(("delivered", picked + timedelta(days=1, hours=1)))
    tracking = str(request.payload.get("tracking_number"))
    number = str(request.payload.get("order") or _number(subject))
    world.parcels.setdefault(_number(subject), []).append(
        (units, scans[-1][1] if scans[-1][0] == "delivered" else None)
    )
    events = []
    for index, (status, when) in enumerate(scans):
        payload = {"order_number": number, "tracking_number": tracking, "status": status}
        event = world.event(
            "shipment.scanned", subject, when, payload, external_id=f"sim-{world.seed}-scan-{tracking}-{status}"
        )
        events.append((event, truth if index == len(scans) - 1 else []))
    return events


__all__ = ["LISTENS_TO", "Sent", "day_events", "receive"]
