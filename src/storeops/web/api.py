"""The REST API under /api/v1: every endpoint but the public chat and return requests needs an API token.

Tokens are scoped to a role exactly like people: a token sees and resolves the handoffs of its
role's desks (an owner token sees all). Errors are always ``{"error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool

from storeops import untrusted
from storeops.accounts import Principal, Role
from storeops.bounds import bounded_utc
from storeops.clock import utcnow
from storeops.commands import events as commands_events
from storeops.desks.returns import api as returns_api
from storeops.engine.audit import read_audit
from storeops.engine.events import ENGINE_KINDS, SUBJECT_PATTERN, NewEvent, Payload
from storeops.engine.inbox import InboxQuery, SlaState, search_inbox
from storeops.engine.metrics import compute_report
from storeops.engine.queue import list_events
from storeops.errors import Conflict, Forbidden, InvalidInput, NotFound
from storeops.storage.db import read_only
from storeops.web.pages import (
    MAX_ID,
    HandoffId,
    change_policy,
    claim_as,
    rerun_as,
    resolve_as,
    visible_desks,
    visible_handoff,
)
from storeops.web.security import ApiUser, storeops_app


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """Every 4xx answer has this shape."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "bad input"),
        (401, "no valid token"),
        (403, "the token's role may not"),
        (404, "not found"),
        (409, "conflict"),
    )
}
MAX_EVENTS = 1000

router = APIRouter(prefix="/api/v1", responses=ERRORS)


class Page(BaseModel):
    """One page of a list, and how many match in all (when cheap to know)."""

    items: list[dict[str, Any]]
    total: int | None = None
    limit: int
    offset: int


class ResolveRequest(BaseModel):
    """A decision on a handoff."""

    model_config = ConfigDict(extra="forbid")

    resolution: Literal["approve", "reject", "modify"]
    note: str | None = Field(None, max_length=4000)
    changes: dict[str, Any] | None = None
    reply: str | None = Field(None, min_length=1, max_length=4000, description="A support reply to send instead.")


class PolicyChange(BaseModel):
    """Set one policy key; ``value`` is written as in the TOML file (``250``, ``"500.00"``, ``["VIP"]``)."""

    model_config = ConfigDict(extra="forbid")

    section: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=64)
    value: str = Field(min_length=1, max_length=20000)


def _scope(principal: Principal) -> str | None:
    return None if principal.is_owner else principal.role.value


