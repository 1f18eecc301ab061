"""Property: no signed storefront webhook, however mangled, makes a 5xx (issue 15 item 1).

Hypothesis takes the real payloads under tests/fixtures (Shopify's and WooCommerce's own), changes
one to three values anywhere in them (wrong types, huge and non-finite numbers, long text, NUL
bytes and lone surrogates, deep nesting, missing fields, far-off dates) and sends each signed over
real HTTP. Every answer is a 200 or a 4xx in the error shape; then the worker decides everything
that was accepted, and nothing is left failing or dead-lettered. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from storeops.connectors.webhook import sign
from storeops.engine.desk import Registry
from storeops.engine.queue import event_states
from storeops.engine.worker import Worker
from storeops.storage.schema import events
from tests.conftest import make_policy, served
from tests.integration.test_intake_bounds import SECRET, web

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _resource(path: Path, key: str | None) -> dict[str, Any]:
    data = json.loads(path.read_text())
    return data[key] if key else data


SHOPIFY = FIXTURES / "shopify"
WOO = FIXTURES / "woocommerce"
PAYLOADS: list[tuple[str, str, dict[str, Any]]] = [
    ("shopify", "orders/create", _resource(SHOPIFY / "order.json", "order")),
    ("shopify", "orders/updated", _resource(SHOPIFY / "order.json", "order")),
    ("shopify", "orders/cancelled", _resource(SHOPIFY / "order.json", "order")),
    ("shopify", "products/create", _resource(SHOPIFY / "product.json", "product")),
    ("shopify", "inventory_levels/update", _resource(SHOPIFY / "inventory_level.json", "inventory_level")),
    ("shopify", "customers/create", _resource(SHOPIFY / "customer.json", "customer")),
    ("shopify", "fulfillments/create", _resource(SHOPIFY / "fulfillment.json", "fulfillment")),
    ("shopify", "refunds/create", _resource(SHOPIFY / "refund.json", "refund")),
    ("woocommerce", "order.created", _resource(WOO / "v3_orders__02_retrieve-an-order.json", None)),
    ("woocommerce", "order.updated", _resource(WOO / "v3_orders__02_retrieve-an-order.json", None)),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a value sits (keys of objects, indexes of arrays)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _deep(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


REMOVE = object()
WEIRD = st.one_of(
    st.sampled_from(
        [
            REMOVE,
            None,
            True,
            0,
            -1,
            1.7,
            10**30,
            -(10**30),
            float("nan"),
            float("inf"),
            "",
            "abc",
            "1.5",
            "1e30",
            "NaN",
            "9" * 300,
            "x" * 5000,
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00+05:00",
            "a\x00b",
            "lone \ud800 surrogate",
            [1],
            [],
            {},
            {"id": 1},
            _deep(50),
        ]
    ),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, str, bytes]:
    source, topic, original = draw(st.sampled_from(PAYLOADS))
    body = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        holder: Any = body
        for part in parents:
            holder = holder[part]
        value = draw(WEIRD)
        if value is REMOVE:
            del holder[last]
        else:
            holder[last] = copy.deepcopy(value)  # never the strategy's own object: later mutations change it
    return source, topic, json.dumps(body).encode()


def test_no_mangled_webhook_makes_a_server_error_or_a_dead_letter(engine: Engine, registry: Registry) -> None:
    deliveries = itertools.count()
    answers: dict[int, int] = {}
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:

        @given(case=mangled())
        @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def send(case: tuple[str, str, bytes]) -> None:
            source, topic, body = case
            prefix = "X-Shopify" if source == "shopify" else "X-WC-Webhook"
            headers = {
                f"{prefix}-Topic": topic,
                f"{prefix}-Webhook-Id" if source == "shopify" else f"{prefix}-Delivery-ID": f"f-{next(deliveries)}",
                f"{prefix}-Hmac-Sha256" if source == "shopify" else f"{prefix}-Signature": sign(SECRET, body),
            }
            response = http.post(f"/webhooks/{source}", content=body, headers=headers)
            assert response.status_code == 200 or 400 <= response.status_code < 500, (body[:300], response.text)
            if response.status_code >= 400:
                error = response.json()["error"]
                assert set(error) == {"code", "message", "field"} and error["message"], response.text
            answers[response.status_code] = answers.get(response.status_code, 0) + 1

        send()
    # both kinds of answer were exercised: some mangled bodies are still valid, most are not
    assert answers.get(200, 0) > 0 and answers.get(400, 0) > 0, answers
    # and everything accepted is decided without failing: no overflow, no text the database refuses
    policy = make_policy(
        {
            "orders": {"exchange_rates": {"USD": "0.92"}},
            "engine": {"retry_base_seconds": 0.001, "retry_max_seconds": 0.001, "max_attempts": 2},
        }
    )
    Worker(engine, registry, policy).run(until_idle=True)
    with engine.connect() as conn:
        failing = conn.execute(
            select(events.c.kind, events.c.payload, event_states.c.last_error)
            .join(event_states, event_states.c.id == events.c.id)
            .where(event_states.c.status.not_in(["done", "unhandled"]))
        ).all()
    assert failing == [], [(row.kind, (row.last_error or "")[-800:]) for row in failing[:3]]
