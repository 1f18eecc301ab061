"""The simulated returns: customers ask after delivery, post the parcel once they have a label, and
every injected situation comes with its ground truth."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache

from storeops.engine.events import NewEvent
from storeops.simulate import returns
from storeops.simulate.run import Day, Simulation, simulate
from storeops.simulate.team import OpsTeam
from storeops.simulate.truth import Truth
from storeops.simulate.warehouse import Sent
from tests.unit.test_simulator import request

DAYS = 45  # late returns need a delivery, then more than the 30-day window


def label(event: NewEvent) -> Sent:
    """What storeops sends when it authorizes return ``event``: the prepaid label."""
    rma = event.payload["rma"]
    return Sent("carrier", "label.create", event.subject, {"order": rma}, f"{event.subject}:label", event.occurred_at)


def authorizing_everything(days: list[Day], labels: bool = True) -> Callable[[datetime], Iterable[Sent]]:
    """A stand-in for storeops that fulfils every order and (with ``labels``) authorizes every return."""

    def sent(_until: datetime) -> list[Sent]:
        out = []
        for event, _ in days[-1]:
            if event.kind == "order.created":
                out.append(request(event))
            elif event.kind == "return.requested" and labels:
                out.append(label(event))
        return out

    return sent


def run(days: int, seed: int, labels: bool = True) -> list[Day]:
    out: list[Day] = []
    for day in simulate(days, seed, sent=authorizing_everything(out, labels)):
        out.append(day)
    return out


@cache
def lived(days: int = DAYS, seed: int = 7) -> tuple[tuple[NewEvent, tuple[Truth, ...]], ...]:
    return tuple((event, tuple(truths)) for day in run(days, seed) for event, truths in day)


def returns_fingerprint(days: int, seed: int) -> str:
    digest = hashlib.sha256()
    for day in run(days, seed):
        for event, truths in day:
            if event.subject.startswith("return:"):
                digest.update(event.model_dump_json().encode())
                digest.update(repr(truths).encode())
    return digest.hexdigest()


def test_returns_are_the_same_for_a_seed_and_others_for_another() -> None:
    assert returns_fingerprint(12, 1) == returns_fingerprint(12, 1)
    assert returns_fingerprint(12, 1) != returns_fingerprint(12, 2)


def test_a_share_of_delivered_orders_comes_back_with_every_situation_and_its_truth() -> None:
    events = lived()
    kinds = Counter(event.kind for event, _ in events)
    labels: Counter[str] = Counter()
    patterns: Counter[str] = Counter()
    for event, truths in events:
        if event.subject.startswith("return:"):
            labels.update(t.label for t in truths)
            patterns.update(str(t.detail.get("pattern") or t.detail.get("story")) for t in truths)
    # a realistic share of orders comes back (serial returners included)
    assert 0.06 < kinds["return.requested"] / kinds["order.created"] < 0.16
    for reason in (
        "routine",
        "refund_over_threshold",
        "suspicious_return_pattern",
        "outside_policy",
        "goodwill_request",
    ):
        assert labels[reason] > 0, reason
    for pattern in (
        "honest",
        "late",
        "goodwill",
        "serial_returner",
        "empty_box",
        "item_not_in_order",
        "more_than_bought",
        "wardrobing",
        "damaged_by_customer",
    ):
        assert patterns[pattern] > 0, pattern
    assert labels["routine"] > labels["suspicious_return_pattern"]


def test_a_return_is_asked_after_delivery_and_its_parcel_arrives_after_it_was_asked() -> None:
    delivered: dict[str, datetime] = {}
    asked: dict[str, datetime] = {}
    received = 0
    for event, truths in lived():
        if event.kind == "shipment.scanned" and event.payload["status"] == "delivered":
            delivered[event.payload["order_number"]] = event.occurred_at
        elif event.kind == "return.requested":
            number = event.payload["order_number"]
            assert event.subject == f"return:{event.payload['rma']}"
            assert event.occurred_at > delivered[number], number
            # the window's truth is the world's own delivery scan, the one storeops sees
            late = event.occurred_at > delivered[number] + timedelta(days=30)
            assert late == any(t.label == "outside_policy" for t in truths), event.payload["rma"]
            asked[event.subject] = event.occurred_at
        elif event.kind == "return.received":
            assert event.occurred_at > asked[event.subject]
            received += 1
    assert received > 0.8 * len(asked)


def test_no_parcel_comes_back_without_the_label_storeops_sends() -> None:
    events = [event for day in run(20, 7, labels=False) for event, _ in day]
    assert any(event.kind == "return.requested" for event in events)
    assert not any(event.kind == "return.received" for event in events)


def test_lines_are_the_orders_but_for_the_injected_swaps_and_extra_units() -> None:
    bought: dict[str, Counter[str]] = {}
    customers: Counter[str] = Counter()
    for event, truths in lived():
        if event.kind == "order.created":
            units: Counter[str] = Counter()
            for line in event.payload["lines"]:
                units[line["sku"]] += line["quantity"]
            bought[event.payload["order_number"]] = units
            customers[event.payload["customer"]["email"]] += 1
        elif event.kind == "return.requested":
            payload = event.payload
            injected = {t.detail.get("pattern") for t in truths}
            units = bought[payload["order_number"]]
            if "item_not_in_order" in injected:
                assert any(line["sku"] not in units for line in payload["lines"])
            elif "more_than_bought" in injected:
                assert any(line["quantity"] > units[line["sku"]] for line in payload["lines"])
            else:
                assert all(0 < line["quantity"] <= units[line["sku"]] for line in payload["lines"])
            if "serial_returner" in injected:
                # judged on the orders the customer had placed by then
                assert customers[payload["customer_email"]] >= 4


def test_the_simulated_team_rejects_suspicious_and_late_returns_and_grants_goodwill() -> None:
    simulation = Simulation(seed=1)
    team = OpsTeam(simulation)
    cases = {
        "return:a": {"routine"},
        "return:b": {"refund_over_threshold"},
        "return:c": {"suspicious_return_pattern", "refund_over_threshold"},
        "return:d": {"outside_policy"},
        "return:e": {"outside_policy", "goodwill_request"},
    }
    simulation.labels.update(cases)
    decided = {subject: team._decide_return(subject)[0] for subject in cases}
    assert decided == {
        "return:a": "approve",
        "return:b": "approve",
        "return:c": "reject",
        "return:d": "reject",
        "return:e": "approve",
    }


def test_a_parcel_as_good_as_new_goes_back_on_the_shelf_it_was_sent_to_and_an_empty_box_does_not() -> None:
    world = Simulation(seed=2).world
    sku = world.products[0].sku
    day = world.start + timedelta(days=20)
    for number, condition in (("2-1", "opened"), ("2-2", "empty")):
        world.orders[number] = {"customer": "2-1", "lines": [{"sku": sku, "quantity": 2, "unit_price_minor": 990}]}
        world.returns[f"R-SIM{number}"] = {
            "rma": f"R-SIM{number}",
            "order": number,
            "lines": [{"sku": sku, "quantity": 3}],  # one more than they bought: the box holds two
            "condition": condition,
            "category": "size_fit",
            "delivered": day - timedelta(days=5),
            "ask_at": day - timedelta(days=2),
        }
    before = {warehouse: world.stock[(sku, warehouse)] for warehouse in world.warehouses}
    [(opened, _)] = returns.parcel_back(world, "return:R-SIM2-1", day, "WH-BERLIN")
    assert returns.parcel_back(world, "return:R-SIM2-1", day, "WH-BERLIN") == []  # the label came twice
    [(empty, [truth])] = returns.parcel_back(world, "return:R-SIM2-2", day)
    assert empty.payload == {"rma": "R-SIM2-2", "condition": "empty", "note": "The box was empty."}
    assert opened.payload == {"rma": "R-SIM2-1", "condition": "opened"} and opened.occurred_at > day
    assert truth.label == "suspicious_return_pattern" and truth.detail == {"pattern": "empty_box"}
    assert world.stock[(sku, "WH-BERLIN")] == before["WH-BERLIN"] + 2
    assert world.stock[(sku, "WH-PARIS")] == before["WH-PARIS"]
    assert world.on_shelf((sku, "WH-BERLIN"), day) == before["WH-BERLIN"]  # not there before it arrives