@router.get("/handoffs", summary="List handoffs, most urgent first")
def handoffs_list(
    request: Request,
    principal: ApiUser,
    state: Literal["open", "claimed", "resolved", "expired", "all"] = "open",
    desk: Annotated[str | None, Query(max_length=32)] = None,
    reason: Annotated[str | None, Query(max_length=64, pattern="^[a-z_]+$")] = None,
    sla: SlaState | None = None,
    min_age_minutes: Annotated[int | None, Query(ge=0, le=10**7)] = None,
    subject: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> Page:
    """``state=open`` means open or claimed; each handoff carries its ``sla`` (ok, warning, overdue)."""
    application = storeops_app(request)
    query = InboxQuery(
        state=None if state == "all" else state,
        desk=desk,
        role=_scope(principal),
        reason=reason,
        sla=sla,
        min_age_minutes=min_age_minutes,
        subject=subject,
    )
    with read_only(application.engine).connect() as conn:
        items, total = search_inbox(
            conn,
            query,
            now=utcnow(),
            warn_before_minutes=application.policy.inbox.warn_before_minutes,
            limit=limit,
            offset=offset,
        )
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/handoffs/{handoff_id}", summary="One handoff")
def handoff_get(request: Request, principal: ApiUser, handoff_id: HandoffId) -> dict[str, Any]:
    with read_only(storeops_app(request).engine).connect() as conn:
        return visible_handoff(conn, handoff_id, principal)


@router.post("/handoffs/{handoff_id}/claim", summary="Take a handoff (409 when someone else has)")
def handoff_claim(request: Request, principal: ApiUser, handoff_id: HandoffId) -> dict[str, Any]:
    application = storeops_app(request)
    claim_as(application, principal, handoff_id)
    with read_only(application.engine).connect() as conn:
        return visible_handoff(conn, handoff_id, principal)


@router.post("/handoffs/{handoff_id}/resolve", summary="Approve, reject or modify; the desk resumes from it")
def handoff_resolve(
    request: Request, principal: ApiUser, handoff_id: HandoffId, body: ResolveRequest
) -> dict[str, Any]:
    """Checked by the handoff's desk (400 naming a field a modify may not carry, 409 when it can no
    longer be carried out), then carried out; the answer says what was done (``effects``) or why
    nothing was (``refused``, with 409)."""
    application = storeops_app(request)
    outcome = resolve_as(application, principal, handoff_id, body.resolution, body.note, body.changes, body.reply)
    if outcome.refused:
        raise Conflict(f"handoff {handoff_id}: refused: {outcome.refused}")
    with read_only(application.engine).connect() as conn:
        handoff = visible_handoff(conn, handoff_id, principal)
    return {"handoff": handoff, "event_id": outcome.event_id, **outcome.as_json()}


@router.get("/audit", summary="The audit log, oldest first")
def audit_list(
    request: Request,
    principal: ApiUser,
    subject: Annotated[str | None, Query(max_length=255)] = None,
    desk: Annotated[str | None, Query(max_length=32)] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Page with ``after_id`` (the last id you saw). A role sees its own desks' rows."""
    application = storeops_app(request)
    with read_only(application.engine).connect() as conn:
        return read_audit(
            conn,
            subject=subject,
            desk=desk,
            limit=limit,
            after_id=after_id,
            desks=visible_desks(application, principal),
        )


@router.get("/metrics", summary="Per-desk and overall figures for a period")
def metrics(
    request: Request,
    principal: ApiUser,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """``since``/``until`` are ISO 8601 with a zone; default: everything."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z", field=name)
        if value is not None:
            try:
                bounded_utc(value)
            except ValueError as exc:
                raise InvalidInput(f"{name}: {exc}", field=name) from None
    application = storeops_app(request)
    allowed = visible_desks(application, principal)
    names = [d.name for d in application.desks if allowed is None or d.name in allowed]
    with read_only(application.engine).connect() as conn:
        report = compute_report(
            conn,
            application.policy,
            since=since,
            until=until,
            desk_names=names,
            only_desks=names,
            desk_figures=application.registry.figures(),
        )
    return report.as_dict()


@router.get("/report", summary="Figures since the start (same shape as /metrics)", include_in_schema=True)
def report(request: Request, principal: ApiUser) -> dict[str, Any]:
    return metrics(request, principal)


@router.get("/policy", summary="The effective policy and its version")
def policy_get(request: Request, principal: ApiUser) -> dict[str, Any]:
    application = storeops_app(request)
    return {"version": application.policy.version, "policy": application.policy.as_dict()}


@router.patch("/policy", summary="Change one policy value (owner): validated, written, versioned, audited")
def policy_patch(request: Request, principal: ApiUser, change: PolicyChange) -> dict[str, Any]:
    application = storeops_app(request)
    version = change_policy(application, principal, change.section, change.key, change.value)
    return {"version": version, "policy": application.policy.as_dict()}


def document_event_kinds(schema: dict[str, Any], payload_models: dict[str, type[Payload]]) -> None:
    """Describe the events endpoint's body in the OpenAPI ``schema``: one event or a list of up to
    MAX_EVENTS, each of a kind this app defines with that kind's payload model. (The endpoint reads
    the body itself, to take either shape.) Clients, and schemathesis, see what it accepts."""
    kinds = sorted(kind for kind in payload_models if kind not in ENGINE_KINDS)
    models = sorted({payload_models[kind] for kind in kinds}, key=lambda model: model.__qualname__)
    refs, defs = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
    envelope = NewEvent.model_json_schema()["properties"]
    envelope["subject"]["pattern"] = SUBJECT_PATTERN.pattern
    one_event = {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["source", "external_id", "kind", "subject", "occurred_at", "payload"],
                "properties": {
                    **envelope,
                    "kind": {"type": "string", "const": kind},
                    "payload": refs[(payload_models[kind], "validation")],
                },
            }
            for kind in kinds
        ]
    }
    body = {"oneOf": [one_event, {"type": "array", "items": one_event, "minItems": 1, "maxItems": MAX_EVENTS}]}
    schema["paths"]["/api/v1/events"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": body}},
    }


@router.post("/events", summary="Ingest native events (owner or ops); duplicates are acknowledged")
async def events_ingest(request: Request, principal: ApiUser) -> dict[str, Any]:
    """Body: one event object or an array of up to 1000, each ``{"source", "external_id", "kind",
    "subject", "occurred_at", "payload"}``. All or nothing: one bad event stores none."""
    if principal.role not in (Role.OWNER, *commands_events.INGESTERS):
        raise Forbidden("only owner and ops tokens ingest events")
    raw = untrusted.loads(await request.body())
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_EVENTS:
        raise InvalidInput(f"send 1 to {MAX_EVENTS} events", field="events")
    application = storeops_app(request)
    labelled = [(f"event {index}", str(index), item) for index, item in enumerate(items)]
    result = await run_in_threadpool(commands_events.ingest, application, principal, labelled)
    return {"stored": len(result.ids), "ids": result.ids, "duplicates": result.duplicates}


@router.get("/events/dead", summary="Dead-lettered events of the token's desks")
def events_dead(
    request: Request,
    principal: ApiUser,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    application = storeops_app(request)
    with read_only(application.engine).connect() as conn:
        return list_events(
            conn, status="dead", after_id=after_id, limit=limit, desks=visible_desks(application, principal)
        )


@router.post("/events/{event_id}/rerun", summary="Queue a dead event again with fresh attempts")
def events_rerun(
    request: Request, principal: ApiUser, event_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    rerun_as(storeops_app(request), principal, event_id)
    return {"id": event_id, "status": "pending"}


@router.get("/desks/{desk}/objects", summary="A desk's main objects (orders, stock levels, …)")
def desk_objects(
    request: Request,
    principal: ApiUser,
    desk: Annotated[str, Path(max_length=32)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> Page:
    application = storeops_app(request)
    found = application.registry.desks.get(desk)
    if found is None or found.objects is None:
        raise NotFound(
            f"no desk {desk!r} with objects; desks with objects: "
            + ", ".join(d.name for d in application.desks if d.objects)
        )
    if not principal.is_owner and found.default_role != principal.role.value:
        raise Forbidden(f"the {desk} desk's objects are for the {found.default_role} role")
    with read_only(application.engine).connect() as conn:
        items = found.objects(conn, limit, offset)
    return Page(items=items, limit=limit, offset=offset)


@router.get("/returns/insights", summary="Why returns happen over the last N days (returns desk: finance or owner)")
def returns_insights(
    request: Request,
    principal: ApiUser,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> dict[str, Any]:
    """What the dashboard's "Why returns happen" panel shows: ``{"since", "until", "returns",
    "orders_shipped", "return_rate", "reasons", "skus", "weeks", "findings", "rule"}`` (docs/web.md)."""
    application = storeops_app(request)
    desk = application.registry.desks.get("returns")
    if desk is None:
        raise NotFound("this store runs without the returns desk")
    allowed = visible_desks(application, principal)
    if allowed is not None and desk.name not in allowed:
        raise Forbidden(f"the returns desk's figures are for the {desk.default_role} role")
    until = utcnow()
    with read_only(application.engine).connect() as conn:
        found = returns_api.why_returns_happen(conn, since=until - timedelta(days=days), until=until)
    return found.as_json()
