"""A person's answer to a support handoff: checked before it is queued, carried out after.

Approve sends the suggested reply (or the text the person wrote, ``reply``), modify sends the
person's text, reject closes the ticket without a reply. The reply goes through the channel the
customer wrote in — the chat transcript, or an email through the outbox — and the ticket's audit
shows the text sent (docs/resolutions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, OutboxMessage
from storeops.engine.events import Event, describe_validation_error
from storeops.engine.inbox import get_handoff
from storeops.errors import InvalidInput


class ReplyChanges(BaseModel):
    """The reply a person sends (approve with their own text, or modify)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reply: str = Field(min_length=1, max_length=4000)


def check_resolution(
    conn: Connection, handoff: Mapping[str, Any], resolution: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The support desk's gate (``Desk.check_resolution``): modify needs a reply; approve sends the
    person's reply or, without one, the suggestion (which must say something); reject sends nothing."""
    if resolution == "reject":
        if changes:
            raise InvalidInput("reject closes the ticket without a reply; it takes no changes", field="changes")
        return {}
    if resolution == "approve" and not changes:
        if not str(handoff["suggestion"] or "").strip():
            raise InvalidInput("there is no suggested reply to send: write one", field="reply")
        return {}
    try:
        parsed = ReplyChanges.model_validate(dict(changes))
    except ValidationError as exc:
        message, field = describe_validation_error(exc, prefix="changes")
        raise InvalidInput(message, field="reply" if field == "changes.reply" else field) from None
    return {"reply": parsed.reply.strip()}


def reply_target(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Where a reply to the customer who wrote ``payload`` goes (kept in a handoff's evidence)."""
    return {
        "conversation": payload.get("conversation_id"),
        "to": payload.get("customer_email"),
        "channel": payload.get("channel") or ("email" if payload.get("customer_email") else "chat"),
    }


def handoff_resolved(event: Event, ctx: HandlerContext) -> Decision:
    """Carry out a person's answer: send the reply through the customer's channel, or close."""
    resolution = str(event.payload["resolution"])
    changes = dict(event.payload.get("changes") or {})
    handoff = get_handoff(ctx.conn, int(event.payload["handoff_id"]))
    if resolution == "reject":
        return Decision(
            action="support.closed",
            evidence={"resolution": resolution, "effects": ["ticket closed without a reply"], "refused": None},
        )
    text = str(changes.get("reply") or handoff["suggestion"]).strip()
    target = dict(handoff["evidence"].get("reply_to") or {})
    if not target.get("conversation") and not target.get("to"):
        return Decision(
            action="support.reply_refused",
            evidence={"resolution": resolution, "effects": [], "refused": "the ticket does not say where to reply"},
        )
    channel = "email" if target.get("channel") == "email" else "chat"
    message = OutboxMessage(
        channel,
        "reply.send",
        {**target, "text": text, "from": event.payload.get("actor")},
        f"{event.subject}:handoff:{handoff['id']}:reply",
    )
    where = f"by email to {target.get('to')}" if channel == "email" else "in the chat"
    return Decision(
        action="support.reply_sent",
        evidence={
            "resolution": resolution,
            "reply": text,
            "edited": bool(changes.get("reply")),
            "effects": [f"reply sent {where}: “{text[:160]}{'…' if len(text) > 160 else ''}”"],
            "refused": None,
        },
        task="support.answer",
        actor=str(event.payload.get("actor") or "automation:support"),
        outbox=(message,),
    )
