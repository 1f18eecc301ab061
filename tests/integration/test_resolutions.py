"""People's decisions take effect: every row of docs/resolutions.md, from the handoff through the
resolution and the desk to what reaches the outside world (the outboxes) and the audit — once,
however often the same resolution is sent — and the cases that used to do nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from storeops.accounts import Principal, Role
from storeops.bootstrap import App
from storeops.cli.main import app as cli_app
from storeops.commands.handoffs import ResolutionOutcome, resolve
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.inbox import list_handoffs
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.errors import Conflict, InvalidInput
from storeops.settings import Settings
from storeops.storage.schema import audit_log, handoffs, outbox
from tests.conftest import make_policy
from tests.integration.test_orders_desk import T0, Store, address, order_event, scan, store_with

OPS = Principal(actor="user:ana", role=Role.OWNER)


def application(store: Store) -> App:
    return App(
        settings=Settings(database_url=str(store.engine.url)),
        engine=store.engine,
        desks=builtin_desks(),
        registry=store.registry,
        policy=store.policy,
    )


def open_handoff_of(store: Store, subject: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        [found] = [h for h in list_handoffs(conn) if h["subject"] == subject]
    return found


def decide(store: Store, number: str, resolution: str, **kwargs: Any) -> ResolutionOutcome:
    handoff = open_handoff_of(store, f"order:shop:{number}")
    return resolve(application(store), OPS, handoff["id"], resolution, **kwargs)


def sent(engine: Engine, connector: str, action: str | None = None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(outbox.c.payload).where(outbox.c.connector == connector).order_by(outbox.c.id)
        if action:
            query = query.where(outbox.c.action == action)
        return [dict(row.payload) for row in conn.execute(query)]


def test_approving_a_held_order_ships_it_once(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("1", total=90000))
    outcome = decide(store, "1", "approve", note="known customer")
    assert outcome.refused is None and outcome.state == "resolved"
    assert "order #1 sent to WH-PARIS for picking" in outcome.effects
    # the hold told the storefront (held and tagged there); the approval ships it
    assert store.outbox("1") == [
        ("carrier", "label.create"),
        ("email", "order.shipped"),  # a "shop" order: no storefront mails its customer for us
        ("storefront", "fulfilment.create"),
        ("storefront", "fulfilment.hold"),
        ("storefront", "order.tag"),
        ("warehouse", "fulfilment.request"),
    ]
    # the same decision sent again is refused, and nothing is sent twice
    with pytest.raises(Conflict, match="already resolved"):
        decide_again(store, outcome.id)
    Worker(engine, registry, store.policy).run(until_idle=True)
    assert len(store.outbox("1")) == 6


def decide_again(store: Store, handoff_id: int) -> None:
    resolve(application(store), OPS, handoff_id, "approve")


def test_rejecting_cancels_refunds_emails_and_releases_the_stock(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("2", total=90000))
    assert store.available("TEE", "WH-PARIS") == 9
    outcome = decide(store, "2", "reject", note="stolen card")
    assert outcome.effects == [
        "order #2 cancelled at the storefront",
        "900.00 EUR refunded",
        "customer emailed",
        "1 unit back in stock",
    ]
    assert store.available("TEE", "WH-PARIS") == 10
    [email] = sent(engine, "email", "order.cancelled")
    assert (email["to"], email["refund_text"]) == ("c1@example.test", "900.00 EUR")
    [refund] = sent(engine, "payments", "refund.create")
    assert (refund["order"], refund["amount_minor"], refund["currency"]) == ("2", 90000, "EUR")


def test_a_held_order_that_shipped_meanwhile_is_superseded_and_cannot_be_resolved(
    engine: Engine, registry: Registry
) -> None:
    store = store_with(engine, registry)
    store.send(order_event("3", total=90000))
    handoff = open_handoff_of(store, "order:shop:3")
    # the store's staff fulfilled it from the storefront's admin: the carrier scans it
    store.send(scan("3", "in_transit", T0 + timedelta(hours=1)))
    assert store.order("3")["status"] == "shipped"
    with engine.connect() as conn:
        state, note = conn.execute(
            select(handoffs.c.state, handoffs.c.note).where(handoffs.c.id == handoff["id"])
        ).one()
        closing = conn.execute(
            select(audit_log.c.evidence).where(audit_log.c.action == "handoff.superseded")
        ).scalar_one()
    assert state == "superseded" and "fulfilled outside storeops" in note
    assert closing["event_id"] is not None
    # rejecting now would refund a parcel on its way: refused, nothing done
    with pytest.raises(Conflict, match="already superseded"):
        resolve(application(store), OPS, handoff["id"], "reject")
    assert sent(engine, "payments") == [] and ("storefront", "order.cancel") not in store.outbox("3")


def test_a_resolution_the_order_can_no_longer_take_is_refused_before_anything_happens(
    engine: Engine, registry: Registry
) -> None:
    store = store_with(engine, registry)
    store.send(order_event("4", total=90000))
    handoff = open_handoff_of(store, "order:shop:4")
    # the scan is queued but not yet decided when the person rejects: the desk's check sees the
    # order as it is now and the command refuses; once the scan is decided the handoff is superseded
    with engine.begin() as conn:
        conn.execute(handoffs.update().where(handoffs.c.id == handoff["id"]).values(state="claimed"))
    from storeops.desks.orders.tables import orders

    with engine.begin() as conn:
        conn.execute(orders.update().where(orders.c.subject == "order:shop:4").values(status="shipped"))
    with pytest.raises(Conflict, match="order #4 has already shipped"):
        resolve(application(store), OPS, handoff["id"], "reject")
    with engine.connect() as conn:
        assert conn.execute(select(handoffs.c.state).where(handoffs.c.id == handoff["id"])).scalar_one() == "claimed"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"foo": 1}, "changes.foo"),
        ({"shipping_address": {"zip": "75001"}}, "changes.shipping_address.zip"),
        ({"drop_lines": ["NOPE"]}, "changes.drop_lines"),
        ({"drop_lines": ["TEE"]}, "changes.drop_lines"),
        ({}, "changes"),
    ],
)
def test_modify_takes_only_the_fields_the_reason_allows(
    engine: Engine, registry: Registry, changes: dict[str, Any], field: str
) -> None:
    store = store_with(engine, registry)
    store.send(order_event("5", total=90000))
    with pytest.raises(InvalidInput) as refused:
        decide(store, "5", "modify", changes=changes)
    assert refused.value.field == field
    assert open_handoff_of(store, "order:shop:5")["state"] == "open"  # nothing recorded


def test_a_corrected_address_is_applied_and_shipped_to(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry, {"address_mismatch_repeat": 1})
    store.send(order_event("6", shipping=address(postal_code="X"), billing=address()))
    assert store.reasons("6") == ["repeated_address_mismatch", "order_invalid"]
    outcome = decide(store, "6", "modify", changes={"shipping_address": {"postal_code": "69003"}})
    assert outcome.refused is None and outcome.effects[0].startswith("shipping address corrected")
    [pick] = sent(engine, "warehouse", "fulfilment.request")
    assert pick["ship_to"]["postal_code"] == "69003"
    assert store.order("6")["shipping_address"]["postal_code"] == "69003"


def test_dropping_a_line_ships_the_rest(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    lines = [
        {"sku": "TEE", "quantity": 1, "unit_price_minor": 60000},
        {"sku": "MUG", "quantity": 2, "unit_price_minor": 100},
    ]
    store.send(order_event("7", total=60200, lines=lines))
    outcome = decide(store, "7", "modify", changes={"drop_lines": ["MUG"]})
    assert "lines dropped: MUG" in outcome.effects
    [pick] = sent(engine, "warehouse", "fulfilment.request")
    assert [line["sku"] for line in pick["lines"]] == ["TEE"]
    assert store.available("MUG", "WH-PARIS") == 10 and store.available("MUG", "WH-BERLIN") == 10


@pytest.mark.parametrize(
    ("resolution", "changes", "connector", "action"),
    [
        ("modify", {"action": "reship"}, "warehouse", "fulfilment.request"),
        ("modify", {"action": "refund"}, "payments", "refund.create"),
        ("approve", {}, "carrier", "trace.request"),
    ],
)
def test_a_shipping_irregularity_is_reshipped_refunded_or_traced(
    engine: Engine, registry: Registry, resolution: str, changes: dict[str, Any], connector: str, action: str
) -> None:
    store = store_with(engine, registry)
    store.send(order_event("8"), scan("8", "in_transit", T0 + timedelta(hours=2)))
    store.send(scan("8", "exception", T0 + timedelta(days=1)))
    before = len(sent(engine, connector, action))
    outcome = decide(store, "8", resolution, changes=changes)
    assert outcome.refused is None and outcome.effects
    assert len(sent(engine, connector, action)) == before + 1
    if changes.get("action") == "reship":
        picks = sent(engine, "warehouse", "fulfilment.request")
        assert picks[0]["tracking_number"] != picks[1]["tracking_number"]


def test_the_storefront_cancelling_a_held_order_supersedes_its_handoff(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("9", total=90000))
    store.send(
        NewEvent(
            source="shop",
            external_id="cancel-9",
            kind="order.cancelled",
            subject="order:shop:9",
            occurred_at=T0 + timedelta(minutes=30),
            payload={"order_number": "9", "reason": "customer"},
        )
    )
    [handoff] = store.handoffs("9")
    assert handoff["state"] == "superseded" and store.order("9")["status"] == "cancelled"


def test_one_open_handoff_per_subject_takes_in_new_reasons(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("10", total=90000))
    store.send(
        NewEvent(
            source="support",
            external_id="change-10",
            kind="order.change_requested",
            subject="order:shop:10",
            occurred_at=T0 + timedelta(minutes=5),
            payload={"order_number": "10", "what": "address_change", "text": "please ship to my office instead"},
        )
    )
    [handoff] = store.handoffs("10")
    assert handoff["reasons"] == ["order_value_over_threshold", "change_request"]
    assert handoff["evidence"]["text"] == "please ship to my office instead"
    assert handoff["evidence"]["earlier"][0]["total_minor"] == 90000


def test_a_change_request_on_an_order_with_the_warehouse_sends_the_new_address_on(
    engine: Engine, registry: Registry
) -> None:
    store = store_with(engine, registry)
    store.send(order_event("11"))
    assert store.order("11")["status"] == "fulfilling"
    store.send(
        NewEvent(
            source="support",
            external_id="change-11",
            kind="order.change_requested",
            subject="order:shop:11",
            occurred_at=T0 + timedelta(minutes=5),
            payload={"order_number": "11", "what": "address_change", "text": "ship to 3 rue Neuve, 69002 Lyon"},
        )
    )
    assert store.reasons("11") == ["change_request"]
    with pytest.raises(InvalidInput, match="only its shipping_address"):
        decide(store, "11", "modify", changes={"drop_lines": ["TEE"]})
    outcome = decide(
        store, "11", "modify", changes={"shipping_address": {"line1": "3 rue Neuve", "postal_code": "69002"}}
    )
    assert outcome.effects[0] == "order #11 now ships to 3 rue Neuve, 69002, Lyon, FR"
    assert sent(engine, "warehouse", "fulfilment.update")[0]["ship_to"]["line1"] == "3 rue Neuve"
    assert sent(engine, "email", "order.changed")[0]["ship_to"] == "3 rue Neuve, 69002, Lyon, FR"


# --- the support desk ------------------------------------------------------------------------


def chat_message(text: str, conversation: str, n: int) -> NewEvent:
    return NewEvent(
        source="chat",
        external_id=f"m-{conversation}-{n}",
        kind="ticket.message_received",
        subject=f"ticket:chat:{conversation}",
        occurred_at=T0 + timedelta(minutes=n),
        payload={"conversation_id": conversation, "text": text, "channel": "chat", "customer_email": "c1@example.test"},
    )


@pytest.mark.parametrize(
    ("resolution", "reply", "text"),
    [("approve", None, None), ("approve", "Edited by Ana", "Edited by Ana"), ("reject", None, None)],
)
def test_a_support_answer_reaches_the_customer_through_their_channel(
    engine: Engine, registry: Registry, resolution: str, reply: str | None, text: str | None
) -> None:
    store = store_with(engine, registry)
    store.send(chat_message("This is ridiculous, the worst service ever!", "conv-1", 1))
    store.send(chat_message("Are you even reading this?!", "conv-1", 2))
    handoff = open_handoff_of(store, "ticket:chat:conv-1")
    # one conversation, one ticket: the second message joined the first
    assert len(handoff["evidence"]["joined"]) == 1
    holding = len(sent(engine, "chat", "reply.send"))
    outcome = resolve(application(store), OPS, handoff["id"], resolution, reply=reply)
    replies = sent(engine, "chat", "reply.send")[holding:]
    if resolution == "reject":
        assert replies == [] and outcome.effects == ["ticket closed without a reply"]
        return
    assert len(replies) == 1 and replies[0]["conversation"] == "conv-1"
    assert replies[0]["text"] == (text or handoff["suggestion"])
    with engine.connect() as conn:
        evidence = conn.execute(
            select(audit_log.c.evidence).where(audit_log.c.action == "support.reply_sent")
        ).scalar_one()
    assert evidence["reply"] == replies[0]["text"]


def test_the_chat_never_promises_a_change_nobody_is_given(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(order_event("2264"))
    message = chat_message("Please change the shipping address of order 2264 to 3 rue Neuve, Lyon", "conv-2", 3)
    store.send(message)
    [reply] = [p for p in sent(engine, "chat", "reply.send") if p["conversation"] == "conv-2"]
    assert "passed your request for order 2264 to our order team" in reply["text"]
    assert store.reasons("2264") == ["change_request"]


# --- the inventory desk ------------------------------------------------------------------------


def count(sku: str, counted: int, n: int) -> NewEvent:
    return NewEvent(
        source="count",
        external_id=f"count-{sku}-{n}",
        kind="stock.counted",
        subject=f"sku:{sku}",
        occurred_at=T0 + timedelta(minutes=n),
        payload={"sku": sku, "location": "WH-PARIS", "counted": counted},
    )


def test_a_rejected_count_keeps_the_ledger_and_asks_for_a_recount(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(count("TEE", 4, 1))
    handoff = open_handoff_of(store, "sku:TEE")
    assert store.available("TEE", "WH-PARIS") == 4
    outcome = resolve(application(store), OPS, handoff["id"], "reject")
    assert outcome.effects == ["the ledger is back at 10 of TEE at WH-PARIS", "a recount asked of WH-PARIS"]
    assert store.available("TEE", "WH-PARIS") == 10
    assert sent(engine, "warehouse", "count.request") == [
        {"sku": "TEE", "location": "WH-PARIS", "why": "a count far from the ledger was rejected"}
    ]


def test_a_new_count_supersedes_the_one_a_person_was_asked_about(engine: Engine, registry: Registry) -> None:
    store = store_with(engine, registry)
    store.send(count("MUG", 4, 1))
    first = open_handoff_of(store, "sku:MUG")
    store.send(count("MUG", 3, 2))
    with engine.connect() as conn:
        states = dict(
            conn.execute(select(handoffs.c.id, handoffs.c.state).where(handoffs.c.subject == "sku:MUG")).all()
        )
    assert states[first["id"]] == "superseded"
    assert list(states.values()).count("open") == 0  # 3 is within the tolerance of the new ledger (4)


# --- the CLI contract ----------------------------------------------------------------------------


def test_the_cli_prints_what_was_done_or_why_not(engine: Engine, registry: Registry, tmp_path: Path) -> None:
    store = store_with(engine, registry)
    store.send(order_event("12", total=90000), order_event("13", total=90000, customer="c2"))
    env = {
        "STOREOPS_DATABASE_URL": str(engine.url),
        "STOREOPS_POLICY_FILE": "",
        "STOREOPS_DESKS": "storeops.desks.orders:DESK,storeops.desks.support:DESK,storeops.desks.inventory:DESK",
    }
    runner = CliRunner()
    first = open_handoff_of(store, "order:shop:12")["id"]
    bad = runner.invoke(cli_app, ["handoffs", "resolve", str(first), "--modify", '{"foo": 1}'], env=env)
    assert bad.exit_code == 2 and "changes.foo" in bad.output
    done = runner.invoke(cli_app, ["handoffs", "resolve", str(first), "--reject", "--json"], env=env)
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert (body["id"], body["state"], body["refused"]) == (first, "resolved", None)
    assert "order #12 cancelled at the storefront" in body["effects"]
    again = runner.invoke(cli_app, ["handoffs", "resolve", str(first), "--approve"], env=env)
    assert again.exit_code == 2 and "already resolved" in again.output
    second = open_handoff_of(store, "order:shop:13")["id"]
    text = runner.invoke(cli_app, ["handoffs", "resolve", str(second), "--approve"], env=env)
    assert text.exit_code == 0 and "handoff" in text.stdout and "approved" in text.stdout
    assert "rejectd" not in done.output + text.output and "modifyd" not in done.output + text.output


def test_a_resolution_queued_twice_or_replayed_after_a_kill_acts_once(engine: Engine, registry: Registry) -> None:
    """The resolution's event is stored once (its key is the handoff's); a worker killed after the
    effects committed leaves the delivery done, and one killed before leaves nothing — so a replay
    of the same event does nothing more."""
    store = store_with(engine, registry)
    store.send(order_event("14", total=90000))
    handoff = open_handoff_of(store, "order:shop:14")
    outcome = resolve(application(store), OPS, handoff["id"], "approve", wait_seconds=0)
    assert outcome.pending
    with engine.begin() as conn:
        again = ingest(
            conn,
            [
                NewEvent(
                    source="storeops",
                    external_id=f"handoff:{handoff['id']}:resolved",
                    kind="handoff.resolved",
                    subject="order:shop:14",
                    occurred_at=T0,
                    payload={"handoff_id": handoff["id"], "desk": "orders", "resolution": "approve", "actor": "x"},
                )
            ],
            routes=registry,
        )
    assert again.duplicates == 1
    for _ in range(2):
        Worker(engine, registry, make_policy()).run(until_idle=True)
    assert len(sent(engine, "warehouse", "fulfilment.request")) == 1
