"""The returns desk's judgement after a person has decided: a rejected return stays in the
customer's history, and an approved one is still inspected when it comes back (both found on the
simulator's returns, bench.decision_quality)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from storeops.commands.handoffs import resolve
from storeops.engine.desk import Registry
from tests.integration.test_resolutions import OPS, application
from tests.integration.test_returns_desk import DELIVERED, ask, delivered_order, handoff_of, receive, shop


def test_returns_a_person_rejected_still_count_towards_a_serial_returner(engine: Engine, registry: Registry) -> None:
    # given a customer with four orders whose first two returns a person rejected (every refund is held)
    store = shop(engine, registry, auto_refund_max="10.00", serial_returner_rate=0.5, serial_returner_min_orders=4)
    for n in range(4):
        delivered_order(store, f"760{n}")
    app = application(store)
    for n in range(2):
        found = ask(store, f"760{n}", at=DELIVERED + timedelta(days=1 + n))
        resolve(app, OPS, handoff_of(store, found["rma"])["id"], "reject", changes={"note": "Worn."})  # type: ignore[index]
    # when they ask to return a third order
    third = ask(store, "7602", at=DELIVERED + timedelta(days=4))
    # then three of their four orders have a return: a serial returner
    handoff = handoff_of(store, third["rma"])
    assert handoff is not None
    [pattern] = [p for p in handoff["evidence"]["patterns"] if p["pattern"] == "serial_returner"]
    assert (pattern["orders"], pattern["orders_with_returns"]) == (4, 3)


def test_an_empty_box_goes_to_a_person_even_when_they_approved_the_return(engine: Engine, registry: Registry) -> None:
    # given a return held for its refund and approved by a person
    store = shop(engine, registry, auto_refund_max="10.00")
    delivered_order(store, "7610")
    found = ask(store, "7610", at=DELIVERED + timedelta(days=1))
    resolve(application(store), OPS, handoff_of(store, found["rma"])["id"], "approve")  # type: ignore[index]
    # when its parcel comes back empty
    held = receive(store, found["rma"], "empty")
    # then nothing is refunded: a person looks at the box
    assert held["state"] == "received"
    handoff = handoff_of(store, found["rma"])
    assert handoff is not None and handoff["state"] == "open"
    assert handoff["evidence"]["patterns"] == [{"pattern": "empty_box"}]
