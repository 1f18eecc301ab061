"""The served app in a real headless browser."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from tests.conftest import served, step
from tests.integration.test_web import web_app


def test_the_overview_shows_desk_figures_and_the_waiting_handoff(
    sqlite_url: str, registry: Registry, policy: Policy, page: Any
) -> None:
    from storeops.storage.db import create_db_engine
    from storeops.storage.migrate import upgrade
    from tests.probe_desk import probe_metadata

    engine: Engine = create_db_engine(sqlite_url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        ingest(conn, [step("thing:7", 1), step("thing:8", 1, handoff=True)])
    Worker(engine, registry, policy).run(until_idle=True)
    with served(web_app(engine, registry, policy)) as base:
        page.goto(base + "/")
        rows = page.locator("#desks tr")
        probe_row = rows.filter(has_text="probe")
        assert probe_row.locator("td").all_inner_texts()[:5] == ["probe", "2", "1", "1", "0"]
        handoff = page.locator("#handoffs tr", has_text="thing:8")
        assert handoff.locator(".reason").inner_text() == "needs_person"
        assert page.locator("h2", has_text="Waiting for a person (1)").count() == 1
    engine.dispose()
