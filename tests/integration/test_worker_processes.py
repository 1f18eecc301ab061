"""Real worker processes: killed mid-batch, and four at once on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from select import select as readable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, delete, func, select

from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import event_states, ingest
from storeops.engine.worker import Worker
from storeops.storage.db import create_db_engine, read_only
from storeops.storage.migrate import upgrade
from storeops.storage.schema import audit_log
from tests.conftest import ROUTES, _create_database, _drop_database, step
from tests.probe_desk import DESK as PROBE_DESK
from tests.probe_desk import SHADOW_DESK, probe_log, probe_metadata, shadow_log

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DESKS = "storeops.desks.orders:DESK,storeops.desks.support:DESK,storeops.desks.inventory:DESK,tests.probe_desk:DESK"


def spawn_worker(url: str, *args: str, desks: str = DESKS) -> subprocess.Popen[bytes]:
    """``storeops work`` in its own process, with the probe desk wired in."""
    env = {
        **os.environ,
        "STOREOPS_DATABASE_URL": url,
        "STOREOPS_DESKS": desks,
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
    }
    env.pop("STOREOPS_POLICY_FILE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "storeops.cli.main", "work", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(autouse=True)
def default_support_model_built(support_models: object) -> None:
    """A worker loads the support models before its first batch; built already, they take a
    second, not the half minute of a first build on this machine."""


_RUNNING: dict[int, bytes] = {}
"""What each worker process wrote up to saying it runs, by pid."""


def running(worker: subprocess.Popen[bytes], timeout: float = 60.0) -> bytes:
    """Wait until the worker says it runs (its signal handlers are in place); returns what it
    wrote on stderr so far. A SIGTERM before that point, while Python is still importing, ends
    the process the default way (-15) — right for a process that holds nothing yet, but not the
    graceful stop these tests check."""
    assert worker.stderr is not None
    if worker.pid in _RUNNING:
        return _RUNNING[worker.pid]
    seen = b""
    deadline = time.monotonic() + timeout
    while b" running " not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or worker.poll() is not None:
            break
        ready, _, _ = readable([worker.stderr], [], [], left)
        if ready:
            line = worker.stderr.readline()
            if not line:
                break
            seen += line
    if b" running " in seen:
        _RUNNING[worker.pid] = seen
    return seen


def stop(worker: subprocess.Popen[bytes], sig: signal.Signals) -> tuple[int, str]:
    """Send ``sig`` and wait; returns the exit code and what the worker wrote on stderr. A SIGTERM
    waits until the worker runs, so it tests the graceful stop rather than a start-up race."""
    head = running(worker) if sig == signal.SIGTERM else b""
    _RUNNING.pop(worker.pid, None)
    worker.send_signal(sig)
    _, err = worker.communicate(timeout=60)
    return worker.returncode, (head + err).decode(errors="replace")


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def applied(engine: Engine) -> int:
    with read_only(engine).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(probe_log)).scalar_one())


def check_exactly_once_in_order(
    engine: Engine, expected: dict[str, list[int]], log: Table = probe_log, desks: int = 1
) -> None:
    """Every event applied once (by the desk keeping ``log``); each subject's steps in order and
    never two at a time. ``desks``: how many desks each event is delivered to."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.c.event_id, log.c.subject, log.c.seq, log.c.started, log.c.ended).order_by(log.c.id)
        ).all()
        statuses = dict(conn.execute(select(event_states.c.status, func.count()).group_by(event_states.c.status)).all())
        decisions = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    event_ids = [row.event_id for row in rows]
    assert len(event_ids) == len(set(event_ids)), "an event was applied twice"
    assert statuses == {"done": desks * sum(len(v) for v in expected.values())}
    assert decisions == desks * len(rows)
    by_subject: dict[str, list] = defaultdict(list)
    for row in rows:
        by_subject[row.subject].append(row)
    assert {s: [r.seq for r in rs] for s, rs in by_subject.items()} == expected
    for subject_rows in by_subject.values():
        for before, after in itertools.pairwise(subject_rows):
            assert before.ended <= after.started, "two events of one subject ran at once"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    backend: str, request: pytest.FixtureRequest, registry: Registry, policy: Policy
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))
    engine = create_db_engine(url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    # given 400 slow-ish events over 20 subjects
    expected = {f"thing:{s}": list(range(20)) for s in range(20)}
    with engine.begin() as conn:
        ingest(conn, [step(f"thing:{s}", seq, sleep_ms=3) for seq in range(20) for s in range(20)], routes=ROUTES)
    # when a worker has committed some batches and is inside another, it is SIGKILLed
    worker = spawn_worker(url, "--batch", "25")
    wait_for(lambda: applied(engine) >= 50)
    stop(worker, signal.SIGKILL)
    # then what it committed is consistent (no half batch) and some work was left
    with engine.connect() as conn:
        done = conn.execute(select(func.count()).where(event_states.c.status == "done")).scalar_one()
    assert done == applied(engine) < 400
    # and a new worker finishes the rest: everything once, each subject in order
    Worker(engine, registry, policy).run(until_idle=True)
    check_exactly_once_in_order(engine, expected)
    engine.dispose()


@pytest.mark.postgres
def test_sigterm_lets_a_worker_finish_its_batch(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        ingest(conn, [step(f"thing:{s}", 0, sleep_ms=20) for s in range(200)], routes=ROUTES)
    worker = spawn_worker(postgres_url, "--batch", "50")
    assert b" running " in running(worker)
    wait_for(lambda: applied(engine) >= 1)
    code, err = stop(worker, signal.SIGTERM)
    assert code == 0, err
    with engine.connect() as conn:
        done = conn.execute(select(func.count()).where(event_states.c.status == "done")).scalar_one()
    assert done == applied(engine) and done % 50 == 0
    engine.dispose()


@pytest.mark.postgres
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    subjects=st.lists(st.integers(min_value=0, max_value=5), min_size=30, max_size=90),
    chunks=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6),
)
def test_four_workers_keep_per_subject_order(postgres_server: str, subjects: list[int], chunks: list[int]) -> None:
    # given events of up to six subjects in an interleaving hypothesis chooses, arriving in chunks
    url = _create_database(postgres_server)
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        probe_metadata.create_all(engine)
        counters: dict[str, int] = defaultdict(int)
        batch = []
        for s in subjects:
            subject = f"thing:{s}"
            batch.append(step(subject, counters[subject], sleep_ms=2))
            counters[subject] += 1
        expected = {subject: list(range(n)) for subject, n in counters.items()}
        # when four worker processes run while the events arrive
        workers = [spawn_worker(url, "--batch", "5") for _ in range(4)]
        for worker in workers:
            assert b" running " in running(worker)
        position = 0
        for size in [*chunks, len(batch)]:
            with engine.begin() as conn:
                ingest(conn, batch[position : position + size], routes=ROUTES)
            position += size
            time.sleep(0.05)
        wait_for(lambda: applied(engine) == len(batch), timeout=120)
        for worker in workers:
            code, err = stop(worker, signal.SIGTERM)
            assert code == 0, err
        # then every event ran once, each subject in order, never two of a subject at once
        check_exactly_once_in_order(engine, expected)
        with engine.begin() as conn:
            conn.execute(delete(probe_log))
    finally:
        engine.dispose()
        _drop_database(postgres_server, url)


