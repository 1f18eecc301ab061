"""Issue 15 items 1–3 and 8: every input of the wrong shape or out of bounds is a 400 (exit 2)
naming the field, never a 500 or a traceback; what is accepted is handled without dead letters;
NUL bytes and lone surrogates are stored alike on SQLite and PostgreSQL.

Each case below was a 500 with a traceback (or accepted, then dead-lettered) before.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from storeops.bootstrap import App
from storeops.cli.main import app as cli_app
from storeops.connectors.webhook import sign
from storeops.desks import builtin_desks
from storeops.desks.orders.tables import orders
from storeops.engine.desk import Registry
from storeops.engine.queue import event_states
from storeops.engine.worker import Worker
from storeops.settings import Settings
from storeops.storage.schema import events, handoffs
from storeops.web.app import create_app
from tests.conftest import make_policy, served
from tests.web_helpers import token

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "hush"
SHOPIFY_ORDER = json.loads((FIXTURES / "shopify" / "order.json").read_text())["order"]
SHOPIFY_LEVEL = json.loads((FIXTURES / "shopify" / "inventory_level.json").read_text())["inventory_level"]
SHOPIFY_PRODUCT = json.loads((FIXTURES / "shopify" / "product.json").read_text())["product"]
SHOPIFY_CUSTOMER = json.loads((FIXTURES / "shopify" / "customer.json").read_text())["customer"]
WC_ORDER = json.loads((FIXTURES / "woocommerce" / "v3_orders__02_retrieve-an-order.json").read_text())

Mutation = Callable[[dict[str, Any]], Any]


def set_quantity(value: Any) -> Mutation:
    return lambda order: order["line_items"][0].update(quantity=value)


QUANTITIES: list[Any] = ["abc", "1.5", float("nan"), float("inf"), [1], 1.7, True, 0, -1, 10**30]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# (source, topic, body, mutation, field the 400 names)
CASES: list[tuple[str, str, dict[str, Any], Mutation, str | None]] = [
    # item 1: the wrong shape
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(line_items=[1]), "order.line_items[0]"),
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(line_items="two iPods"), "order.line_items"),
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(shipping_address="x"), "order.shipping_address"),
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(customer="bob"), "order.customer"),
    ("woocommerce", "order.created", WC_ORDER, lambda o: o.update(billing="x"), "order.billing"),
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(transactions=[1]), "order.transactions[0]"),
    ("shopify", "customers/create", SHOPIFY_CUSTOMER, lambda c: c.update(tags=5), "customer.tags"),
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o["customer"].update(tags=5), "order.customer.tags"),
    *[
        (
            "shopify",
            "orders/create",
            SHOPIFY_ORDER,
            set_quantity(value),
            "order.line_items[0].quantity",
        )
        for value in QUANTITIES
    ],
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(id="9" * 300), "order.id"),
    ("shopify", "orders/create", SHOPIFY_ORDER, lambda o: o.update(id="lone \ud800 id"), "order.id"),
    (
        "shopify",
        "orders/create",
        SHOPIFY_ORDER,
        lambda o: o.update(created_at="9999-12-31T23:59:59-05:00"),
        "order.created_at",
    ),
    (
        "shopify",
        "orders/create",
        SHOPIFY_ORDER,
        lambda o: o.update(created_at="0001-01-01T00:00:00+05:00"),
        "order.created_at",
    ),
    (
        "shopify",
        "inventory_levels/update",
        SHOPIFY_LEVEL,
        lambda v: v.update(available="x"),
        "inventory_level.available",
    ),
    ("shopify", "products/create", SHOPIFY_PRODUCT, lambda p: p.update(variants="x"), "product.variants"),
    (
        "woocommerce",
        "order.created",
        WC_ORDER,
        lambda o: o["line_items"][0].update(quantity=0),
        "order.line_items[0].quantity",
    ),
    # item 2: amounts and counts that do not fit
    (
        "shopify",
        "orders/create",
        SHOPIFY_ORDER,
        lambda o: o["line_items"][0].update(price="1e30"),
        "order.line_items[0].price",
    ),
    (
        "shopify",
        "orders/create",
        SHOPIFY_ORDER,
        lambda o: o.update(total_price="1000000000000000000"),
        "order.total_price",
    ),
    ("shopify", "customers/create", SHOPIFY_CUSTOMER, lambda c: c.update(total_spent="1e30"), "customer.total_spent"),
    (
        "shopify",
        "inventory_levels/update",
        SHOPIFY_LEVEL,
        lambda v: v.update(available=10**30),
        "inventory_level.available",
    ),
    (
        "shopify",
        "products/create",
        SHOPIFY_PRODUCT,
        lambda p: p["variants"][0].update(inventory_quantity=10**30),
        "product.variants[0].inventory_quantity",
    ),
    (
        "woocommerce",
        "order.created",
        WC_ORDER,
        lambda o: o["line_items"][0].update(total="99999999999999999.99"),
        "order.line_items[0].total",
    ),
]
CASE_IDS = [f"{source}:{topic}:{field}:{index}" for index, (source, topic, _, _, field) in enumerate(CASES)]


def body_of(body: dict[str, Any], mutate: Mutation) -> bytes:
    mutated = copy.deepcopy(body)
    mutate(mutated)
    return json.dumps(mutated).encode()  # NaN and Infinity go out as JavaScript writes them


def web(engine: Engine, registry: Registry) -> Any:
    application = App(
        settings=Settings(
            database_url=str(engine.url), shopify_webhook_secret=SECRET, woocommerce_webhook_secret=SECRET
        ),
        engine=engine,
        desks=builtin_desks(),
        registry=registry,
        policy=make_policy({"orders": {"exchange_rates": {"USD": "0.92"}}}),
    )
    return create_app(application)


def post(http: httpx.Client, source: str, topic: str, body: bytes, delivery: str) -> httpx.Response:
    prefix = "X-Shopify" if source == "shopify" else "X-WC-Webhook"
    signature = f"{prefix}-Hmac-Sha256" if source == "shopify" else f"{prefix}-Signature"
    delivery_header = f"{prefix}-Webhook-Id" if source == "shopify" else f"{prefix}-Delivery-ID"
    return http.post(
        f"/webhooks/{source}",
        content=body,
        headers={f"{prefix}-Topic": topic, delivery_header: delivery, signature: sign(SECRET, body)},
    )


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(events.c.id)).all())


def test_every_wrong_shape_and_out_of_bounds_figure_is_a_400_naming_the_field(
    engine: Engine, registry: Registry
) -> None:
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:
        for index, (source, topic, body, mutate, field) in enumerate(CASES):
            response = post(http, source, topic, body_of(body, mutate), f"d-{index}")
            assert response.status_code == 400, (CASE_IDS[index], response.text)
            error = response.json()["error"]
            assert error["field"] == field, (CASE_IDS[index], error)
            assert error["message"].startswith(field), (CASE_IDS[index], error)
        long_delivery = post(http, "shopify", "orders/create", json.dumps(SHOPIFY_ORDER).encode(), "w" * 300)
        assert long_delivery.status_code == 400 and long_delivery.json()["error"]["field"] == "delivery_id"
        deep = post(http, "shopify", "orders/create", nested(100_000).encode(), "deep")
        assert deep.status_code == 400 and deep.json()["error"]["code"] == "invalid_json", deep.text
        deepish = post(
            http, "shopify", "orders/create", json.dumps({"id": 1, "x": json.loads(nested(40))}).encode(), "d"
        )
        assert deepish.status_code == 400 and "nested deeper than 32 levels" in deepish.json()["error"]["message"]
    assert stored(engine) == 0


def test_storeops_ingest_refuses_the_same_in_one_line(sqlite_url: str, tmp_path: Path) -> None:
    env = {"STOREOPS_DATABASE_URL": sqlite_url, "STOREOPS_POLICY_FILE": "", "STOREOPS_OUTBOX_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli_app, ["db", "upgrade"], env=env).exit_code == 0
    path = tmp_path / "body.json"
    for index, (source, topic, body, mutate, field) in enumerate(CASES):
        path.write_bytes(body_of(body, mutate))
        result = CliRunner().invoke(cli_app, ["ingest", source, "--topic", topic, str(path)], env=env)
        assert result.exit_code == 2, (CASE_IDS[index], result.output)
        assert "Traceback" not in result.output
        assert f"{path}: {field}" in result.output.replace("\n", ""), (CASE_IDS[index], result.output)
    path.write_bytes(nested(100_000).encode())
    result = CliRunner().invoke(cli_app, ["ingest", "shopify", "--topic", "orders/create", str(path)], env=env)
    assert result.exit_code == 2 and "nested deeper" in result.output and "Traceback" not in result.output


def event(**payload: Any) -> dict[str, Any]:
    return {
        "source": "erp",
        "external_id": f"e-{len(json.dumps(payload))}-{sorted(payload)}",
        "kind": "stock.counted",
        "subject": "sku:TEE",
        "occurred_at": "2026-03-01T10:00:00Z",
        "payload": {"sku": "TEE", "location": "WH-PARIS", "counted": 4, **payload},
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (json.dumps(event(counted=1.7)), "0.payload.counted"),
        (json.dumps(event(counted=True)), "0.payload.counted"),
        (json.dumps(event(counted="4")), "0.payload.counted"),
        (json.dumps(event(counted=10**30)), "0.payload.counted"),
        (json.dumps(event(counted=float("nan"))), "0.payload.counted"),
        (json.dumps(event(note=float("inf"))), "0.payload.note"),
        (json.dumps({**event(), "occurred_at": "9999-12-31T23:59:59-05:00"}), "0.occurred_at"),
        (json.dumps(event(extra=json.loads(nested(40)))), None),
        (nested(100_000), None),
    ],
)
def test_the_events_api_refuses_the_same_naming_the_field(
    engine: Engine, registry: Registry, raw: str, field: str | None
) -> None:
    secret = token(engine, "owner")
    # a generous timeout: on a loaded 2-core machine the 100,000-deep body once took over httpx's 5 s
    with served(web(engine, registry)) as base, httpx.Client(base_url=base, timeout=60) as http:
        response = http.post("/api/v1/events", content=raw, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"]
    if field is not None:
        assert error["field"] == field, error
    assert stored(engine) == 0


def test_the_largest_figures_accepted_are_handled_without_dead_letters(engine: Engine, registry: Registry) -> None:
    # given an order of one line at the largest amount storeops accepts and a count of the most units
    order = copy.deepcopy(SHOPIFY_ORDER)
    order.update(
        line_items=[{**order["line_items"][0], "quantity": 1, "price": "10000000000000.00"}],
        total_price="10000000000000.00",
        created_at="2026-03-01T10:00:00Z",
    )
    for key in ("total_tax", "total_discounts", "shipping_lines"):
        order.pop(key)
    level = {**SHOPIFY_LEVEL, "available": 10_000_000}
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:
        assert post(http, "shopify", "orders/create", json.dumps(order).encode(), "big-order").status_code == 200
        assert (
            post(http, "shopify", "inventory_levels/update", json.dumps(level).encode(), "big-level").status_code == 200
        )
        too_big = {**level, "available": 10_000_001}
        assert post(http, "shopify", "inventory_levels/update", json.dumps(too_big).encode(), "x").status_code == 400
    # when the worker decides them
    Worker(engine, registry, make_policy({"orders": {"exchange_rates": {"USD": "0.92"}}})).run(until_idle=True)
    # then nothing overflowed: no dead letters, and the order is held for its value, as a person should see it
    with engine.connect() as conn:
        unfinished = select(event_states.c.id, event_states.c.last_error).where(
            event_states.c.status.not_in(["done", "unhandled"])
        )
        assert conn.execute(unfinished).all() == []
        row = conn.execute(select(orders.c.total_minor, orders.c.store_total_minor)).one()
        reasons = conn.execute(select(handoffs.c.reasons)).scalars().all()
    assert tuple(row) == (10**15, 92 * 10**13)
    assert ["order_value_over_threshold"] in [list(r)[:1] for r in reasons]


def test_nul_bytes_and_lone_surrogates_are_stored_alike_on_both_databases(engine: Engine, registry: Registry) -> None:
    # given an order whose customer's name holds a NUL byte and whose street a lone surrogate (both
    # legal in JSON: "\u0000", "\ud800"), which PostgreSQL refused with a 500 and SQLite stored
    order = copy.deepcopy(SHOPIFY_ORDER)
    order["line_items"] = order["line_items"][:2]  # the two lines the fixture charges for
    order["shipping_address"].update(name="Bob\u0000 Norman", address1="Chestnut Street 92 \ud800")
    order["note"] = "leave at the door\u0000"
    body = json.dumps(order).encode()  # ensure_ascii: the NUL and the surrogate travel as escapes
    native = event(note="counted by \u0000Ann \udc00")
    secret = token(engine, "owner")
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:
        assert post(http, "shopify", "orders/create", body, "nul-1").status_code == 200
        response = http.post(
            "/api/v1/events", content=json.dumps(native), headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 200, response.text
    Worker(engine, registry, make_policy({"orders": {"exchange_rates": {"USD": "0.92"}}})).run(until_idle=True)
    with engine.connect() as conn:
        payloads = {row.kind: row.payload for row in conn.execute(select(events.c.kind, events.c.payload))}
        stored_order = conn.execute(select(orders.c.shipping_address)).one()
        unfinished = conn.execute(
            select(event_states.c.id, event_states.c.last_error).where(
                event_states.c.status.not_in(["done", "unhandled"])
            )
        ).all()
    # then both databases store the same normalised text: NUL removed, the surrogate replaced
    assert payloads["order.created"]["shipping_address"]["name"] == "Bob Norman"
    assert payloads["order.created"]["shipping_address"]["line1"] == "Chestnut Street 92 \ufffd"
    assert stored_order.shipping_address["line1"] == "Chestnut Street 92 \ufffd"
    assert payloads["stock.counted"]["note"] == "counted by Ann \ufffd"
    assert unfinished == []
