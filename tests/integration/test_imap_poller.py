"""The IMAP poller against a fake mailbox (the outside world's edge): read, store once, mark seen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from storeops.connectors.imap_inbound import poll
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.queue import ingest
from storeops.errors import StoreopsError
from storeops.storage.schema import events
from tests.conftest import ROUTES

FIRST = (
    b"From: Ana Lima <ana@example.test>\r\nSubject: Where is my parcel?\r\nMessage-ID: <m1@example.test>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hello, my order has not arrived yet.\r\n"
)
REPLY = (
    b"From: ana@example.test\r\nSubject: Re: Where is my parcel?\r\nMessage-ID: <m2@example.test>\r\n"
    b"In-Reply-To: <m1@example.test>\r\nReferences: <m1@example.test>\r\n"
    b"Date: Mon, 02 Mar 2026 12:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAny news?\r\n"
)
NO_TEXT = (
    b"From: bot@example.test\r\nSubject: invoice\r\nMessage-ID: <m3@example.test>\r\n"
    b"Content-Type: application/pdf\r\n\r\nJVBERi0=\r\n"
)


class FakeMailbox:
    """Just enough of an IMAP server's answers, in imaplib's shapes."""

    def __init__(self, mails: dict[bytes, bytes], password: str = "secret") -> None:
        self.mails = mails
        self.seen: set[bytes] = set()
        self.password = password
        self.logged_out = False

    def login(self, user: str, password: str) -> Any:
        import imaplib

        if password != self.password:
            raise imaplib.IMAP4.error("[AUTHENTICATIONFAILED] Invalid credentials")
        return "OK", [b"Logged in"]

    def select(self, mailbox: str = "INBOX") -> Any:
        return ("OK", [str(len(self.mails)).encode()]) if mailbox == "INBOX" else ("NO", [b"no such folder"])

    def uid(self, command: str, *args: Any) -> Any:
        if command == "search":
            return "OK", [b" ".join(uid for uid in sorted(self.mails) if uid not in self.seen)]
        if command == "fetch":
            uid = args[0]
            return "OK", [(uid + b" (UID " + uid + b" BODY[] {1}", self.mails[uid]), b")"]
        if command == "store":
            assert args[1:] == ("+FLAGS", "(\\Seen)")
            self.seen.add(args[0])
            return "OK", [b""]
        raise AssertionError(command)

    def logout(self) -> Any:
        self.logged_out = True
        return "BYE", [b""]


def _store(engine: Engine, registry: Registry, *, fail: bool = False) -> Any:
    def store(new: list[NewEvent]) -> tuple[int, int]:
        if fail:
            raise RuntimeError("database went away")
        parsed = [parse_new_event(e.model_dump(mode="json"), registry.payload_models) for e in new]
        with engine.begin() as conn:
            result = ingest(conn, parsed, routes=ROUTES)
        return len(result.ids), result.duplicates

    return store


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_unseen_mails_become_messages_once_and_are_marked_seen(engine: Engine, registry: Registry) -> None:
    mailbox = FakeMailbox({b"1": FIRST, b"2": REPLY, b"3": NO_TEXT})
    with pytest.raises(RuntimeError):  # a crash after fetching and before storing marks nothing seen
        poll(mailbox, "help@shop.test", "secret", _store(engine, registry, fail=True))
    assert mailbox.seen == set() and _stored(engine) == 0 and mailbox.logged_out

    result = poll(mailbox, "help@shop.test", "secret", _store(engine, registry))
    assert (result.fetched, result.stored, result.duplicates) == (3, 2, 0)
    assert len(result.unreadable) == 1 and result.unreadable[0].startswith("3: ")
    assert mailbox.seen == {b"1", b"2", b"3"}
    with engine.connect() as conn:
        subjects = conn.execute(select(events.c.subject)).scalars().all()
    assert len(set(subjects)) == 1  # the reply joined the first mail's conversation

    again = poll(mailbox, "help@shop.test", "secret", _store(engine, registry))
    assert (again.fetched, again.stored) == (0, 0) and _stored(engine) == 2
    mailbox.seen.clear()  # someone marked them unread: read again, stored once
    assert poll(mailbox, "help@shop.test", "secret", _store(engine, registry)).duplicates == 2


def test_a_refused_login_or_a_missing_folder_is_one_clear_error(engine: Engine, registry: Registry) -> None:
    with pytest.raises(StoreopsError, match=r"refused the login of help@shop\.test"):
        poll(FakeMailbox({}), "help@shop.test", "wrong", _store(engine, registry))
    with pytest.raises(StoreopsError, match="folder 'Support' cannot be opened"):
        poll(FakeMailbox({}), "help@shop.test", "secret", _store(engine, registry), folder="Support")
