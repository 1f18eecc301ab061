"""Asking the support desk and waiting for its answer: what the chat API and the CLI share.

A message goes through the queue like any event; the caller waits (bounded) for the decision.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from storeops.engine.desk import Registry
from storeops.engine.events import parse_new_event
from storeops.engine.queue import ingest
from storeops.storage.db import read_only
from storeops.storage.schema import audit_log, deliveries, events, handoffs, outbox


def submit(
    engine: Engine,
    registry: Registry,
    *,
    text: str,
    email: str | None,
    order_number: str | None,
    conversation: str | None,
    channel: str,
    source: str = "chat",
) -> tuple[int, str]:
    """Validate and queue one customer message; returns (event id, conversation id)."""
    conversation = conversation or uuid.uuid4().hex[:16]
    raw = {
        "source": source,
        "external_id": uuid.uuid4().hex,
        "kind": "ticket.message_received",
        "subject": f"ticket:{source}:{conversation}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {
            "conversation_id": conversation,
            "text": text,
            "channel": channel,
            "customer_email": email,
            "order_number": order_number,
        },
    }
    event = parse_new_event(raw, registry.payload_models)
    with engine.begin() as conn:
        [event_id] = ingest(conn, [event], routes=registry).ids
    return event_id, conversation


def answer(engine: Engine, event_id: int, conversation: str) -> dict[str, Any] | None:
    """The decision on a queued message in the documented shape, or None while it is pending."""
    with read_only(engine).connect() as conn:
        status = conn.execute(
            select(deliveries.c.status).where(deliveries.c.event_id == event_id, deliveries.c.desk == "support")
        ).scalar()
        decision = conn.execute(select(audit_log).where(audit_log.c.event_id == event_id)).first()
        if decision is None:
            if status == "dead":
                return {"conversation": conversation, "reply": None, "error": "the message could not be processed"}
            return None
        evidence = dict(decision.evidence)
        handoff = None
        if decision.handoff_id is not None:
            row = conn.execute(
                select(handoffs.c.id, handoffs.c.reasons).where(handoffs.c.id == decision.handoff_id)
            ).one()
            handoff = {"id": row.id, "reasons": list(row.reasons)}
    return {
        "conversation": conversation,
        "reply": evidence.get("reply") or evidence.get("holding_reply"),
        "intents": evidence.get("intents", []),
        "sentiment": evidence.get("sentiment"),
        "handoff": handoff,
    }


def ask(
    engine: Engine, registry: Registry, *, wait_seconds: float, work: Callable[[], object] | None = None, **message: Any
) -> dict[str, Any]:
    """Queue a message and wait up to ``wait_seconds`` for the answer (``work`` runs a worker
    in-process when no worker is running elsewhere)."""
    event_id, conversation = submit(engine, registry, **message)
    deadline = time.monotonic() + wait_seconds
    while True:
        if work is not None:
            work()
        result = answer(engine, event_id, conversation)
        if result is not None:
            return result
        if time.monotonic() > deadline:
            return {
                "conversation": conversation,
                "reply": None,
                "pending": True,
                "intents": [],
                "sentiment": None,
                "handoff": None,
            }
        time.sleep(0.02)


def transcript(engine: Engine, conversation: str, *, source: str = "chat") -> list[dict[str, Any]]:
    """A chat conversation as the shopper sees it, oldest first: what they wrote and every reply
    sent to them — automation's answers and holding replies, and a person's answer once resolved
    (each reply is a ``reply.send`` on the conversation's ticket)."""
    subject = f"ticket:{source}:{conversation}"
    with read_only(engine).connect() as conn:
        said = [
            {"from": "customer", "text": str(row.payload.get("text") or ""), "at": row.received_at.isoformat()}
            for row in conn.execute(
                select(events.c.payload, events.c.received_at)
                .where(events.c.subject == subject, events.c.kind == "ticket.message_received")
                .order_by(events.c.id)
            )
        ]
        replies = [
            {"from": "desk", "text": str(row.payload.get("text") or ""), "at": row.created_at.isoformat()}
            for row in conn.execute(
                select(outbox.c.payload, outbox.c.created_at)
                .where(outbox.c.subject == subject, outbox.c.action == "reply.send")
                .order_by(outbox.c.id)
            )
        ]
    return sorted(said + replies, key=lambda line: (line["at"], line["from"] == "desk"))
