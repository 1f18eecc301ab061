"""Who is asking: session cookies and CSRF for the pages, bearer tokens for the REST API.

Sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure when the request came over
TLS), looked up by its digest. Every form carries the session's CSRF token and every POST from a
page is refused without it (synchronizer-token pattern); the sign-in form, which has no session
yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import Engine

from storeops.accounts import Principal, session_principal, token_principal
from storeops.bootstrap import App
from storeops.errors import Forbidden, Unauthorized
from storeops.storage.db import read_only

SESSION_COOKIE = "storeops_session"
LOGIN_CSRF_COOKIE = "storeops_login_csrf"


class NotSignedIn(Exception):
    """A page was asked for without a valid session; the app redirects to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (in memory, per process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        """Count a hit for ``key``; False when it is over the limit."""
        now = time.monotonic()
        recent = self.seen[key]
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True


def storeops_app(request: Request) -> App:
    """The App the web app runs on."""
    application: App = request.app.state.storeops
    return application


def _reader(request: Request) -> Engine:
    return read_only(storeops_app(request).engine)


def optional_user(request: Request) -> Principal | None:
    """The signed-in person, or None."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    with _reader(request).connect() as conn:
        return session_principal(conn, secret)


def page_user(request: Request) -> Principal:
    """The signed-in person; pages without one redirect to the sign-in page."""
    principal = optional_user(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NotSignedIn(target)
    return principal


async def form_user(request: Request) -> Principal:
    """The signed-in person posting a form that carries the session's CSRF token."""
    principal = page_user(request)
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
        raise Forbidden("this form is missing its security token (CSRF); reload the page and try again")
    return principal


def api_user(request: Request) -> Principal:
    """The API token's principal from ``Authorization: Bearer <token>``; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>' (storeops tokens create)")
    with _reader(request).connect() as conn:
        principal = token_principal(conn, secret.strip())
    if principal is None:
        raise Unauthorized("the API token is wrong or revoked")
    return principal


def set_session_cookie(request: Request, response: Response, secret: str, max_age: int) -> None:
    """Put the session id in a cookie scripts cannot read and other sites do not get sent."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


PageUser = Annotated[Principal, Depends(page_user)]
FormUser = Annotated[Principal, Depends(form_user)]
ApiUser = Annotated[Principal, Depends(api_user)]
