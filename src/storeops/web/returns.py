"""The customers' return page (``/returns``) and its public JSON API, beside the shoppers' chat.

Like the chat, it needs no sign-in: the order's email is the proof of ownership (compared without
case), and an unknown order number and a wrong email get the very same answer, so trying numbers
teaches a stranger nothing (not even that an order exists). Every POST — page or API — counts
against one rate limit per client, and bodies are capped (``MAX_RETURNS_BODY``). The page works
without JavaScript: three server-rendered steps (find the order, choose what comes back, the
outcome). A request goes through the queue to the returns desk, and the answer waits (bounded)
for its decision, as the chat waits for the support desk's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

from storeops import untrusted
from storeops.bootstrap import App
from storeops.bounds import Quantity
from storeops.clock import utcnow
from storeops.desks.returns import api as returns_api
from storeops.desks.returns import front
from storeops.engine.events import describe_validation_error
from storeops.errors import InvalidInput, NotFound, StoreopsError
from storeops.money import Money
from storeops.storage.db import read_only
from storeops.web.pages import TEMPLATES
from storeops.web.security import RateLimiter, storeops_app

RETURNS_WAIT_SECONDS = 5.0
"""How long a request waits for the returns desk's decision before answering ``pending``."""
RETURNS_PER_MINUTE = 30
"""POSTs a client may make to the return page and its API in a minute (then 429)."""
MAX_RETURNS_BODY = 131_072
"""Bytes a return request may take (an order of 1,000 lines fits; the app's BodyLimit refuses more)."""
PATHS = ("/returns", "/returns/request", "/api/v1/returns", "/api/v1/returns/lookup")
"""The public routes (the body cap applies to them)."""
NOT_FOUND_MESSAGE = (
    "We could not find that order for that email. Check the order number (such as 1001) and use the "
    "email address you ordered with."
)
"""The one answer to an unknown order number and to a wrong email alike."""
TOO_MANY_MESSAGE = "Too many attempts; wait a minute and try again."
MAX_REASON = 5000

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

router = APIRouter()


class NotVerified(InvalidInput):
    """No order of that number has that email (or there is no such order: the same to the asker)."""

    code = "not_verified"


def _order_number(value: str) -> str:
    number = value.strip().removeprefix("#").strip()
    if not number:
        raise PydanticCustomError("order", "enter your order number, such as 1001")
    return number


def _email(value: str) -> str:
    text = value.strip()
    if not _EMAIL.fullmatch(text):
        raise PydanticCustomError("email", "enter the email address you ordered with")
    return text


def _reason(value: str) -> str:
    text = value.strip()
    if not text:
        raise PydanticCustomError("reason", "tell us why you are sending it back")
    return text


OrderNumber = Annotated[str, Field(max_length=128), AfterValidator(_order_number)]
Email = Annotated[str, Field(max_length=255), AfterValidator(_email)]
Reason = Annotated[str, Field(max_length=MAX_REASON), AfterValidator(_reason)]


class ReturnLookup(BaseModel):
    """Which order, and the email that proves it is the asker's."""

    model_config = ConfigDict(extra="forbid")

    order: OrderNumber
    """The number the customer sees: ``1001`` or ``#1001``."""
    email: Email


class ReturnLineRequest(BaseModel):
    """A SKU of the order and how many of it come back."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=128)
    quantity: Quantity


class ReturnRequestBody(ReturnLookup):
    """A customer's return request."""

    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=1000)
    reason: Reason
    """Why, in the customer's own words."""


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its nested models written in place (the OpenAPI document has
    no ``$defs`` of its own for a hand-described body)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": _inline(model)}}}}


def configure(api: FastAPI, *, wait_seconds: float = RETURNS_WAIT_SECONDS) -> None:
    """Add the return page and its API to ``api``, with its own rate limiter."""
    api.state.returns_limiter = RateLimiter(limit=RETURNS_PER_MINUTE, window=60.0)
    api.state.returns_wait_seconds = wait_seconds
    api.include_router(router)


