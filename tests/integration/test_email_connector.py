"""Email over SMTP against a real SMTP server (aiosmtpd on 127.0.0.1): a support reply arrives as a
threaded mail with text and HTML parts, and a sender that stops mid-send never mails twice."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from storeops.bootstrap import App
from storeops.connectors.base import Rejected, RemoteError, Uncertain
from storeops.connectors.email_inbound import to_event
from storeops.connectors.smtp import SmtpConnector, message_id
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.outbox import OutboxHandovers, rerun_message
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.errors import InvalidInput
from storeops.settings import Settings
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import outbox
from storeops.testing import free_port
from tests.conftest import make_policy


class Mailbox:
    """An aiosmtpd handler keeping every mail; it can stall before answering RCPT or the final dot."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.stall_rcpt = 0.0
        self.stall_data = 0.0
        self.got_data = threading.Event()
        self.got_rcpt = threading.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        envelope.rcpt_tos.append(address)
        self.got_rcpt.set()
        if self.stall_rcpt:
            await asyncio.sleep(self.stall_rcpt)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.envelopes.append(envelope)
        self.got_data.set()
        if self.stall_data:
            await asyncio.sleep(self.stall_data)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


CUSTOMER_MAIL = b"""From: Ann Buyer <ann@example.test>
To: help@acme.example
Subject: Where is my order 1001?
Message-ID: <CAF-ann-2@mail.example.test>
References: <CAF-ann-1@mail.example.test>
In-Reply-To: <CAF-ann-1@mail.example.test>
Date: Tue, 01 Dec 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

Hello, where is my order 1001? Thanks, Ann
"""


def test_a_support_reply_reaches_the_smtp_server_as_a_threaded_mail(
    smtp: tuple[Mailbox, int], sqlite_url: str, tmp_path: Path, support_models: Any
) -> None:
    box, port = smtp
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    registry = Registry(builtin_desks())
    policy = make_policy()
    settings = Settings(
        database_url=sqlite_url,
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="Acme Shop <help@acme.example>",
        outbox_dir=tmp_path,
    )
    app = App(settings=settings, engine=engine, desks=builtin_desks(), registry=registry, policy=policy)
    # given a customer's mail in a thread
    with engine.begin() as conn:
        ingest(conn, [to_event(CUSTOMER_MAIL)], routes=registry)
    worker = Worker(engine, registry, policy, connectors=app.connectors(), models=app.models)
    # when the support desk answers it and the outbox sends
    worker.run(until_idle=True)
    worker.close()
    # then the SMTP server got one mail to the customer, threaded under the customer's own
    [mail] = box.mails
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.connector == "email")).one()
    assert row.status == "sent"
    assert box.envelopes[0].rcpt_tos == ["ann@example.test"]
    assert box.envelopes[0].mail_from == "help@acme.example"
    assert mail["To"] == "ann@example.test" and mail["From"] == "Acme Shop <help@acme.example>"
    assert mail["Subject"] == "Re: Where is my order 1001?"
    assert mail["In-Reply-To"] == "<CAF-ann-2@mail.example.test>"
    assert mail["References"] == "<CAF-ann-1@mail.example.test> <CAF-ann-2@mail.example.test>"
    assert mail["Message-ID"] == message_id(row.idempotency_key, "acme.example")
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert row.payload["text"] in text.get_content()
    assert "<p>" in html.get_content() and "Acme Shop" in html.get_content()
    engine.dispose()


def _connector(port: int, engine: Engine | None = None) -> SmtpConnector:
    return SmtpConnector(
        f"smtp://127.0.0.1:{port}",
        "Acme <help@acme.example>",
        handovers=OutboxHandovers(engine) if engine is not None else None,
        timeout=5,
    )


