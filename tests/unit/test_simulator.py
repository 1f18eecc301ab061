from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent, parse_new_event
from storeops.simulate.run import Day, Simulation, simulate
from storeops.simulate.warehouse import Sent


def request(event: NewEvent, at: datetime | None = None) -> Sent:
    """What storeops sends the warehouse when it fulfils ``event``'s order (one parcel)."""
    number = event.payload["order_number"]
    return Sent(
        connector="warehouse",
        action="fulfilment.request",
        subject=event.subject,
        payload={
            "order": number,
            "subject": event.subject,
            "warehouse": "WH-PARIS",
            "carrier": "colis",
            "tracking_number": f"COL{number}",
            "lines": event.payload["lines"],
        },
        key=f"{event.subject}:pick:0",
        at=at or event.occurred_at,
    )


def fulfilling_everything(days: list[Day]) -> Callable[[datetime], Iterable[Sent]]:
    """A stand-in for storeops that sends every order of the last day to the warehouse."""

    def sent(_until: datetime) -> list[Sent]:
        return [request(event) for event, _ in days[-1] if event.kind == "order.created"]

    return sent


def run(days: int, seed: int) -> list[Day]:
    out: list[Day] = []
    for day in simulate(days, seed, sent=fulfilling_everything(out)):
        out.append(day)
    return out


def fingerprint(days: int, seed: int) -> tuple[str, Counter[str], Counter[str]]:
    digest = hashlib.sha256()
    kinds: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    for day in run(days, seed):
        for event, truths in day:
            digest.update(event.model_dump_json().encode())
            kinds[event.kind] += 1
            labels.update(t.label for t in truths)
    return digest.hexdigest(), kinds, labels


def test_same_seed_same_store_other_seed_other_store() -> None:
    assert fingerprint(5, 1)[0] == fingerprint(5, 1)[0]
    assert fingerprint(5, 1)[0] != fingerprint(5, 2)[0]


def test_every_simulated_event_is_a_valid_defined_event_in_time_order() -> None:
    models = Registry(builtin_desks()).payload_models
    previous = None
    for day in run(10, 3):
        for event, _ in day:
            parse_new_event(event.model_dump(mode="json"), models)
            assert previous is None or event.occurred_at >= previous
            previous = event.occurred_at


def test_thirty_days_inject_every_situation_each_desk_must_catch() -> None:
    _, kinds, labels = fingerprint(30, 7)
    assert {"order.created", "order.paid", "shipment.scanned", "ticket.message_received", "stock.counted"} <= set(kinds)
    for label in (
        "order_value_over_threshold",
        "fraud_signal",
        "repeated_address_mismatch",
        "shipping_irregularity",
        "negative_sentiment",
        "multi_issue",
        "vip_customer",
        "sensitive_topic",
        "asked_for_human",
        "stock_anomaly",
        "new_sku",
        "supplier_change",
    ):
        assert labels[label] > 0, label
    assert labels["routine"] > sum(v for k, v in labels.items() if k != "routine")


def scans(days: Iterable[Day]) -> dict[str, list[tuple[datetime, str]]]:
    out: dict[str, list[tuple[datetime, str]]] = {}
    for day in days:
        for event, _ in day:
            if event.kind == "shipment.scanned":
                out.setdefault(event.subject, []).append((event.occurred_at, event.payload["status"]))
    return out


def test_nothing_ships_that_storeops_did_not_send_to_the_warehouse() -> None:
    # given a store where nothing decides (a file of events, or a queue no worker reads)
    days = list(simulate(5, 3))
    # then orders are placed but none is picked or scanned
    assert any(event.kind == "order.created" for day in days for event, _ in day)
    assert scans(days) == {}


def test_an_order_ships_the_day_after_storeops_sends_it_and_a_held_one_waits_for_its_approval() -> None:
    simulation = Simulation(seed=4)
    simulation.backfill()
    first = simulation.day(0)
    placed = [event for event, _ in first if event.kind == "order.created"]
    sent_at_once, held, rejected, stopped = placed[0], placed[1], placed[2], placed[3]
    # storeops fulfils one order at once, holds two and sends one then cancels it
    simulation.receive(
        [
            request(sent_at_once),
            request(stopped),
            Sent("warehouse", "fulfilment.cancel", stopped.subject, {"order": "x"}, "cancel-1", stopped.occurred_at),
            Sent("storefront", "order.cancel", rejected.subject, {"order": "x"}, "cancel-2", rejected.occurred_at),
        ]
    )
    second = simulation.day(1)
    shipped = scans([second])
    # then only the order sent (and not cancelled) is picked and scanned, on the next day
    assert set(shipped) == {sent_at_once.subject}
    assert [status for _, status in shipped[sent_at_once.subject]][:2] == ["label_created", "in_transit"]
    assert min(shipped[sent_at_once.subject])[0] >= simulation.start + timedelta(days=1)
    # when a person approves the held order on day 3 (storeops sends it then, twice: at least once)
    simulation.day(2)
    approved_at = simulation.start + timedelta(days=2, hours=15)
    simulation.receive([request(held, approved_at), request(held, approved_at)])
    later = [simulation.day(3), simulation.day(4), simulation.day(5)]
    shipped = scans(later)
    # then it ships from the next day, once; the rejected and cancelled orders never do
    assert held.subject in shipped and min(shipped[held.subject])[0] > approved_at
    assert Counter(status for _, status in shipped[held.subject])["label_created"] == 1
    assert rejected.subject not in shipped and stopped.subject not in shipped


def test_a_picked_order_leaves_the_shelf_of_the_warehouse_storeops_chose() -> None:
    simulation = Simulation(seed=4)
    simulation.backfill()
    [order] = [event for event, _ in simulation.day(0) if event.kind == "order.created"][:1]
    line = order.payload["lines"][0]
    key = (line["sku"], "WH-PARIS")
    before = simulation.world.stock[key]
    simulation.receive([request(order)])
    simulation.day(1)
    assert simulation.world.stock[key] == before - sum(
        x["quantity"] for x in order.payload["lines"] if x["sku"] == line["sku"]
    )


def ids(days: Iterable[Day]) -> tuple[set[str], set[str], set[str], set[str]]:
    subjects, numbers, customers, external = set(), set(), set(), set()
    for day in days:
        for event, _ in day:
            external.add(event.external_id)
            if not event.subject.startswith("sku:"):
                subjects.add(event.subject)
            if event.kind == "order.created":
                numbers.add(event.payload["order_number"])
                customers.add(event.payload["customer"]["email"])
            if event.kind == "customer.updated":
                customers.add(event.payload["customer"]["id"])
    return subjects, numbers, customers, external


def test_two_seeds_share_no_order_customer_ticket_or_event_id() -> None:
    seven, eight = ids(run(3, 7)), ids(run(3, 8))
    for ours, theirs in zip(seven, eight, strict=True):
        assert ours and theirs and not ours & theirs