def _allowed(request: Request) -> bool:
    limiter: RateLimiter = request.app.state.returns_limiter
    return limiter.allow(request.client.host if request.client else "unknown")


def _error(status: int, code: str, message: str, field: str | None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "field": field}})


# --- what the page and the API share ------------------------------------------------------------


def look_up(application: App, order: str, email: str) -> returns_api.ReturnableOrder:
    """The order as its customer may see it; NotVerified (one message for every case) otherwise."""
    if "returns" not in application.registry.desks:
        raise NotFound("this store does not take returns here")
    with read_only(application.engine).connect() as conn:
        found = returns_api.returnable(conn, order, email, application.policy)
    if found is None:
        raise NotVerified(NOT_FOUND_MESSAGE)
    return found


def check_open(found: returns_api.ReturnableOrder) -> None:
    """InvalidInput (on ``order``) when nothing of the verified order can be asked back now."""
    if found.status == "cancelled":
        raise InvalidInput(f"Order {found.number} was cancelled: there is nothing to send back.", field="order")
    if not found.shipped:
        raise InvalidInput(
            f"Order {found.number} has not shipped yet: you can ask for a return once it has arrived.", field="order"
        )
    if not any(line.returnable for line in found.lines):
        raise InvalidInput(
            f"Everything in order {found.number} has already been returned or is on its way back.", field="order"
        )


def check_lines(found: returns_api.ReturnableOrder, lines: Sequence[tuple[str, str, int]]) -> None:
    """InvalidInput naming the line (``<key>.sku`` or ``<key>.quantity``) that asks for a SKU the
    order does not have, names one twice, or asks for more than can still be returned.
    ``lines`` are ``(key, sku, quantity)``."""
    by_sku = {line.sku: line for line in found.lines}
    seen: set[str] = set()
    for key, sku, quantity in lines:
        line = by_sku.get(sku)
        if line is None:
            raise InvalidInput(f"{key}.sku: order {found.number} has no item {sku!r}", field=f"{key}.sku")
        if sku in seen:
            raise InvalidInput(f"{key}.sku: {sku} is listed twice", field=f"{key}.sku")
        seen.add(sku)
        if quantity > line.returnable:
            left = (
                f"only {line.returnable} of {sku} can still be returned"
                if line.returnable
                else f"{sku} has already been returned or is on its way back"
            )
            raise InvalidInput(f"{key}.quantity: {left}", field=f"{key}.quantity")


def outcome_words(result: dict[str, Any]) -> str:
    """What the customer is told about their return, in plain words."""
    state = result["state"]
    money = Money(int(result["refund_minor"]), str(result["currency"])).format() if "refund_minor" in result else None
    if state == "authorized":
        return (
            "Your return is accepted. A prepaid return label is on its way by email: print it and send the "
            f"items back. We refund {money} when they arrive."
        )
    if state == "refunded" and result.get("returnless"):
        return f"Your refund of {money} is on its way. Keep the items: there is no need to send them back."
    if state == "refunded":
        return f"Your refund of {money} is on its way."
    if state == "held":
        return "A member of our team is looking at your request and will email you what happens next."
    if state == "received":
        return "We have your parcel and are checking it; we will email you about your refund."
    if state == "refused":
        why = {
            "not_shipped": "the order has not shipped yet",
            "cancelled": "the order was cancelled",
            "already_returned": "everything in the order has already been returned or is on its way back",
            "not_verified": "we could not find that order for that email",
        }.get(str(result.get("refused")), "it is outside our returns policy")
        return f"We could not accept this return: {why}."
    if state == "rejected":
        return "We could not accept this return; we have emailed you why."
    return "We have your request and will email you the outcome shortly."


