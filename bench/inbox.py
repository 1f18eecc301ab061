"""The inbox with 10,000 open handoffs: server time to render its first page.

    python -m bench.inbox [--handoffs 10000] [--runs 30] [--json]

Fills a fresh database (SQLite file, and PostgreSQL when one answers) with open handoffs spread
over four desks and the six reason sets the desks use, signs an owner in, then times GET /inbox
(page 1, and page 1 filtered to one reason) and GET /api/v1/handoffs in-process through the ASGI
app: routing, session lookup, the query, the count and the template, with no network in between.
Goal of the people's-side issue: first page under 300 ms server time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench.common import console, fresh_postgres, postgres_admin_url, print_results
from storeops.accounts import add_user, create_token, start_session
from storeops.bootstrap import App
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.engine.metrics import percentile
from storeops.engine.policy import build_policy, record_policy_version
from storeops.settings import Settings
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import handoffs
from storeops.web.app import create_app
from storeops.web.security import SESSION_COOKIE

CASES = [
    ("orders", "ops", ["order_value_over_threshold"]),
    ("orders", "ops", ["fraud_signal", "repeated_address_mismatch"]),
    ("support", "support", ["negative_sentiment", "multi_issue"]),
    ("support", "support", ["vip_customer"]),
    ("inventory", "procurement", ["stock_anomaly"]),
    ("inventory", "procurement", ["reorder_confirmation"]),
]


def _fill(url: str, count: int, directory: Path) -> tuple[App, str, str]:
    engine = create_db_engine(url)
    upgrade(engine)
    desks = builtin_desks()
    policy = build_policy({}, desks)
    rng = random.Random(0)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        desk, role, reasons = CASES[n % len(CASES)]
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 3))
        rows.append(
            {
                "desk": desk,
                "subject": f"{desk}:bench:{n}",
                "reasons": reasons,
                "evidence": {"total_minor": rng.randint(1000, 900000), "risk_score": round(rng.random(), 3)},
                "suggestion": "Check and approve",
                "role": role,
                "priority": 2,
                "state": "open",
                "amount_minor": rng.randint(1000, 900000),
                "currency": "EUR",
                "created_at": created,
                "due_at": created + timedelta(hours=4),
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(handoffs), rows[start : start + 2000])
        record_policy_version(conn, policy)
        user_id = add_user(conn, "owner@bench.local", "owner", "bench-password-1")
        session = start_session(conn, user_id)
        token = create_token(conn, "owner", "bench")
    application = App(
        settings=Settings(database_url=url, policy_file=directory / "storeops.toml"),
        engine=engine,
        desks=desks,
        registry=Registry(desks),
        policy=policy,
    )
    return application, session, token


async def _time(client: httpx.AsyncClient, path: str, runs: int, **kwargs: Any) -> dict[str, float | None]:
    timings: list[float] = []
    for _ in range(runs + 2):
        started = time.perf_counter()
        response = await client.get(path, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text[:200]}")
        timings.append(elapsed)
    timings = timings[2:]  # the first calls warm caches and compile templates
    return {"p50": percentile(timings, 50), "p95": percentile(timings, 95), "max": max(timings)}


async def _measure(application: App, session: str, token: str, runs: int) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=create_app(application))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        client.cookies.set(SESSION_COOKIE, session)
        results = []
        for label, path, kwargs in (
            ("inbox page 1", "/inbox", {}),
            ("inbox filtered by reason", "/inbox?reason=vip_customer", {}),
            ("inbox page 100", "/inbox?page=100", {}),
            ("api handoffs (100)", "/api/v1/handoffs", {"headers": {"Authorization": f"Bearer {token}"}}),
        ):
            figures = await _time(client, path, runs, **kwargs)
            results.append({"case": label, **{f"{k} ms": v for k, v in figures.items()}})
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--handoffs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as directory:
        targets: list[tuple[str, str]] = [("SQLite", f"sqlite:///{Path(directory) / 'inbox.db'}")]
        admin = postgres_admin_url()
        databases = [("SQLite", None)] + ([("PostgreSQL", admin)] if admin else [])
        for name, admin_url in databases:
            console.print(f"{name}: filling {args.handoffs:,} open handoffs…")
            if admin_url is None:
                url = targets[0][1]
                application, session, token = _fill(url, args.handoffs, Path(directory))
                measured = asyncio.run(_measure(application, session, token, args.runs))
                application.engine.dispose()
            else:
                with fresh_postgres(admin_url) as url:
                    application, session, token = _fill(url, args.handoffs, Path(directory))
                    measured = asyncio.run(_measure(application, session, token, args.runs))
                    application.engine.dispose()
            rows += [{"database": name, **row} for row in measured]
    first_pages = [row["p95 ms"] for row in rows if row["case"] == "inbox page 1"]
    print_results(
        f"Inbox with {args.handoffs:,} open handoffs: server time per request ({args.runs} runs)",
        ["database", "case", "p50 ms", "p95 ms", "max ms"],
        rows,
        {"handoffs": args.handoffs, "goal_ms": 300, "met": all(value < 300 for value in first_pages)},
        args.json,
    )


if __name__ == "__main__":
    main()
