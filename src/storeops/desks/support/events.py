"""Event kinds of the support desk."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from storeops.engine.events import Payload


class MessageReceived(Payload):
    """``ticket.message_received``: a customer wrote (chat widget, API or email)."""

    conversation_id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=5000)
    channel: Literal["chat", "email", "api"] = "chat"
    customer_email: str | None = None
    customer_id: str | None = None
    order_number: str | None = None
    message_id: str | None = Field(None, max_length=998)
    """An email's own Message-ID, so a reply threads under it (In-Reply-To)."""
    references: str | None = Field(None, max_length=8000)
    """An email's References (its thread, oldest first)."""
    email_subject: str | None = Field(None, max_length=998)
    """An email's Subject, which the reply answers as ``Re: …``."""


class DraftReady(Payload):
    """``ticket.draft_ready``: the drafting model answered for the handoff of message ``event_id``."""

    event_id: int
    draft: str = Field(min_length=1, max_length=4000)
    model: str | None = None


KINDS: dict[str, type[Payload]] = {
    "ticket.message_received": MessageReceived,
    "ticket.draft_ready": DraftReady,
}