def request_return(
    application: App,
    found: returns_api.ReturnableOrder,
    *,
    email: str,
    lines: Sequence[tuple[str, int]],
    reason: str,
    wait_seconds: float,
) -> dict[str, Any]:
    """Queue the request, wait up to ``wait_seconds`` for the desk, and answer the return's JSON
    (``{"rma", "state": "pending"}`` when no worker decided it in time) with ``message``."""
    event_id, rma = front.submit_request(
        application.engine,
        application.registry,
        email=email,
        order_number=found.number,
        lines=lines,
        reason=reason,
        channel="portal",
    )
    done, handoff = front.wait_for(application.engine, event_id, wait_seconds=wait_seconds)
    result = front.return_json(application.engine, rma, handoff) if done else None
    if result is None:
        result = {"rma": rma, "state": "pending"}
    return {**result, "message": outcome_words(result)}


# --- the JSON API -------------------------------------------------------------------------------


def _parse(model: type[BaseModel], raw: bytes) -> Any:
    try:
        return model.model_validate(untrusted.loads(raw))
    except ValidationError as exc:
        message, field = describe_validation_error(exc)
        raise InvalidInput(message, field=field or None) from None


@router.post(
    "/api/v1/returns/lookup",
    summary="A customer's order and what of it can still be returned (public)",
    openapi_extra=_body(ReturnLookup),
)
async def returns_lookup(request: Request) -> JSONResponse:
    """Public, rate-limited. Body ``{"order", "email"}`` → ``{"order", "status", "window_ends",
    "lines": [{"sku", "title", "bought", "returnable"}]}``; an unknown order and a wrong email both
    answer 400 ``not_verified`` with the same message."""
    if not _allowed(request):
        return _error(429, "rate_limited", TOO_MANY_MESSAGE, None)
    try:
        asked = _parse(ReturnLookup, await request.body())
        found = await run_in_threadpool(look_up, storeops_app(request), asked.order, asked.email)
    except StoreopsError as exc:
        return _error(404 if isinstance(exc, NotFound) else 400, exc.code, exc.message, exc.field)
    return JSONResponse(found.as_json())


@router.post(
    "/api/v1/returns",
    summary="Ask for a return of a customer's order; answers the returns desk's decision (public)",
    openapi_extra=_body(ReturnRequestBody),
)
async def returns_create(request: Request) -> JSONResponse:
    """Public, rate-limited. Body ``{"order", "email", "lines": [{"sku", "quantity"}], "reason"}``
    → the return (``{"rma", "state", "order", "reason_category", "refund_minor", "currency",
    "returnless", "refused", "lines", "handoff", "message"}``), or ``{"rma", "state": "pending",
    "message"}`` when the desk has not decided within 5 s. 400 names the field at fault."""
    if not _allowed(request):
        return _error(429, "rate_limited", TOO_MANY_MESSAGE, None)
    application = storeops_app(request)
    try:
        asked = _parse(ReturnRequestBody, await request.body())
        found = await run_in_threadpool(look_up, application, asked.order, asked.email)
        check_open(found)
        check_lines(found, [(f"lines.{n}", line.sku, line.quantity) for n, line in enumerate(asked.lines)])
        result = await run_in_threadpool(
            request_return,
            application,
            found,
            email=asked.email,
            lines=[(line.sku, line.quantity) for line in asked.lines],
            reason=asked.reason,
            wait_seconds=request.app.state.returns_wait_seconds,
        )
    except StoreopsError as exc:
        return _error(404 if isinstance(exc, NotFound) else 400, exc.code, exc.message, exc.field)
    return JSONResponse(result)


# --- the page -----------------------------------------------------------------------------------


def _page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    values: dict[str, Any] = {
        "step": "find",
        "order": "",
        "email": "",
        "found": None,
        "quantities": {},
        "reason": "",
        "error": None,
        "error_field": None,
        "result": None,
        "max_reason": MAX_REASON,
        "now": utcnow(),
    }
    values.update(context)
    return TEMPLATES.TemplateResponse(request, "returns.html", values, status_code=status)


