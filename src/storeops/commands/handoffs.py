"""Resolving and claiming handoffs: the person's side of the hybrid loop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from storeops.accounts import Principal
from storeops.bootstrap import App
from storeops.engine.inbox import Resolution, claim_handoff, get_handoff, resolve_handoff
from storeops.errors import Forbidden


def visible_handoff(conn: Connection, handoff_id: int, actor: Principal) -> dict[str, Any]:
    """The handoff when ``actor``'s role may see it; Forbidden otherwise (NotFound when it does not exist)."""
    handoff = get_handoff(conn, handoff_id)
    if not actor.sees(handoff["role"]):
        raise Forbidden(f"handoff {handoff_id} is for the {handoff['role']} role; you are {actor.role.value}")
    return handoff


def resolve(
    app: App,
    actor: Principal,
    handoff_id: int,
    resolution: Resolution | str,
    *,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> int:
    """Approve, reject or modify a handoff ``actor`` may see: the atomic resolution, its audit row and
    the ``handoff.resolved`` event its desk resumes from, in one transaction. Returns the event's id."""
    with app.engine.begin() as conn:
        visible_handoff(conn, handoff_id, actor)
        return resolve_handoff(conn, handoff_id, resolution, actor.actor, note=note, changes=changes)


def claim(app: App, actor: Principal, handoff_id: int) -> None:
    """Take a handoff ``actor`` may see (atomic: of two people, one gets it), audited."""
    with app.engine.begin() as conn:
        visible_handoff(conn, handoff_id, actor)
        claim_handoff(conn, handoff_id, actor.actor)
