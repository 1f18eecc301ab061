"""Issue 15, item 9: ``work --until-idle`` does not return while a killed worker's outbox messages
are still leased. It takes over the leases of a sender that died on this machine, sends them, and
says what is still pending and why."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from storeops.clock import utcnow
from storeops.engine.outbox import enqueue, outbox_row
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import outbox
from storeops.testing import serve

pytestmark = pytest.mark.slow

MESSAGES = 101


class Chat:
    """A team chat's incoming webhook that can be told to hang (the sender is killed meanwhile)."""

    def __init__(self) -> None:
        self.received = 0
        self.hang = threading.Event()
        self.fail = False
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        await request.body()
        self.received += 1
        while self.hang.is_set():
            await asyncio.sleep(0.05)
        if self.fail:
            return PlainTextResponse("down", status_code=503)
        return PlainTextResponse("ok")


def _messages(url: str, count: int) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    now = utcnow()
    with engine.begin() as conn:
        enqueue(
            conn,
            [
                outbox_row(
                    connector="notify",
                    action="handoff.opened",
                    payload={"desk": "orders", "subject": f"order:t:{n}", "reasons": ["risk"]},
                    key=f"notice-{n}",
                    subject=f"order:t:{n}",
                    event_id=None,
                    now=now,
                )
                for n in range(count)
            ],
        )
    engine.dispose()


def _env(tmp_path: Path, url: str, hook: str, policy: str = "") -> dict[str, str]:
    (tmp_path / "storeops.toml").write_text(policy)
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        **os.environ,
        "STOREOPS_DATABASE_URL": url,
        "STOREOPS_POLICY_FILE": str(tmp_path / "storeops.toml"),
        "STOREOPS_OUTBOX_DIR": str(tmp_path / "outbox"),
        "STOREOPS_NOTIFY_WEBHOOK_URL": hook,
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
    }


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _statuses(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
    engine.dispose()
    return {str(status): int(count) for status, count in rows}


def _until_idle(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "storeops.cli.main", "work", "--until-idle"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_until_idle_takes_over_a_killed_senders_leases(db_url: str, tmp_path: Path) -> None:
    # given 101 messages and a sender killed (SIGKILL) while the chat hangs on its first sends
    _messages(db_url, MESSAGES)
    chat = Chat()
    chat.hang.set()
    with serve(chat.app) as base:
        env = _env(tmp_path, db_url, f"{base}/hook")  # default lease: 300 s, longer than this test
        first = subprocess.Popen(
            [sys.executable, "-m", "storeops.cli.main", "work"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(lambda: chat.received > 0)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        chat.hang.clear()
        engine = create_db_engine(db_url)
        with engine.connect() as conn:
            holders = set(
                conn.execute(
                    select(outbox.c.leased_by).where(outbox.c.status == "pending", outbox.c.next_attempt_at > utcnow())
                ).scalars()
            )
        engine.dispose()
        assert holders == {f"worker-{first.pid} (pid {first.pid} on {os.uname().nodename})"}

        # when a worker runs until idle, long before the leases would run out
        started = time.monotonic()
        done = _until_idle(env)

    # then it took them over and sent every message, and says nothing is left
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    assert _statuses(db_url) == {"sent": MESSAGES}
    assert "still pending" not in done.stdout


def test_until_idle_says_what_is_still_pending_and_why(db_url: str, tmp_path: Path) -> None:
    # given 3 messages: the chat fails (so they wait on a retry an hour away) and one more is
    # leased by a sender on another machine, whose lease outlasts [outbox] lease_seconds
    _messages(db_url, 3)
    chat = Chat()
    chat.fail = True
    engine = create_db_engine(db_url)
    until = utcnow() + timedelta(hours=2)
    with engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.idempotency_key == "notice-2")
            .values(next_attempt_at=until, leased_by="worker-7 (pid 7 on elsewhere.example)")
        )
    policy = "[outbox]\nlease_seconds = 1\nretry_base_seconds = 3600\nbreaker_failures = 100\n"
    with serve(chat.app) as base:
        done = _until_idle(_env(tmp_path, db_url, f"{base}/hook", policy))

    # then it returns (after waiting out at most one lease) and names both reasons
    assert done.returncode == 0, done.stderr
    assert chat.received == 2
    line = next(line for line in done.stdout.splitlines() if "outbox" in line and "pending" in line)
    assert re.search(r"^3 outbox messages still pending: 2 waiting on a retry at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", line)
    assert f"1 leased by worker-7 (pid 7 on elsewhere.example) until {until:%Y-%m-%d %H:%M:%S}Z" in line
    engine.dispose()
