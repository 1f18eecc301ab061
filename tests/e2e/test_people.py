"""The people's side in a real headless browser: sign in, decide in the inbox, watch it take effect."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import handoffs
from tests.conftest import ROUTES, served, step
from tests.e2e.conftest import csp_violations
from tests.integration.test_web import _support_handoff
from tests.probe_desk import probe_metadata
from tests.web_helpers import PASSWORD, person, web


@dataclass
class Store:
    engine: Engine
    base: str
    worker: Worker


@pytest.fixture
def store(sqlite_url: str, registry: Registry, policy: Policy, tmp_path: Path) -> Iterator[Store]:
    """A served store with a worker running beside it, one automatic decision and one waiting handoff."""
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        ingest(
            conn,
            [step("thing:7", 1), step("thing:8", 1, handoff=True), step("thing:9", 1, handoff=True)],
            routes=ROUTES,
        )
    worker = Worker(engine, registry, policy)
    worker.run(until_idle=True)
    person(engine, "boss@example.com", "owner")
    person(engine, "help@example.com", "support")
    _support_handoff(engine)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with served(asgi) as base:
            yield Store(engine=engine, base=base, worker=worker)
    finally:
        worker.stop()
        thread.join(timeout=10)
        engine.dispose()


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/inbox")
    assert "/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox"))


def _handoff_id(engine: Engine, subject: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(handoffs.c.id).where(handoffs.c.subject == subject)).scalar_one())


def test_owner_approves_a_handoff_and_sees_the_timeline_and_the_live_dashboard_change(
    store: Store, browser: Any
) -> None:
    context = browser.new_context()
    try:
        dashboard, inbox = context.new_page(), context.new_page()
        _sign_in(inbox, store.base, "boss@example.com")
        handoff_id = _handoff_id(store.engine, "thing:8")
        card = inbox.locator(f"#handoff-{handoff_id}")
        assert "The event asked to be handed to a person." in card.locator(".reason").inner_text()
        assert "approve the probe" in card.locator(".suggestion").inner_text()
        assert "123.45 EUR" in card.inner_text()

        dashboard.goto(store.base + "/dashboard")
        assert dashboard.locator("#fig-human").inner_text() == "0"
        dashboard.locator("#live", has_text="live").wait_for(timeout=10000)

        card.locator("input[name=note]").fill("known customer")
        card.locator("button.approve").click()
        inbox.locator(".flash", has_text=f"Handoff {handoff_id} approved").wait_for()
        assert inbox.locator(f"#handoff-{handoff_id}").count() == 0

        # The dashboard updates itself over server-sent events: no reload.
        dashboard.wait_for_function(
            "() => Number(document.querySelector('#fig-human').textContent) >= 1", timeout=15000
        )

        # The desk resumes through the engine; the subject page shows why everything happened.
        inbox.goto(f"{store.base}/subjects/thing:8")
        timeline = inbox.locator("#timeline")
        timeline.locator("td", has_text="probe.resumed.approve").wait_for(timeout=15000)
        actions = timeline.locator("tr td:nth-child(3)").all_inner_texts()
        assert [a.split(" ")[0] for a in actions] == ["probe.hold", "handoff.approve", "probe.resumed.approve"]
        assert "user:boss@example.com" in timeline.inner_text()
        dashboard.goto("about:blank")  # close the event stream before the server stops
    finally:
        context.close()


def test_support_cannot_see_or_resolve_an_orders_handoff(store: Store, browser: Any) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, store.base, "help@example.com")
        ops_handoff = _handoff_id(store.engine, "thing:8")
        assert page.locator(f"#handoff-{ops_handoff}").count() == 0
        assert page.locator("section.card").count() == 1  # its own support handoff only
        status = page.evaluate(
            """async ([id, csrf]) => {
                const body = new URLSearchParams({csrf_token: csrf, resolution: "approve"});
                const r = await fetch(`/handoffs/${id}/resolve`, {method: "POST", body});
                return r.status;
            }""",
            [ops_handoff, page.locator("input[name=csrf_token]").first.input_value()],
        )
        assert status == 403
        with store.engine.connect() as conn:
            state = conn.execute(select(handoffs.c.state).where(handoffs.c.id == ops_handoff)).scalar_one()
        assert state == "open"
    finally:
        context.close()


def test_a_form_without_its_csrf_token_is_refused(store: Store, browser: Any) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, store.base, "boss@example.com")
        handoff_id = _handoff_id(store.engine, "thing:9")
        card = page.locator(f"#handoff-{handoff_id}")
        card.evaluate("card => card.querySelectorAll('input[name=csrf_token]').forEach(input => input.remove())")
        card.locator("button.reject").click()
        assert "missing its security token" in page.locator(".flash.error").inner_text()
        with store.engine.connect() as conn:
            state = conn.execute(select(handoffs.c.state).where(handoffs.c.id == handoff_id)).scalar_one()
        assert state == "open"
    finally:
        context.close()


def test_every_page_works_under_the_content_security_policy(store: Store, browser: Any) -> None:
    """Issue 15 item 6: no inline script or style is refused anywhere (the charts' colours are SVG
    attributes, the chat's script and style are files the app serves)."""
    context = browser.new_context()
    refused = csp_violations(context)
    try:
        page = context.new_page()
        _sign_in(page, store.base, "boss@example.com")
        for path in ("/inbox", "/dashboard", "/policy", "/dead", "/users", "/subjects/thing:8", "/chat", "/returns"):
            response = page.goto(store.base + path)
            assert response is not None and response.ok, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            if path == "/dashboard":
                # the chart's bars keep their colours: fill attributes, not the style attributes CSP refuses
                bars = page.locator("#chart-decisions svg path[fill='#2f7d5b']")
                assert bars.count() > 0
                assert bars.first.evaluate("bar => getComputedStyle(bar).fill") == "rgb(47, 125, 91)"
                # and the owner sees why returns happen (its charts drawn the same way)
                assert page.locator("#returns-insights h2").inner_text() == "Why returns happen"
            if path == "/chat":
                # the chat's script (a file now) runs: sending shows the message in the log
                page.fill("input[name=message]", "hello")
                page.click("button[type=submit]")
                page.locator(".me span", has_text="hello").wait_for(timeout=5000)
                assert page.locator("#log").evaluate("log => getComputedStyle(log).borderStyle") == "solid"
            if path == "/returns":
                # the return page's own stylesheet (a file the app serves) applies
                assert page.locator("#find button").evaluate("b => getComputedStyle(b).borderRadius") != "0px"
        page.goto("about:blank")
    finally:
        context.close()
    assert refused == [], refused


def test_a_person_answers_a_chat_from_the_inbox_and_the_shopper_sees_it(store: Store, browser: Any) -> None:
    """The shopper's angry message goes to a person; the person edits the suggested reply in the
    inbox and sends it; the reply appears in the shopper's open chat window."""
    context = browser.new_context()
    try:
        chat, inbox = context.new_page(), context.new_page()
        chat.goto(store.base + "/chat")
        chat.fill("input[name=message]", "This is ridiculous, the worst service I have ever had!")
        chat.click("button[type=submit]")
        chat.locator(".desk span", has_text="A member of our team will answer you personally").wait_for(timeout=15000)

        _sign_in(inbox, store.base, "help@example.com")
        with store.engine.connect() as conn:
            handoff_id = conn.execute(
                select(handoffs.c.id)
                .where(handoffs.c.subject.like("ticket:chat:%"), handoffs.c.state == "open")
                .order_by(handoffs.c.id.desc())
                .limit(1)
            ).scalar_one()
        inbox.reload()
        card = inbox.locator(f"#handoff-{handoff_id}")
        edited = "I am truly sorry, Sam. I have refunded your shipping and a colleague will call you today."
        card.locator("textarea[name=reply]").fill(edited)
        card.locator("button.approve", has_text="Send reply").click()
        inbox.locator(".flash", has_text=f"Handoff {handoff_id} approved: reply sent in the chat").wait_for()

        chat.locator(".desk span", has_text=edited).wait_for(timeout=15000)
        assert chat.locator(".me span").first.inner_text().startswith("This is ridiculous")
    finally:
        context.close()
