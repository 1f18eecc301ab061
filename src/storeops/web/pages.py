"""The people's pages: sign-in, the inbox, subject timelines, the dashboard, policy and dead letters.

Server-rendered with Jinja2; every asset is served by the app. Pages need a signed-in person
and every form a CSRF token (see web.security). What a person sees is scoped by their role.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, func, select
from starlette.concurrency import run_in_threadpool

from storeops import __version__
from storeops.accounts import (
    SESSION_HOURS,
    Principal,
    Role,
    end_session,
    list_users,
    sign_in,
)
from storeops.bootstrap import App
from storeops.clock import utcnow
from storeops.commands import connect as commands_connect
from storeops.commands import events as commands_events
from storeops.commands import handoffs as commands_handoffs
from storeops.commands import people as commands_people
from storeops.commands import policy as commands_policy
from storeops.desks.returns import api as returns_api
from storeops.desks.returns.classify import CATEGORIES
from storeops.desks.vendors import api as vendors_api
from storeops.engine.audit import read_audit
from storeops.engine.inbox import (
    InboxQuery,
    SlaState,
    search_inbox,
)
from storeops.engine.metrics import compute_report, daily_figures
from storeops.engine.outbox import dead_messages
from storeops.engine.policy import policy_defaults_dict
from storeops.engine.queue import list_events
from storeops.errors import Forbidden, InvalidInput, NotFound, StoreopsError
from storeops.storage.db import read_only
from storeops.storage.schema import audit_log, handoffs
from storeops.web import charts
from storeops.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    FormUser,
    PageUser,
    optional_user,
    set_session_cookie,
    storeops_app,
)

TEMPLATES = Jinja2Templates(directory=str(pathlib.Path(__file__).parent / "templates"))
PAGE_SIZE = 50
PERIODS = {1: "24 hours", 7: "7 days", 30: "30 days", 90: "90 days"}

MAX_ID = 2**53
HandoffId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A handoff id in a path (bounded, so no database is asked for a number it cannot hold)."""

router = APIRouter(include_in_schema=False)


def visible_desks(application: App, principal: Principal) -> list[str] | None:
    """The desks whose audit rows and dead letters ``principal`` sees (None: all of them)."""
    return commands_events.visible_desks(application, principal)


IRREGULARITY_ACTIONS = ("contact_carrier", "reship", "refund")
HELD_FIELDS = (
    ("shipping_address.line1", "street"),
    ("shipping_address.postal_code", "postal code"),
    ("shipping_address.city", "city"),
    ("shipping_address.country", "country"),
    ("service", "service"),
    ("drop_lines", "SKUs not to ship (comma-separated)"),
)
NEW_SKU_FIELDS = (
    ("supplier", "supplier"),
    ("cost_minor", "cost (minor units)"),
    ("lead_time_days", "lead time (days)"),
    ("moq", "MOQ"),
    ("case_pack", "case pack"),
)


RETURN_FIELDS = (
    ("refund_minor", "refund (minor units)"),
    ("settlement", "refund or store_credit"),
    ("returnless", "returnless (true: refund now, keep the item)"),
)
RETURN_REASON_CATEGORIES = CATEGORIES
"""The returns desk's reason taxonomy, offered as a correction of its reading."""


