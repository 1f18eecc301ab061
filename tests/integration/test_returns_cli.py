"""The returns desk the way a store runs it from the command line: a fresh store directory, the
store's order imported, a customer's request decided, the parcel back and refunded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from storeops.cli.main import app
from storeops.storage.db import create_db_engine
from storeops.storage.schema import outbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Store:
    def __init__(self, url: str, folder: Path) -> None:
        policy = folder / "storeops.toml"
        policy.write_text('[store]\ncurrency = "USD"\n\n[returns]\nauto_refund_max = "200.00"\n')
        self.url = url
        self.env = {
            "STOREOPS_DATABASE_URL": url,
            "STOREOPS_POLICY_FILE": str(policy),
            "STOREOPS_OUTBOX_DIR": str(folder / "outbox"),
            "STOREOPS_DESKS": "",
            "STOREOPS_MODELS_DIR": str(folder / "models"),
        }

    def __call__(self, *args: str) -> Result:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert "Traceback" not in result.stderr
        return result

    def json(self, *args: str) -> Any:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def sent(self, action: str) -> list[dict[str, Any]]:
        engine = create_db_engine(self.url)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(outbox.c.payload).where(outbox.c.action == action)).scalars()]
        engine.dispose()
        return rows


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Store:
    shop = Store(db_url, tmp_path)
    assert shop("db", "upgrade").exit_code == 0
    order = json.loads((FIXTURES / "shopify" / "order.json").read_text())["order"]
    order.update(fulfillment_status="fulfilled", created_at="2026-11-20T10:00:00Z")
    (tmp_path / "order.json").write_text(json.dumps(order))
    imported = shop("ingest", "shopify", "--backfill", "--topic", "orders/create", str(tmp_path / "order.json"))
    assert imported.exit_code == 0, imported.output
    assert shop("work", "--until-idle").exit_code == 0
    return shop


def test_a_customer_returns_an_item_and_is_refunded_when_it_comes_back(store: Store) -> None:
    asked = store.json(
        "returns", "request", "--email", "Bob.Norman@hostmail.com", "--order", "#1001", "--sku", "IPOD2008RED",
        "--qty", "1", "--reason", "The red is much darker than in the photos", "--at", "2026-11-25T09:00:00Z",
        "--json",
    )  # fmt: skip
    assert set(asked) >= {"rma", "state", "reason_category", "refund_minor", "currency", "handoff"}
    assert asked["state"] == "authorized" and asked["handoff"] is None and asked["currency"] == "USD"
    assert asked["reason_category"] == "not_as_described" and asked["refund_minor"] > 0
    assert [label["tracking_number"].startswith("RT") for label in store.sent("label.create")] == [True]

    back = store.json("returns", "receive", asked["rma"], "--condition", "new", "--json")
    assert back["state"] == "refunded"
    assert [(r["amount_minor"], r["currency"]) for r in store.sent("refund.create")] == [(asked["refund_minor"], "USD")]
    again = store("returns", "receive", asked["rma"], "--condition", "new", "--json")
    assert again.exit_code == 0 and len(store.sent("refund.create")) == 1  # a second scan refunds nothing more


def test_a_late_request_goes_to_a_person_and_a_stranger_gets_nothing(store: Store) -> None:
    late = store.json(
        "returns", "request", "--email", "bob.norman@hostmail.com", "--order", "1001", "--sku", "IPOD2008RED",
        "--qty", "1", "--at", "2027-02-01T09:00:00Z", "--json",
    )  # fmt: skip
    assert late["state"] == "held" and late["handoff"]["reasons"] == ["outside_policy"]
    stranger = store.json(
        "returns", "request", "--email", "eve@example.test", "--order", "1001", "--sku", "IPOD2008RED", "--qty", "1",
        "--json",
    )  # fmt: skip
    assert stranger["state"] == "refused" and stranger["lines"] == [] and stranger["refund_minor"] == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--qty", "1", "--qty", "2"], "--qty"),
        (["--qty", "1", "--at", "yesterday"], "--at"),
        (["--qty", "1", "--at", "2026-11-25T09:00:00"], "--at"),
        (["--qty", "0"], "--qty"),
        (["--qty", "1", "--exchange", "A", "--exchange", "B"], "--exchange"),
    ],
)
def test_bad_input_exits_2_naming_the_option(store: Store, args: list[str], field: str) -> None:
    result = store("returns", "request", "--email", "bob.norman@hostmail.com", "--order", "1001", "--sku", "X", *args)
    assert result.exit_code == 2 and field.removeprefix("--") in result.output


def test_receiving_an_unknown_return_or_condition_exits_2(store: Store) -> None:
    assert store("returns", "receive", "R-NOPE", "--condition", "new").exit_code == 2
    assert store("returns", "receive", "R-NOPE", "--condition", "shiny").exit_code == 2


def test_a_persons_correction_of_the_reason_is_what_the_store_retrains_on(store: Store) -> None:
    held = store.json(
        "returns", "request", "--email", "bob.norman@hostmail.com", "--order", "1001", "--sku", "IPOD2008RED",
        "--qty", "1", "--reason", "meh", "--at", "2027-02-01T09:00:00Z", "--json",
    )  # fmt: skip
    before = {d["desk"]: d["models"] for d in store.json("status", "--json")["desks"]}["returns"]
    assert [m["source"] for m in before] == ["default"]
    resolved = store(
        "handoffs", "resolve", str(held["handoff"]["id"]), "--modify", '{"reason_category": "changed_mind"}', "--json"
    )
    assert resolved.exit_code == 0, resolved.output
    trained = store("models", "train", "returns-reasons")
    assert trained.exit_code == 0 and "1 corrections" in trained.output
    after = {d["desk"]: d["models"] for d in store.json("status", "--json")["desks"]}["returns"]
    assert [(m["source"], m["ready"]) for m in after] == [("store", True)]


def test_the_weekly_report_and_the_owners_report_count_the_returns(store: Store) -> None:
    store.json(
        "returns", "request", "--email", "bob.norman@hostmail.com", "--order", "1001", "--sku", "IPOD2008RED",
        "--qty", "1", "--reason", "it arrived cracked and does not turn on", "--json",
    )  # fmt: skip
    weekly = store.json("returns", "report", "--days", "7", "--json")
    assert weekly["returns"] == 1 and weekly["reasons"][0] == {"reason": "damaged_defective", "count": 1, "share": 1.0}
    assert weekly["skus"][0]["sku"] == "IPOD2008RED"
    text = store("returns", "report")
    assert text.exit_code == 0 and "IPOD2008RED" in text.output and "No reason is spiking" in text.output
    report = store.json("report", "--json", "--since", "2026-11-01T00:00:00Z", "--until", "2027-01-01T00:00:00Z")
    returns_desk = next(d for d in report["desks"] if d["desk"] == "returns")
    assert "return_rate" in returns_desk["figures"]


def test_an_exchange_asked_from_the_command_line_refunds_nothing_and_names_the_replacement(store: Store) -> None:
    asked = store.json(
        "returns", "request", "--email", "bob.norman@hostmail.com", "--order", "1001", "--sku", "IPOD2008RED",
        "--qty", "1", "--exchange", "IPOD2008BLACK", "--reason", "wrong colour for me", "--at", "2026-11-25T09:00:00Z",
        "--json",
    )  # fmt: skip
    assert asked["state"] == "authorized" and asked["refund_minor"] == 0
    [mail] = store.sent("return.authorized")
    assert mail["exchange"] == ["IPOD2008BLACK × 1"]
