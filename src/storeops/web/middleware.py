"""ASGI middleware around the web app: who the client is, how much it may send, what the browser may do.

- ``TrustedProxies``: the client's address and scheme. ``X-Forwarded-For`` and
  ``X-Forwarded-Proto`` are believed only from the proxies ``STOREOPS_TRUSTED_PROXIES`` names
  (none by default); from anyone else they are ignored, so a client cannot choose the address
  the sign-in limits count it under. ``storeops serve`` turns uvicorn's own proxy-header
  handling off: this is the one place that reads them.
- ``BodyLimit``: a cap on the request body per route, refused with 413 as soon as the declared
  length (``Content-Length``) or the bytes streamed so far pass it, before the whole body is held
  in memory or a webhook's signature is checked.
- ``CleanText``: NUL bytes removed and lone surrogates replaced in the path, the query string and
  form or JSON bodies (webhooks excepted: their signature covers the raw bytes; the intake cleans
  them after checking it), so PostgreSQL never refuses what SQLite would have stored.
- ``SecurityHeaders``: a Content-Security-Policy without inline script or style, no framing,
  no MIME sniffing, no referrer to other sites, and HSTS on HTTPS.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storeops import untrusted
from storeops.errors import InvalidInput
from storeops.settings import Network


class TrustedProxies:
    """Set the scope's client address and scheme from forwarded headers, when the peer is trusted.

    ``X-Forwarded-For`` is read from the right (the hop nearest to us) and the first address that
    is not itself a trusted proxy is the client: entries a client wrote further left are never
    believed. Without trusted proxies, the scope is left as the server made it."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network]) -> None:
        self.app = app
        self.proxies = list(proxies)

    def trusted(self, host: str) -> bool:
        """Whether ``host`` is one of the configured proxies."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.proxies and client and self.trusted(client[0]):
            headers = Headers(scope=scope)
            host = client[0]
            hops = [hop.strip() for value in headers.getlist("x-forwarded-for") for hop in value.split(",")]
            for hop in reversed([hop for hop in hops if hop]):
                try:
                    ipaddress.ip_address(hop)
                except ValueError:
                    break  # a proxy does not write this: stop at the last address we can vouch for
                host = hop
                if not self.trusted(hop):
                    break
            scope = dict(scope, client=(host, 0))
            proto = (headers.get("x-forwarded-proto") or "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                secure = proto == "https"
                if scope["type"] == "websocket":
                    scope["scheme"] = "wss" if secure else "ws"
                else:
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """The request body is over its route's cap (413). An HTTPException, so that FastAPI's body
    parsing passes it on and the app's error handler answers it in the usual shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the {limit:,} bytes this route accepts")
        self.limit = limit


class BodyLimit:
    """Refuse request bodies over ``limit_for(path)`` bytes with 413, without reading them."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            # Raised where no handler answers it (a middleware reading the body): answer here.
            if started:
                raise
            await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "too_large", "message": BodyTooLarge(limit).detail, "field": "body"}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_JSON_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
"""A ``\\u0000`` or UTF-16 surrogate escape in a JSON body: text PostgreSQL may refuse."""


class CleanText:
    """Normalise the text of every request but webhooks before the app reads it (see module doc).

    Only requests that hold such text are touched: a NUL (``%00``) in the path, the query or a
    form body, or a ``\\u0000`` / surrogate escape in a JSON body; everything else passes as is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/webhooks/"):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            scope = dict(scope, path=untrusted.clean_text(scope["path"]))
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query:
            scope = dict(scope, query_string=_clean_query(query).encode("latin-1"))
        kind = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("application/x-www-form-urlencoded", "application/json"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # the client went away; let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if kind == "application/json" and _JSON_ESCAPES.search(body):
            body = _clean_json(body)
        elif kind != "application/json" and b"%00" in body:
            body = _clean_query(body.decode("latin-1")).encode("latin-1")
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"content-length"]
        scope = dict(scope, headers=[*headers, (b"content-length", str(len(body)).encode())])
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _clean_query(query: bytes | str) -> str:
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(untrusted.clean_text(name), untrusted.clean_text(value)) for name, value in pairs])


def _clean_json(body: bytes) -> bytes:
    try:
        return json.dumps(untrusted.loads(body)).encode()
    except InvalidInput:
        return body  # not JSON the app will take either: it says so itself


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""Only the app's own files: no inline script or style, no other origin, no framing."""
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Add the security headers to every response (HSTS only to requests that came over HTTPS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers: list[Any] = list(message.get("headers", []))
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
