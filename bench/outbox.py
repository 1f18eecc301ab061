"""The outbox's sender against a remote that answers in 20 ms: messages/s and decision-to-send latency.

    python -m bench.outbox [--messages N] [--rate R] [--seconds S] [--delay 0.02] [--json]

A fake remote (``python -m storeops.testing hooks``, its own process) answers every POST after
``--delay``; a worker process (``storeops work``) decides ``bench.ping`` events, each sending one
Standard-Webhooks-signed message to it through the outbox. On SQLite:

- **throughput**: N messages already decided (by a ``--no-outbox`` worker), drained by a worker
  that sends: messages/s from its first send to its last. The baseline, measured in the same run,
  is the same with ``[outbox] concurrency = 1`` (one message at a time, as the sender was);
- **latency**: events arriving at R a second for S seconds while the worker decides and sends:
  p50/p99 from the decision (the outbox row's ``created_at``) to the send (``sent_at``), and
  from ingest to the send. Goal (issue 14): ≥ 500 messages/s, p99 < 1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import REPO, console, print_results, spawn_workers, stop_workers, wait_until
from storeops.desks import configured_desks
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.metrics import percentile
from storeops.engine.queue import ingest
from storeops.storage.db import create_db_engine, read_only
from storeops.storage.migrate import upgrade
from storeops.storage.schema import events, outbox
from storeops.testing import free_port

DESKS = "bench.outbox_desk:DESK"
ROUTES = Registry(configured_desks(DESKS))
SECRET = "whsec_YmVuY2htYXJrLXNlY3JldC0wMTIzNDU2Nzg5"


def _events(count: int, tag: str, start: int = 0) -> list[NewEvent]:
    now = datetime.now(UTC)
    return [
        NewEvent(
            source="bench",
            external_id=f"{tag}-{i}",
            kind="bench.ping",
            subject=f"ping:{tag}-{i}",
            occurred_at=now,
            payload={"n": i},
        )
        for i in range(start, start + count)
    ]


def _remote(delay: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "storeops.testing", "hooks", "--port", str(port), "--delay", str(delay)],
        env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/hooks/bench"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.post(url, content=b"{}", timeout=2)
            return process, url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake remote did not start") from None
            time.sleep(0.1)


def _policy(folder: Path, concurrency: int) -> Path:
    path = folder / f"storeops-{concurrency}.toml"
    path.write_text(f"[engine]\nbatch_size = 200\n\n[outbox]\nconcurrency = {concurrency}\n")
    return path


def _sent(url: str) -> int:
    engine = create_db_engine(url)
    with read_only(engine).connect() as conn:
        count = int(
            conn.execute(select(func.count()).select_from(outbox).where(outbox.c.status == "sent")).scalar_one()
        )
    engine.dispose()
    return count


def _throughput(folder: Path, messages: int, concurrency: int) -> dict[str, Any]:
    url = f"sqlite:///{folder / f'throughput-{concurrency}.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        ingest(conn, _events(messages, f"t{concurrency}"), routes=ROUTES)
    policy = _policy(folder, concurrency)
    decide = subprocess.run(
        [sys.executable, "-m", "storeops.cli.main", "work", "--until-idle", "--no-outbox"],
        env={**os.environ, "STOREOPS_DATABASE_URL": url, "STOREOPS_DESKS": DESKS, "STOREOPS_POLICY_FILE": str(policy)},
        capture_output=True,
        check=False,
    )
    if decide.returncode != 0:
        raise RuntimeError(decide.stderr.decode())
    workers = spawn_workers(url, 1, DESKS, policy)
    try:
        wait_until(lambda: _sent(url) >= messages, timeout=600, interval=0.2)
    finally:
        stop_workers(workers)
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(outbox.c.sent_at), func.max(outbox.c.sent_at))).one()
    engine.dispose()
    seconds = max(1e-9, (last - first).total_seconds())
    return {
        "concurrency": concurrency,
        "messages": messages,
        "seconds": round(seconds, 2),
        "per_second": round(messages / seconds),
    }


def _latency(folder: Path, rate: int, seconds: float, concurrency: int) -> dict[str, Any]:
    url = f"sqlite:///{folder / 'latency.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    workers = spawn_workers(url, 1, DESKS, _policy(folder, concurrency))
    total = int(rate * seconds)
    try:
        sent = 0
        start = time.monotonic()
        tick = 0.05
        while sent < total:
            due = min(total, int((time.monotonic() - start) * rate) + 1)
            if due > sent:
                with engine.begin() as conn:
                    ingest(conn, _events(due - sent, "l", sent), routes=ROUTES)
                sent = due
            time.sleep(tick)
        offered = time.monotonic() - start
        wait_until(lambda: _sent(url) >= total, timeout=300, interval=0.2)
    finally:
        stop_workers(workers)
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.created_at, outbox.c.sent_at, events.c.received_at).join(
                events, events.c.id == outbox.c.event_id
            )
        ).all()
    engine.dispose()
    decided = [(r.sent_at - r.created_at).total_seconds() * 1000 for r in rows]
    ingested = [(r.sent_at - r.received_at).total_seconds() * 1000 for r in rows]
    return {
        "offered_per_second": round(total / offered),
        "messages": len(rows),
        "decision_to_send_p50_ms": round(percentile(decided, 50) or 0, 1),
        "decision_to_send_p99_ms": round(percentile(decided, 99) or 0, 1),
        "ingest_to_send_p99_ms": round(percentile(ingested, 99) or 0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--baseline-messages", type=int, default=300)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--delay", type=float, default=0.02, help="Seconds the fake remote takes to answer.")
    parser.add_argument("--concurrency", type=int, default=32, help="[outbox] concurrency of the measured sender.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ["STOREOPS_OUTGOING_WEBHOOKS"] = ""
    remote, url = _remote(args.delay)
    os.environ["STOREOPS_OUTGOING_WEBHOOKS"] = f"hook={url}"
    os.environ["STOREOPS_OUTGOING_WEBHOOK_SECRET"] = SECRET
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            console.print(f"remote answering in {args.delay * 1000:.0f} ms; baseline: one message at a time")
            baseline = _throughput(folder, args.baseline_messages, 1)
            console.print(f"throughput: {args.messages} messages, concurrency {args.concurrency}")
            measured = _throughput(folder, args.messages, args.concurrency)
            console.print(f"latency: {args.rate}/s for {args.seconds:g} s")
            latency = _latency(folder, args.rate, args.seconds, args.concurrency)
    finally:
        remote.terminate()
        remote.wait(10)
    rows = [
        {"case": "one at a time (baseline)", **baseline},
        {"case": f"sender, concurrency {args.concurrency}", **measured},
    ]
    summary = {
        "remote_delay_ms": args.delay * 1000,
        "ratio_to_baseline": round(measured["per_second"] / max(1, baseline["per_second"]), 1),
        "latency": latency,
        "goal": {"per_second": 500, "decision_to_send_p99_ms": 1000},
        "goal_met": measured["per_second"] >= 500 and latency["decision_to_send_p99_ms"] < 1000,
    }
    print_results("outbox", ["case", "concurrency", "messages", "seconds", "per_second"], rows, summary, args.json)
    console.print(
        f"ratio to baseline {summary['ratio_to_baseline']}×; at {latency['offered_per_second']}/s offered: "
        f"decision→send p50 {latency['decision_to_send_p50_ms']} ms, p99 {latency['decision_to_send_p99_ms']} ms, "
        f"ingest→send p99 {latency['ingest_to_send_p99_ms']} ms; goal met: {summary['goal_met']}"
    )


if __name__ == "__main__":
    main()
