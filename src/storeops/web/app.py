"""The FastAPI application: the overview page, health and a read-only JSON API.

The inbox with sign-in, roles, CSRF and write endpoints comes with the people's-side issue;
until then the app listens on 127.0.0.1 by default and changes nothing.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from storeops import __version__
from storeops.bootstrap import App
from storeops.connectors.storefront import verify
from storeops.desks.support.conversation import ask
from storeops.engine.audit import read_audit
from storeops.engine.events import describe_validation_error
from storeops.engine.inbox import list_handoffs
from storeops.engine.metrics import compute_report
from storeops.errors import StoreopsError
from storeops.intake import storefront_events, take_in
from storeops.storage.db import read_only

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _connection(request: Request) -> Iterator[Connection]:
    """A read-only connection for one request."""
    application: App = request.app.state.storeops
    with read_only(application.engine).connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(_connection)]


class ChatMessage(BaseModel):
    """A shopper's message to the support desk."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=5000)
    conversation: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=255)
    order_number: str | None = Field(None, max_length=64)


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds per client (in memory, per process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        recent = self.seen[client]
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True


CHAT_WAIT_SECONDS = 5.0
MAX_CHAT_BODY = 16_384


def _error(status: int, code: str, message: str, field: str | None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "field": field}})


def create_app(application: App) -> FastAPI:
    """The web app over ``application``'s database and policy."""
    api = FastAPI(
        title="storeops",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.storeops = application
    desk_names = [desk.name for desk in application.desks]

    @api.exception_handler(StoreopsError)
    async def _storeops_error(_request: Request, exc: StoreopsError) -> JSONResponse:
        return _error(404 if exc.code == "not_found" else 400, exc.code, exc.message, exc.field)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @api.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request, conn: Conn) -> HTMLResponse:
        report = compute_report(conn, application.policy, desk_names=desk_names)
        waiting = list_handoffs(conn, state="open", limit=50)
        return TEMPLATES.TemplateResponse(
            request, "overview.html", {"report": report, "handoffs": waiting, "version": __version__}
        )

    def _webhook(
        source: str, signature_header: str, topic_header: str, id_header: str, secret: str | None
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def receive(request: Request) -> JSONResponse:
            body = await request.body()
            if not verify(secret, body, request.headers.get(signature_header)):
                # Nothing from an unsigned or wrongly signed request is read, let alone stored.
                return _error(401, "bad_signature", f"missing or wrong {signature_header}", signature_header)
            try:
                data = json.loads(body)
            except ValueError as exc:
                return _error(400, "invalid_json", f"the body is not JSON: {exc}", None)
            topic, delivery = request.headers.get(topic_header), request.headers.get(id_header)
            new_events = storefront_events(application, source, topic, data, delivery)
            result = await run_in_threadpool(take_in, application, new_events)
            return JSONResponse({"stored": len(result.ids), "duplicates": result.duplicates})

        return receive

    settings = application.settings
    api.add_api_route(
        "/webhooks/shopify",
        _webhook(
            "shopify",
            "X-Shopify-Hmac-Sha256",
            "X-Shopify-Topic",
            "X-Shopify-Webhook-Id",
            settings.shopify_webhook_secret,
        ),
        methods=["POST"],
        summary="Shopify webhooks (orders, products, inventory levels, customers, fulfillments, refunds)",
    )
    api.add_api_route(
        "/webhooks/woocommerce",
        _webhook(
            "woocommerce",
            "X-WC-Webhook-Signature",
            "X-WC-Webhook-Topic",
            "X-WC-Webhook-Delivery-ID",
            settings.woocommerce_webhook_secret,
        ),
        methods=["POST"],
        summary="WooCommerce webhooks (orders and products)",
    )

    limiter = RateLimiter(limit=20, window=60.0)

    @api.get("/chat", response_class=HTMLResponse, include_in_schema=False)
    def chat_page(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "chat.html", {})

    @api.post("/api/v1/chat", summary="Send a shopper's message to the support desk and get its answer")
    async def chat(request: Request) -> JSONResponse:
        """Public: rate-limited per client and bounded in size. Waits up to 5 s for the desk."""
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(client):
            return _error(429, "rate_limited", "too many messages; wait a minute and try again", None)
        body = await request.body()
        if len(body) > MAX_CHAT_BODY:
            return _error(413, "too_large", f"the request is over {MAX_CHAT_BODY} bytes", "message")
        try:
            incoming = ChatMessage.model_validate_json(body)
        except ValidationError as exc:
            message, field = describe_validation_error(exc)
            return _error(400, "invalid_input", message, field)
        result = await run_in_threadpool(
            ask,
            application.engine,
            application.registry,
            wait_seconds=CHAT_WAIT_SECONDS,
            text=incoming.message,
            email=incoming.email,
            order_number=incoming.order_number,
            conversation=incoming.conversation,
            channel="chat",
            source="chat",
        )
        return JSONResponse(result)

    @api.get("/api/v1/handoffs")
    def api_handoffs(
        conn: Conn,
        state: Annotated[str, Query(pattern="^(open|claimed|resolved|expired|all)$")] = "open",
        desk: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Handoffs oldest first (open and claimed by default)."""
        return list_handoffs(conn, state=None if state == "all" else state, desk=desk, limit=limit)

    @api.get("/api/v1/audit")
    def api_audit(
        conn: Conn,
        subject: str | None = None,
        desk: str | None = None,
        after_id: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """The audit log oldest first; page with ``after_id`` (the last id you saw)."""
        return read_audit(conn, subject=subject, desk=desk, limit=limit, after_id=after_id)

    @api.get("/api/v1/report")
    def api_report(conn: Conn) -> dict[str, Any]:
        """Per-desk and overall figures since the start."""
        return compute_report(conn, application.policy, desk_names=desk_names).as_dict()

    return api
