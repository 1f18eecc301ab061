"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL, and factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storeops.engine.desk import Registry
from storeops.engine.events import NewEvent
from storeops.engine.policy import Policy, build_policy
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from tests.probe_desk import DESK as PROBE_DESK
from tests.probe_desk import probe_metadata

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session", autouse=True)
def model_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests' default support model is cached (STOREOPS_CACHE_DIR, for in-process
    commands and the processes tests start): pytest's own cache, so a fresh clone builds it once
    and later runs reuse it, and no test writes to the user's ~/.cache."""
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    chosen = os.environ.get("STOREOPS_CACHE_DIR")
    folder = Path(chosen) if chosen else cache.mkdir("storeops-models") if cache else tmp_path_factory.mktemp("models")
    os.environ["STOREOPS_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def no_store_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty STOREOPS_MODELS_DIR for every test, so a worker never picks up a model some earlier
    `make demo` trained into the checkout's ./storeops-models."""
    folder = tmp_path_factory.mktemp("store-models")
    os.environ["STOREOPS_MODELS_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def support_models(model_cache: Path) -> Any:
    """The default support models, built (once) the way a fresh install builds them."""
    from storeops.desks.support.models import default_models

    return default_models(model_cache)


def _postgres_admin_url() -> str:
    return os.environ.get("STOREOPS_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL; skips (or fails under CI=true) when there is none."""
    url = _postgres_admin_url()
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        message = f"no PostgreSQL at {make_url(url).render_as_string(hide_password=True)}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


def _create_database(admin_url: str) -> str:
    name = f"storeops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = _create_database(postgres_server)
    yield url
    _drop_database(postgres_server, url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'storeops.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database (with the probe desk's table) on both backends."""
    engine = create_db_engine(db_url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def registry() -> Registry:
    """The built-in desks plus the probe desk."""
    return ROUTES


def _routes() -> Registry:
    from storeops.desks import builtin_desks

    return Registry([*builtin_desks(), PROBE_DESK])


ROUTES = _routes()
"""The built-in desks plus the probe desk: the routes tests ingest with."""


def make_policy(data: dict[str, Any] | None = None) -> Policy:
    """A validated policy over the built-in desks plus the probe desk."""
    from storeops.desks import builtin_desks

    return build_policy(data or {}, [*builtin_desks(), PROBE_DESK])


@pytest.fixture
def policy() -> Policy:
    """Default policy with fast retries so failure tests do not wait."""
    return make_policy({"engine": {"retry_base_seconds": 0.001, "retry_max_seconds": 0.001, "max_attempts": 3}})


_counter = iter(range(1, 10**9))


def step(
    subject: str,
    seq: int,
    *,
    source: str = "test",
    external_id: str | None = None,
    occurred_at: datetime | None = None,
    **payload: Any,
) -> NewEvent:
    """A ``probe.step`` event (that happened on 2026-01-01 unless ``occurred_at`` says when)."""
    return NewEvent(
        source=source,
        external_id=external_id or f"step-{next(_counter)}-{uuid.uuid4().hex[:6]}",
        kind="probe.step",
        subject=subject,
        occurred_at=occurred_at or datetime(2026, 1, 1, tzinfo=UTC),
        payload={"seq": seq, **payload},
    )


@contextmanager
def served(asgi_app: Any) -> Iterator[str]:
    """Serve ``asgi_app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    from storeops.testing import serve

    # A short graceful shutdown: an open server-sent-events stream must not hold the test up. Proxy
    # headers off, as 'storeops serve' runs it: the app reads them itself, from trusted proxies only.
    with serve(asgi_app, timeout_graceful_shutdown=2, proxy_headers=False) as base:
        yield base
