from __future__ import annotations

import hashlib
from collections import Counter

from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.events import parse_new_event
from storeops.simulate.run import simulate


def fingerprint(days: int, seed: int) -> tuple[str, Counter[str], Counter[str]]:
    digest = hashlib.sha256()
    kinds: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    for day in simulate(days, seed):
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
    for day in simulate(10, 3):
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
