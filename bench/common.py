"""Shared by the benchmarks: databases to run on, worker processes, and how results print."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
console = Console(stderr=True)


def postgres_admin_url() -> str | None:
    """The PostgreSQL to benchmark on, or None (with a message) when none answers."""
    url = (
        os.environ.get("STOREOPS_BENCH_POSTGRES_URL")
        or os.environ.get("STOREOPS_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        console.print(
            f"skipping PostgreSQL: nothing answers at {make_url(url).render_as_string(hide_password=True)} "
            f"({exc.__class__.__name__})"
        )
        return None
    return url


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new empty database for one measurement, dropped afterwards."""
    name = f"storeops_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def spawn_workers(url: str, count: int, desks: str, policy_file: Path, *options: str) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` ``storeops work`` processes and wait until each is running."""
    env = {
        **os.environ,
        "STOREOPS_DATABASE_URL": url,
        "STOREOPS_DESKS": desks,
        "STOREOPS_POLICY_FILE": str(policy_file),
        # src first: a checkout other than the installed one (bench.versus's base) runs its own code
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "storeops.cli.main", "work", *options],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stderr is not None
        line = worker.stderr.readline()
        if b"running" not in line:
            raise RuntimeError(
                f"worker did not start: {line.decode(errors='replace')}{worker.stderr.read().decode(errors='replace')}"
            )
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.communicate(timeout=60)


def pending(engine: Engine) -> int:
    """Deliveries still waiting in the queue (read without blocking the workers)."""
    from storeops.engine.queue import pending_count
    from storeops.storage.db import read_only

    with read_only(engine).connect() as conn:
        return pending_count(conn)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> float:
    """Poll ``predicate``; returns the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        time.sleep(interval)
    return time.monotonic()


def print_results(
    title: str, columns: list[str], rows: list[dict[str, Any]], summary: dict[str, Any], as_json: bool
) -> None:
    """A readable table on stdout and, with --json, one JSON object on the last line."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in ("database", "case", "workers", "figure") else "right")
    for row in rows:
        table.add_row(*[_fmt(row.get(column)) for column in columns])
    out = Console(width=max(120, Console().width))
    out.print(table)
    if as_json:
        sys.stdout.write(json.dumps({"benchmark": title, "rows": rows, **summary}, sort_keys=True) + "\n")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
