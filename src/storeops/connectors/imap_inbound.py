"""Customers' emails fetched from a mailbox over IMAP, as support messages.

``poll`` reads the unseen mails of one folder, turns each into a ``ticket.message_received``
event (``email_inbound.to_event``: threading, quoting and signatures handled there), stores
them in one transaction, and only then marks them seen — a crash in between re-reads them next
time, and the queue's dedupe on Message-ID stores each once. A mail storeops cannot read (no
text part) is marked seen and reported, never retried forever.
"""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from storeops.connectors.email_inbound import to_event
from storeops.engine.events import NewEvent
from storeops.errors import InvalidInput, StoreopsError


class Mailbox(Protocol):
    """The part of ``imaplib.IMAP4`` the poller uses (a test passes a fake server's client)."""

    def login(self, user: str, password: str) -> Any: ...
    def select(self, mailbox: str = ...) -> Any: ...
    def uid(self, command: str, *args: Any) -> Any: ...
    def logout(self) -> Any: ...


@dataclass
class PollResult:
    """What one poll did."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    unreadable: list[str] = field(default_factory=list)
    """UIDs (and why) of mails that are not support messages storeops can read."""


def connect(host: str, port: int = 993, *, ssl: bool = True) -> Mailbox:
    """A connection to a real IMAP server (TLS by default)."""
    try:
        return imaplib.IMAP4_SSL(host, port) if ssl else imaplib.IMAP4(host, port)
    except OSError as exc:
        raise StoreopsError(f"cannot reach the IMAP server {host}:{port}: {exc}") from None


def poll(
    mailbox: Mailbox,
    user: str,
    password: str,
    store: Callable[[list[NewEvent]], tuple[int, int]],
    *,
    folder: str = "INBOX",
    limit: int = 200,
) -> PollResult:
    """Fetch up to ``limit`` unseen mails, ``store`` their events, then mark them seen."""
    try:
        mailbox.login(user, password)
    except imaplib.IMAP4.error as exc:
        raise StoreopsError(f"the IMAP server refused the login of {user}: {exc}") from None
    try:
        status, _ = mailbox.select(folder)
        if status != "OK":
            raise StoreopsError(f"the IMAP folder {folder!r} cannot be opened")
        status, data = mailbox.uid("search", None, "UNSEEN")
        uids = (data[0] or b"").split()[:limit] if status == "OK" and data else []
        result = PollResult()
        events: list[NewEvent] = []
        done: list[bytes] = []
        for uid in uids:
            status, parts = mailbox.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts or [] if isinstance(part, tuple) and len(part) > 1), None)
            if status != "OK" or raw is None:
                continue  # gone meanwhile; the next poll sees what is there
            result.fetched += 1
            try:
                events.append(to_event(raw))
            except InvalidInput as exc:
                result.unreadable.append(f"{uid.decode()}: {exc.message}")
            done.append(uid)
        if events:
            result.stored, result.duplicates = store(events)
        for uid in done:
            mailbox.uid("store", uid, "+FLAGS", "(\\Seen)")
        return result
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            mailbox.logout()