FANNED_DESKS = f"{DESKS},tests.probe_desk:SHADOW_DESK"


def shadowed(engine: Engine) -> int:
    with read_only(engine).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(shadow_log)).scalar_one())


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_fan_out_holds_once_and_in_order_per_desk_through_kills(backend: str, request: pytest.FixtureRequest) -> None:
    """Each step goes to the probe desk and the shadow desk. SQLite: one worker at a time, killed
    mid-run and replaced. PostgreSQL: four workers, one killed mid-run and replaced."""
    from storeops.desks import builtin_desks

    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))
    engine = create_db_engine(url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    routes = Registry([*builtin_desks(), PROBE_DESK, SHADOW_DESK])
    expected = {f"thing:{s}": list(range(12)) for s in range(16)}
    with engine.begin() as conn:
        ingest(
            conn,
            [step(f"thing:{s}", seq, sleep_ms=2, shadow_sleep_ms=1) for seq in range(12) for s in range(16)],
            routes=routes,
        )
    count = 1 if backend == "sqlite" else 4
    workers = [spawn_worker(url, "--batch", "10", desks=FANNED_DESKS) for _ in range(count)]
    wait_for(lambda: applied(engine) + shadowed(engine) >= 60)
    stop(workers.pop(0), signal.SIGKILL)
    workers.append(spawn_worker(url, "--batch", "10", desks=FANNED_DESKS))
    wait_for(lambda: applied(engine) == shadowed(engine) == 192, timeout=180)
    for worker in workers:
        code, err = stop(worker, signal.SIGTERM)
        assert code == 0, err
    check_exactly_once_in_order(engine, expected, probe_log, desks=2)
    check_exactly_once_in_order(engine, expected, shadow_log, desks=2)
    engine.dispose()