def test_html_is_escaped_and_bad_messages_are_refused(smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    connector = _connector(port)
    connector.send("reply.send", {"to": "a@example.test", "text": "<script>x</script>"}, "k-1")
    html = box.mails[0].get_body(preferencelist=("html",))
    assert html is not None and "&lt;script&gt;" in html.get_content()
    with pytest.raises(Rejected, match="no recipient"):
        connector.send("reply.send", {"text": "hi"}, "k-2")
    with pytest.raises(Rejected, match="no template for 'mystery'"):
        connector.send("mystery", {"to": "a@example.test"}, "k-3")


def test_a_server_that_is_down_is_a_failed_attempt() -> None:
    with pytest.raises(RemoteError, match="cannot reach"):
        _connector(free_port()).send("reply.send", {"to": "a@example.test", "text": "hi"}, "k")


def _row(engine: Engine, key: str) -> None:
    from storeops.clock import utcnow
    from storeops.engine.outbox import enqueue, outbox_row

    with engine.begin() as conn:
        enqueue(
            conn,
            [
                outbox_row(
                    connector="email",
                    action="reply.send",
                    payload={"to": "ann@example.test", "text": "Your order ships today."},
                    key=key,
                    subject="ticket:email:x",
                    event_id=None,
                    now=utcnow(),
                )
            ],
        )


def test_an_attempt_that_stopped_after_the_handover_is_not_sent_again(
    smtp: tuple[Mailbox, int], sqlite_url: str
) -> None:
    box, port = smtp
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    _row(engine, "k-handed")
    # an attempt that reached the point of no return and was never heard of again (its sender died)
    OutboxHandovers(engine).hand_over("k-handed")
    with pytest.raises(Uncertain, match="may have arrived"):
        _connector(port, engine).send("reply.send", {"to": "ann@example.test", "text": "x"}, "k-handed")
    assert box.mails == []
    # a person checked: re-running it clears the mark and it is sent
    from storeops.clock import utcnow

    with engine.begin() as conn:
        message = conn.execute(select(outbox.c.id)).scalar_one()
        with pytest.raises(Exception, match="not dead"):
            rerun_message(conn, message, now=utcnow())
        conn.execute(outbox.update().values(status="dead"))
        rerun_message(conn, message, now=utcnow())
    _connector(port, engine).send("reply.send", {"to": "ann@example.test", "text": "x"}, "k-handed")
    assert len(box.mails) == 1
    engine.dispose()


def test_the_team_gets_urgent_handoffs_and_breaches_by_mail(
    smtp: tuple[Mailbox, int], sqlite_url: str, tmp_path: Path
) -> None:
    box, port = smtp
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    registry = Registry(builtin_desks())

    def app(**settings: Any) -> App:
        configured = Settings(database_url=sqlite_url, outbox_dir=tmp_path, **settings)
        return App(settings=configured, engine=engine, desks=builtin_desks(), registry=registry, policy=make_policy())

    mail = {"smtp_url": f"smtp://127.0.0.1:{port}", "mail_from": "Acme Shop <help@acme.example>"}
    notify = app(**mail, notify_email="ops@acme.example", public_url="https://ops.acme.example").connectors()["notify"]
    notice = {
        "handoff_id": 7,
        "desk": "orders",
        "subject": "order:shop:1042",
        "reasons": ["fraud_signal"],
        "suggestion": "Check the payment",
        "priority": 1,
        "due_at": "2026-12-01T18:00:00+00:00",
        "amount": None,
    }
    notify.send("handoff.opened", notice, "notify:opened:7")
    notify.send("handoff.breached", notice, "notify:breached:7")
    opened, breached = box.mails
    assert opened["To"] == "ops@acme.example" and "order:shop:1042" in str(opened["Subject"])
    assert "fraud_signal" in opened.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "past its due time" in breached.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = "https://ops.acme.example/subjects/order:shop:1042"
    assert f"Open it: {link}" in opened.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert opened["Message-ID"] != breached["Message-ID"]
    with pytest.raises(Rejected, match="no team notification"):
        notify.send("handoff.mystery", notice, "k")
    # one remote a notice goes to, and a mail needs an account to go through
    with pytest.raises(InvalidInput, match="not both"):
        app(**mail, notify_email="ops@acme.example", notify_webhook_url="https://hooks.example/x").connectors()
    with pytest.raises(InvalidInput, match="needs STOREOPS_SMTP_URL"):
        app(notify_email="ops@acme.example").connectors()
    with pytest.raises(InvalidInput, match="is not an address"):
        app(**mail, notify_email="ops").connectors()
    engine.dispose()
