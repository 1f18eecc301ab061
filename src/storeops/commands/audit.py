"""The audit row a command writes: who did what to which subject, with what evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from storeops.accounts import Principal, Role
from storeops.clock import utcnow
from storeops.engine.audit import AuditEntry, write_audit
from storeops.engine.decisions import Outcome
from storeops.errors import Forbidden


def record(
    conn: Connection,
    actor: Principal,
    action: str,
    subject: str,
    *,
    desk: str = "engine",
    evidence: dict[str, Any] | None = None,
    reasons: Sequence[str] = (),
    handoff_id: int | None = None,
    policy_version: int | None = None,
) -> None:
    """Append the audit row of a person's or a script's action, in the caller's transaction."""
    write_audit(
        conn,
        [
            AuditEntry(
                at=utcnow(),
                actor=actor.actor,
                desk=desk,
                subject=subject,
                action=action,
                outcome=Outcome.HUMAN,
                reasons=reasons,
                evidence=evidence or {},
                handoff_id=handoff_id,
                policy_version=policy_version,
            )
        ],
    )


def require_owner(actor: Principal, what: str) -> None:
    """Forbidden unless ``actor`` is the owner."""
    if actor.role is not Role.OWNER:
        raise Forbidden(f"only the owner {what}; you are {actor.role.value}")


def require_role(actor: Principal, roles: Sequence[Role], what: str) -> None:
    """Forbidden unless ``actor`` has one of ``roles`` (the owner always may)."""
    if actor.role is not Role.OWNER and actor.role not in roles:
        allowed = ", ".join(["owner", *(role.value for role in roles)])
        raise Forbidden(f"only {allowed} may {what}; you are {actor.role.value}")
