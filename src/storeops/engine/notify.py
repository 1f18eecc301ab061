"""Telling the team: urgent handoffs as they open and SLA breaches as they happen, as messages to
the ``notify`` connector (a Slack-compatible webhook, a signed webhook, or a file by default).

They are outbox rows like any side effect, so a team chat that is down delays a notice and never
a decision, and each notice is sent once (its idempotency key names the handoff).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from storeops.engine.outbox import enqueue, outbox_row
from storeops.storage.schema import handoffs, outbox

BREACH_LOOKBACK = timedelta(hours=24)
"""Breaches older than this when first seen (a store's imported history, a worker down for days)
are not posted: the inbox shows them, and a chat flooded with old news is read by nobody."""


def handoff_notice(
    handoff_id: int,
    *,
    desk: str,
    subject: str,
    reasons: list[str],
    suggestion: str,
    priority: int,
    due_at: datetime,
    amount: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload of a ``handoff.opened`` or ``handoff.breached`` notice."""
    return {
        "handoff_id": handoff_id,
        "desk": desk,
        "subject": subject,
        "reasons": reasons,
        "suggestion": suggestion,
        "priority": priority,
        "due_at": due_at.isoformat(),
        "amount": amount,
    }


def opened_row(notice: dict[str, Any], *, now: datetime, event_id: int | None) -> dict[str, Any]:
    """The outbox row announcing a new urgent handoff."""
    return outbox_row(
        connector="notify",
        action="handoff.opened",
        payload=notice,
        key=f"notify:opened:{notice['handoff_id']}",
        subject=str(notice["subject"]),
        event_id=event_id,
        now=now,
    )


def notify_breaches(conn: Connection, *, now: datetime) -> int:
    """Queue a ``handoff.breached`` notice for each open or claimed handoff that went past its due
    time within ``BREACH_LOOKBACK`` and has none yet; returns how many were queued."""
    noticed = outbox.alias("noticed")
    rows = conn.execute(
        select(handoffs)
        .outerjoin(
            noticed,
            and_(noticed.c.idempotency_key == ("notify:breached:" + handoffs.c.id.cast(noticed.c.subject.type))),
        )
        .where(
            handoffs.c.state.in_(("open", "claimed")),
            handoffs.c.due_at <= now,
            handoffs.c.due_at > now - BREACH_LOOKBACK,
            noticed.c.id.is_(None),
        )
        .limit(500)
    ).all()
    enqueue(
        conn,
        [
            outbox_row(
                connector="notify",
                action="handoff.breached",
                payload=handoff_notice(
                    int(row.id),
                    desk=row.desk,
                    subject=row.subject,
                    reasons=list(row.reasons),
                    suggestion=row.suggestion,
                    priority=int(row.priority),
                    due_at=row.due_at,
                    amount={"minor": row.amount_minor, "currency": row.currency} if row.currency else None,
                ),
                key=f"notify:breached:{row.id}",
                subject=row.subject,
                event_id=row.event_id,
                now=now,
            )
            for row in rows
        ],
    )
    return len(rows)
