"""The outbox's delivery guarantees: in order per connector and subject, concurrent, retried with
jittered backoff, a circuit breaker per connector, 429s that never dead-letter, dead messages with
the remote's words on the dead letters page, re-run from there; team notifications."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select

from storeops.clock import utcnow
from storeops.connectors.base import Rejected, RetryAfter
from storeops.connectors.notify import SlackNotifier
from storeops.connectors.webhook import StandardWebhookConnector, standard_signature
from storeops.engine.desk import Registry
from storeops.engine.outbox import Breaker, Dispatcher, Sender, backoff, enqueue, outbox_row
from storeops.engine.policy import OutboxPolicy, Policy
from storeops.engine.worker import Worker
from storeops.storage.schema import handoffs, outbox
from storeops.testing import FakeHooks, serve
from tests.conftest import served
from tests.web_helpers import person, sign_in, web


def _rows(engine: Engine, *messages: tuple[str, str, str]) -> None:
    now = utcnow()
    with engine.begin() as conn:
        enqueue(
            conn,
            [
                outbox_row(connector=c, action=a, payload={"n": i}, key=f"k-{i}-{a}", subject=s, event_id=None, now=now)
                for i, (c, a, s) in enumerate(messages)
            ],
        )


class Recorder:
    """A connector that records sends and fails as told."""

    def __init__(self, name: str = "shop", fail: dict[str, BaseException] | None = None, pause: float = 0.0) -> None:
        self.name = name
        self.fail = dict(fail or {})
        self.pause = pause
        self.sent: list[str] = []
        self.lock = threading.Lock()
        self.calls = 0

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        with self.lock:
            self.calls += 1
        if self.pause:
            time.sleep(self.pause)
        if action in self.fail:
            raise self.fail[action]
        with self.lock:
            self.sent.append(action)


def _statuses(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        return {r.action: (r.status, r.attempts) for r in conn.execute(select(outbox)).all()}


def test_a_subjects_messages_go_in_order_and_a_failure_holds_back_only_its_own(engine: Engine) -> None:
    # given a hold then a fulfilment of order 1 (the hold fails once), and order 2's fulfilment
    _rows(engine, ("shop", "hold", "order:1"), ("shop", "fulfil", "order:1"), ("shop", "fulfil-2", "order:2"))
    shop = Recorder(fail={"hold": ConnectionError("shop unreachable")})
    dispatcher = Dispatcher(engine, {"shop": shop}, OutboxPolicy(retry_base_seconds=0.001, retry_max_seconds=0.001))
    # the first round takes only the first message of each subject; order 2 is not held back
    assert dispatcher.run_once() == 1
    assert shop.sent == ["fulfil-2"]
    assert _statuses(engine)["fulfil"] == ("pending", 0)  # waits behind the failed hold
    shop.fail.clear()
    time.sleep(0.01)
    dispatcher.run_once()
    dispatcher.run_once()
    assert shop.sent == ["fulfil-2", "hold", "fulfil"]
    dispatcher.close()


def test_429s_never_dead_letter_and_refusals_die_at_once_with_the_remotes_words(engine: Engine) -> None:
    _rows(engine, ("shop", "busy", "a"), ("shop", "refused", "b"))
    shop = Recorder(
        fail={"busy": RetryAfter(0.0, "shop: 429; retry after 0 s"), "refused": Rejected("shop: order is cancelled")}
    )
    dispatcher = Dispatcher(engine, {"shop": shop}, OutboxPolicy(max_attempts=2))
    for _ in range(5):
        dispatcher.run_once()
        dispatcher.breaker = Breaker()  # (a 429 pauses the connector; here the pause is 0 s)
    statuses = _statuses(engine)
    assert statuses["busy"] == ("pending", 0)  # five 429s later: still waiting, no attempt spent
    assert statuses["refused"] == ("dead", 1)
    with engine.connect() as conn:
        error = conn.execute(select(outbox.c.last_error).where(outbox.c.action == "refused")).scalar_one()
    assert error == "shop: order is cancelled"
    dispatcher.close()


def test_the_circuit_opens_after_failures_in_a_row_and_one_probe_closes_it(engine: Engine) -> None:
    _rows(engine, *[("shop", f"m{i}", f"s{i}") for i in range(6)])
    clock = [0.0]
    shop = Recorder(fail={f"m{i}": ConnectionError("down") for i in range(6)})
    breaker = Breaker(failures=3, seconds=30, clock=lambda: clock[0])
    settings = OutboxPolicy(retry_base_seconds=0.001, retry_max_seconds=0.001, concurrency=1)
    dispatcher = Dispatcher(engine, {"shop": shop}, settings, breaker=breaker)
    dispatcher.run_once(limit=3)
    assert shop.calls == 3 and breaker.state() == {"shop": "open"}
    time.sleep(0.01)
    dispatcher.run_once()
    assert shop.calls == 3  # paused: nothing is tried, no attempt is spent
    clock[0] = 31.0  # the pause is over: one message probes, and the remote is back
    shop.fail.clear()
    assert breaker.probes() == {"shop"}
    dispatcher.run_once()
    # the probe went through, the circuit closed, and the rest followed in the next rounds
    assert breaker.state() == {} and len(shop.sent) == 6 and shop.calls == 3 + 6
    dispatcher.close()


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    for attempts, ceiling in ((1, 5.0), (2, 10.0), (3, 20.0), (12, 3600.0)):
        delays = {backoff(attempts, 5.0, 3600.0, rng).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1


def test_the_sender_thread_sends_concurrently_beside_the_decisions(engine: Engine) -> None:
    _rows(engine, *[("shop", f"m{i}", f"s{i}") for i in range(40)])
    shop = Recorder(pause=0.05)
    dispatcher = Dispatcher(engine, {"shop": shop}, OutboxPolicy(concurrency=20))
    sender = Sender(dispatcher, poll_seconds=0.05).start()
    deadline = time.monotonic() + 20
    while len(shop.sent) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    sender.stop()
    assert sorted(shop.sent) == sorted(f"m{i}" for i in range(40))
    assert sender.sent == 40 and all(s == "sent" for s, _ in _statuses(engine).values())


def test_dead_outbox_messages_are_on_the_dead_letters_page_and_rerun_there(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    _rows(engine, ("storefront", "fulfilment.create", "order:shopify:1"))
    dispatcher = Dispatcher(
        engine,
        {
            "storefront": Recorder(
                "storefront",
                fail={"fulfilment.create": Rejected("shopify: fulfillmentCreate refused: Fulfillment order is closed")},
            )
        },
    )
    dispatcher.run_once()
    dispatcher.close()
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "boss@example.com", "owner")
    person(engine, "helper@example.com", "support")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        csrf = sign_in(http, "boss@example.com")
        page = http.get("/dead").text
        assert "fulfilment.create" in page and "Fulfillment order is closed" in page
        with engine.connect() as conn:
            message = conn.execute(select(outbox.c.id)).scalar_one()
        done = http.post(f"/dead/outbox/{message}/rerun", data={"csrf_token": csrf})
        assert f"Outbox message {message} (storefront fulfilment.create) is queued again" in done.text
        again = http.post(f"/dead/outbox/{message}/rerun", data={"csrf_token": csrf})
        assert "not dead" in again.text
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.status, outbox.c.attempts)).one() == ("pending", 0)
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        sign_in(http, "helper@example.com")
        assert "Outbox messages" not in http.get("/dead").text  # support does not re-run the storefront's messages


def test_an_urgent_handoff_and_an_sla_breach_reach_the_team_chat_once(engine: Engine, registry: Registry) -> None:
    from storeops.engine.queue import ingest
    from tests.conftest import ROUTES, make_policy, step

    hooks = FakeHooks()
    policy = make_policy({"inbox": {"sla_minutes": 1}, "outbox": {"notify_priority": 2}})
    with serve(hooks.app) as base:
        notifier = SlackNotifier(f"{base}/hooks/slack", base_url="https://ops.acme.example/")
        # the probe desk hands off (priority 2, posted with notify_priority = 2)
        with engine.begin() as conn:
            ingest(conn, [step("thing:9", 1, handoff=True, occurred_at=utcnow())], routes=ROUTES)
        worker = Worker(engine, registry, policy, connectors={"notify": notifier})
        worker.run(until_idle=True)
        [opened] = hooks.requests
        body = json.loads(opened["body"])
        assert body["text"].startswith("*:rotating_light: New urgent handoff* — probe · `thing:9`")
        assert body["blocks"][0]["text"]["text"] == body["text"]
        assert "<https://ops.acme.example/subjects/thing:9|Open in the inbox>" in body["text"]
        # when it goes past its due time, one breach notice (however often the worker looks)
        with engine.begin() as conn:
            conn.execute(handoffs.update().values(due_at=utcnow()))
        worker.tick()
        worker.tick()
        worker.send_outbox()
        worker.close()
    assert len(hooks.requests) == 2
    assert "SLA breached" in json.loads(hooks.requests[1]["body"])["text"]


def test_standard_webhooks_are_signed_as_the_spec_says() -> None:
    hooks = FakeHooks()
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123").decode()
    with serve(hooks.app) as base:
        connector = StandardWebhookConnector("warehouse", f"{base}/hooks/wms", secret, clock=lambda: 1767225600)
        connector.send("fulfilment.request", {"order": "1001"}, "order:x:pick:0")
        connector.send("fulfilment.request", {"order": "1001"}, "order:x:pick:0")
        connector.client.close()
    first, second = hooks.requests
    headers, body = first["headers"], first["body"]
    assert json.loads(body) == {"type": "fulfilment.request", "timestamp": 1767225600, "data": {"order": "1001"}}
    assert headers["webhook-timestamp"] == "1767225600"
    assert headers["webhook-id"] == second["headers"]["webhook-id"]  # a retry is recognisable
    expected = base64.b64encode(
        hmac.new(
            b"0123456789abcdef0123", f"{headers['webhook-id']}.1767225600.".encode() + body, hashlib.sha256
        ).digest()
    ).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert standard_signature(secret, headers["webhook-id"], 1767225600, body) == f"v1,{expected}"
