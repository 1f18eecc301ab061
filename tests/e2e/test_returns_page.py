"""A customer returns an item in a real browser, with the keyboard only, on a phone-sized screen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storeops.clock import utcnow
from storeops.engine.desk import Registry
from storeops.engine.worker import Worker
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.web.app import create_app
from tests.conftest import make_policy, served
from tests.e2e.conftest import csp_violations
from tests.integration.test_orders_desk import Store
from tests.integration.test_returns_desk import delivered_order
from tests.web_helpers import web_application

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page in a 375 × 740 viewport (the app's Content-Security-Policy must refuse nothing)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    refused = csp_violations(context)
    page = context.new_page()
    yield page
    context.close()
    assert refused == [], refused


@contextmanager
def shop_with_a_delivered_order(sqlite_url: str, registry: Registry, tmp_path: Path) -> Iterator[str]:
    """Order 1001 of c1@example.test (two tees, a mug), delivered two days ago; the app served with
    a worker running beside it. Yields the base URL."""
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    policy = make_policy()
    lines = [
        {"sku": "TEE", "quantity": 2, "unit_price_minor": 2000, "title": "Cotton tee"},
        {"sku": "MUG", "quantity": 1, "unit_price_minor": 1500, "title": "Stoneware mug"},
    ]
    delivered_order(Store(engine, registry, policy), "1001", lines=lines, delivered=utcnow() - timedelta(days=2))
    worker = Worker(engine, registry, policy)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with served(create_app(web_application(engine, registry, policy, tmp_path / "storeops.toml"))) as base:
            yield base
    finally:
        worker.stop()
        thread.join(timeout=10)
        engine.dispose()


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.tagName"))


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def focus_is_visible(page: Any) -> bool:
    return bool(page.evaluate("getComputedStyle(document.activeElement).outlineStyle !== 'none'"))


def test_a_shopper_returns_an_item_with_the_keyboard_only(
    sqlite_url: str, registry: Registry, phone: Any, tmp_path: Path
) -> None:
    with shop_with_a_delivered_order(sqlite_url, registry, tmp_path) as base:
        phone.goto(base + "/returns")
        assert fits_the_screen(phone)
        phone.keyboard.press("Tab")
        assert focused(phone) == "order" and focus_is_visible(phone)
        phone.keyboard.type("#1001")
        phone.keyboard.press("Tab")
        assert focused(phone) == "email"
        phone.keyboard.type("C1@Example.test")
        phone.keyboard.press("Enter")

        phone.locator("#quantity-0").wait_for(timeout=15000)
        assert "Cotton tee" in phone.inner_text("label[for=quantity-0]")
        assert fits_the_screen(phone)
        phone.keyboard.press("Tab")
        assert focused(phone) == "quantity-0" and focus_is_visible(phone)
        phone.keyboard.press("ArrowUp")
        phone.keyboard.press("Tab")
        assert focused(phone) == "quantity-1"  # the mug stays at 0
        phone.keyboard.press("Tab")
        assert focused(phone) == "reason"
        phone.keyboard.type("It is too small for me")
        phone.keyboard.press("Tab")
        assert focused(phone) == "BUTTON" and focus_is_visible(phone)
        phone.keyboard.press("Enter")

        rma = phone.locator("#rma")
        rma.wait_for(timeout=15000)
        assert rma.inner_text().startswith("R-")
        outcome = phone.inner_text("[role=status]")
        assert "label is on its way by email" in outcome and "20.00 EUR" in outcome
        assert "1 × TEE" in phone.inner_text(".returned")
        assert fits_the_screen(phone)


def test_a_wrong_email_shows_the_one_message_and_keeps_the_shopper_on_the_form(
    sqlite_url: str, registry: Registry, phone: Any, tmp_path: Path
) -> None:
    with shop_with_a_delivered_order(sqlite_url, registry, tmp_path) as base:
        phone.goto(base + "/returns")
        phone.keyboard.press("Tab")
        phone.keyboard.type("1001")
        phone.keyboard.press("Tab")
        phone.keyboard.type("someone.else@example.test")
        phone.keyboard.press("Enter")
        error = phone.locator("[role=alert]")
        error.wait_for(timeout=15000)
        assert error.inner_text() == (
            "We could not find that order for that email. Check the order number (such as 1001) and use the "
            "email address you ordered with."
        )
        assert focused(phone) == "order"  # back on the form, the typed values kept
        assert phone.input_value("#email") == "someone.else@example.test"
        assert phone.locator("#quantity-0").count() == 0
        assert fits_the_screen(phone)
