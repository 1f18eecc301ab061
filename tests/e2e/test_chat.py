"""A shopper chats with the support desk in a real browser."""

from __future__ import annotations

import threading
from typing import Any

from storeops.desks.support.nlu import SupportModels
from storeops.engine.desk import Registry
from storeops.engine.models import DeskModels
from storeops.engine.worker import Worker, default_places
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from tests.conftest import make_policy, served
from tests.integration.test_support_desk import _chat_app


def test_a_shopper_asks_and_gets_an_answer(
    sqlite_url: str, registry: Registry, page: Any, support_models: SupportModels
) -> None:
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    worker = Worker(
        engine,
        registry,
        make_policy(),
        models=DeskModels(registry, default_places(), given={"support": support_models}),
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with served(_chat_app(engine, registry)) as base:
            page.goto(base + "/chat")
            page.fill("input[name=message]", "what are the delivery options?")
            page.click("button[type=submit]")
            reply = page.locator(".desk span").first
            reply.wait_for(timeout=15000)
            assert "deliver" in reply.inner_text()
            page.fill("input[name=message]", "This is ridiculous, worst service ever!")
            page.click("button[type=submit]")
            page.locator(".desk span").nth(1).wait_for(timeout=15000)
            assert "A member of our team will answer you personally" in page.locator(".desk span").nth(1).inner_text()
    finally:
        worker.stop()
        thread.join(timeout=10)
        engine.dispose()
