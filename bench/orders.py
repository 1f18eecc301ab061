"""The whole order pipeline: ingest → validate → risk → route and reserve → label record →
audit and outbox, with the built-in desks.

    python -m bench.orders [--orders N] [--rounds R] [--seconds S] [--batch B] [--pg-batch B] [--json]

SQLite with one worker process and PostgreSQL with two. Orders are realistic (1–3 lines over
200 SKUs stocked in two warehouses, 5,000 customers, a few percent held for a person).
Reports drained orders/s (the median of ``--rounds`` drains, each round's figure beside it:
a shared 2-core machine's speed drifts by a fifth from minute to minute; later rounds also run
against a fuller database), the sustained rate with a live producer, ingest-to-decision
p50/p99 at half of it, and the peak resident memory of the worker processes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, func, select

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
from storeops.desks.inventory.ledger import Cause, move
from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.metrics import percentile
from storeops.engine.queue import event_states, ingest
from storeops.storage.db import create_db_engine, read_only
from storeops.storage.migrate import upgrade

DESKS = "storeops.desks.orders:DESK,storeops.desks.support:DESK,storeops.desks.inventory:DESK"
ROUTES = Registry(configured_desks(DESKS))
"""How the events these benchmarks queue are routed: to the desks the worker processes run."""
SKUS = [f"SKU-{n:03d}" for n in range(200)]
COUNTRIES = [
    ("FR", "Lyon", "69001"),
    ("DE", "Köln", "50667"),
    ("NL", "Utrecht", "3511 AB"),
    ("ES", "Valencia", "46001"),
]


def stock(engine: Engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for sku in SKUS:
            for warehouse in ("WH-PARIS", "WH-BERLIN"):
                move(conn, sku=sku, location=warehouse, cause=Cause.RECEIPT, reference="bench", at=now, on_hand=10**6)


def make_orders(count: int, tag: str, rng: random.Random) -> list[NewEvent]:
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        customer = rng.randrange(5000)
        country, city, postal = rng.choice(COUNTRIES)
        address = {
            "name": f"C {customer}",
            "line1": f"{customer} Main Street",
            "city": city,
            "postal_code": postal,
            "country": country,
        }
        lines = [
            {
                "sku": rng.choice(SKUS),
                "quantity": rng.choice([1, 1, 2]),
                "unit_price_minor": rng.choice([990, 2490, 4990]),
            }
            for _ in range(rng.choice([1, 1, 2, 3]))
        ]
        out.append(
            NewEvent(
                source="bench",
                external_id=f"{tag}-{n}",
                kind="order.created",
                subject=f"order:bench:{tag}-{n}",
                occurred_at=now,
                payload={
                    "order_number": f"{tag}-{n}",
                    "customer": {
                        "id": str(customer),
                        "email": f"c{customer}@example.test",
                        "created_at": (now - timedelta(days=30 + customer % 300)).isoformat(),
                    },
                    "currency": "EUR",
                    "total_minor": sum(line["quantity"] * line["unit_price_minor"] for line in lines),
                    "lines": lines,
                    "shipping_address": address,
                    "billing_address": address,
                    "ip": f"198.51.{customer % 250}.{customer % 7}",
                    "device_id": f"dev-{customer}",
                    "payment_status": "authorized",
                },
            )
        )
    return out


def done(engine: Engine, prefix: str) -> int:
    with read_only(engine).connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    event_states.c.status == "done", event_states.c.external_id.like(f"{prefix}%")
                )
            ).scalar_one()
        )


def run_case(url: str, database: str, workers: int, args: argparse.Namespace, policy: Path) -> dict[str, Any]:
    rng = random.Random(0)
    engine = create_db_engine(url, pool_size=2)
    upgrade(engine)
    stock(engine)
    # Deciding is measured; sending the outbox (rendering label PDFs) is a separate process's job.
    processes = spawn_workers(url, workers, DESKS, policy, "--no-outbox")
    memory = [0.0]

    def sample_memory() -> None:
        total = max(psutil.Process(p.pid).memory_info().rss for p in processes)
        memory[0] = max(memory[0], total / 2**20)

    try:

        def drained() -> bool:
            sample_memory()
            # An indexed count of what is left, not a LIKE over every event (the poll shares
            # the two cores with the worker).
            return pending(engine) == 0

        rates = []
        for round_ in range(args.rounds):
            console.print(
                f"{database}, {workers} worker(s): {args.orders:,} orders queued at once "
                f"(round {round_ + 1} of {args.rounds}) …"
            )
            tag = f"d{round_}"
            batch = make_orders(args.orders, tag, rng)
            with engine.begin() as conn:
                ingest(conn, batch, routes=ROUTES)
            start = time.monotonic()
            rates.append(args.orders / (wait_until(drained, timeout=900, interval=0.05) - start))
            finished = done(engine, f"{tag}-")
            if finished != args.orders:
                raise RuntimeError(f"round {round_ + 1}: {finished} of {args.orders} orders done")
        console.print(f"{database}, {workers} worker(s): sustained rate with a live producer …")
        sent, n, start = 0, 0, time.monotonic()
        while time.monotonic() - start < args.seconds:
            with engine.begin() as conn:
                ingest(conn, make_orders(100, f"s{n}", rng), routes=ROUTES)
            sent, n = sent + 100, n + 1
        wait_until(lambda: pending(engine) == 0, timeout=900)
        sustained = sent / (time.monotonic() - start)
        console.print(f"{database}, {workers} worker(s): latency at half the sustained rate …")
        tick, per_tick = 0.02, max(1, round(sustained / 2 * 0.02))
        start = time.monotonic()
        for n in range(int(args.seconds / tick)):
            with engine.begin() as conn:
                ingest(conn, make_orders(per_tick, f"l{n}", rng), routes=ROUTES)
            sample_memory()
            delay = start + (n + 1) * tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        offered = per_tick * int(args.seconds / tick) / (time.monotonic() - start)
        wait_until(lambda: pending(engine) == 0, timeout=900)
        with read_only(engine).connect() as conn:
            pairs = conn.execute(
                select(event_states.c.received_at, event_states.c.processed_at).where(
                    event_states.c.external_id.like("l%")
                )
            ).all()
        latencies = [(p - r).total_seconds() * 1000 for r, p in pairs]
    finally:
        stop_workers(processes)
        engine.dispose()
    return {
        "database": database,
        "workers": workers,
        "orders_per_s": round(statistics.median(rates), 1),
        "rounds_per_s": " / ".join(f"{rate:.0f}" for rate in rates),
        "sustained_per_s": round(sustained, 1),
        "half_load_per_s": round(offered, 1),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "worker_peak_mb": round(memory[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5000, help="orders per drain run (default 5000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="drain runs; the median is reported (default 3: shared machines vary)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the live runs (default 5)")
    parser.add_argument("--batch", type=int, default=200, help="SQLite worker batch size (default 200)")
    parser.add_argument(
        "--pg-batch", type=int, default=50, help="PostgreSQL worker batch size (default 50: shorter lock holds)"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Prices in the bench stay under the threshold, so what is measured is the automatic path.
        policies = {}
        for name, batch in (("sqlite", args.batch), ("postgresql", args.pg_batch)):
            policies[name] = Path(tmp) / f"{name}.toml"
            policies[name].write_text(f"[engine]\nbatch_size = {batch}\npoll_interval_ms = 5\n", encoding="utf-8")
        rows.append(run_case(f"sqlite:///{tmp}/orders.db", "sqlite", 1, args, policies["sqlite"]))
        admin = None if args.skip_postgres else postgres_admin_url()
        if admin:
            with fresh_postgres(admin) as url:
                rows.append(run_case(url, "postgresql", 2, args, policies["postgresql"]))
    print_results(
        "orders: the whole pipeline",
        [
            "database",
            "workers",
            "orders_per_s",
            "rounds_per_s",
            "sustained_per_s",
            "half_load_per_s",
            "p50_ms",
            "p99_ms",
            "worker_peak_mb",
        ],
        rows,
        {
            "orders": args.orders,
            "rounds": args.rounds,
            "batch": args.batch,
            "pg_batch": args.pg_batch,
            "seconds": args.seconds,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
