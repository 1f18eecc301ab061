"""The web app over a real database, through the ASGI app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from storeops.bootstrap import App
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.settings import Settings
from storeops.web.app import create_app
from tests.conftest import served, step
from tests.probe_desk import DESK as PROBE_DESK


def web_app(engine: Engine, registry: Registry, policy: Policy) -> FastAPI:
    application = App(
        settings=Settings(database_url=str(engine.url)),
        engine=engine,
        desks=[*builtin_desks(), PROBE_DESK],
        registry=registry,
        policy=policy,
    )
    return create_app(application)


def test_overview_and_api_show_what_the_engine_did(engine: Engine, registry: Registry, policy: Policy) -> None:
    with engine.begin() as conn:
        ingest(conn, [step("thing:1", 1), step("thing:2", 1, handoff=True)])
    Worker(engine, registry, policy).run(until_idle=True)
    with served(web_app(engine, registry, policy)) as base, httpx.Client(base_url=base) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "needs_person" in page.text and "thing:2" in page.text
        [handoff] = http.get("/api/v1/handoffs").json()
        assert (handoff["subject"], handoff["reasons"]) == ("thing:2", ["needs_person"])
        audit = http.get("/api/v1/audit", params={"subject": "thing:1"}).json()
        assert [a["action"] for a in audit] == ["probe.done"]
        report = http.get("/api/v1/report").json()
        [probe] = [d for d in report["desks"] if d["desk"] == "probe"]
        assert (probe["automatic"], probe["handed_off"]) == (1, 1)
        assert http.get("/api/v1/openapi.json").json()["info"]["title"] == "storeops"
        assert http.get("/api/v1/handoffs", params={"state": "bogus"}).status_code == 422
        assert http.get("/healthz").json()["status"] == "ok"
