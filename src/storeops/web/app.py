"""The FastAPI application: the people's pages, the REST API, webhooks, the shoppers' chat and
the customers' return page.

Wiring only: pages live in ``web.pages``, the API in ``web.api``, the return page and its API in
``web.returns``, who-is-asking in ``web.security``. Every error a client can cause becomes a 4xx
with a one-line message (an error page for people, ``{"error": {"code", "message", "field"}}`` for
programs), never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from storeops import __version__, untrusted
from storeops.bootstrap import App
from storeops.connectors.storefront import verify
from storeops.desks.support.conversation import ask, transcript
from storeops.engine.events import describe_validation_error
from storeops.errors import StoreopsError
from storeops.intake import storefront_events, take_in
from storeops.web import api as api_module
from storeops.web import pages
from storeops.web import returns as returns_web
from storeops.web import vendors as vendors_web
from storeops.web.middleware import BodyLimit, CleanText, SecurityHeaders, TrustedProxies
from storeops.web.security import NotSignedIn, RateLimiter, optional_user

STATUS = {"not_found": 404, "conflict": 409, "unauthorized": 401, "forbidden": 403}
TITLES = {
    400: "That did not work",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    409: "Already done",
    413: "Too large",
}


class ChatMessage(BaseModel):
    """A shopper's message to the support desk."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=5000)
    conversation: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=255)
    order_number: str | None = Field(None, max_length=64)


CHAT_WAIT_SECONDS = 5.0
MAX_CHAT_BODY = 16_384
"""Bytes a shopper's message may take (the web app's BodyLimit refuses more with 413)."""


def _error(status: int, code: str, message: str, field: str | None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "field": field}})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/webhooks/"))


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    response = pages.TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "title": TITLES.get(status, "Error"),
            "message": message,
            "user": optional_user(request),
            "version": __version__,
        },
        status_code=status,
    )
    return response


def create_app(application: App, *, returns_wait_seconds: float = returns_web.RETURNS_WAIT_SECONDS) -> FastAPI:
    """The web app over ``application``'s database and policy. ``returns_wait_seconds``: how long a
    return request waits for the returns desk before answering ``pending``."""
    api = FastAPI(
        title="storeops",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.storeops = application
    watcher = application.policy_file()
    settings = application.settings

    def body_limit(path: str) -> int:
        if path.startswith("/webhooks/"):
            return settings.max_webhook_bytes
        if path == "/api/v1/chat":
            return MAX_CHAT_BODY
        if path in returns_web.PATHS:
            return returns_web.MAX_RETURNS_BODY
        return settings.max_body_bytes

    # Added innermost first. Outermost, the client's address and scheme are settled; then every
    # response gets its headers; a body over its cap is refused before anything reads it; and
    # text is normalised before the app sees it.
    api.add_middleware(CleanText)
    api.add_middleware(BodyLimit, limit_for=body_limit)
    api.add_middleware(SecurityHeaders)
    api.add_middleware(TrustedProxies, proxies=settings.proxy_networks)

    @api.middleware("http")
    async def _current_policy(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # A hand edit of the policy file (or another process's web edit) shows here too.
        if not request.url.path.startswith("/static/"):
            changed = watcher.reload_if_changed()
            if changed is not None:
                application.policy = changed
        return await call_next(request)

    @api.exception_handler(StoreopsError)
    async def _storeops_error(request: Request, exc: StoreopsError) -> Response:
        status = STATUS.get(exc.code, 400)
        if _wants_json(request):
            response = _error(status, exc.code, exc.message, exc.field)
            if status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return _error_page(request, status, exc.message)

    @api.exception_handler(NotSignedIn)
    async def _not_signed_in(_request: Request, exc: NotSignedIn) -> RedirectResponse:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        parts = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = ".".join(parts) or None
        message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
        if _wants_json(request):
            return _error(400, "invalid_input", message, field)
        return _error_page(request, 400, message)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        if _wants_json(request) or exc.status_code == 405:
            return _error(exc.status_code, code, str(exc.detail), "body" if exc.status_code == 413 else None)
        return _error_page(request, exc.status_code, str(exc.detail))

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    api.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    api.include_router(pages.router)
    api.include_router(api_module.router)
    api.include_router(vendors_web.router)
    returns_web.configure(api, wait_seconds=returns_wait_seconds)
    openapi = api.openapi

    def openapi_with_event_kinds() -> dict[str, Any]:
        if api.openapi_schema is None:
            api_module.document_event_kinds(openapi(), application.registry.payload_models)
        return openapi()

    api.openapi = openapi_with_event_kinds  # type: ignore[method-assign]

    def _webhook(
        source: str, signature_header: str, topic_header: str, id_header: str, secret: str | None
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def receive(request: Request) -> JSONResponse:
            body = await request.body()
            if not verify(secret, body, request.headers.get(signature_header)):
                # Nothing from an unsigned or wrongly signed request is read, let alone stored.
                return _error(401, "bad_signature", f"missing or wrong {signature_header}", signature_header)
            data = untrusted.loads(body)
            topic, delivery = request.headers.get(topic_header), request.headers.get(id_header)
            new_events = storefront_events(application, source, topic, data, delivery)
            result = await run_in_threadpool(take_in, application, new_events)
            return JSONResponse({"stored": len(result.ids), "duplicates": result.duplicates})

        return receive

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
        return pages.TEMPLATES.TemplateResponse(request, "chat.html", {})

    @api.post(
        "/api/v1/chat",
        summary="Send a shopper's message to the support desk and get its answer (public)",
        responses=api_module.ERRORS,
    )
    async def chat(request: Request) -> JSONResponse:
        """Public: rate-limited per client and bounded in size. Waits up to 5 s for the desk."""
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(client):
            return _error(429, "rate_limited", "too many messages; wait a minute and try again", None)
        # The body is capped at MAX_CHAT_BODY bytes by BodyLimit.
        try:
            incoming = ChatMessage.model_validate(untrusted.loads(await request.body()))
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

    @api.get(
        "/api/v1/chat/{conversation}",
        summary="A chat conversation's messages and replies, oldest first (public; the id is the key)",
        responses=api_module.ERRORS,
    )
    def chat_transcript(
        conversation: Annotated[str, PathParam(min_length=8, max_length=64, pattern="^[A-Za-z0-9_-]+$")],
    ) -> dict[str, Any]:
        """What the shopper's chat shows, so a person's answer reaches the open chat window."""
        return {"conversation": conversation, "messages": transcript(application.engine, conversation)}

    return api
