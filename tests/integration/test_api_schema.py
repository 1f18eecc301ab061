"""Property-based API tests from the published OpenAPI schema (schemathesis): no input makes a 500.

Every operation but the public chat (which waits for a worker) and the signed webhooks (fuzzed in
test_intake_fuzz.py) is called with an owner token and inputs generated from the schema, both
valid ones (positive) and ones that break it (negative), on SQLite and on PostgreSQL (which
refuses text SQLite stores: NUL bytes, lone surrogates). The events endpoint's body is described
per event kind, so its inputs reach every payload model.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from sqlalchemy import Engine

from storeops.engine.desk import Registry
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from tests.conftest import ROUTES, _create_database, _drop_database, make_policy, step
from tests.probe_desk import probe_metadata
from tests.web_helpers import token, web


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_state(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from storeops.desks import builtin_desks
    from tests.probe_desk import DESK as PROBE_DESK

    directory = tmp_path_factory.mktemp("api")
    admin = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    url = _create_database(admin) if admin else f"sqlite:///{directory / 'storeops.db'}"
    engine: Engine = create_db_engine(url)
    upgrade(engine)
    probe_metadata.create_all(engine)
    registry = Registry([*builtin_desks(), PROBE_DESK])
    policy = make_policy()
    with engine.begin() as conn:
        ingest(conn, [step(f"thing:{n}", 1, handoff=n % 2 == 0) for n in range(6)], routes=ROUTES)
    Worker(engine, registry, policy).run(until_idle=True)
    _, asgi = web(engine, registry, policy, directory / "storeops.toml")
    yield {"app": asgi, "token": token(engine, "owner")}
    engine.dispose()
    if admin:
        _drop_database(admin, url)


def test_no_input_makes_a_server_error(api_state: dict[str, Any]) -> None:
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_state["app"])
    api = api.exclude(path="/api/v1/chat").exclude(path_regex="^/webhooks/")
    headers = {"Authorization": f"Bearer {api_state['token']}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 12
    assert "POST /api/v1/events" in {operation.label for operation in operations}

    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            if response.status_code >= 400:
                error = response.json()["error"]
                assert set(error) == {"code", "message", "field"} and error["message"], response.text

        try:
            call()
        except Unsatisfiable:
            # An operation without parameters has no invalid input to generate.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
