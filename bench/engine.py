"""Engine throughput and latency with a no-op handler, against the database's raw ceiling.

    python bench/engine.py [--events N] [--batch B] [--seconds S] [--json]

For SQLite (one worker process, the embedded default) and PostgreSQL (1, 2 and 4 worker
processes), it measures:
- ceiling: batched inserts of the same event rows, one commit per batch (what the database
  alone manages);
- throughput: N events queued at once, drained by the workers (events/s, and as a share of
  the ceiling);
- sustained peak: events/s decided while one producer ingests as fast as it can for S
  seconds (ingest and decisions share the database, as in a live store);
- latency: events arriving at half the sustained peak for S seconds, ingest-to-decision
  p50/p99 (received_at → processed_at).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from bench.common import (
    console,
    fresh_postgres,
    pending,
    postgres_admin_url,
    print_results,
    spawn_workers,
    stop_workers,
    wait_until,
)
from storeops.desks import configured_desks
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.metrics import percentile
from storeops.engine.queue import event_states, ingest
from storeops.storage.db import create_db_engine, read_only
from storeops.storage.migrate import upgrade
from storeops.storage.schema import events

DESKS = "bench.noop_desk:DESK"
ROUTES = Registry(configured_desks(DESKS))
"""How the events these benchmarks queue are routed: to the desks the worker processes run."""


def make_events(count: int, tag: str) -> list[NewEvent]:
    now = datetime.now(UTC)
    return [
        NewEvent(
            source="bench",
            external_id=f"{tag}-{i}",
            kind="bench.noop",
            subject=f"bench:{tag}-{i}",
            occurred_at=now,
            payload={},
        )
        for i in range(count)
    ]


def ceiling(engine: Engine, count: int, batch: int) -> float:
    """Events/s of plain batched inserts of the same rows, one commit per batch."""
    rows = [
        {
            "source": "ceiling",
            "external_id": f"c-{i}",
            "kind": "bench.noop",
            "subject": f"bench:c-{i}",
            "occurred_at": datetime.now(UTC),
            "received_at": datetime.now(UTC),
            "payload": {},
            "status": "done",
            "attempts": 0,
            "run_after": datetime.now(UTC),
        }
        for i in range(count)
    ]
    start = time.perf_counter()
    for offset in range(0, count, batch):
        with engine.begin() as conn:
            conn.execute(insert(events), rows[offset : offset + batch])
    elapsed = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.source == "ceiling"))
    return count / elapsed


def throughput(engine: Engine, count: int) -> float:
    batch = make_events(count, "t")
    with engine.begin() as conn:
        ingest(conn, batch, routes=ROUTES)
    start = time.monotonic()
    # The queue's own index answers "anything left?" in a moment; counting finished events through
    # the event_states join every 5 ms would take the workers' CPU and measure itself.
    end = wait_until(lambda: pending(engine) == 0, timeout=600, interval=0.005)
    return count / (end - start)


def sustained(engine: Engine, seconds: float) -> float:
    """Events/s decided while events keep arriving as fast as one producer can ingest them
    (ingest and decisions share the database, as in a live store)."""
    chunk = 200
    sent = 0
    stop_at = time.monotonic() + seconds
    start = time.monotonic()
    n = 0
    while time.monotonic() < stop_at:
        with engine.begin() as conn:
            ingest(conn, make_events(chunk, f"s{n}"), routes=ROUTES)
        sent += chunk
        n += 1
    wait_until(lambda: pending(engine) == 0, timeout=600)
    return sent / (time.monotonic() - start)


def latency(engine: Engine, rate: float, seconds: float) -> tuple[float | None, float | None, float]:
    """Feed events at ``rate``/s in 10 ms ticks; returns p50, p99 (ms) and the achieved rate."""
    tick = 0.01
    per_tick = max(1, round(rate * tick))
    ticks = int(seconds / tick)
    sent = 0

    def feed() -> None:
        nonlocal sent
        start = time.monotonic()
        for n in range(ticks):
            with engine.begin() as conn:
                ingest(conn, make_events(per_tick, f"l{n}"), routes=ROUTES)
            sent += per_tick
            delay = start + (n + 1) * tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    started = time.monotonic()
    feeder = threading.Thread(target=feed)
    feeder.start()
    feeder.join()
    achieved = sent / (time.monotonic() - started)
    wait_until(lambda: pending(engine) == 0, timeout=300)
    with read_only(engine).connect() as conn:
        pairs = conn.execute(
            select(event_states.c.received_at, event_states.c.processed_at).where(event_states.c.external_id.like("l%"))
        ).all()
    values = [(p - r).total_seconds() * 1000 for r, p in pairs if p is not None]
    return percentile(values, 50), percentile(values, 99), achieved


def run_case(url: str, database: str, workers: int, args: argparse.Namespace, policy: Path) -> dict[str, Any]:
    engine = create_db_engine(url, pool_size=2)
    upgrade(engine)
    console.print(f"{database}, {workers} worker(s): ceiling …")
    ceiling_rate = ceiling(engine, args.events, args.batch)
    processes = spawn_workers(url, workers, DESKS, policy)
    try:
        console.print(f"{database}, {workers} worker(s): throughput over {args.events:,} events …")
        rate = throughput(engine, args.events)
        console.print(f"{database}, {workers} worker(s): sustained peak with a live producer …")
        live = sustained(engine, args.seconds)
        console.print(f"{database}, {workers} worker(s): latency at half the sustained peak for {args.seconds:g} s …")
        p50, p99, offered = latency(engine, live / 2, args.seconds)
    finally:
        stop_workers(processes)
        engine.dispose()
    return {
        "database": database,
        "workers": workers,
        "events_per_s": round(rate, 1),
        "ceiling_per_s": round(ceiling_rate, 1),
        "share_of_ceiling": round(rate / ceiling_rate, 3),
        "sustained_per_s": round(live, 1),
        "half_load_per_s": round(offered, 1),
        "p50_ms": p50,
        "p99_ms": p99,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30000, help="events per throughput run (default 30000)")
    parser.add_argument("--batch", type=int, default=500, help="worker batch size and ceiling batch size (default 500)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the half-load latency run (default 5)")
    parser.add_argument("--poll-ms", type=int, default=5, help="idle poll interval of the workers (default 5)")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker counts (default 1,2,4)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "bench.toml"
        policy.write_text(f"[engine]\nbatch_size = {args.batch}\npoll_interval_ms = {args.poll_ms}\n", encoding="utf-8")
        rows.append(run_case(f"sqlite:///{tmp}/bench.db", "sqlite", 1, args, policy))
        admin = None if args.skip_postgres else postgres_admin_url()
        if admin:
            for workers in [int(w) for w in args.workers.split(",")]:
                with fresh_postgres(admin) as url:
                    rows.append(run_case(url, "postgresql", workers, args, policy))
    columns = [
        "database",
        "workers",
        "events_per_s",
        "ceiling_per_s",
        "share_of_ceiling",
        "sustained_per_s",
        "half_load_per_s",
        "p50_ms",
        "p99_ms",
    ]
    print_results(
        "engine: no-op handler",
        columns,
        rows,
        {"events": args.events, "batch": args.batch, "poll_ms": args.poll_ms, "latency_seconds": args.seconds},
        args.json,
    )


if __name__ == "__main__":
    main()
