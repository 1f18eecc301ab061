"""The append-only audit log: one row per decision and per human action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from storeops.engine.decisions import Outcome
from storeops.storage.schema import audit_log
from storeops.storage.types import row_json


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log, as it is written.

    ``at`` is when the row is recorded; ``occurred_at`` when what it records happened (the
    event's own time for a decision, the moment of a person's action), the same as ``at`` when
    not given. Figures and charts go by ``occurred_at``.
    """

    at: datetime
    actor: str
    desk: str
    subject: str
    action: str
    outcome: Outcome
    reasons: Sequence[str] = ()
    evidence: dict[str, Any] | None = None
    task: str | None = None
    policy_version: int | None = None
    event_id: int | None = None
    handoff_id: int | None = None
    latency_ms: int | None = None
    occurred_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        """The entry as column values."""
        return {
            "at": self.at,
            "occurred_at": self.occurred_at or self.at,
            "actor": self.actor,
            "desk": self.desk,
            "subject": self.subject,
            "action": self.action,
            "outcome": self.outcome.value,
            "reasons": list(self.reasons),
            "evidence": self.evidence or {},
            "task": self.task,
            "policy_version": self.policy_version,
            "event_id": self.event_id,
            "handoff_id": self.handoff_id,
            "latency_ms": self.latency_ms,
        }


def write_audit(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    """Append ``entries`` in the caller's transaction (one executemany)."""
    if entries:
        conn.execute(insert(audit_log), [entry.row() for entry in entries])


def read_audit(
    conn: Connection,
    *,
    subject: str | None = None,
    desk: str | None = None,
    limit: int = 100,
    after_id: int = 0,
    desks: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Audit rows oldest first, optionally for one subject or desk (the stable JSON shape).

    ``desks`` limits the rows to those desks (a person's role sees its own desks' rows).
    """
    query = select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id).limit(limit)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    if desk is not None:
        query = query.where(audit_log.c.desk == desk)
    if desks is not None:
        query = query.where(audit_log.c.desk.in_(list(desks)))
    return [audit_json(row._mapping) for row in conn.execute(query)]


AUDIT_JSON_COLUMNS = (
    "id",
    "at",
    "occurred_at",
    "actor",
    "desk",
    "subject",
    "action",
    "outcome",
    "reasons",
    "evidence",
    "task",
    "policy_version",
    "event_id",
    "handoff_id",
)


def audit_json(row: Any) -> dict[str, Any]:
    """One audit row in the documented JSON shape (see docs/cli.md): ``occurred_at`` when it
    happened, ``recorded_at`` when it was written, and ``at`` (the same as ``recorded_at``),
    kept for the scripts written before the two times were told apart."""
    out = row_json(row, AUDIT_JSON_COLUMNS)
    out["recorded_at"] = out["at"]
    return out
