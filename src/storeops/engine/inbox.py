"""The handoff inbox: cases automation hands to people, and their resolution.

A handoff goes ``open → claimed → resolved`` (or ``expired``). Resolving it writes the audit
row and a ``handoff.resolved`` event in one transaction, so the desk resumes through the same
durable queue as everything else and a resolution is never lost.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, cast, func, insert, select, update

from storeops.clock import utcnow
from storeops.engine.audit import AuditEntry, write_audit
from storeops.engine.decisions import HandoffRequest, Outcome
from storeops.engine.events import NewEvent
from storeops.engine.queue import ADDRESSED, ingest
from storeops.errors import Conflict, InvalidInput, NotFound
from storeops.storage.schema import handoffs
from storeops.storage.types import row_json


class HandoffState(enum.StrEnum):
    """Where a handoff is in its life."""

    OPEN = "open"
    """Waiting for a person."""
    CLAIMED = "claimed"
    """A person has taken it and is working on it."""
    RESOLVED = "resolved"
    """A person decided; the desk has been told."""
    EXPIRED = "expired"
    """Nobody decided in time; closed by the engine (see [inbox] expire_after_hours)."""
    SUPERSEDED = "superseded"
    """The world moved on before anyone decided (the storefront cancelled or fulfilled the order, a
    new count replaced the old one): closed by the desk, with the event that closed it."""


class Resolution(enum.StrEnum):
    """What a person decided."""

    APPROVE = "approve"
    """Go ahead as automation proposed."""
    REJECT = "reject"
    """Do not go ahead (e.g. cancel a risky order)."""
    MODIFY = "modify"
    """Go ahead with the changes given."""


ACTIVE = (HandoffState.OPEN.value, HandoffState.CLAIMED.value)


def open_handoff(
    conn: Connection,
    *,
    desk: str,
    subject: str,
    request: HandoffRequest,
    reasons: list[str],
    evidence: dict[str, Any],
    now: datetime,
    sla_minutes: int,
    event_id: int | None,
    policy_version: int | None,
) -> int:
    """Hand a case to a person in the caller's transaction; returns the handoff's id.

    One open handoff per desk and subject: when one is already open (or claimed), the new case joins
    it — its reasons are added, its evidence is kept under ``joined`` (the newest first), the
    suggestion and the money at stake are the newest, and the due time stays the earliest. A
    conversation is one ticket, an order one case, a SKU one anomaly to look at.

    ``now`` is when the case arose — the worker passes the time of the event that raised it —
    and the handoff is due ``sla_minutes`` after that (docs/architecture.md, Handoffs)."""
    due = now + timedelta(minutes=sla_minutes)
    existing = conn.execute(
        select(handoffs.c.id, handoffs.c.reasons, handoffs.c.evidence, handoffs.c.due_at, handoffs.c.priority)
        .where(handoffs.c.desk == desk, handoffs.c.subject == subject, handoffs.c.state.in_(ACTIVE))
        .order_by(handoffs.c.id)
        .limit(1)
    ).first()
    if existing is not None:
        joined_reasons = list(existing.reasons) + [r for r in reasons if r not in existing.reasons]
        earlier = dict(existing.evidence)
        joined = earlier.pop("joined", [])
        merged = {
            **evidence,
            "joined": [{"event_id": event_id, "reasons": reasons, "at": now.isoformat()}, *joined][:50],
            "earlier": [earlier, *(evidence.get("earlier") or [])][:20],
        }
        conn.execute(
            update(handoffs)
            .where(handoffs.c.id == existing.id)
            .values(
                reasons=joined_reasons,
                evidence=merged,
                suggestion=request.suggestion,
                priority=min(existing.priority, request.priority),
                amount_minor=request.amount.minor if request.amount else None,
                currency=request.amount.currency if request.amount else None,
                due_at=min(existing.due_at, due),
            )
        )
        return int(existing.id)
    result = conn.execute(
        insert(handoffs)
        .values(
            desk=desk,
            subject=subject,
            reasons=reasons,
            evidence=evidence,
            suggestion=request.suggestion,
            role=request.role,
            priority=request.priority,
            state=HandoffState.OPEN.value,
            amount_minor=request.amount.minor if request.amount else None,
            currency=request.amount.currency if request.amount else None,
            created_at=now,
            due_at=due,
            event_id=event_id,
            policy_version=policy_version,
        )
        .returning(handoffs.c.id)
    )
    return int(result.scalar_one())


def supersede_handoffs(
    conn: Connection,
    *,
    desk: str,
    subject: str,
    why: str,
    actor: str,
    event_id: int | None,
    now: datetime,
    reasons: Sequence[str] | None = None,
    matching: Callable[[dict[str, Any]], bool] | None = None,
) -> list[int]:
    """Close the open (or claimed) handoffs of ``desk`` on ``subject`` — of ``reasons`` only, and
    whose evidence is ``matching``, when given — as superseded: the world moved on (``why``)
    before a person decided. Each is audited with the event that closed it. Returns the ids closed."""
    where = [handoffs.c.desk == desk, handoffs.c.subject == subject, handoffs.c.state.in_(ACTIVE)]
    rows = conn.execute(select(handoffs.c.id, handoffs.c.reasons, handoffs.c.evidence).where(*where)).all()
    closing = [
        row
        for row in rows
        if (reasons is None or set(row.reasons) & set(reasons)) and (matching is None or matching(dict(row.evidence)))
    ]
    if not closing:
        return []
    ids = [int(row.id) for row in closing]
    conn.execute(
        update(handoffs)
        .where(handoffs.c.id.in_(ids), handoffs.c.state.in_(ACTIVE))
        .values(state=HandoffState.SUPERSEDED.value, resolved_at=now, resolved_by=actor, note=why)
    )
    recorded = utcnow()
    write_audit(
        conn,
        [
            AuditEntry(
                at=recorded,
                occurred_at=min(now, recorded),
                actor=actor,
                desk=desk,
                subject=subject,
                action="handoff.superseded",
                outcome=Outcome.AUTOMATIC,
                reasons=list(row.reasons),
                evidence={"why": why, "event_id": event_id},
                event_id=event_id,
                handoff_id=int(row.id),
            )
            for row in closing
        ],
    )
    return ids


def _get(conn: Connection, handoff_id: int) -> Any:
    row = conn.execute(select(handoffs).where(handoffs.c.id == handoff_id)).first()
    if row is None:
        raise NotFound(f"handoff {handoff_id} does not exist")
    return row._mapping


def claim_handoff(conn: Connection, handoff_id: int, actor: str, *, now: datetime | None = None) -> None:
    """Mark an open handoff as taken by ``actor`` (atomic: two people cannot both claim it).

    ``now`` is when it was claimed (default: now); the audit row is recorded at the real time."""
    recorded = utcnow()
    now = now or recorded
    result = conn.execute(
        update(handoffs)
        .where(handoffs.c.id == handoff_id, handoffs.c.state == HandoffState.OPEN.value)
        .values(state=HandoffState.CLAIMED.value, claimed_by=actor, claimed_at=now)
    )
    if result.rowcount == 0:
        row = _get(conn, handoff_id)
        raise Conflict(
            f"handoff {handoff_id} is {row['state']}" + (f" by {row['claimed_by']}" if row["claimed_by"] else "")
        )
    row = _get(conn, handoff_id)
    write_audit(
        conn,
        [
            AuditEntry(
                at=recorded,
                occurred_at=now,
                actor=actor,
                desk=row["desk"],
                subject=row["subject"],
                action="handoff.claim",
                outcome=Outcome.HUMAN,
                reasons=row["reasons"],
                handoff_id=handoff_id,
            )
        ],
    )


def resolve_handoff(
    conn: Connection,
    handoff_id: int,
    resolution: Resolution | str,
    actor: str,
    *,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Resolve a handoff and queue the ``handoff.resolved`` event its desk resumes from.

    Atomic: of two people resolving at once, one wins and the other gets Conflict.
    ``now`` is when the person decided (default: now); the audit row is recorded at the real
    time. Returns the id of the queued event.
    """
    try:
        resolution = Resolution(resolution)
    except ValueError:
        raise InvalidInput(
            f"resolution must be one of {', '.join(r.value for r in Resolution)}, got {resolution!r}",
            field="resolution",
        ) from None
    if resolution is Resolution.MODIFY and not changes and not note:
        raise InvalidInput("a 'modify' resolution needs the changes or a note saying what to change", field="changes")
    recorded = utcnow()
    now = now or recorded
    result = conn.execute(
        update(handoffs)
        .where(handoffs.c.id == handoff_id, handoffs.c.state.in_(ACTIVE))
        .values(
            state=HandoffState.RESOLVED.value,
            resolved_by=actor,
            resolved_at=now,
            resolution=resolution.value,
            note=note,
        )
    )
    row = _get(conn, handoff_id)
    if result.rowcount == 0:
        raise Conflict(f"handoff {handoff_id} is already {row['state']}; nothing changed")
    waited = (now - row["created_at"]).total_seconds()
    write_audit(
        conn,
        [
            AuditEntry(
                at=recorded,
                occurred_at=now,
                actor=actor,
                desk=row["desk"],
                subject=row["subject"],
                action=f"handoff.{resolution.value}",
                outcome=Outcome.HUMAN,
                reasons=row["reasons"],
                evidence={"note": note, "changes": changes or {}, "waited_seconds": round(waited, 3)},
                handoff_id=handoff_id,
            )
        ],
    )
    event = NewEvent(
        source="storeops",
        external_id=f"handoff:{handoff_id}:resolved",
        kind="handoff.resolved",
        subject=row["subject"],
        occurred_at=now,
        payload={
            "handoff_id": handoff_id,
            "desk": row["desk"],
            "resolution": resolution.value,
            "actor": actor,
            "note": note,
            "reasons": list(row["reasons"]),
            "changes": changes or {},
        },
    )
    return ingest(conn, [event], routes=ADDRESSED, now=recorded).ids[0]


