"""Putting events in the queue by hand or by script, and re-running dead ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from storeops.accounts import Principal, Role
from storeops.bootstrap import App
from storeops.commands.audit import record, require_role
from storeops.engine.events import ENGINE_KINDS, NewEvent, parse_new_event
from storeops.engine.queue import BULK_LOAD, IngestResult, list_events, refresh_planner_figures
from storeops.engine.queue import ingest as queue_ingest
from storeops.engine.queue import rerun as queue_rerun
from storeops.errors import InvalidInput, NotFound
from storeops.intake import store_in_chunks
from storeops.storage.schema import events

INGESTERS = (Role.OPS,)
"""Who may queue events besides the owner."""


def parse_events(app: App, items: Sequence[tuple[str, str, Any]]) -> list[NewEvent]:
    """Validate raw native events, each given as ``(label, field prefix, value)``; the first bad one
    is named by its label (``events.jsonl:3``, ``event 2``) and field. The engine's own kinds are
    refused: a handoff is resolved and a timer fires only through the engine."""
    parsed = []
    for label, prefix, raw in items:
        try:
            event = parse_new_event(raw, app.registry.payload_models)
        except InvalidInput as exc:
            field = f"{prefix}.{exc.field}" if prefix and exc.field else (prefix or exc.field)
            raise InvalidInput(f"{label}: {exc.message}", field=field) from None
        if event.kind in ENGINE_KINDS:
            raise InvalidInput(
                f"{label}: {event.kind} is the engine's own kind", field=f"{prefix}.kind" if prefix else "kind"
            )
        parsed.append(event)
    return parsed


def ingest(app: App, actor: Principal, items: Sequence[tuple[str, str, Any]]) -> IngestResult:
    """Queue native events, all or nothing (duplicates acknowledged), with one audit row for the call."""
    require_role(actor, INGESTERS, "queue events")
    return ingest_parsed(app, actor, parse_events(app, items))


def ingest_parsed(app: App, actor: Principal, parsed: Sequence[NewEvent]) -> IngestResult:
    """Queue events already validated (a storefront file, an email, a stock count) in one
    transaction, with one audit row for the call."""
    require_role(actor, INGESTERS, "queue events")
    with app.engine.begin() as conn:
        result = queue_ingest(conn, parsed, routes=app.registry)
        record(
            conn,
            actor,
            "events.ingest",
            "events",
            evidence={
                "events": len(parsed),
                "new": len(result.ids),
                "duplicates": result.duplicates,
                "kinds": sorted({event.kind for event in parsed}),
            },
        )
    return result


def import_events(
    app: App,
    actor: Principal,
    source: str,
    topic: str | None,
    file: str,
    new_events: list[NewEvent],
    *,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Store an import of a store's existing records (already validated) in chunks, and record the
    import in the audit log as one ``store.import`` row."""
    require_role(actor, INGESTERS, "import a store")
    result = store_in_chunks(app, new_events, progress=progress)
    if len(result.ids) >= BULK_LOAD:
        # The ingest of each chunk analyses only while chunks are a large part of the queue; after
        # the whole import, the planner's figures are brought up to all of it (autovacuum may not
        # look again for a minute or more).
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            refresh_planner_figures(conn)
    with app.engine.begin() as conn:
        record(
            conn,
            actor,
            "store.import",
            f"store:{source}",
            evidence={
                "source": source,
                "topic": topic,
                "file": file,
                "events": len(new_events),
                "new": len(result.ids),
                "duplicates": result.duplicates,
            },
        )
    return result


def visible_desks(app: App, actor: Principal) -> list[str] | None:
    """The desks whose events and handoffs ``actor``'s role covers (None: every desk, for the owner)."""
    if actor.role is Role.OWNER:
        return None
    return [desk.name for desk in app.desks if desk.default_role == actor.role.value]


def rerun(app: App, actor: Principal, event_id: int, *, desk: str | None = None) -> list[str]:
    """Queue an event's dead deliveries again with fresh attempts — to ``desk``, or to every desk it died
    at that ``actor`` may see — audited. NotFound when it has none the actor may re-run."""
    allowed = visible_desks(app, actor)
    with app.engine.begin() as conn:
        dead = [
            row["desk"]
            for row in list_events(conn, status="dead", after_id=event_id - 1, limit=100, desks=allowed)
            if row["id"] == event_id and (desk is None or row["desk"] == desk)
        ]
        if not dead:
            if allowed is None and desk is None:
                queue_rerun(conn, event_id)  # raises NotFound or Conflict, naming the event's state
            raise NotFound(f"event {event_id} is not a dead event of your desks")
        for name in dead:
            queue_rerun(conn, event_id, desk=name)
        subject = conn.execute(select(events.c.subject).where(events.c.id == event_id)).scalar_one()
        for name in dead:
            record(conn, actor, "event.rerun", subject, desk=name, evidence={"event_id": event_id})
    return dead
