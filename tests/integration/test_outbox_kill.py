"""A sender killed mid-send (SIGKILL) and started again creates no second fulfilment and no second
email: the Shopify connector looks before it writes, the mail connector marks its point of no return."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storeops.bootstrap import App
from storeops.clock import utcnow
from storeops.desks import builtin_desks
from storeops.desks.inventory.ledger import Cause, move
from storeops.engine.desk import Registry
from storeops.engine.outbox import enqueue, outbox_row
from storeops.intake import storefront_events, take_in
from storeops.settings import Settings
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import outbox
from storeops.testing import FakeShopify, free_port, serve
from tests.conftest import make_policy
from tests.integration.test_email_connector import Mailbox
from tests.integration.test_webhooks import SHOPIFY_ORDER

pytestmark = pytest.mark.slow

POLICY = """
[orders]
exchange_rates = { USD = "0.92" }

[outbox]
lease_seconds = 1
retry_base_seconds = 0.01
"""


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "storeops.cli.main", "work", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _env(tmp_path: Path, url: str, **more: str) -> dict[str, str]:
    policy = tmp_path / "storeops.toml"
    policy.write_text(POLICY)
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        "STOREOPS_DATABASE_URL": url,
        "STOREOPS_POLICY_FILE": str(policy),
        "STOREOPS_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        **more,
    }


def _kill_then_restart(env: dict[str, str], reached: Callable[[], bool], release: Callable[[], None]) -> None:
    first = _worker(env)
    try:
        _wait(reached)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.stderr is not None
        first.stderr.close()
    release()
    time.sleep(1.3)  # the killed sender's lease runs out
    second = _worker(env, "--until-idle")
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()


def test_a_killed_sender_creates_no_second_fulfilment(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        for sku in ("IPOD2008GREEN", "IPOD2008RED"):
            move(
                conn, sku=sku, location="WH-PARIS", cause=Cause.RECEIPT, reference="s", at=datetime.now(UTC), on_hand=5
            )
    app = App(
        settings=Settings(database_url=sqlite_url),
        engine=engine,
        desks=builtin_desks(),
        registry=Registry(builtin_desks()),
        policy=make_policy({"orders": {"exchange_rates": {"USD": "0.92"}}}),
    )
    take_in(app, storefront_events(app, "shopify", "orders/create", json.loads(json.dumps(SHOPIFY_ORDER)), "w-k"))
    fake = FakeShopify("shpat_k")
    fake.add_order(450789469, "#1001")
    # the shop applies the fulfilment, then is slow to say so: the sender is killed meanwhile
    fake.hang["StoreopsFulfil"] = 60.0
    with serve(fake.app) as base:
        env = _env(tmp_path, sqlite_url, STOREOPS_SHOPIFY_SHOP_URL=base, STOREOPS_SHOPIFY_ACCESS_TOKEN="shpat_k")
        _kill_then_restart(env, lambda: bool(fake.orders[450789469].fulfillments), fake.hang.clear)
    assert len(fake.orders[450789469].fulfillments) == 1
    assert len(fake.operations("StoreopsFulfil")) == 1
    with engine.connect() as conn:
        status = conn.execute(select(outbox.c.status).where(outbox.c.action == "fulfilment.create")).scalar_one()
    assert status == "sent"
    engine.dispose()


def _mail_row(url: str) -> Any:
    engine = create_db_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        enqueue(
            conn,
            [
                outbox_row(
                    connector="email",
                    action="reply.send",
                    payload={"to": "ann@example.test", "text": "Your parcel left today."},
                    key="mail-1",
                    subject="ticket:email:1",
                    event_id=None,
                    now=utcnow(),
                )
            ],
        )
    return engine


@pytest.mark.parametrize("stall", ["rcpt", "data"])
def test_a_killed_sender_sends_no_second_email(stall: str, sqlite_url: str, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    engine = _mail_row(sqlite_url)
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # killed while the server holds back its answer to RCPT (before the mail was given), or
        # to the final dot (the server has the mail)
        setattr(box, f"stall_{stall}", 60.0)
        reached = box.got_rcpt if stall == "rcpt" else box.got_data
        env = _env(
            tmp_path,
            sqlite_url,
            STOREOPS_SMTP_URL=f"smtp://127.0.0.1:{port}",
            STOREOPS_MAIL_FROM="Acme <help@acme.example>",
        )

        def release() -> None:
            box.stall_rcpt = box.stall_data = 0.0

        _kill_then_restart(env, reached.is_set, release)
    finally:
        controller.stop()
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    # one mail either way: sent after the restart when the first never gave it, or left for a
    # person (dead, "may have arrived") when it had
    assert len(box.mails) == 1
    if stall == "rcpt":
        assert row.status == "sent"
    else:
        assert row.status == "dead" and "may have arrived" in row.last_error
    engine.dispose()