def revise_suggestion(
    conn: Connection, *, event_id: int, suggestion: str, actor: str, desk: str, now: datetime, evidence: dict[str, Any]
) -> int | None:
    """Replace the suggestion of the still-open handoff raised by event ``event_id`` (a model's
    draft arrived after the handoff), with its audit row; returns the handoff's id, or None when
    nobody waits on it any more (already decided: a late draft helps nobody)."""
    row = conn.execute(
        select(handoffs.c.id, handoffs.c.subject, handoffs.c.reasons, handoffs.c.suggestion).where(
            handoffs.c.event_id == event_id, handoffs.c.desk == desk, handoffs.c.state.in_(ACTIVE)
        )
    ).first()
    if row is None:
        return None
    conn.execute(update(handoffs).where(handoffs.c.id == row.id).values(suggestion=suggestion))
    write_audit(
        conn,
        [
            AuditEntry(
                at=now,
                actor=actor,
                desk=desk,
                subject=row.subject,
                action="handoff.revise",
                outcome=Outcome.AUTOMATIC,
                reasons=list(row.reasons),
                evidence={**evidence, "previous_suggestion": row.suggestion, "suggestion": suggestion},
                handoff_id=int(row.id),
            )
        ],
    )
    return int(row.id)


def expire_handoffs(conn: Connection, *, now: datetime, after_hours: int) -> int:
    """Expire open or claimed handoffs whose due time passed more than ``after_hours`` ago.

    ``now`` is the worker's clock (a replay's simulated day); the audit rows are recorded at
    the real time."""
    if after_hours <= 0:
        return 0
    recorded = utcnow()
    cutoff = now - timedelta(hours=after_hours)
    rows = conn.execute(
        update(handoffs)
        .where(handoffs.c.state.in_(ACTIVE), handoffs.c.due_at < cutoff)
        .values(state=HandoffState.EXPIRED.value, resolved_at=now)
        .returning(handoffs.c.id, handoffs.c.desk, handoffs.c.subject, handoffs.c.reasons, handoffs.c.due_at)
    ).all()
    write_audit(
        conn,
        [
            AuditEntry(
                at=recorded,
                occurred_at=now,
                actor="automation:engine.inbox",
                desk=row.desk,
                subject=row.subject,
                action="handoff.expire",
                outcome=Outcome.AUTOMATIC,
                reasons=row.reasons,
                evidence={"due_at": row.due_at.isoformat(), "expire_after_hours": after_hours},
                handoff_id=row.id,
            )
            for row in rows
        ],
    )
    return len(rows)


