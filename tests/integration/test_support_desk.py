"""The support desk through the engine: what it answers alone and what it hands to a person."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import Engine, select

from storeops.desks.inventory.ledger import Cause, move
from storeops.desks.support.nlu import SupportModels
from storeops.engine.audit import read_audit
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.inbox import list_handoffs
from storeops.engine.models import DeskModels, ModelPlaces
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker, default_places
from storeops.errors import InvalidInput
from storeops.storage.schema import outbox
from tests.conftest import ROUTES, make_policy
from tests.integration.test_orders_desk import order_event

_ids = itertools.count()


def message(text: str, *, email: str | None = "c1@example.test", customer: str | None = "c1", **extra: Any) -> NewEvent:
    n = next(_ids)
    return NewEvent(
        source="shop",
        external_id=f"m{n}",
        kind="ticket.message_received",
        subject=f"ticket:shop:{n}",
        occurred_at=datetime.now(UTC),
        payload={
            "conversation_id": f"conv-{n}",
            "text": text,
            "customer_email": email,
            "customer_id": customer,
            **extra,
        },
    )


def run(
    engine: Engine,
    registry: Registry,
    *new: NewEvent,
    policy: dict[str, Any] | None = None,
    models: DeskModels | None = None,
) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        ingest(conn, list(new), routes=ROUTES)
    Worker(engine, registry, make_policy(policy), models=models).run(until_idle=True)
    with engine.connect() as conn:
        return [entry for entry in read_audit(conn, desk="support")]


def replies(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [row.payload["text"] for row in conn.execute(select(outbox).where(outbox.c.action == "reply.send"))]


def test_a_simple_question_is_answered_alone(engine: Engine, registry: Registry) -> None:
    [decision] = run(engine, registry, message("what are the delivery options?"))
    assert decision["outcome"] == "automatic" and decision["task"] == "support.answer"
    assert decision["evidence"]["intents"][0]["topic"] == "delivery"
    assert replies(engine) == [decision["evidence"]["reply"]] and "deliver" in replies(engine)[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("This is absolutely ridiculous, the worst service ever. Where is my parcel?", "negative_sentiment"),
        ("Great, another delay. Thanks for nothing.", "negative_sentiment"),
        ("I need to change my shipping address. Also, I want an invoice for my last order.", "multi_issue"),
        ("I want to speak to a human please", "asked_for_human"),
        ("The charger you sold me caught fire and burned my hand", "sensitive_topic"),
        ("I will file a chargeback with my bank", "sensitive_topic"),
        ("I want my money back or I'm calling my bank", "sensitive_topic"),
        ("do you ship to norway and can i pay with paypal", "multi_issue"),
        ("oh great another week of waiting thanks a lot", "negative_sentiment"),
    ],
)
def test_what_automation_must_not_answer_goes_to_a_person(
    engine: Engine, registry: Registry, text: str, reason: str
) -> None:
    [decision] = run(engine, registry, message(text))
    assert decision["outcome"] == "handoff" and reason in decision["reasons"]
    with engine.connect() as conn:
        [handoff] = list_handoffs(conn, desk="support")
    assert handoff["role"] == "support" and handoff["evidence"]["text"] == text
    # the customer is told a person will answer, and nothing else
    [reply] = replies(engine)
    assert "A member of our team will answer you personally within" in reply


@pytest.mark.parametrize(("lifetime", "vip"), [(199999, False), (200000, True)])
def test_vip_by_lifetime_spend_at_the_boundary(engine: Engine, registry: Registry, lifetime: int, vip: bool) -> None:
    with engine.begin() as conn:
        for sku in ("TEE",):
            move(
                conn, sku=sku, location="WH-PARIS", cause=Cause.RECEIPT, reference="s", at=datetime.now(UTC), on_hand=5
            )
    run(
        engine,
        registry,
        order_event("v1", customer="c1", total=lifetime),
        policy={"orders": {"high_value_threshold": "100000.00"}},
    )
    [decision] = [d for d in run(engine, registry, message("what are the delivery options?")) if d["desk"] == "support"]
    assert ("vip_customer" in decision["reasons"]) is vip


def test_a_vip_tag_goes_to_a_person(engine: Engine, registry: Registry) -> None:
    tagged = order_event("v2", customer="c9", total=1000)
    tagged.payload["customer"]["tags"] = ["VIP"]
    run(engine, registry, tagged)
    [decision] = run(engine, registry, message("what are the delivery options?", customer="c9"))
    assert decision["reasons"] == ["vip_customer"]


def test_order_status_only_for_the_order_s_own_customer(engine: Engine, registry: Registry) -> None:
    with engine.begin() as conn:
        move(conn, sku="TEE", location="WH-PARIS", cause=Cause.RECEIPT, reference="s", at=datetime.now(UTC), on_hand=5)
    run(engine, registry, order_event("5001", customer="c1", total=1000, at=datetime.now(UTC) - timedelta(hours=1)))
    # the owner (same email) learns the status and tracking
    own = run(engine, registry, message("where is my order 5001?", email="c1@example.test", customer=None))[-1]
    assert own["outcome"] == "automatic" and "Your order 5001 is being packed" in own["evidence"]["reply"]
    # someone else naming the same order number learns nothing about it
    other = run(engine, registry, message("where is my order 5001?", email="thief@example.test", customer=None))[-1]
    assert other["evidence"]["reply"] == (
        "I could not find order 5001 for thief@example.test. Please check the number, or write to us from the "
        "email address you ordered with."
    )
    # … exactly what anyone naming an order that does not exist is told
    none = run(engine, registry, message("where is my order 5999?", email="thief@example.test", customer=None))[-1]
    assert none["evidence"]["reply"] == other["evidence"]["reply"].replace("5001", "5999")
    assert other["evidence"]["order"] == {"number": "5001", "verified": False}


def test_models_left_to_load_are_loaded_by_the_first_message(
    engine: Engine, registry: Registry, support_models: SupportModels
) -> None:
    calls: list[int] = []

    def load(places: ModelPlaces) -> SupportModels:
        calls.append(1)
        return support_models

    models = _with_loader(registry, load)
    assert calls == []  # nothing is loaded before a message needs it
    first, second = run(
        engine, registry, message("what are the delivery options?"), message("do you ship to canada"), models=models
    )
    assert (first["outcome"], second["outcome"], calls) == ("automatic", "automatic", [1])


def test_when_no_model_can_be_loaded_every_message_goes_to_a_person(engine: Engine, registry: Registry) -> None:
    models = _with_loader(registry, lambda places: None)
    [decision] = run(engine, registry, message("what are the delivery options?"), models=models)
    assert decision["reasons"] == ["low_confidence"]
    assert "no support model could be loaded" in decision["evidence"]["problem"]


def _with_loader(registry: Registry, load: Any) -> DeskModels:
    """The desks' models with the support desk's loaded by ``load``."""
    desks = [replace(desk, load_models=load) if name == "support" else desk for name, desk in registry.desks.items()]
    return DeskModels(Registry(desks), default_places())


@pytest.mark.parametrize(("text", "problem"), [("", "at least 1 character"), ("x" * 5001, "at most 5000 characters")])
def test_empty_and_oversized_messages_are_refused_on_ingest(registry: Registry, text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_new_event(message(text).model_dump(mode="json"), registry.payload_models)


def _chat_app(engine: Engine, registry: Registry) -> Any:
    from storeops.bootstrap import App
    from storeops.desks import builtin_desks
    from storeops.settings import Settings
    from storeops.web.app import create_app

    return create_app(
        App(
            settings=Settings(database_url=str(engine.url)),
            engine=engine,
            desks=builtin_desks(),
            registry=registry,
            policy=make_policy(),
        )
    )


def test_the_chat_api_answers_through_the_engine(engine: Engine, registry: Registry) -> None:
    import threading

    import httpx

    from tests.conftest import served

    worker = Worker(engine, registry, make_policy())
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with served(_chat_app(engine, registry)) as base, httpx.Client(base_url=base, timeout=30) as http:
            answered = http.post("/api/v1/chat", json={"message": "what are the delivery options?"}).json()
            assert answered["handoff"] is None and "deliver" in answered["reply"]
            assert answered["intents"][0]["topic"] == "delivery"
            angry = http.post(
                "/api/v1/chat",
                json={"message": "This is ridiculous!! worst shop ever", "conversation": answered["conversation"]},
            ).json()
            assert angry["handoff"]["reasons"][0] == "negative_sentiment"
            assert angry["conversation"] == answered["conversation"]
            shown = http.get(f"/api/v1/chat/{answered['conversation']}").json()["messages"]
            said = [line["text"] for line in shown if line["from"] == "customer"]
            assert said == ["what are the delivery options?", "This is ridiculous!! worst shop ever"]
            assert answered["reply"] in [line["text"] for line in shown if line["from"] == "desk"]
            assert http.get("/api/v1/chat/no%20such%20id").status_code == 400
            empty = http.post("/api/v1/chat", json={"message": ""})
            assert empty.status_code == 400 and empty.json()["error"]["field"] == "message"
            huge = http.post("/api/v1/chat", content=b'{"message": "' + b"x" * 20000 + b'"}')
            assert huge.status_code == 413
            statuses = [http.post("/api/v1/chat", json={"message": "hi"}).status_code for _ in range(20)]
            assert statuses.count(429) >= 1  # 20 a minute per client, and four were sent before
            assert "Chat with us" in http.get("/chat").text
    finally:
        worker.stop()
        thread.join(timeout=10)


def test_questions_the_knowledge_base_cannot_answer_are_not_guessed(engine: Engine, registry: Registry) -> None:
    [decision] = run(engine, registry, message("what is the meaning of life, the universe and everything?"))
    assert "low_confidence" in decision["reasons"]
    knowledge = decision["evidence"]["knowledge"]
    assert knowledge["similarity"] < knowledge["min_similarity"] == 0.1


def test_the_store_s_own_knowledge_base_answers(engine: Engine, registry: Registry, tmp_path: Any) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "shipping.md").write_text(
        "# Shipping\nTopics: delivery\n\n## Which shipping options do you offer?\nOnly carrier pigeons, 9 days.\n",
        encoding="utf-8",
    )
    [decision] = run(
        engine,
        registry,
        message("what are the delivery options?"),
        policy={"support": {"knowledge_base": str(tmp_path / "kb")}},
    )
    assert decision["evidence"]["reply"] == "Only carrier pigeons, 9 days."
    assert decision["evidence"]["knowledge"]["page"] == "shipping.md"


def test_a_missing_knowledge_base_folder_is_a_policy_error(tmp_path: Any) -> None:
    from storeops.errors import PolicyError

    with pytest.raises(PolicyError, match=r"\[support\] knowledge_base: Value error, '.*nope' is not a folder"):
        make_policy({"support": {"knowledge_base": str(tmp_path / "nope")}})


def _order(engine: Engine, registry: Registry, number: str, *, shipped_days_ago: int | None = None) -> None:
    with engine.begin() as conn:
        move(conn, sku="TEE", location="WH-PARIS", cause=Cause.RECEIPT, reference="s", at=datetime.now(UTC), on_hand=5)
    placed = datetime.now(UTC) - timedelta(days=(shipped_days_ago or 0) + 1)
    run(engine, registry, order_event(number, customer="c1", total=1000, at=placed))
    if shipped_days_ago is not None:
        scan = NewEvent(
            source="carrier",
            external_id=f"scan-{number}",
            kind="shipment.scanned",
            subject=f"order:shop:{number}",
            occurred_at=datetime.now(UTC) - timedelta(days=shipped_days_ago),
            payload={"order_number": number, "tracking_number": "T1", "status": "in_transit"},
        )
        run(engine, registry, scan)


def _order_state(engine: Engine, number: str) -> str:
    from storeops.desks.orders.tables import orders

    with engine.connect() as conn:
        return str(conn.execute(select(orders.c.status).where(orders.c.number == number)).scalar_one())


def test_a_customer_cancels_an_unshipped_order_through_the_orders_desk(engine: Engine, registry: Registry) -> None:
    _order(engine, registry, "6001")
    stranger = run(engine, registry, message("please cancel my order 6001", email="x@example.test", customer=None))
    assert "I could not find order 6001 for x@example.test" in stranger[-1]["evidence"]["reply"]
    assert _order_state(engine, "6001") != "cancelled"
    own = run(engine, registry, message("please cancel my order 6001", customer=None))
    answer = next(a for a in own if a["action"] == "support.cancel")
    assert "6001 is being cancelled" in answer["evidence"]["reply"]
    assert _order_state(engine, "6001") == "cancelled"
    with engine.connect() as conn:
        refunds = conn.execute(select(outbox.c.payload).where(outbox.c.action == "refund.create")).scalars().all()
    assert [r["order"] for r in refunds] == ["6001"]


def test_a_shipped_order_cannot_be_cancelled_and_the_customer_is_told_so(engine: Engine, registry: Registry) -> None:
    _order(engine, registry, "6002", shipped_days_ago=1)
    audit = run(engine, registry, message("I want to cancel order 6002", customer=None))
    assert "already shipped" in audit[-1]["evidence"]["reply"] and _order_state(engine, "6002") == "shipped"


@pytest.mark.parametrize(("days", "state"), [(34, "authorized"), (36, "held")])
def test_a_return_asked_in_the_chat_goes_to_the_returns_desk_which_decides_it(
    engine: Engine, registry: Registry, days: int, state: str
) -> None:
    from storeops.desks.returns.tables import returns

    # No delivery scan: the window is 30 days from shipping plus the 5-day margin ([returns]).
    _order(engine, registry, "6003", shipped_days_ago=days)
    audit = run(engine, registry, message("I would like to return order 6003 please", customer=None))
    answer = next(a for a in audit if a["action"] == "support.return_opened")
    rma = answer["evidence"]["rma"]
    assert rma.startswith("R-") and rma in answer["evidence"]["reply"]
    assert "refund" not in answer["evidence"]["reply"]  # the support desk promises only the returns desk's mail
    with engine.connect() as conn:
        assert list_handoffs(conn, desk="support") == []
        decided = conn.execute(select(returns.c.state, returns.c.channel).where(returns.c.rma == rma)).one()
        waiting = list_handoffs(conn, desk="returns")
    assert tuple(decided) == (state, "chat")
    assert [h["reasons"] for h in waiting] == ([] if state == "authorized" else [["outside_policy"]])


def test_the_return_policy_question_is_still_answered_from_the_pages(engine: Engine, registry: Registry) -> None:
    audit = run(engine, registry, message("what is your return policy?", customer=None))
    assert audit[-1]["action"] == "support.answer" and "return" in audit[-1]["evidence"]["reply"].lower()


def test_an_llm_draft_reaches_the_handoff_only_when_it_promises_nothing_beyond_policy(
    engine: Engine, registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from storeops.bootstrap import App
    from storeops.desks import builtin_desks
    from storeops.settings import Settings
    from tests.conftest import served

    drafts = iter(
        [
            "I am so sorry your parcel is late. A colleague is checking with the carrier now.",
            "Sorry! We will refund you 20 EUR within 2 days and add a voucher.",
        ]
    )
    seen: list[dict[str, Any]] = []
    fake = FastAPI()

    @fake.post("/v1/chat/completions")
    async def complete(request: Request) -> dict[str, Any]:
        seen.append({"auth": request.headers.get("authorization"), "body": await request.json()})
        return {"choices": [{"message": {"role": "assistant", "content": next(drafts)}}]}

    monkeypatch.setenv("STOREOPS_LLM_API_KEY", "sk-test")
    with served(fake) as base:
        policy = make_policy({"support": {"llm_base_url": base + "/v1", "llm_model": "tiny"}})
        application = App(
            settings=Settings(database_url=str(engine.url), outbox_dir=tmp_path),
            engine=engine,
            desks=builtin_desks(),
            registry=registry,
            policy=policy,
        )
        worker = Worker(engine, registry, policy, connectors=application.connectors())
        for text in ("This is ridiculous, my parcel is a week late!", "Worst shop ever, still no parcel!!"):
            with engine.begin() as conn:
                ingest(conn, [message(text, customer=None)], routes=ROUTES)
            worker.run(until_idle=True)  # hand off, send the draft request, decide the draft
            worker.run(until_idle=True)
    assert [s["auth"] for s in seen] == ["Bearer sk-test", "Bearer sk-test"]
    assert seen[0]["body"]["model"] == "tiny" and seen[0]["body"]["messages"][-1]["content"].startswith("This is")
    with engine.connect() as conn:
        first, second = list_handoffs(conn, desk="support")
        audit = {row["action"]: row for row in read_audit(conn, desk="support")}
    assert first["suggestion"].startswith("I am so sorry your parcel is late")
    assert not second["suggestion"].startswith("Sorry! We will refund")
    assert audit["support.draft_rejected"]["evidence"]["outside_policy"] == [
        "20 eur",
        "refund",
        "voucher",
        "within 2 days",
    ]


def test_a_storefront_customer_tagged_vip_goes_to_a_person_before_any_order(engine: Engine, registry: Registry) -> None:
    from storeops.connectors import shopify
    from storeops.desks.orders.tables import customers

    body = {
        "customer": {
            "id": 207119551,
            "email": "bob.norman@hostmail.com",
            "tags": "VIP, wholesale",
            "total_spent": "41.94",
            "currency": "EUR",
            "created_at": "2015-05-27T18:11:24-04:00",
            "updated_at": "2015-09-02T14:52:56-04:00",
        }
    }
    [recorded] = shopify.to_events("customers/update", body, "w-1")
    run(engine, registry, recorded)
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.key == "customer:shopify:207119551")).one()
    assert (row.tags, row.orders_count, row.signed_up_at.year) == (["VIP", "wholesale"], 0, 2015)
    asked = message("what are the delivery options?", customer="207119551").model_copy(update={"source": "shopify"})
    [decision] = run(engine, registry, asked)
    assert decision["reasons"] == ["vip_customer"]
    # A later update without the tag takes it away; the spend it reports never lowers what orders counted.
    untagged = {"customer": {**body["customer"], "tags": "", "total_spent": "10.00", "updated_at": "2016-01-01"}}
    run(engine, registry, *shopify.to_events("customers/update", untagged, "w-2"))
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.key == "customer:shopify:207119551")).one()
    assert (row.tags, row.lifetime_minor) == ([], 4194)


def test_an_order_counted_earlier_in_the_same_batch_makes_its_customer_a_vip(
    engine: Engine, registry: Registry
) -> None:
    # The order's count on the customer record waits for the end of the batch; the VIP check,
    # later in the same batch, must still see it.
    with engine.begin() as conn:
        move(conn, sku="TEE", location="WH-PARIS", cause=Cause.RECEIPT, reference="s", at=datetime.now(UTC), on_hand=5)
    big = order_event("v7", customer="c7", total=200000)
    decisions = run(
        engine,
        registry,
        big,
        message("what are the delivery options?", customer="c7"),
        policy={"orders": {"high_value_threshold": "100000.00"}},
    )
    assert [d["reasons"] for d in decisions if d["desk"] == "support"] == [["vip_customer"]]


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order 7001?",
        "Hi, where is my order 7001?",
        "When will order 7001 arrive?",
        "hey has 7001 shipped yet",
        "good morning, any news on #7001? thanks, anna",
        "order no. 7001",
    ],
)
def test_an_order_number_from_its_customer_gets_the_status_whatever_the_greeting(
    engine: Engine, registry: Registry, text: str
) -> None:
    _order(engine, registry, "7001", shipped_days_ago=2)
    answer = run(engine, registry, message(text, customer=None))[-1]
    assert answer["outcome"] == "automatic", answer["reasons"]
    assert answer["evidence"]["reply"].startswith("Your order 7001 is on its way (last carrier scan")
    assert "Tracking: " in answer["evidence"]["reply"]
    assert answer["evidence"]["order"] == {"number": "7001", "verified": True}


def test_a_refund_question_from_a_known_sender_does_not_ask_for_the_email_again(
    engine: Engine, registry: Registry
) -> None:
    [answer] = run(engine, registry, message("How do I get a refund?", customer=None))
    assert answer["outcome"] == "automatic"
    assert answer["evidence"]["knowledge"]["question"] == "How do I get a refund?"
    assert "email" not in answer["evidence"]["reply"]


@pytest.mark.parametrize(
    ("shipped_days_ago", "applies"),
    [
        (None, "Your order 7002 has not shipped yet: reply 'cancel order 7002' and we cancel it"),
        (3, "Your order 7002 can be returned until"),
        (31, "more than 30 days ago"),
    ],
)
def test_a_refund_question_naming_the_customer_s_order_says_what_applies_to_it(
    engine: Engine, registry: Registry, shipped_days_ago: int | None, applies: str
) -> None:
    _order(engine, registry, "7002", shipped_days_ago=shipped_days_ago)
    answer = run(engine, registry, message("how do i get a refund for order 7002", customer=None))[-1]
    assert answer["outcome"] == "automatic"
    reply = answer["evidence"]["reply"]
    assert reply.startswith("Return the item within 30 days of delivery") and applies in reply


def test_an_unverified_order_number_is_asked_only_for_what_is_missing(engine: Engine, registry: Registry) -> None:
    _order(engine, registry, "7003")
    answer = run(engine, registry, message("where is my order 7003", email=None, customer=None))[-1]
    assert (
        answer["evidence"]["reply"]
        == "Happy to help with order 7003. Please reply with the email address you ordered with."
    )
    answer = run(engine, registry, message("where is my order", email="c1@example.test", customer=None))[-1]
    assert answer["evidence"]["reply"].startswith("Happy to help with your order. Please reply with its number")


def test_a_chargeback_threat_is_handed_over_as_sensitive_with_the_words_that_raised_it(
    engine: Engine, registry: Registry
) -> None:
    [decision] = run(engine, registry, message("im calling my bank to reverse the charge", customer=None))
    assert decision["reasons"] == ["sensitive_topic"]
    assert (decision["evidence"]["sensitive"], decision["evidence"]["sensitive_words"]) == (
        ["chargeback"],
        ["calling my bank"],
    )
    with engine.connect() as conn:
        [handoff] = list_handoffs(conn, desk="support")
    assert handoff["priority"] == 1


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("hi", "Hello! How can we help you today?"),
        ("Hello there!", "Hello! How can we help you today?"),
        ("thanks!", "You're welcome! Write to us any time if there is anything else we can do."),
    ],
)
def test_a_greeting_or_thanks_alone_gets_a_greeting_back(
    engine: Engine, registry: Registry, text: str, reply: str
) -> None:
    [decision] = run(engine, registry, message(text, customer=None))
    assert (decision["outcome"], decision["evidence"]["reply"]) == ("automatic", reply)
    assert decision["evidence"]["intents"] == [] and decision["evidence"]["pleasantry_only"] is True


def test_an_order_given_beside_a_clear_other_question_does_not_turn_it_into_order_status(
    engine: Engine, registry: Registry
) -> None:
    # A chat widget (or the simulator) sends the customer's last order with every message.
    _order(engine, registry, "7004")
    answer = run(engine, registry, message("how do I reset my password", customer=None, order_number="7004"))[-1]
    assert answer["evidence"]["knowledge"]["question"] == "How do I reset my password?"
    assert "rule" not in answer["evidence"]


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("I expect a reimbursement of $160", "When will I get my refund?"),
        ("get bill #37777", "Where do I find my invoice?"),
        ("shipments to Munich", "Which shipping options do you offer?"),
    ],
)
def test_a_sure_intent_finds_its_page_even_in_words_the_page_does_not_use(
    engine: Engine, registry: Registry, text: str, question: str
) -> None:
    [decision] = run(engine, registry, message(text, customer=None))
    assert decision["outcome"] == "automatic", decision["reasons"]
    assert decision["evidence"]["knowledge"]["question"] == question
