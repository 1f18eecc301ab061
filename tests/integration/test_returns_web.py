"""The customers' return page and its public API over a real server and database: ownership is
proved by the order's email and a stranger learns nothing, bad input is a 400 naming the field,
and a request comes back with the returns desk's decision."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from storeops.clock import utcnow
from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.worker import Worker
from storeops.web.app import create_app
from storeops.web.returns import NOT_FOUND_MESSAGE
from tests.conftest import make_policy, served
from tests.integration.test_orders_desk import Store
from tests.integration.test_returns_desk import delivered_order
from tests.integration.test_returns_insights import a_return
from tests.web_helpers import person, sign_in, token, web_application

LINES = [
    {"sku": "TEE", "quantity": 2, "unit_price_minor": 2000, "title": "Cotton tee"},
    {"sku": "MUG", "quantity": 1, "unit_price_minor": 1500},
]


def shop(engine: Engine, registry: Registry) -> Store:
    """A store with order 1001 of c1@example.test (two tees, a mug), delivered two days ago."""
    store = Store(engine, registry, make_policy())
    delivered_order(store, "1001", lines=LINES, delivered=utcnow() - timedelta(days=2))
    return store


@contextmanager
def site(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path, *, worker: bool = True, wait: float = 10.0
) -> Iterator[httpx.Client]:
    """The served app (with a worker running beside it, as in production, unless ``worker`` is False)."""
    application = web_application(engine, registry, policy, tmp_path / "storeops.toml")
    running = Worker(engine, registry, policy) if worker else None
    thread = threading.Thread(target=running.run, daemon=True) if running else None
    if thread:
        thread.start()
    try:
        with (
            served(create_app(application, returns_wait_seconds=wait)) as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            yield http
    finally:
        if running and thread:
            running.stop()
            thread.join(timeout=10)


def test_a_wrong_email_and_an_unknown_order_get_the_very_same_answer(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    shop(engine, registry)
    with site(engine, registry, policy, tmp_path, worker=False) as http:
        answers = {
            "wrong email": http.post("/api/v1/returns/lookup", json={"order": "1001", "email": "c2@example.test"}),
            "unknown order": http.post("/api/v1/returns/lookup", json={"order": "9999", "email": "c1@example.test"}),
            "neither": http.post("/api/v1/returns/lookup", json={"order": "#42", "email": "x@y.test"}),
        }
        expected = {"error": {"code": "not_verified", "message": NOT_FOUND_MESSAGE, "field": None}}
        for case, answer in answers.items():
            assert (answer.status_code, answer.json()) == (400, expected), case
        assert len({answer.content for answer in answers.values()}) == 1
        # asking for the return itself answers the same, before reading the lines
        for order, email in (("1001", "c2@example.test"), ("9999", "c1@example.test")):
            asked = http.post(
                "/api/v1/returns",
                json={"order": order, "email": email, "lines": [{"sku": "NOPE", "quantity": 1}], "reason": "x"},
            )
            assert (asked.status_code, asked.json()) == (400, expected)
        # and so does the page (which shows back only what was typed)
        pages = [
            http.post("/returns", data={"order": "1001", "email": "c2@example.test"}),
            http.post("/returns", data={"order": "9999", "email": "c2@example.test"}),
        ]
        assert [page.status_code for page in pages] == [400, 400]
        assert re.sub(r'value="[^"]*"', "", pages[0].text) == re.sub(r'value="[^"]*"', "", pages[1].text)
        assert "We could not find that order for that email" in pages[0].text

        # the owner, whatever the case of their email and with or without the #
        found = http.post("/api/v1/returns/lookup", json={"order": " #1001", "email": "C1@Example.TEST "})
        assert found.status_code == 200, found.text
        assert found.json()["order"] == "1001" and found.json()["status"] == "delivered"
        assert found.json()["lines"] == [
            {"sku": "TEE", "title": "Cotton tee", "bought": 2, "returnable": 2},
            {"sku": "MUG", "title": None, "bought": 1, "returnable": 1},
        ]


def test_bad_input_is_a_400_naming_the_field(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    shop(engine, registry)
    good = {"order": "1001", "email": "c1@example.test", "lines": [{"sku": "TEE", "quantity": 1}], "reason": "small"}
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({**good, "lines": [{"sku": "TEE", "quantity": 0}]}, "lines.0.quantity"),
        ({**good, "lines": [{"sku": "TEE", "quantity": 1.5}]}, "lines.0.quantity"),
        ({**good, "lines": [{"sku": "TEE", "quantity": "x"}]}, "lines.0.quantity"),
        ({**good, "lines": [{"sku": "TEE", "quantity": "1"}]}, "lines.0.quantity"),
        ({**good, "lines": [{"sku": "TEE", "quantity": True}]}, "lines.0.quantity"),
        ({key: value for key, value in good.items() if key != "email"}, "email"),
        ({**good, "email": "not an email"}, "email"),
        ({**good, "order": " # "}, "order"),
        ({**good, "reason": "x" * 6000}, "reason"),
        ({**good, "reason": "   "}, "reason"),
        ({**good, "lines": []}, "lines"),
        ({**good, "surprise": 1}, "surprise"),
        # past the proof of ownership: what the order has and what is left of it
        ({**good, "lines": [{"sku": "HAT", "quantity": 1}]}, "lines.0.sku"),
        ({**good, "lines": [{"sku": "TEE", "quantity": 1}, {"sku": "TEE", "quantity": 1}]}, "lines.1.sku"),
        ({**good, "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "TEE", "quantity": 3}]}, "lines.1.quantity"),
    ]
    with site(engine, registry, policy, tmp_path, worker=False) as http:
        for body, field in cases:
            answer = http.post("/api/v1/returns", json=body)
            assert answer.status_code == 400, (body, answer.text)
            error = answer.json()["error"]
            assert error["field"] == field and error["message"], (body, error)
        for raw in (b"{", b"[]", b'"1001"'):
            answer = http.post("/api/v1/returns", content=raw, headers={"Content-Type": "application/json"})
            assert answer.status_code == 400 and answer.json()["error"]["message"], raw
        lookup = http.post("/api/v1/returns/lookup", json={"order": "1001"})
        assert lookup.status_code == 400 and lookup.json()["error"]["field"] == "email"
        assert http.post("/api/v1/returns", content=b'{"reason": "' + b"x" * 200_000 + b'"}').status_code == 413
        # every POST that reached the app counted (19 so far), page or API: 30 a minute per client
        mine = {"order": "1001", "email": "c1@example.test"}
        statuses = [http.post("/api/v1/returns/lookup", json=mine).status_code for _ in range(12)]
        assert statuses[0] == 200 and statuses[-1] == 429
        assert http.post("/returns", data={"order": "1001", "email": "c1@example.test"}).status_code == 429


def test_an_order_not_shipped_yet_is_said_so_to_its_owner_only(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    from tests.integration.test_orders_desk import order_event

    store = Store(engine, registry, make_policy())
    store.send(order_event("1003", customer="c3", at=utcnow() - timedelta(hours=1)))
    with site(engine, registry, policy, tmp_path, worker=False) as http:
        body = {"order": "1003", "email": "c3@example.test", "lines": [{"sku": "TEE", "quantity": 1}], "reason": "x"}
        answer = http.post("/api/v1/returns", json=body)
        assert answer.status_code == 400 and answer.json()["error"]["field"] == "order"
        assert "has not shipped yet" in answer.json()["error"]["message"]
        looked = http.post("/api/v1/returns/lookup", json={"order": "1003", "email": "c3@example.test"}).json()
        assert looked["status"] != "delivered" and looked["window_ends"] is None
        assert [line["returnable"] for line in looked["lines"]] == [0]
        stranger = http.post("/api/v1/returns", json={**body, "email": "c4@example.test"})
        assert stranger.json()["error"]["code"] == "not_verified"


def test_a_request_comes_back_with_the_desk_s_decision_and_lowers_what_is_left(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    shop(engine, registry)
    with site(engine, registry, policy, tmp_path) as http:
        asked = http.post(
            "/api/v1/returns",
            json={
                "order": "#1001",
                "email": "C1@example.test",
                "lines": [{"sku": "TEE", "quantity": 1}],
                "reason": "It is too small for me",
            },
        )
        assert asked.status_code == 200, asked.text
        result = asked.json()
        assert result["state"] == "authorized" and result["rma"].startswith("R-")
        assert result["order"] == "1001" and result["refund_minor"] == 2000 and result["currency"] == "EUR"
        assert result["lines"] == [{"sku": "TEE", "quantity": 1, "refund_minor": 2000}]
        assert result["handoff"] is None and result["returnless"] is False and result["refused"] is None
        assert "label is on its way by email" in result["message"] and "20.00 EUR" in result["message"]
        left = http.post("/api/v1/returns/lookup", json={"order": "1001", "email": "c1@example.test"}).json()
        assert [(line["sku"], line["returnable"]) for line in left["lines"]] == [("TEE", 1), ("MUG", 1)]

        # the page, without any script: find the order, choose, and read the outcome
        found = http.post("/returns", data={"order": "1001", "email": "c1@example.test"})
        assert found.status_code == 200 and 'id="quantity-0"' in found.text and 'max="1"' in found.text
        wrong = http.post(
            "/returns/request",
            data={"order": "1001", "email": "c1@example.test", "sku": ["TEE", "MUG"], "quantity": ["1.5", "0"]},
        )
        assert wrong.status_code == 400 and "whole number" in wrong.text
        assert 'aria-invalid="true" aria-describedby="error" autofocus' in wrong.text
        done = http.post(
            "/returns/request",
            data={
                "order": "1001",
                "email": "c1@example.test",
                "sku": ["TEE", "MUG"],
                "quantity": ["", "1"],
                "reason": "The handle arrived broken",
            },
        )
        assert done.status_code == 200, done.text
        assert "Your return is accepted" in done.text and 'id="rma">R-' in done.text


def test_a_cheap_item_is_refunded_without_coming_back_and_a_late_one_goes_to_a_person(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    store = Store(engine, registry, make_policy())
    cheap = [{"sku": "MUG", "quantity": 1, "unit_price_minor": 500}]
    delivered_order(store, "1004", lines=cheap, delivered=utcnow() - timedelta(days=1))
    delivered_order(store, "1005", delivered=utcnow() - timedelta(days=45))
    with site(engine, registry, policy, tmp_path) as http:
        body = {"email": "c1@example.test", "reason": "changed my mind"}
        mug = [{"sku": "MUG", "quantity": 1}]
        refunded = http.post("/api/v1/returns", json={**body, "order": "1004", "lines": mug})
        assert refunded.json()["state"] == "refunded" and refunded.json()["returnless"] is True
        assert "Keep the items" in refunded.json()["message"]
        page = http.post("/returns", data={"order": "1005", "email": "c1@example.test"})
        assert "The return window ended on" in page.text
        held = http.post("/api/v1/returns", json={**body, "order": "1005", "lines": [{"sku": "TEE", "quantity": 1}]})
        assert held.json()["state"] == "held" and held.json()["handoff"]["reasons"] == ["outside_policy"]
        assert "A member of our team" in held.json()["message"]


def test_without_a_worker_the_request_is_pending_with_its_number(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    shop(engine, registry)
    with site(engine, registry, policy, tmp_path, worker=False, wait=0.2) as http:
        body = {"order": "1001", "email": "c1@example.test", "lines": [{"sku": "TEE", "quantity": 1}], "reason": "x"}
        answer = http.post("/api/v1/returns", json=body)
        assert answer.status_code == 200
        assert set(answer.json()) == {"rma", "state", "message"} and answer.json()["state"] == "pending"
        assert "email you the outcome" in answer.json()["message"]


def test_the_page_escapes_what_the_store_and_the_customer_wrote(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    store = Store(engine, registry, make_policy())
    lines = [{"sku": "TEE", "quantity": 1, "unit_price_minor": 2000, "title": "<script>alert(1)</script>"}]
    delivered_order(store, "1006", lines=lines, delivered=utcnow() - timedelta(days=1))
    with site(engine, registry, policy, tmp_path, worker=False) as http:
        page = http.post("/returns", data={"order": "1006", "email": "c1@example.test"})
        assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        typed = http.post("/returns", data={"order": '"><b>x</b>', "email": "c1@example.test"})
        assert "<b>x</b>" not in typed.text and "&#34;&gt;&lt;b&gt;x&lt;/b&gt;" in typed.text


def test_the_dashboard_shows_why_returns_happen_to_those_who_see_the_returns_desk(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    spiking = "<b>$5 TEE"  # a storefront's SKU is text from outside: escaped, and no mathematics
    for n in range(3):
        a_return(engine, utcnow() - timedelta(days=2, minutes=n), spiking, "damaged_defective")
    a_return(engine, utcnow() - timedelta(days=3), "MUG", "size_fit")
    for email, role in (("boss@example.com", "owner"), ("ops@example.com", "ops"), ("money@example.com", "finance")):
        person(engine, email, role)
    application = web_application(engine, registry, policy, tmp_path / "storeops.toml")
    with served(create_app(application)) as base:
        seen: dict[str, str] = {}
        for email in ("boss@example.com", "ops@example.com", "money@example.com"):
            with httpx.Client(base_url=base, timeout=30) as http:
                sign_in(http, email)
                seen[email] = http.get("/dashboard?days=30").text
                if email == "boss@example.com":
                    seen["boss, orders only"] = http.get("/dashboard?days=30&desk=orders").text
                    seen["boss, live refresh"] = http.get("/dashboard/panel?days=30&desk=returns").text
        for who in ("boss@example.com", "money@example.com", "boss, live refresh"):
            page = seen[who]
            assert "Why returns happen" in page and 'id="chart-return-reasons"><svg' in page, who
            assert 'id="chart-return-weeks"><svg' in page and 'id="fig-returns">4<' in page, who
            assert "&lt;b&gt;$5 TEE: 3 of its 3 returns in the last 14 days were damaged or defective" in page
            assert "<b>" not in page, who
        for who in ("ops@example.com", "boss, orders only"):
            assert "Why returns happen" not in seen[who] and 'id="figures"' in seen[who], who

        with httpx.Client(base_url=base, timeout=30) as http:
            finance = {"Authorization": f"Bearer {token(engine, 'finance', 'money')}"}
            answer = http.get("/api/v1/returns/insights?days=30", headers=finance)
            assert answer.status_code == 200, answer.text
            data = answer.json()
            assert set(data) == {
                "since",
                "until",
                "returns",
                "orders_shipped",
                "return_rate",
                "reasons",
                "skus",
                "weeks",
                "findings",
                "rule",
            }
            assert data["returns"] == 4 and data["orders_shipped"] == 0 and data["return_rate"] is None
            assert [(f["sku"], f["reason"], f["recent_count"]) for f in data["findings"]] == [
                (spiking, "damaged_defective", 3)
            ]
            assert data["skus"][0]["sku"] == spiking and data["skus"][0]["reasons"][0]["share"] == 1.0
            ops = {"Authorization": f"Bearer {token(engine, 'ops', 'ops')}"}
            refused = http.get("/api/v1/returns/insights", headers=ops)
            assert refused.status_code == 403 and "finance" in refused.json()["error"]["message"]
            for days in ("0", "3651", "x"):
                wrong = http.get(f"/api/v1/returns/insights?days={days}", headers=finance)
                assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "days", days