class SlaState(enum.StrEnum):
    """How close an active handoff is to its due time."""

    OK = "ok"
    WARNING = "warning"
    """Due within [inbox] warn_before_minutes (amber)."""
    OVERDUE = "overdue"
    """Past its due time (red)."""


def sla_state(due_at: datetime, now: datetime, warn_before_minutes: int) -> SlaState:
    """The SLA state of a handoff due at ``due_at``."""
    if due_at <= now:
        return SlaState.OVERDUE
    if due_at <= now + timedelta(minutes=warn_before_minutes):
        return SlaState.WARNING
    return SlaState.OK


@dataclass(frozen=True)
class InboxQuery:
    """What part of the inbox to list; every field narrows it."""

    state: str | None = "open"
    """'open' (open or claimed), one state, or None for every state."""
    desk: str | None = None
    role: str | None = None
    """Only handoffs asking for this role (a person's role scopes their inbox)."""
    reason: str | None = None
    min_age_minutes: int | None = None
    sla: SlaState | None = None
    subject: str | None = None


def _conditions(query: InboxQuery, now: datetime, warn_before_minutes: int) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.state == "open":
        where.append(handoffs.c.state.in_(ACTIVE))
    elif query.state is not None:
        where.append(handoffs.c.state == query.state)
    if query.desk:
        where.append(handoffs.c.desk == query.desk)
    if query.role:
        where.append(handoffs.c.role == query.role)
    if query.subject:
        where.append(handoffs.c.subject == query.subject)
    if query.reason:
        # Reason codes are [a-z_] words, so a quoted match in the JSON text is exact on both databases.
        where.append(cast(handoffs.c.reasons, String).like(f'%"{query.reason}"%'))
    if query.min_age_minutes:
        where.append(handoffs.c.created_at <= now - timedelta(minutes=query.min_age_minutes))
    warn_at = now + timedelta(minutes=warn_before_minutes)
    if query.sla is SlaState.OVERDUE:
        where.append(handoffs.c.due_at <= now)
    elif query.sla is SlaState.WARNING:
        where.append(handoffs.c.due_at > now)
        where.append(handoffs.c.due_at <= warn_at)
    elif query.sla is SlaState.OK:
        where.append(handoffs.c.due_at > warn_at)
    return where


