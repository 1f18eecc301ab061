"""Storefront payloads → events: every topic's dedupe key comes from the resource's own identity,
so two different reports never share a key, and the same report sent twice keeps its key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from storeops.connectors import shopify, woocommerce
from storeops.errors import InvalidInput
from storeops.intake import resources

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def shopify_fixture(name: str) -> Any:
    return json.loads((FIXTURES / "shopify" / name).read_text())


ORDER = shopify_fixture("order.json")["order"]
PRODUCT = shopify_fixture("product.json")["product"]
LEVEL = shopify_fixture("inventory_level.json")["inventory_level"]
CUSTOMER = shopify_fixture("customer.json")["customer"]
FULFILLMENT = shopify_fixture("fulfillment.json")["fulfillment"]
REFUND = shopify_fixture("refund.json")["refund"]
RETURN = json.loads((FIXTURES / "returns" / "shopify_return_request.json").read_text())

# topic → (a body, how to make a different resource reported at the same moment)
SHOPIFY_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "orders/create": (ORDER, {"id": ORDER["id"] + 1}),
    "orders/updated": (ORDER, {"id": ORDER["id"] + 1}),
    "orders/cancelled": ({**ORDER, "cancelled_at": "2026-01-01T00:00:00Z"}, {"id": ORDER["id"] + 1}),
    "orders/paid": (ORDER, {"id": ORDER["id"] + 1}),
    "products/create": (PRODUCT, {"id": PRODUCT["id"] + 1}),
    "products/update": (PRODUCT, {"id": PRODUCT["id"] + 1}),
    "inventory_levels/update": (LEVEL, {"inventory_item_id": 39072856}),
    "customers/create": (CUSTOMER, {"id": CUSTOMER["id"] + 1}),
    "customers/update": (CUSTOMER, {"id": CUSTOMER["id"] + 1}),
    "fulfillments/create": (FULFILLMENT, {"id": FULFILLMENT["id"] + 1}),
    "fulfillments/update": (FULFILLMENT, {"id": FULFILLMENT["id"] + 1}),
    "refunds/create": (REFUND, {"id": REFUND["id"] + 1}),
    "returns/request": (RETURN, {"id": RETURN["id"] + 1}),
}


def keys(events: list[Any]) -> list[str]:
    return [event.external_id for event in events]


def test_every_shopify_topic_is_covered() -> None:
    assert set(SHOPIFY_CASES) == set(shopify.TOPICS)


@pytest.mark.parametrize("topic", sorted(SHOPIFY_CASES))
def test_shopify_keys_come_from_each_resources_identity(topic: str) -> None:
    body, other = SHOPIFY_CASES[topic]
    first = keys(shopify.to_events(topic, copy.deepcopy(body), None))
    assert first, "the fixture maps to at least one event"
    # the same report twice keeps its key (a re-sent file is acknowledged, not stored again)
    assert keys(shopify.to_events(topic, copy.deepcopy(body), None)) == first
    # another resource reported at the same moment is another event
    assert set(keys(shopify.to_events(topic, {**copy.deepcopy(body), **other}, None))).isdisjoint(first)
    # so is a different report of the same resource with the same time (a level moving twice in a second)
    changed = {**copy.deepcopy(body), "note": "something else"}
    assert set(keys(shopify.to_events(topic, changed, None))).isdisjoint(first)
    # a webhook id, when Shopify sends one, is the key
    assert all(key.startswith("w-1") for key in keys(shopify.to_events(topic, copy.deepcopy(body), "w-1")))


def test_two_levels_reported_at_one_moment_are_two_events() -> None:
    # inventory_levels.json: four levels, two items at two locations, all at 15:33:38
    levels = shopify_fixture("inventory_levels.json")["inventory_levels"]
    assert len({level["updated_at"] for level in levels}) == 1
    all_keys = [key for level in levels for key in keys(shopify.to_events("inventory_levels/update", level, None))]
    assert len(set(all_keys)) == 4


def test_each_product_variant_is_its_own_event_keyed_by_the_variant() -> None:
    events = shopify.to_events("products/create", PRODUCT, None)
    assert [e.payload["sku"] for e in events] == [v["sku"] for v in PRODUCT["variants"]]
    assert [e.payload["storefront_quantity"] for e in events] == [10, 20, 30, 40]
    # a new variant later does not shift the keys of the others
    grown = {**PRODUCT, "variants": [{"id": 1, "sku": "NEW", "title": "New"}, *PRODUCT["variants"]]}
    old_keys = {e.payload["sku"]: e.external_id.rsplit("#", 1)[1] for e in events}
    new_keys = {
        e.payload["sku"]: e.external_id.rsplit("#", 1)[1] for e in shopify.to_events("products/create", grown, None)
    }
    assert all(new_keys[sku] == suffix for sku, suffix in old_keys.items())


def test_an_untracked_variant_brings_no_quantity_and_one_without_sku_is_still_known() -> None:
    variant = {"id": 77, "sku": "", "title": "Plain", "inventory_quantity": 3, "inventory_management": None}
    (event,) = shopify.to_events("products/create", {**PRODUCT, "variants": [variant]}, None)
    assert event.payload["sku"] == "shopify-variant-77"
    assert "storefront_quantity" not in event.payload


def test_backfill_marks_every_event_as_part_of_the_import() -> None:
    for topic, (body, _) in SHOPIFY_CASES.items():
        for event in shopify.to_events(topic, copy.deepcopy(body), None, backfill=True):
            assert event.payload["backfill"] is True, topic


def test_the_storefront_says_what_is_already_fulfilled_or_cancelled() -> None:
    assert shopify.storefront_status({"fulfillment_status": None}) == "open"
    assert shopify.storefront_status({"fulfillment_status": "fulfilled"}) == "fulfilled"
    assert shopify.storefront_status({"fulfillment_status": "partial"}) == "partial"
    assert shopify.storefront_status({"fulfillment_status": "fulfilled", "cancelled_at": "2026-01-01"}) == "cancelled"
    (event,) = shopify.to_events("orders/create", ORDER, None)
    assert event.payload["order_number"] == "1001"  # "#1001" as the customer types it


WC_ORDER = json.loads((FIXTURES / "woocommerce" / "v3_orders__02_retrieve-an-order.json").read_text())
WC_PRODUCT = {
    "id": 799,
    "sku": "MUG",
    "name": "Mug",
    "manage_stock": True,
    "stock_quantity": 7,
    "date_modified_gmt": "2026-06-01T10:00:00",
}
WC_CUSTOMER = {
    "id": 26,
    "email": "john.doe@example.com",
    "date_created_gmt": "2017-03-21T19:30:00",
    "date_modified_gmt": "2017-03-21T19:30:00",
    "role": "customer",
}
WC_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "order.created": (WC_ORDER, {"id": WC_ORDER["id"] + 1}),
    "order.updated": (WC_ORDER, {"id": WC_ORDER["id"] + 1}),
    "product.created": (WC_PRODUCT, {"id": 800, "sku": "MUG-2"}),
    "product.updated": (WC_PRODUCT, {"id": 800, "sku": "MUG-2"}),
    "customer.created": (WC_CUSTOMER, {"id": 27}),
    "customer.updated": (WC_CUSTOMER, {"id": 27}),
}


def test_every_woocommerce_topic_is_covered() -> None:
    assert set(WC_CASES) == set(woocommerce.TOPICS)


@pytest.mark.parametrize("topic", sorted(WC_CASES))
def test_woocommerce_keys_come_from_each_resources_identity(topic: str) -> None:
    body, other = WC_CASES[topic]
    first = keys(woocommerce.to_events(topic, copy.deepcopy(body), None))
    assert first
    assert keys(woocommerce.to_events(topic, copy.deepcopy(body), None)) == first
    assert set(keys(woocommerce.to_events(topic, {**copy.deepcopy(body), **other}, None))).isdisjoint(first)
    changed = {**copy.deepcopy(body), "note": "something else"}
    assert set(keys(woocommerce.to_events(topic, changed, None))).isdisjoint(first)


def test_woocommerce_stock_is_reported_on_the_products_stock_not_behind_its_sku() -> None:
    product, stock = woocommerce.to_events("product.updated", WC_PRODUCT, None)
    assert (product.subject, stock.subject) == ("sku:MUG", "stock:woocommerce:799")
    assert stock.payload["sku"] == "MUG"


def test_a_completed_woocommerce_order_is_fulfilled_and_a_cancelled_one_recorded_in_an_import() -> None:
    (done,) = woocommerce.to_events("order.created", {**WC_ORDER, "status": "completed"}, None, backfill=True)
    assert done.payload["storefront_status"] == "fulfilled"
    (gone,) = woocommerce.to_events("order.updated", {**WC_ORDER, "status": "cancelled"}, None, backfill=True)
    assert (gone.kind, gone.payload["storefront_status"]) == ("order.updated", "cancelled")


def test_a_file_holds_one_body_a_rest_list_an_array_or_json_lines() -> None:
    level = {"inventory_item_id": 1, "location_id": 2, "available": 3}
    topic = "inventory_levels/update"
    assert [b for _, b in resources(json.dumps(level).encode(), topic)] == [level]
    assert [b for _, b in resources(json.dumps({"inventory_level": level}).encode(), topic)] == [
        {"inventory_level": level}
    ]
    listed = json.dumps({"inventory_levels": [level, level]}).encode()
    assert [place for place, _ in resources(listed, topic)] == ["[0]", "[1]"]
    assert [place for place, _ in resources(json.dumps([level] * 3).encode(), topic)] == ["[0]", "[1]", "[2]"]
    lines = (json.dumps(level) + "\n\n" + json.dumps(level) + "\n").encode()
    assert [place for place, _ in resources(lines, topic)] == ["line 1", "line 3"]
    with pytest.raises(InvalidInput, match="line 2: not valid JSON"):
        list(resources((json.dumps(level) + "\n{oops\n" + json.dumps(level)).encode(), topic))
    with pytest.raises(InvalidInput, match="not valid JSON"):
        list(resources(b"{oops", topic))


def test_a_shopify_return_names_its_order_by_subject_and_its_lines_by_their_ids() -> None:
    [event] = shopify.to_events("returns/request", copy.deepcopy(RETURN), "w-9")
    assert (event.kind, event.subject) == ("return.requested", "return:shopify-945000957")
    assert event.payload["order_subject"] == "order:shopify:450789469"
    assert event.payload["lines"] == [{"line_item_id": "518995019", "quantity": 1}]
    assert event.payload["reason"] == "The red is much darker than in the photos."
    assert event.payload["channel"] == "shopify"


def test_a_shopify_return_without_lines_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        shopify.to_events("returns/request", {**copy.deepcopy(RETURN), "return_line_items": []}, None)
    assert caught.value.field == "return.return_line_items"


def test_woocommerce_refunds_ride_on_the_order_each_keyed_by_its_own_id() -> None:
    order = json.loads((FIXTURES / "woocommerce" / "v3_orders__02_retrieve-an-order.json").read_text())
    order["refunds"] = [
        {"id": 726, "reason": "damaged", "total": "-10.00"},
        {"id": 727, "reason": "", "total": "-5.50"},
    ]
    events = woocommerce.to_events("order.updated", order, "d-1")
    refunds = [e for e in events if e.kind == "refund.created"]
    assert [(e.external_id, e.payload["amount_minor"], e.payload["note"]) for e in refunds] == [
        ("refund:727:726", 1000, "damaged"),
        ("refund:727:727", 550, None),
    ]
    again = woocommerce.to_events("order.updated", order, "d-2")  # another delivery, same refunds
    assert {e.external_id for e in again if e.kind == "refund.created"} == {e.external_id for e in refunds}
