"""Statements per order: the orders desk's work counted, not timed, in one in-process worker.

    python -m bench.statements [--database sqlite|postgresql] [--orders N] [--batch B] [--json]

Counts every statement the worker sends while it decides a backlog of ``bench.orders``' orders
(a SQLAlchemy ``before_cursor_execute`` listener), and how many orders a batch held. Counts do
not drift with the machine's load as rates do, so a change that adds a round trip per order —
or sends a batch down the savepoint-per-delivery path — shows here in any weather.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import tempfile
import time
from typing import Any

from sqlalchemy import event, text

from bench import orders as bench_orders
from bench.common import console, fresh_postgres, postgres_admin_url, print_results
from storeops.desks import configured_desks
from storeops.engine.desk import Registry
from storeops.engine.policy import build_policy
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade

CLAIM = "SELECT deliveries.id"


def measure(url: str, orders: int, batch: int) -> dict[str, Any]:
    """Decide ``orders`` queued orders in ``url`` and count the statements it took."""
    engine = create_db_engine(url)
    upgrade(engine)
    bench_orders.stock(engine)
    desks = configured_desks(bench_orders.DESKS)
    registry = Registry(desks)
    with engine.begin() as conn:
        ingest(conn, bench_orders.make_orders(orders, "st", random.Random(1)), routes=registry)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    counts: collections.Counter[str] = collections.Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts[re.sub(r"\s+", " ", statement.strip())[:60]] += 1

    event.listen(engine, "before_cursor_execute", count)
    worker = Worker(engine, registry, build_policy({}, desks), batch_size=batch)
    started = time.perf_counter()
    worker.run(until_idle=True)
    elapsed = time.perf_counter() - started
    worker.close()
    engine.dispose()
    claims = sum(n for statement, n in counts.items() if statement.startswith(CLAIM))
    return {
        "database": engine.dialect.name,
        "orders": orders,
        "batch": batch,
        "statements_per_order": round(sum(counts.values()) / orders, 2),
        "orders_per_batch": round(orders / claims, 1) if claims else None,
        "in_process_orders_per_s": round(orders / elapsed, 1),
        "top": [{"per_order": round(n / orders, 2), "statement": s} for s, n in counts.most_common(8)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    console.print(f"{args.database}: deciding {args.orders:,} orders, batch {args.batch} …")
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            row = measure(f"sqlite:///{tmp}/statements.db", args.orders, args.batch)
    else:
        admin = postgres_admin_url()
        if admin is None:
            return
        with fresh_postgres(admin) as url:
            row = measure(url, args.orders, args.batch)
    for top in row["top"]:
        console.print(f"  {top['per_order']:6.2f} an order  {top['statement']}", highlight=False, markup=False)
    print_results(
        "statements per order, one in-process worker",
        ["database", "orders", "batch", "statements_per_order", "orders_per_batch", "in_process_orders_per_s"],
        [row],
        {},
        args.json,
    )


if __name__ == "__main__":
    main()
