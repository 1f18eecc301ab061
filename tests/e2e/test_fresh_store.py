"""A store made a minute ago answers its customers: the real ``storeops`` command in a brand-new
directory where nothing but ``storeops db upgrade`` has run (no model trained for it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

EMAIL = "ana.lima@example.test"


def storeops(store: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "storeops.cli.main", *args],
        cwd=store,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def ask(store: Path, env: dict[str, str], text: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(
        storeops(store, env, "support", "ask", "--email", EMAIL, "--text", text, "--json").stdout
    )
    return answer


def native(kind: str, subject: str, external_id: str, at: datetime, payload: dict[str, Any]) -> str:
    return json.dumps(
        {
            "source": "shop",
            "external_id": external_id,
            "kind": kind,
            "subject": subject,
            "occurred_at": at.isoformat(),
            "payload": payload,
        }
    )


@pytest.mark.slow
def test_a_brand_new_store_answers_from_its_first_message(tmp_path: Path, model_cache: Path) -> None:
    # Given a new store directory and nothing but the environment a shell would have (the default
    # model cache is the machine's, here the tests' own; the store has no model of its own) …
    store = tmp_path / "shop"
    store.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREOPS_")}
    env["STOREOPS_CACHE_DIR"] = str(model_cache)
    storeops(store, env, "db", "upgrade")
    status = json.loads(storeops(store, env, "status", "--json").stdout)
    [support] = next(d for d in status["desks"] if d["desk"] == "support")["models"]
    assert (support["name"], support["source"]) == ("support-nlu", "default")

    # … and one order of the customer's, arriving through the normal path
    now = datetime.now(UTC)
    counts = store / "counts.jsonl"
    counts.write_text(
        native(
            "stock.counted",
            "sku:TEE",
            "count-1",
            now - timedelta(hours=2),
            {"sku": "TEE", "location": "WH-PARIS", "counted": 5},
        )
        + "\n",
        encoding="utf-8",
    )
    order = {
        "order_number": "1001",
        "customer": {"id": "c-ana", "email": EMAIL, "created_at": (now - timedelta(days=300)).isoformat()},
        "currency": "EUR",
        "total_minor": 2500,
        "lines": [{"sku": "TEE", "quantity": 1, "unit_price_minor": 2500}],
        "shipping_address": {
            "name": "Ana Lima",
            "line1": "12 rue des Lilas",
            "city": "Lyon",
            "postal_code": "69001",
            "country": "FR",
        },
    }
    orders = store / "orders.jsonl"
    orders.write_text(native("order.created", "order:shop:1001", "o-1001", now - timedelta(hours=1), order) + "\n")
    for events in (counts, orders):
        storeops(store, env, "ingest", str(events))
        storeops(store, env, "work", "--until-idle")

    # When the customer asks four everyday questions, the desk answers each itself, on its topic.
    returns = ask(store, env, "What is your return policy?")
    assert returns["handoff"] is None and "within 30 days of delivery" in returns["reply"]
    delivery = ask(store, env, "How long does delivery take?")
    assert delivery["handoff"] is None and "Standard delivery takes 3–5 business days" in delivery["reply"]
    payment = ask(store, env, "Which payment methods do you accept?")
    assert payment["handoff"] is None and "PayPal" in payment["reply"]
    status_question = ask(store, env, "Hi, where is my order 1001?")
    assert status_question["handoff"] is None
    assert status_question["reply"].startswith("Your order 1001 is being packed")
    assert [a["intents"][0]["topic"] for a in (returns, delivery, payment, status_question)] == [
        "returns",
        "delivery",
        "payment",
        "order_status",
    ]

    # Then the store trained nothing of its own, and status says which model answered.
    assert not (store / "storeops-models").exists()
    status = json.loads(storeops(store, env, "status", "--json").stdout)
    [support] = next(d for d in status["desks"] if d["desk"] == "support")["models"]
    assert support["ready"] is True and support["version"].startswith("default-")
    assert status["events"] == {"pending": 0, "dead": 0}
    assert "support" not in status["handoffs"]["by_desk"]  # (the inventory desk asks about the new SKU)
