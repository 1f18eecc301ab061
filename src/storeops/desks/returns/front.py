"""Asking for a return and reporting a parcel back: what the return page, the API and the CLI share.

A request goes through the queue like any event; the caller waits (bounded) for the desk's decision
and reads the return as the documented JSON: ``{"rma", "state", "order", "reason_category",
"refund_minor", "currency", "returnless", "refused", "lines", "handoff": null | {"id", "reasons"}}``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from storeops.desks.returns.api import new_rma
from storeops.desks.returns.tables import returns
from storeops.engine.desk import Registry
from storeops.engine.events import parse_new_event
from storeops.engine.queue import ingest
from storeops.storage.db import read_only
from storeops.storage.schema import audit_log, deliveries, handoffs


def submit_request(
    engine: Engine,
    registry: Registry,
    *,
    email: str,
    order_number: str,
    lines: Sequence[tuple[str, int]],
    reason: str,
    channel: str,
    at: datetime | None = None,
    source: str = "storeops.returns",
    exchange: Sequence[str | None] | None = None,
) -> tuple[int, str]:
    """Validate and queue one return request; returns (event id, RMA). ``exchange``: per line, the
    SKU to send instead of a refund (None: a refund). InvalidInput names a bad field."""
    rma = new_rma()
    raw = {
        "source": source,
        "external_id": uuid.uuid4().hex,
        "kind": "return.requested",
        "subject": f"return:{rma}",
        "occurred_at": (at or datetime.now(UTC)).isoformat(),
        "payload": {
            "rma": rma,
            "order_number": order_number,
            "customer_email": email,
            "lines": [
                {"sku": sku, "quantity": quantity}
                | ({"exchange_sku": swap} if (swap := (exchange or [None] * len(lines))[index]) else {})
                for index, (sku, quantity) in enumerate(lines)
            ],
            "reason": reason,
            "channel": channel,
        },
    }
    event = parse_new_event(raw, registry.payload_models)
    with engine.begin() as conn:
        [event_id] = ingest(conn, [event], routes=registry).ids
    return event_id, rma


def submit_receipt(
    engine: Engine, registry: Registry, *, rma: str, condition: str, note: str | None, source: str = "storeops.returns"
) -> int:
    """Queue the inspection of return ``rma``'s parcel; returns the event id."""
    raw = {
        "source": source,
        "external_id": uuid.uuid4().hex,
        "kind": "return.received",
        "subject": f"return:{rma}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {"rma": rma, "condition": condition, "note": note},
    }
    event = parse_new_event(raw, registry.payload_models)
    with engine.begin() as conn:
        [event_id] = ingest(conn, [event], routes=registry).ids
    return event_id


def decided(engine: Engine, event_id: int) -> tuple[bool, dict[str, Any] | None]:
    """Whether the returns desk has handled event ``event_id`` (done or dead), and its decision's handoff."""
    with read_only(engine).connect() as conn:
        status = conn.execute(
            select(deliveries.c.status).where(deliveries.c.event_id == event_id, deliveries.c.desk == "returns")
        ).scalar()
        row = conn.execute(
            select(audit_log.c.handoff_id).where(audit_log.c.event_id == event_id, audit_log.c.desk == "returns")
        ).first()
        handoff = None
        if row is not None and row.handoff_id is not None:
            found = conn.execute(select(handoffs.c.id, handoffs.c.reasons).where(handoffs.c.id == row.handoff_id)).one()
            handoff = {"id": found.id, "reasons": list(found.reasons)}
    return status in ("done", "dead"), handoff


def return_json(engine: Engine, rma: str, handoff: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Return ``rma`` in the documented shape (None when there is none). ``returnless``: refunded
    without the items coming back; ``refused``: why automation could not open it (``not_verified``,
    ``not_shipped``, ``cancelled``, ``already_returned``), else null."""
    with read_only(engine).connect() as conn:
        row = conn.execute(select(returns).where(returns.c.rma == rma)).first()
        if row is None:
            return None
        if handoff is None and row.state in ("held", "received"):
            found = conn.execute(
                select(handoffs.c.id, handoffs.c.reasons)
                .where(handoffs.c.subject == f"return:{rma}", handoffs.c.state.in_(("open", "claimed")))
                .order_by(handoffs.c.id.desc())
                .limit(1)
            ).first()
            handoff = {"id": found.id, "reasons": list(found.reasons)} if found is not None else None
        refused = None
        if row.state == "refused":
            evidence = conn.execute(
                select(audit_log.c.evidence)
                .where(audit_log.c.subject == f"return:{rma}", audit_log.c.action == "return.refused")
                .order_by(audit_log.c.id.desc())
                .limit(1)
            ).scalar()
            refused = str(evidence.get("refused")) if isinstance(evidence, dict) and evidence.get("refused") else None
    return {
        "rma": row.rma,
        "state": row.state,
        "order": row.order_number,
        "reason_category": row.reason_corrected or row.reason_category,
        "refund_minor": int(row.refund_minor),
        "currency": row.currency,
        "returnless": bool(row.returnless),
        "refused": refused,
        "lines": [
            {"sku": line["sku"], "quantity": line["quantity"], "refund_minor": line["refund_minor"]}
            for line in row.lines
        ],
        "handoff": handoff,
    }


def wait_for(
    engine: Engine, event_id: int, *, wait_seconds: float, work: Callable[[], object] | None = None
) -> tuple[bool, dict[str, Any] | None]:
    """Wait up to ``wait_seconds`` for the returns desk's decision on ``event_id`` (``work`` runs a
    worker in-process when no worker runs elsewhere)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        if work is not None:
            work()
        done, handoff = decided(engine, event_id)
        if done or time.monotonic() > deadline:
            return done, handoff
        time.sleep(0.02)
