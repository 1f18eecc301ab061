"""What every HTTP connector shares: one client per remote, and a remote's answer read as the
outbox's kinds of failure (``connectors.base``) with the remote's own words kept."""

from __future__ import annotations

import email.utils
import http.client
import ssl
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from storeops.connectors.base import Rejected, RemoteError, RetryAfter

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""A remote that takes longer is down as far as a send is concerned; the outbox retries."""


class KeepAliveTransport(httpx.BaseTransport):
    """HTTP/1.1 with one kept-alive ``http.client`` connection per sending thread and origin.

    The outbox sends from a pool of threads; httpx's default transport (httpcore) spent about a
    millisecond of CPU per request there, most of a small machine's budget for 500 sends a second
    (``bench.outbox``). This one keeps httpx's interface — requests, responses, timeouts, errors —
    and hands the wire to the standard library. A connection the remote closed while idle is
    opened again once; HTTPS verifies certificates with the system's trust store."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._local = threading.local()
        self._context = context or ssl.create_default_context()
        self._all: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def _connection(self, url: httpx.URL, timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        connections: dict[tuple[str, str, int | None], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "connections", {}
        )
        key = (url.scheme, url.host, url.port)
        existing = connections.get(key)
        if existing is not None and existing.sock is not None:
            return existing, True
        if url.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.host, url.port, timeout=timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(url.host, url.port, timeout=timeout)
        connections[key] = connection
        with self._lock:
            self._all.add(connection)
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        connections = self._local.__dict__.get("connections", {})
        for key, known in list(connections.items()):
            if known is connection:
                del connections[key]
        with self._lock:
            self._all.discard(connection)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        connect_timeout, read_timeout = timeouts.get("connect"), timeouts.get("read")
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        for attempt in (1, 2):
            connection, reused = self._connection(request.url, connect_timeout)
            try:
                if connection.sock is None:
                    connection.connect()
                connection.sock.settimeout(read_timeout)
                connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in request.headers.raw:
                    connection.putheader(name.decode("latin-1"), value.decode("latin-1"))
                connection.endheaders(body or None)
                answer = connection.getresponse()
                content = answer.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(connection)
                if reused and attempt == 1:
                    continue  # the remote closed the idle connection: once more on a new one
                raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
            except TimeoutError as exc:
                self._drop(connection)
                raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
            except (ssl.SSLError, ssl.CertificateError) as exc:
                self._drop(connection)
                raise httpx.ConnectError(f"TLS: {exc}", request=request) from exc
            except OSError as exc:
                self._drop(connection)
                raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
            if answer.will_close:
                self._drop(connection)
            return httpx.Response(
                answer.status, headers=answer.getheaders(), content=content, extensions={"http_version": b"HTTP/1.1"}
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            connections, self._all = list(self._all), set()
        for connection in connections:
            connection.close()


def make_client(client: httpx.Client | None = None, *, connections: int = 64) -> httpx.Client:
    """The given client (tests inject one), else one on ``KeepAliveTransport``: a kept-alive
    connection per sending thread, so concurrent sends neither queue for a connection nor pay
    httpcore's cost per request."""
    if client is not None:
        return client
    return httpx.Client(timeout=TIMEOUT, transport=KeepAliveTransport(), follow_redirects=False)


def retry_after_seconds(value: str | None, default: float = 2.0) -> float:
    """``Retry-After`` as seconds: a number (Shopify sends ``2.0``) or an HTTP date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def excerpt(response: httpx.Response, limit: int = 300) -> str:
    """The start of a response body, on one line, for an error message."""
    try:
        text = response.text
    except Exception:
        return ""
    return " ".join(text.split())[:limit]


def request(
    client: httpx.Client,
    remote: str,
    method: str,
    url: str,
    *,
    inline_wait: float = 2.0,
    tries: int = 4,
    sleep: Any = time.sleep,
    **kwargs: Any,
) -> httpx.Response:
    """One request with the outbox's reading of failures: a 429 asking for at most ``inline_wait``
    seconds is waited for here (``tries`` times), a longer one raises ``RetryAfter``; 5xx, 408 and
    a remote that cannot be reached or does not answer in time raise ``RemoteError``; 401/403
    ``RemoteError`` too (a credential fixed later lets the message through); any other 4xx
    ``Rejected`` with the remote's words. Returns the 2xx/3xx response."""
    for attempt in range(tries):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise RemoteError(f"{remote}: no answer in time ({type(exc).__name__}) to {method} {_path(url)}") from exc
        except httpx.TransportError as exc:
            raise RemoteError(f"{remote}: cannot reach {_origin(url)} ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait <= inline_wait and attempt + 1 < tries:
                sleep(wait)
                continue
            raise RetryAfter(wait, f"{remote}: 429 Too Many Requests; retry after {wait:g} s")
        if status >= 500 or status == 408:
            raise RemoteError(f"{remote}: HTTP {status} from {method} {_path(url)}: {excerpt(response)}")
        if status in (401, 403):
            raise RemoteError(
                f"{remote}: HTTP {status}: the credentials were refused ({excerpt(response, 160)}); "
                "check the access token or keys and their scopes"
            )
        if status >= 400:
            raise Rejected(f"{remote}: HTTP {status} from {method} {_path(url)}: {excerpt(response)}")
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def json_body(response: httpx.Response, remote: str) -> Any:
    """The response's JSON, or ``RemoteError`` when the remote answered something else (an HTML
    error page from a proxy, a login form)."""
    try:
        return response.json()
    except ValueError:
        raise RemoteError(f"{remote}: the answer is not JSON: {excerpt(response, 160)}") from None


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


def _path(url: str) -> str:
    return httpx.URL(url).path
