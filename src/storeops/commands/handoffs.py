"""Resolving and claiming handoffs: the person's side of the hybrid loop.

A resolution is checked by the handoff's desk before it is queued (``Desk.check_resolution``: the
changes a "modify" may carry, and whether it can still be carried out), then queued as a
``handoff.resolved`` event the desk carries out through the same durable machinery as everything
else — and the person is told what was done (``ResolutionOutcome``): the command settles the
desk's deliveries of that subject, in order, then reads the desk's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from storeops.accounts import Principal
from storeops.bootstrap import App
from storeops.engine.inbox import Resolution, claim_handoff, get_handoff, resolve_handoff
from storeops.engine.worker import Worker
from storeops.errors import Forbidden, InvalidInput
from storeops.storage.db import read_only
from storeops.storage.schema import audit_log, handoffs


@dataclass(frozen=True)
class ResolutionOutcome:
    """What a person's resolution did: ``storeops handoffs resolve --json`` and the API's answer."""

    id: int
    state: str
    """The handoff's state now (resolved)."""
    event_id: int
    effects: list[str] = field(default_factory=list)
    """What was done, in words (``Order #1003 cancelled at the storefront``, ``€289.00 refunded``)."""
    refused: str | None = None
    """Why nothing was done, when the desk could no longer carry it out."""
    pending: bool = False
    """The desk has not carried it out yet (a worker will; see the handoff's subject page)."""

    def as_json(self) -> dict[str, Any]:
        """The documented shape: ``{"id", "state", "effects", "refused"}`` (plus ``pending``)."""
        return {
            "id": self.id,
            "state": self.state,
            "effects": self.effects,
            "refused": self.refused,
            "pending": self.pending,
        }


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
    reply: str | None = None,
    wait_seconds: float = 20.0,
) -> ResolutionOutcome:
    """Approve, reject or modify a handoff ``actor`` may see: checked by its desk, then resolved with
    its audit row and the ``handoff.resolved`` event, in one transaction; then carried out by the
    desk (``wait_seconds`` 0 leaves that to the workers). ``reply`` is the text a support reply
    sends instead of the suggested one."""
    try:
        resolution = Resolution(resolution)
    except ValueError:
        raise InvalidInput(
            f"resolution must be one of {', '.join(r.value for r in Resolution)}, got {resolution!r}",
            field="resolution",
        ) from None
    changes = dict(changes or {})
    if reply is not None:
        if resolution is Resolution.REJECT:
            raise InvalidInput("a reply goes with approve (send it) or modify, not with reject", field="reply")
        changes["reply"] = reply
    with app.engine.begin() as conn:
        handoff = visible_handoff(conn, handoff_id, actor)
        desk = app.registry.desks.get(handoff["desk"])
        if desk is not None and desk.check_resolution is not None and handoff["state"] in ("open", "claimed"):
            changes = desk.check_resolution(conn, handoff, resolution.value, changes)
        event_id = resolve_handoff(conn, handoff_id, resolution, actor.actor, note=note, changes=changes)
    outcome = ResolutionOutcome(id=handoff_id, state="resolved", event_id=event_id, pending=True)
    if wait_seconds <= 0:
        return outcome
    worker = Worker(app.engine, app.registry, app.policy, models=app.models)
    if not worker.settle(handoff["desk"], handoff["subject"], event_id, timeout=wait_seconds):
        return outcome
    return carried_out(app, handoff_id, event_id)


def carried_out(app: App, handoff_id: int, event_id: int) -> ResolutionOutcome:
    """What the desk did with the resolution queued as ``event_id`` (pending while it has not)."""
    with read_only(app.engine).connect() as conn:
        row = conn.execute(
            select(audit_log.c.evidence).where(audit_log.c.event_id == event_id).order_by(audit_log.c.id).limit(1)
        ).first()
        state = conn.execute(select(handoffs.c.state).where(handoffs.c.id == handoff_id)).scalar()
    if row is None:
        return ResolutionOutcome(id=handoff_id, state=str(state), event_id=event_id, pending=True)
    evidence = dict(row.evidence)
    return ResolutionOutcome(
        id=handoff_id,
        state=str(state),
        event_id=event_id,
        effects=[str(effect) for effect in evidence.get("effects") or []],
        refused=evidence.get("refused"),
    )


def claim(app: App, actor: Principal, handoff_id: int) -> None:
    """Take a handoff ``actor`` may see (atomic: of two people, one gets it), audited."""
    with app.engine.begin() as conn:
        visible_handoff(conn, handoff_id, actor)
        claim_handoff(conn, handoff_id, actor.actor)
