"""Inbound email → ``ticket.message_received`` events, threaded into conversations.

A reply carries ``References`` (the thread's ids, oldest first) or ``In-Reply-To``; the thread's
first message id names the conversation, so every mail of a thread lands on one subject.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime

from storeops.engine.events import NewEvent
from storeops.errors import InvalidInput

MAX_TEXT = 5000


def _ids(header: str | None) -> list[str]:
    return [part for part in (header or "").split() if part.startswith("<") and part.endswith(">")]


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        raise InvalidInput("the email has no text/plain part to read", field="body")
    text = part.get_content()
    # Drop quoted earlier mails and signatures: the desk reads what the customer wrote now.
    kept = []
    for line in str(text).splitlines():
        if line.strip() == "--":
            break
        if not line.startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip()


def to_event(raw: bytes) -> NewEvent:
    """The event of one RFC 5322 message; InvalidInput names what is missing."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    own_id = next(iter(_ids(message.get("Message-ID"))), None)
    if own_id is None:
        raise InvalidInput("the email has no Message-ID header", field="Message-ID")
    sender = parseaddr(str(message.get("From", "")))[1]
    if "@" not in sender:
        raise InvalidInput("the email has no sender address in From", field="From")
    thread = _ids(message.get("References")) or _ids(message.get("In-Reply-To")) or [own_id]
    conversation = "email-" + hashlib.blake2b(thread[0].encode(), digest_size=8).hexdigest()
    subject = str(message.get("Subject", "")).strip()
    body = _body(message)
    text = "\n".join(part for part in (subject, body) if part).strip()[:MAX_TEXT]
    if not text:
        raise InvalidInput("the email has neither a subject nor a body", field="body")
    try:
        sent = parsedate_to_datetime(str(message["Date"])) if message.get("Date") else datetime.now(UTC)
    except (TypeError, ValueError):
        raise InvalidInput(f"the Date header {message.get('Date')!r} is not an email date", field="Date") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    return NewEvent(
        source="email",
        external_id=own_id,
        kind="ticket.message_received",
        subject=f"ticket:email:{conversation}",
        occurred_at=sent,
        payload={
            "conversation_id": conversation,
            "text": text,
            "channel": "email",
            "customer_email": sender.lower(),
            "message_id": own_id,
            "references": " ".join(_ids(message.get("References")) or _ids(message.get("In-Reply-To"))) or None,
            "email_subject": subject[:998] or None,
        },
    )