def _text(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return str(value)[:limit] if isinstance(value, str) else ""


@router.get("/returns", response_class=HTMLResponse, include_in_schema=False)
def returns_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/returns", response_class=HTMLResponse, include_in_schema=False)
async def returns_find(request: Request) -> Response:
    """Step 1 → 2: the customer's order number and email; their order's lines, or the one message."""
    form = await request.form()
    order, email = _text(form, "order", 200), _text(form, "email", 300)
    if not _allowed(request):
        return _page(request, 429, order=order, email=email, error=TOO_MANY_MESSAGE)
    try:
        asked = _parse_lookup(order, email)
        found = await run_in_threadpool(look_up, storeops_app(request), asked.order, asked.email)
        check_open(found)
    except StoreopsError as exc:
        return _page(request, 404 if isinstance(exc, NotFound) else 400, order=order, email=email, **_failed(exc))
    return _page(request, step="choose", order=found.number, email=asked.email, found=found)


@router.post("/returns/request", response_class=HTMLResponse, include_in_schema=False)
async def returns_submit(request: Request) -> Response:
    """Step 2 → 3: what comes back and why; the desk's decision in plain words, with the RMA."""
    form = await request.form()
    order, email = _text(form, "order", 200), _text(form, "email", 300)
    reason = _text(form, "reason", MAX_REASON + 1000)
    skus = [str(value)[:200] for value in form.getlist("sku")][:1000]
    typed = [str(value).strip()[:20] for value in form.getlist("quantity")][:1000]
    quantities = dict(enumerate(typed))
    if not _allowed(request):
        return _page(request, 429, order=order, email=email, error=TOO_MANY_MESSAGE)
    application = storeops_app(request)
    try:
        asked = _parse_lookup(order, email)
        found = await run_in_threadpool(look_up, application, asked.order, asked.email)
    except StoreopsError as exc:
        return _page(request, 404 if isinstance(exc, NotFound) else 400, order=order, email=email, **_failed(exc))
    again = {"step": "choose", "order": found.number, "email": asked.email, "found": found}
    again.update(quantities=quantities, reason=reason)
    try:
        check_open(found)
        chosen = _chosen(skus, typed)
        check_lines(found, [(f"lines.{row}", sku, quantity) for row, sku, quantity in chosen])
        words = _reason_text(reason)
        result = await run_in_threadpool(
            request_return,
            application,
            found,
            email=asked.email,
            lines=[(sku, quantity) for _, sku, quantity in chosen],
            reason=words,
            wait_seconds=request.app.state.returns_wait_seconds,
        )
    except StoreopsError as exc:
        return _page(request, 400, **again, **_failed(exc))
    return _page(request, step="done", order=found.number, result=result)


def _failed(exc: StoreopsError) -> dict[str, Any]:
    message = exc.message
    if exc.field and message.startswith(f"{exc.field}: "):
        message = message.removeprefix(f"{exc.field}: ")
    return {"error": message[:1].upper() + message[1:], "error_field": exc.field}


def _parse_lookup(order: str, email: str) -> ReturnLookup:
    try:
        return ReturnLookup.model_validate({"order": order, "email": email})
    except ValidationError as exc:
        message, field = describe_validation_error(exc)
        raise InvalidInput(message, field=field) from None


def _reason_text(reason: str) -> str:
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"keep the reason under {MAX_REASON:,} characters", field="reason")
    text = reason.strip()
    if not text:
        raise InvalidInput("tell us why you are sending it back", field="reason")
    return text


def _chosen(skus: Sequence[str], typed: Sequence[str]) -> list[tuple[int, str, int]]:
    """The form's rows with a quantity above 0: ``(row, sku, quantity)``."""
    if len(skus) != len(typed):
        raise InvalidInput("the form came back incomplete: start again", field="lines")
    chosen = []
    for row, (sku, text) in enumerate(zip(skus, typed, strict=True)):
        if not text:
            continue
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            raise InvalidInput("enter a whole number of items", field=f"lines.{row}.quantity")
        if int(text):
            chosen.append((row, sku, int(text)))
    if not chosen:
        raise InvalidInput("choose at least one item to send back", field="lines")
    return chosen
