"""Helpers for tests of the web app: an App over a test database, people, tokens, signing in."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import Engine

from storeops.accounts import add_user, create_token
from storeops.bootstrap import App
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.settings import Settings
from storeops.web.app import create_app
from tests.probe_desk import DESK as PROBE_DESK

PASSWORD = "correct-horse-battery"


def web_application(engine: Engine, registry: Registry, policy: Policy, policy_file: Path) -> App:
    """An App over ``engine`` whose policy edits go to ``policy_file``."""
    return App(
        settings=Settings(database_url=str(engine.url), policy_file=policy_file),
        engine=engine,
        desks=[*builtin_desks(), PROBE_DESK],
        registry=registry,
        policy=policy,
    )


def web(engine: Engine, registry: Registry, policy: Policy, policy_file: Path) -> tuple[App, object]:
    """The App and its ASGI app."""
    application = web_application(engine, registry, policy, policy_file)
    return application, create_app(application)


def person(engine: Engine, email: str, role: str) -> str:
    """Add a user with the test password; returns the email."""
    with engine.begin() as conn:
        add_user(conn, email, role, PASSWORD)
    return email


def token(engine: Engine, role: str, name: str = "test") -> str:
    """A new API token for ``role``."""
    with engine.begin() as conn:
        return create_token(conn, role, name)


def csrf_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(http: httpx.Client, email: str, password: str = PASSWORD) -> str:
    """Sign ``http`` in through the login form; returns the session's CSRF token."""
    form = http.get("/login")
    response = http.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_in(form.text), "next": "/inbox"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_in(http.get("/inbox").text)