def resolution_form(handoff: dict[str, Any]) -> dict[str, Any]:
    """What the inbox offers to resolve a handoff with: the words on its buttons, the reply box of a
    support ticket, and the fields a "modify" takes for its reasons (docs/resolutions.md) — the
    JSON box stays for experts."""
    reasons = set(handoff["reasons"])
    if handoff["desk"] == "support":
        return {"reply": True, "approve": "Send reply", "reject": "Close without reply", "fields": [], "select": None}
    if handoff["desk"] == "orders" and reasons == {"shipping_irregularity"}:
        return {
            "reply": False,
            "approve": "Ask the carrier to trace it",
            "reject": "Close the case",
            "fields": [("follow_up_days", "look again in (days)")],
            "select": ("action", IRREGULARITY_ACTIONS),
        }
    if handoff["desk"] == "orders":
        return {
            "reply": False,
            "approve": "Approve and ship",
            "reject": "Reject: cancel and refund",
            "fields": list(HELD_FIELDS),
            "select": None,
        }
    if handoff["desk"] == "returns":
        return {
            "reply": False,
            "approve": "Approve the return",
            "reject": "Reject and tell the customer why",
            "fields": list(RETURN_FIELDS),
            # empty first: a person changing only the amount corrects no reason
            "select": ("reason_category", ("", *RETURN_REASON_CATEGORIES)),
        }
    if "new_sku" in reasons:
        return {
            "reply": False,
            "approve": "Approve",
            "reject": "Do not reorder",
            "fields": list(NEW_SKU_FIELDS),
            "select": None,
        }
    if "stock_anomaly" in reasons:
        return {
            "reply": False,
            "approve": "Accept the count",
            "reject": "Keep the ledger, recount",
            "fields": [],
            "select": None,
        }
    return {"reply": False, "approve": "Approve", "reject": "Reject", "fields": [], "select": None}


def _typed(request: Request) -> dict[str, str]:
    raw = request.query_params.get("typed")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _render(request: Request, template: str, principal: Principal | None, **context: Any) -> HTMLResponse:
    application = storeops_app(request)
    context.update(
        resolution_form=resolution_form,
        error_field=request.query_params.get("efield"),
        error_handoff=request.query_params.get("ehandoff"),
        typed=_typed(request),
        user=principal,
        version=__version__,
        reason_texts=application.registry.reason_texts(),
        flash=request.query_params.get("msg"),
        flash_error=request.query_params.get("err"),
    )
    return TEMPLATES.TemplateResponse(request, template, context)


def _back(
    target: str,
    *,
    msg: str | None = None,
    err: str | None = None,
    field: str | None = None,
    typed: dict[str, str] | None = None,
    handoff: int | None = None,
) -> RedirectResponse:
    """Post/redirect/get back to ``target`` (a local path) with a one-line message; for a form's
    error, the field it names, what was typed (so the form keeps it) and the handoff it was about."""
    # Only paths of this site: "//host" and "/\\host" would send a browser elsewhere.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/inbox"
    params = {key: value for key, value in (("msg", msg), ("err", err), ("efield", field)) if value}
    if handoff is not None:
        params["ehandoff"] = str(handoff)
    if typed:
        params["typed"] = json.dumps(typed)[:3000]
    target, _, fragment = target.partition("#")
    if handoff is not None and not fragment:
        fragment = f"handoff-{handoff}"
    path, _, query = target.partition("?")
    kept = [
        part
        for part in query.split("&")
        if part and not part.startswith(("msg=", "err=", "efield=", "ehandoff=", "typed="))
    ]
    extra = urlencode(params)
    joined = "&".join([*kept, extra] if extra else kept)
    url = f"{path}?{joined}" if joined else path
    return RedirectResponse(f"{url}#{fragment}" if fragment else url, status_code=303)


def _reader(request: Request) -> Connection:
    return read_only(storeops_app(request).engine).connect()


