"""Issue 15 items 4, 6 and 7 over real HTTP: body caps per route, security headers, sign-in limits
per account and per client address that hold across app instances, and forwarded headers believed
only from trusted proxies."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select

from storeops.accounts import MAX_FAILURES_PER_ADDRESS, SIGN_IN_WINDOW, address_key, create_token, sign_in
from storeops.bootstrap import App
from storeops.clock import utcnow
from storeops.connectors.webhook import sign
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.settings import Settings
from storeops.storage.schema import events as events_table
from storeops.web.app import create_app
from tests.conftest import make_policy, served
from tests.web_helpers import PASSWORD, csrf_in, person

SECRET = "hush"
OWNER = "owner@example.com"
WEBHOOK_CAP = 64 * 1024
BODY_CAP = 256 * 1024


def web(engine: Engine, registry: Registry, **settings: Any) -> Any:
    application = App(
        settings=Settings(
            database_url=str(engine.url),
            shopify_webhook_secret=SECRET,
            max_webhook_bytes=WEBHOOK_CAP,
            max_body_bytes=BODY_CAP,
            **settings,
        ),
        engine=engine,
        desks=builtin_desks(),
        registry=registry,
        policy=make_policy(),
    )
    return create_app(application)


def raw_http(base: str, head: str, chunks: Iterable[bytes] = ()) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (request line and headers) and ``chunks`` over a plain socket, then read the
    answer, without finishing the body: the server must answer on what it has seen so far."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=15) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before taking the rest
        received = b""
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
        header_block, _, body = received.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            data = sock.recv(65536)
            if not data:
                break
            body += data
    return int(lines[0].split()[1]), headers, body


def chunked(payload: bytes, size: int = 16 * 1024) -> list[bytes]:
    """``payload`` in HTTP/1.1 chunks, without the last (empty) chunk that ends the body."""
    return [
        f"{len(payload[i : i + size]):x}\r\n".encode() + payload[i : i + size] + b"\r\n"
        for i in range(0, len(payload), size)
    ]


def test_a_body_over_its_routes_cap_is_refused_before_it_is_read(engine: Engine, registry: Registry) -> None:
    with served(web(engine, registry)) as base:
        # declared: 413 on the headers alone, before any of the gigabyte is sent (or its signature checked)
        status, headers, body = raw_http(
            base,
            "POST /webhooks/shopify HTTP/1.1\nHost: x\nContent-Type: application/json\n"
            "X-Shopify-Topic: orders/create\nContent-Length: 1000000000\n",
        )
        assert status == 413
        assert json.loads(body)["error"] == {
            "code": "too_large",
            "message": f"the request body is over the {WEBHOOK_CAP:,} bytes this route accepts",
            "field": "body",
        }
        assert "content-security-policy" in headers
        # streamed without a length: 413 as soon as the bytes pass the cap, the body never finished
        head = "POST /webhooks/shopify HTTP/1.1\nHost: x\nX-Shopify-Topic: orders/create\nTransfer-Encoding: chunked\n"
        status, _, body = raw_http(base, head, chunked(b"x" * (WEBHOOK_CAP + 20_000)))
        assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
        # every other route has its own, larger cap: the same size is fine for the events API (401:
        # no token, but read), and past BODY_CAP it is refused there too, token or not
        head = "POST /api/v1/events HTTP/1.1\nHost: x\nContent-Type: application/json\nTransfer-Encoding: chunked\n"
        status, _, _ = raw_http(base, head, [*chunked(b"[" + b" " * (WEBHOOK_CAP + 20_000) + b"]"), b"0\r\n\r\n"])
        assert status == 401
        status, _, body = raw_http(base, head, chunked(b" " * (BODY_CAP + 20_000)))
        assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
        # a form is refused the same way while FastAPI parses it, and the shoppers' chat at 16 KiB
        form = "Content-Type: application/x-www-form-urlencoded"
        head = f"POST /login HTTP/1.1\nHost: x\n{form}\nTransfer-Encoding: chunked\n"
        status, _, _ = raw_http(base, head, chunked(b"email=" + b"a" * (BODY_CAP + 20_000)))
        assert status == 413
        head = "POST /api/v1/chat HTTP/1.1\nHost: x\nContent-Type: application/json\nTransfer-Encoding: chunked\n"
        status, _, body = raw_http(base, head, chunked(b'{"message": "' + b"a" * 20_000))
        assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
        # and a signed webhook under the cap is taken as before
        order = {
            "id": 7,
            "currency": "USD",
            "total_price": "10.00",
            "email": "a@b.test",
            "line_items": [{"sku": "TEE", "quantity": 1, "price": "10.00"}],
        }
        raw = json.dumps(order).encode()
        with httpx.Client(base_url=base) as http:
            response = http.post(
                "/webhooks/shopify",
                content=raw,
                headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": sign(SECRET, raw)},
            )
        assert response.status_code == 200, response.text


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def test_every_answer_carries_the_security_headers_and_hsts_only_over_https(engine: Engine, registry: Registry) -> None:
    person(engine, OWNER, "owner")
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:
        answers = [
            http.get("/login"),
            http.get("/chat"),
            http.get("/returns"),
            http.post("/api/v1/returns/lookup", json={}),
            http.get("/static/app.js"),
            http.get("/api/v1/openapi.json"),
            http.get("/no/such/page"),
            http.post("/webhooks/shopify", content=b"{}"),
            http.get("/inbox", headers={"X-Forwarded-Proto": "https"}),  # not from a trusted proxy
        ]
    for response in answers:
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, response.url
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
        assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
        assert "strict-transport-security" not in response.headers, response.url
    # behind a trusted proxy that terminated TLS: HSTS, and the session cookie is Secure
    with served(web(engine, registry, trusted_proxies="127.0.0.1")) as base, httpx.Client(base_url=base) as http:
        https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
        page = http.get("/login", headers=https)
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        login_cookie = page.headers["set-cookie"]
        assert "secure" in login_cookie.lower()
        signed_in = http.post(
            "/login",
            data={"email": OWNER, "password": PASSWORD, "csrf_token": csrf_in(page.text)},
            # the client speaks plain HTTP to the proxy's port here, so it would not send a Secure cookie
            headers={**https, "Cookie": login_cookie.split(";")[0]},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        assert "secure" in signed_in.headers["set-cookie"].lower()
        assert "strict-transport-security" not in http.get("/login").headers


def attempt(http: httpx.Client, password: str, *, client: str | None = None, email: str = OWNER) -> int:
    """One sign-in through the form, from ``client`` (as a trusted proxy reports it); the status."""
    headers = {"X-Forwarded-For": client} if client else {}
    form = http.get("/login", headers=headers)
    response = http.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_in(form.text)},
        headers=headers,
        follow_redirects=False,
    )
    http.cookies.clear()  # each attempt is a new visitor; a session would not change the limits
    return response.status_code


def test_guesses_from_elsewhere_never_lock_the_owner_out(engine: Engine, registry: Registry) -> None:
    person(engine, OWNER, "owner")
    asgi = web(engine, registry, trusted_proxies="127.0.0.1")
    home, attacker, elsewhere = "198.51.100.7", "203.0.113.9", "192.0.2.44"
    with served(asgi) as base, httpx.Client(base_url=base) as http:
        # given the owner signs in from home (successes never count: more than the limit in a row are fine)
        assert [attempt(http, PASSWORD, client=home) for _ in range(11)] == [303] * 11
        # when someone guesses ten times from another address, that address is stopped, even
        # with the right password, and says how long to wait
        assert [attempt(http, "wrong-guess-1", client=attacker) for _ in range(10)] == [401] * 10
        assert attempt(http, PASSWORD, client=attacker) == 429
        # then the account is closed to addresses it has never signed in from …
        assert attempt(http, PASSWORD, client=elsewhere) == 429
        # … but the owner signs in from home, which clears the account's count
        assert attempt(http, PASSWORD, client=home) == 303
        assert attempt(http, PASSWORD, client=elsewhere) == 303
        # and the guesser's address stays stopped
        assert attempt(http, PASSWORD, client=attacker) == 429
    # the limits are in the database: a new app (another process, a restart) holds them
    with served(web(engine, registry, trusted_proxies="127.0.0.1")) as base, httpx.Client(base_url=base) as http:
        assert attempt(http, PASSWORD, client=attacker) == 429
        assert attempt(http, PASSWORD, client=home) == 303


def test_a_rotating_forwarded_for_from_an_untrusted_peer_is_counted_under_the_peer(
    engine: Engine, registry: Registry
) -> None:
    person(engine, OWNER, "owner")
    # no trusted proxies: X-Forwarded-For is the client's own claim, and is ignored
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:
        statuses = [
            attempt(http, "wrong-guess-1", client=f"10.0.{n}.{n}", email=f"user{n}@example.com") for n in range(11)
        ]
        assert statuses == [401] * 10 + [429]
        assert attempt(http, PASSWORD, client="10.9.9.9") == 429  # still the same peer: 127.0.0.1
    # a trusted proxy's own hops are skipped; what a client wrote further left is not believed
    with served(web(engine, registry, trusted_proxies="127.0.0.0/8")) as base, httpx.Client(base_url=base) as http:
        spoofed = [attempt(http, "wrong-guess-1", client=f"10.1.{n}.1, 203.0.113.50") for n in range(11)]
        assert spoofed == [401] * 10 + [429]
        assert attempt(http, PASSWORD, client="10.1.99.1, 203.0.113.50, 127.0.0.5") == 429


def test_the_windows_end_and_ipv6_clients_are_counted_by_their_64(engine: Engine) -> None:
    person(engine, OWNER, "owner")
    start = utcnow()
    for n in range(MAX_FAILURES_PER_ADDRESS):
        assert sign_in(engine, OWNER, "wrong-guess-1", f"2001:db8:1:2::{n:x}", now=start).secret is None
    # another address of the same /64 is the same client
    refused = sign_in(engine, OWNER, PASSWORD, "2001:db8:1:2:ffff::1", now=start + timedelta(seconds=30))
    assert refused.secret is None and refused.retry_after is not None and 0 < refused.retry_after <= 300
    assert address_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    # once the window has passed, the address may try again
    later = start + SIGN_IN_WINDOW + timedelta(seconds=1)
    assert sign_in(engine, OWNER, PASSWORD, "2001:db8:1:2::1", now=later).secret is not None


def test_text_postgresql_would_refuse_is_normalised_in_queries_forms_and_json(
    engine: Engine, registry: Registry
) -> None:
    # on PostgreSQL each of these was a 500: a NUL in a query parameter, a form field, a JSON string
    person(engine, OWNER, "owner")
    with engine.begin() as conn:
        owner_token = create_token(conn, "owner", "t")
    api = {"Authorization": f"Bearer {owner_token}"}
    with served(web(engine, registry)) as base, httpx.Client(base_url=base) as http:
        listed = http.get("/api/v1/handoffs?subject=order%00:1&desk=orders%00", headers=api)
        assert listed.status_code == 200 and listed.json()["items"] == []
        assert http.get("/api/v1/audit?subject=x%00", headers=api).status_code == 200
        assert attempt(http, "x\x00y", email=f"{OWNER}\x00") == 401
        assert attempt(http, PASSWORD, email=f"\x00{OWNER}") == 303
        events = json.dumps(
            {
                "source": "erp\u0000",
                "external_id": "nul-1",
                "kind": "stock.counted",
                "subject": "sku:TEE",
                "occurred_at": "2026-03-01T10:00:00Z",
                "payload": {"sku": "TEE", "location": "WH-1", "counted": 2, "note": "\ud800\u0000"},
            }
        )
        stored = http.post("/api/v1/events", content=events, headers={**api, "Content-Type": "application/json"})
        assert stored.status_code == 200, stored.text
    with engine.connect() as conn:
        row = conn.execute(select(events_table.c.source, events_table.c.payload)).one()
    assert row.source == "erp" and row.payload["note"] == "\ufffd"