def search_inbox(
    conn: Connection,
    query: InboxQuery,
    *,
    now: datetime,
    warn_before_minutes: int,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of handoffs, most urgent (earliest due) first, and how many match in all.

    Each handoff carries its ``sla`` state at ``now``.
    """
    where = _conditions(query, now, warn_before_minutes)
    total = int(conn.execute(select(func.count()).select_from(handoffs).where(*where)).scalar_one())
    rows = conn.execute(
        select(handoffs).where(*where).order_by(handoffs.c.due_at, handoffs.c.id).limit(limit).offset(offset)
    )
    page = []
    for row in rows:
        item = handoff_json(row._mapping)
        item["sla"] = sla_state(row.due_at, now, warn_before_minutes).value
        page.append(item)
    return page, total


def get_handoff(conn: Connection, handoff_id: int) -> dict[str, Any]:
    """One handoff in the documented JSON shape; NotFound when there is none."""
    return handoff_json(_get(conn, handoff_id))


HANDOFF_JSON_COLUMNS = (
    "id",
    "desk",
    "subject",
    "reasons",
    "evidence",
    "suggestion",
    "role",
    "priority",
    "state",
    "amount_minor",
    "currency",
    "created_at",
    "due_at",
    "claimed_by",
    "claimed_at",
    "resolved_by",
    "resolved_at",
    "resolution",
    "note",
)


def handoff_json(row: Any) -> dict[str, Any]:
    """One handoff in the documented JSON shape (see docs/cli.md)."""
    return row_json(row, HANDOFF_JSON_COLUMNS)


def list_handoffs(
    conn: Connection,
    *,
    state: str | None = "open",
    desk: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Handoffs oldest first; ``state='open'`` means open or claimed, None means every state."""
    query = select(handoffs).order_by(handoffs.c.id).limit(limit)
    if state == "open":
        query = query.where(handoffs.c.state.in_(ACTIVE))
    elif state is not None:
        query = query.where(handoffs.c.state == state)
    if desk is not None:
        query = query.where(handoffs.c.desk == desk)
    return [handoff_json(row._mapping) for row in conn.execute(query)]