# --- signing in ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/inbox") -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = _render(request, "login.html", None, csrf_token=token, next=next, error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    email: Annotated[str, Form(max_length=255)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> Response:
    application = storeops_app(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        raise Forbidden("the sign-in form is missing its security token (CSRF); reload the page and try again")
    # The client's address as TrustedProxies set it: forwarded headers count only from trusted proxies.
    client = request.client.host if request.client else "unknown"
    attempt = sign_in(application.engine, email, password, client)
    if attempt.retry_after is not None:
        minutes = -(-attempt.retry_after // 60)
        response = _render(
            request,
            "login.html",
            None,
            csrf_token=csrf_token,
            next=next,
            error=f"Too many attempts; wait {minutes} minute{'s' if minutes > 1 else ''}.",
        )
        response.status_code = 429
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    secret = attempt.secret
    if secret is None:
        response = _render(
            request, "login.html", None, csrf_token=csrf_token, next=next, error="Wrong email or password."
        )
        response.status_code = 401
        return response
    redirect = _back(next if next.startswith("/") else "/inbox")
    set_session_cookie(request, redirect, secret, SESSION_HOURS * 3600)
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/logout")
def logout(request: Request, principal: FormUser) -> RedirectResponse:
    secret = request.cookies.get(SESSION_COOKIE, "")
    with storeops_app(request).engine.begin() as conn:
        end_session(conn, secret)
    response = RedirectResponse("/login?msg=Signed+out.", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(request: Request) -> RedirectResponse:
    return RedirectResponse("/inbox" if optional_user(request) else "/login", status_code=303)


# --- the inbox ----------------------------------------------------------------------------------


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    principal: PageUser,
    desk: Annotated[str | None, Query(max_length=32)] = None,
    reason: Annotated[str | None, Query(max_length=64, pattern="^[a-z_]*$")] = None,
    sla: Annotated[str | None, Query(max_length=16)] = None,
    min_age_minutes: Annotated[str | None, Query(max_length=8)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=10**5)] = 1,
) -> HTMLResponse:
    # The filter form sends every field, empty ones included: empty means "any".
    sla_state = _choice(SlaState, sla, "sla")
    age = _minutes(min_age_minutes)
    application = storeops_app(request)
    scope = (role or None) if principal.is_owner else principal.role.value
    query = InboxQuery(desk=desk or None, role=scope, reason=reason or None, sla=sla_state, min_age_minutes=age)
    now = utcnow()
    warn = application.policy.inbox.warn_before_minutes
    with _reader(request) as conn:
        rows, total = search_inbox(
            conn, query, now=now, warn_before_minutes=warn, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    filters = {"desk": desk, "reason": reason, "sla": sla_state.value if sla_state else None, "min_age_minutes": age}
    if principal.is_owner:
        filters["role"] = role
    return _render(
        request,
        "inbox.html",
        principal,
        handoffs=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=filters,
        query_string=urlencode({k: v for k, v in filters.items() if v}),
        desks=[d.name for d in application.desks],
        now=now,
        warn_minutes=warn,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


def _choice(kind: type[SlaState], value: str | None, field: str) -> SlaState | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{field} must be one of {', '.join(k.value for k in kind)}", field=field) from None


def _minutes(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput("min_age_minutes must be a whole number of minutes", field="min_age_minutes")
    return int(value) or None


visible_handoff = commands_handoffs.visible_handoff


def resolve_as(
    application: App,
    principal: Principal,
    handoff_id: int,
    resolution: str,
    note: str | None,
    changes: dict[str, Any] | None,
    reply: str | None = None,
) -> commands_handoffs.ResolutionOutcome:
    """Resolve one handoff on behalf of ``principal`` (the command checks their role may)."""
    return commands_handoffs.resolve(
        application, principal, handoff_id, resolution, note=note, changes=changes, reply=reply
    )


def claim_as(application: App, principal: Principal, handoff_id: int) -> None:
    """Claim one handoff on behalf of ``principal`` (the command checks their role may)."""
    commands_handoffs.claim(application, principal, handoff_id)


def parse_changes(text: str) -> dict[str, Any] | None:
    """The 'modify' changes typed as a JSON object (empty text: none)."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the changes are not JSON: {exc}", field="changes") from None
    if not isinstance(value, dict):
        raise InvalidInput('the changes must be a JSON object such as {"shipping_address": {...}}', field="changes")
    return value


@router.post("/handoffs/{handoff_id}/resolve")
async def resolve_form(request: Request, principal: FormUser, handoff_id: HandoffId) -> RedirectResponse:
    """Resolve from the inbox. The form sends the resolution, a note, a support reply, and the
    changes of a "modify" either as the reason's own fields (``change.<field>``, e.g.
    ``change.shipping_address.postal_code``) or, for experts, as JSON (``changes``). A refusal or a
    field the reason does not take comes back as an error next to the form, what was typed kept."""
    form = await request.form()
    resolution = str(form.get("resolution") or "")[:16]
    note = str(form.get("note") or "")[:4000] or None
    reply = str(form.get("reply") or "")[:4000] or None
    back = str(form.get("back") or "/inbox")[:2000]
    try:
        changes = parse_changes(str(form.get("changes") or "")[:20000]) or form_changes(form)
        outcome = await run_in_threadpool(
            resolve_as, storeops_app(request), principal, handoff_id, resolution, note, changes, reply
        )
    except Forbidden:
        raise
    except StoreopsError as exc:
        typed = {key: str(value)[:4000] for key, value in form.items() if key not in ("csrf_token",)}
        return _back(back, err=f"Handoff {handoff_id}: {exc.message}", field=exc.field, typed=typed, handoff=handoff_id)
    if outcome.refused:
        return _back(back, err=f"Handoff {handoff_id}: refused: {outcome.refused}", handoff=handoff_id)
    done = {"approve": "approved", "reject": "rejected", "modify": "modified"}.get(resolution, resolution)
    said = "; ".join(outcome.effects) if outcome.effects else "the desk carries it out shortly"
    return _back(back, msg=f"Handoff {handoff_id} {done}: {said}.")


def form_changes(form: Any) -> dict[str, Any] | None:
    """The changes typed into a reason's fields: ``change.a.b = v`` becomes ``{"a": {"b": v}}``;
    empty fields are left out, numbers stay text for the desk's model to read (and refuse)."""
    changes: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not key.startswith("change.") or not str(value).strip():
            continue
        path = key.removeprefix("change.").split(".")[:4]
        target = changes
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise InvalidInput(f"{key} conflicts with another field", field=key)
        text = str(value).strip()[:2000]
        target[path[-1]] = (
            [item.strip() for item in text.split(",") if item.strip()]
            if path[-1] == "drop_lines"
            else (int(text) if text.isdigit() and path[-1] in ("follow_up_days",) else text)
        )
    return changes or None


@router.post("/handoffs/{handoff_id}/claim")
def claim_form(
    request: Request,
    principal: FormUser,
    handoff_id: HandoffId,
    back: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> RedirectResponse:
    try:
        claim_as(storeops_app(request), principal, handoff_id)
    except Forbidden:
        raise
    except StoreopsError as exc:
        return _back(back, err=f"Handoff {handoff_id}: {exc.message}")
    return _back(back, msg=f"Handoff {handoff_id} is yours.")


@router.post("/inbox/bulk")
async def bulk_form(request: Request, principal: FormUser) -> RedirectResponse:
    form = await request.form()
    back = str(form.get("back") or "/inbox")
    action = str(form.get("action") or "")
    if action not in ("approve", "reject"):
        return _back(back, err="Choose approve or reject for the selected handoffs.")
    ids: list[int] = []
    for value in form.getlist("ids"):
        try:
            ids.append(int(str(value)))
        except ValueError:
            return _back(back, err=f"{str(value)[:20]!r} is not a handoff id.")
    if not ids:
        return _back(back, err="Select at least one handoff.")
    note = str(form.get("note") or "") or None
    application = storeops_app(request)
    done, failed = await run_in_threadpool(_bulk, application, principal, ids[:500], action, note)
    message = f"{action}d {done} handoff{'s' if done != 1 else ''}."
    return _back(back, msg=message, err="; ".join(failed[:5]) if failed else None)


def _bulk(
    application: App, principal: Principal, ids: list[int], action: str, note: str | None
) -> tuple[int, list[str]]:
    done, failed = 0, []
    for handoff_id in ids:
        try:
            resolve_as(application, principal, handoff_id, action, note, None)
            done += 1
        except StoreopsError as exc:
            failed.append(f"{handoff_id}: {exc.message}")
    return done, failed


# --- subjects -----------------------------------------------------------------------------------


@router.get("/subjects/{subject:path}", response_class=HTMLResponse)
def subject_page(request: Request, principal: PageUser, subject: str) -> HTMLResponse:
    application = storeops_app(request)
    desks = visible_desks(application, principal)
    with _reader(request) as conn:
        timeline = read_audit(conn, subject=subject, desks=desks, limit=1000)
        rows, _ = search_inbox(
            conn,
            InboxQuery(state=None, subject=subject, role=None if principal.is_owner else principal.role.value),
            now=utcnow(),
            warn_before_minutes=application.policy.inbox.warn_before_minutes,
            limit=100,
        )
    if not timeline and not rows:
        raise NotFound(f"nothing you can see has happened to {subject}")
    return _render(request, "subject.html", principal, subject=subject, timeline=timeline, handoffs=rows)


# --- dashboard ----------------------------------------------------------------------------------


def _dashboard_context(request: Request, principal: Principal, days: int, desk: str | None) -> dict[str, Any]:
    application = storeops_app(request)
    allowed = visible_desks(application, principal)
    names = [d.name for d in application.desks if allowed is None or d.name in allowed]
    if desk and desk in names:
        names = [desk]
    until = utcnow()
    since = until - timedelta(days=days)
    with _reader(request) as conn:
        report = compute_report(
            conn,
            application.policy,
            since=since,
            until=until,
            desk_names=names,
            only_desks=names,
            desk_figures=application.registry.figures(),
        )
        series = daily_figures(conn, since=since, until=until, desks=names)
        latest = conn.execute(select(func.max(audit_log.c.id))).scalar() or 0
        # "Why returns happen": for the people who see the returns desk, when the store runs it.
        insights = returns_api.why_returns_happen(conn, since=since, until=until) if "returns" in names else None
        # The vendors panel: this month's scorecards, recent SLA breaches, renewals due.
        vendors = vendors_api.panel(conn, application.policy, now=until) if "vendors" in names else None
    return {
        "report": report,
        "days": days,
        "desk": desk,
        "periods": PERIODS,
        "desk_names": [d.name for d in application.desks if allowed is None or d.name in allowed],
        "decisions_svg": charts.decisions_over_time(series),
        "reasons_svg": charts.handoffs_by_reason(report.overall.handoffs_by_reason),
        "latest_audit": latest,
        "returns_insights": insights,
        "return_reasons_svg": charts.return_reasons_by_product(insights) if insights else None,
        "return_weeks_svg": charts.returns_by_week(insights) if insights else None,
        "reason_words": returns_api.reason_words,
        "vendors": vendors,
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    principal: PageUser,
    days: Annotated[int, Query(ge=1, le=3650)] = 7,
    desk: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    context = _dashboard_context(request, principal, days, desk or None)
    return _render(request, "dashboard.html", principal, **context)


@router.get("/dashboard/panel", response_class=HTMLResponse)
def dashboard_panel(
    request: Request,
    principal: PageUser,
    days: Annotated[int, Query(ge=1, le=3650)] = 7,
    desk: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """The figures and charts alone, for the live refresh."""
    context = _dashboard_context(request, principal, days, desk or None)
    return _render(request, "dashboard_panel.html", principal, **context)


def _activity(application: App) -> dict[str, int]:
    with read_only(application.engine).connect() as conn:
        latest = conn.execute(select(func.max(audit_log.c.id))).scalar() or 0
        waiting = conn.execute(
            select(func.count()).select_from(handoffs).where(handoffs.c.state.in_(("open", "claimed")))
        ).scalar_one()
    return {"audit": int(latest), "open": int(waiting)}


@router.get("/stream")
async def stream(request: Request, principal: PageUser) -> StreamingResponse:
    """Server-sent events: ``change`` whenever the audit log grows (checked every second)."""
    application = storeops_app(request)

    async def events() -> AsyncIterator[str]:
        last: dict[str, int] | None = None
        quiet = 0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            current = await run_in_threadpool(_activity, application)
            if current != last:
                yield f"event: change\ndata: {json.dumps(current)}\n\n"
                last, quiet = current, 0
            else:
                quiet += 1
                if quiet >= 15:
                    yield ": keep-alive\n\n"
                    quiet = 0
            await asyncio.sleep(1.0)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# --- policy -------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    import tomlkit

    return tomlkit.item(value).as_string() if value is not None else ""


@router.get("/policy", response_class=HTMLResponse)
def policy_page(request: Request, principal: PageUser) -> HTMLResponse:
    application = storeops_app(request)
    current = application.policy.as_dict()
    sections = {
        name: [
            {"key": key, "description": info["description"], "value": _toml_value(current[name][key])}
            for key, info in keys.items()
        ]
        for name, keys in policy_defaults_dict(application.desks).items()
    }
    return _render(
        request,
        "policy.html",
        principal,
        sections=sections,
        policy_version=application.policy.version,
        path=str(application.policy_path),
    )


@router.post("/policy")
def policy_edit(
    request: Request,
    principal: FormUser,
    section: Annotated[str, Form(max_length=64)],
    key: Annotated[str, Form(max_length=64)],
    value: Annotated[str, Form(max_length=20000)],
) -> RedirectResponse:
    back = f"/policy#{quote(section)}.{quote(key)}"
    try:
        version = change_policy(storeops_app(request), principal, section, key, value)
    except Forbidden:
        raise
    except StoreopsError as exc:
        return _back(back, err=exc.message)
    return _back(back, msg=f"[{section}] {key} saved; policy version {version}.")


def change_policy(application: App, principal: Principal, section: str, key: str, value: str) -> int:
    """Validate and write one policy value, record its version and audit the edit; returns the version."""
    return commands_policy.change_policy(application, principal, section, key, value)


# --- people -------------------------------------------------------------------------------------


def _owner(principal: Principal) -> None:
    if not principal.is_owner:
        raise Forbidden("only the owner manages people")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, principal: PageUser) -> HTMLResponse:
    _owner(principal)
    with _reader(request) as conn:
        people = list_users(conn)
    return _render(request, "users.html", principal, people=people, roles=[role.value for role in Role])


@router.post("/users")
def users_add(
    request: Request,
    principal: FormUser,
    email: Annotated[str, Form(max_length=255)],
    role: Annotated[str, Form(max_length=32)],
    password: Annotated[str, Form(max_length=1024)],
) -> RedirectResponse:
    _owner(principal)
    try:
        commands_people.add_user(storeops_app(request), principal, email, role, password)
    except StoreopsError as exc:
        return _back("/users", err=exc.message)
    return _back("/users", msg=f"{email.strip().lower()} can sign in now.")


@router.post("/users/access")
def users_access(
    request: Request,
    principal: FormUser,
    email: Annotated[str, Form(max_length=255)],
    disable: Annotated[bool, Form()],
) -> RedirectResponse:
    _owner(principal)
    if disable and principal.actor == f"user:{email.strip().lower()}":
        return _back("/users", err="You cannot disable yourself.")
    try:
        commands_people.set_access(storeops_app(request), principal, email, disabled=disable)
    except StoreopsError as exc:
        return _back("/users", err=exc.message)
    return _back("/users", msg=f"{email} {'disabled and signed out' if disable else 'enabled'}.")


# --- dead letters -------------------------------------------------------------------------------


@router.get("/dead", response_class=HTMLResponse)
def dead_letters(request: Request, principal: PageUser) -> HTMLResponse:
    desks = visible_desks(storeops_app(request), principal)
    senders = principal.role is Role.OWNER or principal.role in commands_connect.SENDERS
    with _reader(request) as conn:
        rows = list_events(conn, status="dead", limit=500, desks=desks)
        # Messages the outside world refused are the senders' to re-run (the owner and ops).
        messages = dead_messages(conn, limit=500) if senders else []
    return _render(request, "dead.html", principal, events=rows, messages=messages, senders=senders)


@router.post("/dead/outbox/{message_id}/rerun")
def dead_outbox_rerun(request: Request, principal: FormUser, message_id: HandoffId) -> RedirectResponse:
    try:
        row = commands_connect.rerun_outbox_message(storeops_app(request), principal, message_id)
    except StoreopsError as exc:
        return _back("/dead", err=exc.message)
    return _back("/dead", msg=f"Outbox message {message_id} ({row['connector']} {row['action']}) is queued again.")


@router.post("/dead/{event_id}/rerun")
def dead_rerun(request: Request, principal: FormUser, event_id: HandoffId) -> RedirectResponse:
    try:
        rerun_as(storeops_app(request), principal, event_id)
    except NotFound as exc:
        return _back("/dead", err=exc.message)
    return _back("/dead", msg=f"Event {event_id} is queued again.")


def rerun_as(application: App, principal: Principal, event_id: int) -> list[str]:
    """Queue an event's dead deliveries to ``principal``'s desks again; NotFound when it has none."""
    return commands_events.rerun(application, principal, event_id)
