from __future__ import annotations

from typing import Any

import pytest

from storeops.desks import builtin_desks
from storeops.engine.desk import Desk, Registry
from storeops.engine.events import Payload, parse_new_event
from storeops.errors import InvalidInput, StoreopsError, UnknownEventKind

MODELS = Registry(builtin_desks()).payload_models


def raw(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "source": "shop",
        "external_id": "ev-1",
        "kind": "stock.counted",
        "subject": "sku:TSHIRT-M",
        "occurred_at": "2026-02-01T10:00:00+01:00",
        "payload": {"sku": "TSHIRT-M", "location": "WH-1", "counted": 4, "bin": "A-3"},
    }
    event.update(overrides)
    return event


def test_a_valid_event_is_normalised_and_keeps_unknown_payload_fields() -> None:
    event = parse_new_event(raw(), MODELS)
    assert event.occurred_at.isoformat() == "2026-02-01T09:00:00+00:00"
    assert event.payload == {"sku": "TSHIRT-M", "location": "WH-1", "counted": 4, "bin": "A-3", "backfill": False}


@pytest.mark.parametrize(
    ("overrides", "message", "field"),
    [
        ({"kind": "stock.teleported"}, "unknown event kind 'stock.teleported'", "kind"),
        ({"subject": "TSHIRT-M"}, "subject: Value error, must look like 'type:id'", "subject"),
        ({"occurred_at": "2026-02-01T10:00:00"}, "occurred_at: Value error, timestamp has no timezone", "occurred_at"),
        ({"external_id": ""}, "external_id: String should have at least 1 character", "external_id"),
        (
            {"payload": {"sku": "X", "location": "W"}},
            "stock.counted: payload.counted: Field required",
            "payload.counted",
        ),
        (
            {"payload": {"sku": "X", "location": "W", "counted": -1}},
            "payload.counted: Input should be greater",
            "payload.counted",
        ),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted", "surprise"),
    ],
)
def test_bad_events_are_refused_naming_the_field(overrides: dict[str, Any], message: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_new_event(raw(**overrides), MODELS)
    assert message in caught.value.message
    assert caught.value.field == field


def test_unknown_kind_is_its_own_error_type() -> None:
    with pytest.raises(UnknownEventKind):
        parse_new_event(raw(kind="nope.nope"), MODELS)


def test_an_event_must_be_an_object() -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object, got list"):
        parse_new_event([1, 2], MODELS)


def test_registry_refuses_a_kind_defined_twice_and_subscriptions_to_undefined_kinds() -> None:
    class Thing(Payload):
        pass

    a = Desk(name="a", kinds={"thing.happened": Thing})
    b = Desk(name="b", kinds={"thing.happened": Thing})
    with pytest.raises(StoreopsError, match="defined twice"):
        Registry([a, b])
    c = Desk(name="c", kinds={}, handlers={"thing.happened": lambda e, ctx: None})
    with pytest.raises(StoreopsError, match="which no desk defines"):
        Registry([c])
    # subscribing to a kind another desk defines is what fan-out is for
    assert Registry([a, c]).subscribers("thing.happened", {}) == [("c", True)]
    assert Registry([a]).subscribers("thing.happened", {}) == [("a", False)]
    with pytest.raises(StoreopsError, match="two desks are named"):
        Registry([a, Desk(name="a", kinds={})])
