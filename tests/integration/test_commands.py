"""One command layer: the same action through the web pages, the REST API and the CLI writes the
same audit row (who acted aside), and is refused the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from storeops.accounts import Principal, Role
from storeops.cli.main import app as cli_app
from storeops.commands import events as event_commands
from storeops.commands import people
from storeops.engine.desk import Registry
from storeops.engine.policy import Policy
from storeops.engine.queue import ingest, list_events
from storeops.engine.worker import Worker
from storeops.errors import Forbidden
from storeops.storage.schema import audit_log, handoffs
from tests.conftest import ROUTES, make_policy, served, step
from tests.web_helpers import csrf_in, person, sign_in, token, web

ENTRY_POINTS = ("web", "api", "cli")
OWNER = "boss@example.com"


class Store:
    """A store with a held probe handoff and a dead event, reachable through all three entry points."""

    def __init__(self, engine: Engine, registry: Registry, tmp_path: Path) -> None:
        self.engine = engine
        self.policy_file = tmp_path / "storeops.toml"
        self.policy_file.write_text("", encoding="utf-8")
        policy: Policy = make_policy({"engine": {"max_attempts": 1}})
        self.application, self.asgi = web(engine, registry, policy, self.policy_file)
        person(engine, OWNER, "owner")
        self.token = token(engine, "owner", "robot")
        with engine.begin() as conn:
            ingest(conn, [step("thing:held", 1, handoff=True), step("thing:dead", 1, fail_times=9)], routes=ROUTES)
        Worker(engine, registry, policy).run(until_idle=True)
        with engine.connect() as conn:
            self.handoff = int(conn.execute(select(handoffs.c.id)).scalar_one())
            self.dead_event = int(list_events(conn, status="dead")[0]["id"])
        self.env = {
            "STOREOPS_DATABASE_URL": str(engine.url),
            "STOREOPS_DESKS": "storeops.desks.orders:DESK,storeops.desks.support:DESK,"
            "storeops.desks.inventory:DESK,tests.probe_desk:DESK",
            "STOREOPS_POLICY_FILE": str(self.policy_file),
        }

    def cli(self, *args: str) -> None:
        result = CliRunner().invoke(cli_app, list(args), env=self.env, input="another-long-password\n")
        assert result.exit_code == 0, result.output

    def last_audit(self) -> dict[str, Any]:
        """The newest row of a person's action (a resolution is followed by its desk's decision)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(audit_log).where(audit_log.c.outcome == "human").order_by(audit_log.c.id.desc()).limit(1)
            ).first()
        if found is None:
            return {}
        row = found._mapping
        return {key: row[key] for key in ("desk", "subject", "action", "outcome", "reasons", "evidence", "handoff_id")}


def via_web(store: Store, action: str) -> None:
    with served(store.asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        csrf = sign_in(http, OWNER)
        if action == "resolve":
            http.post(
                f"/handoffs/{store.handoff}/resolve", data={"csrf_token": csrf, "resolution": "approve", "note": "ok"}
            )
        elif action == "claim":
            http.post(f"/handoffs/{store.handoff}/claim", data={"csrf_token": csrf})
        elif action == "policy":
            page = http.get("/policy").text
            http.post(
                "/policy",
                data={"csrf_token": csrf_in(page), "section": "orders", "key": "risk_threshold", "value": "0.8"},
            )
        elif action == "rerun":
            http.post(f"/dead/{store.dead_event}/rerun", data={"csrf_token": csrf})
        elif action == "add_user":
            http.post(
                "/users",
                data={
                    "csrf_token": csrf,
                    "email": "new@example.com",
                    "role": "ops",
                    "password": "another-long-password",
                },
            )


def via_api(store: Store, action: str) -> None:
    headers = {"Authorization": f"Bearer {store.token}"}
    with served(store.asgi) as base, httpx.Client(base_url=base, headers=headers) as http:
        if action == "resolve":
            response = http.post(
                f"/api/v1/handoffs/{store.handoff}/resolve", json={"resolution": "approve", "note": "ok"}
            )
        elif action == "claim":
            response = http.post(f"/api/v1/handoffs/{store.handoff}/claim")
        elif action == "policy":
            response = http.patch("/api/v1/policy", json={"section": "orders", "key": "risk_threshold", "value": "0.8"})
        elif action == "rerun":
            response = http.post(f"/api/v1/events/{store.dead_event}/rerun")
        else:
            raise AssertionError(action)
        assert response.status_code == 200, response.text


def via_cli(store: Store, action: str) -> None:
    if action == "resolve":
        store.cli("handoffs", "resolve", str(store.handoff), "--approve", "--note", "ok")
    elif action == "claim":
        store.cli("handoffs", "claim", str(store.handoff))
    elif action == "policy":
        store.cli("policy", "set", "orders.risk_threshold", "0.8")
    elif action == "rerun":
        store.cli("events", "rerun", str(store.dead_event))
    elif action == "add_user":
        store.cli("users", "add", "new@example.com", "--role", "ops", "--password-stdin")


VIA: dict[str, Callable[[Store, str], None]] = {"web": via_web, "api": via_api, "cli": via_cli}
ACTIONS = {
    "resolve": ("web", "api", "cli"),
    "claim": ("web", "api", "cli"),
    "policy": ("web", "api", "cli"),
    "rerun": ("web", "api", "cli"),
    "add_user": ("web", "cli"),
}


def expected(store: Store, action: str) -> dict[str, Any]:
    if action == "resolve":
        return {
            "desk": "probe",
            "subject": "thing:held",
            "action": "handoff.approve",
            "outcome": "human",
            "reasons": ["needs_person"],
            "handoff_id": store.handoff,
        }
    if action == "claim":
        return {
            "desk": "probe",
            "subject": "thing:held",
            "action": "handoff.claim",
            "outcome": "human",
            "reasons": ["needs_person"],
            "evidence": {},
            "handoff_id": store.handoff,
        }
    if action == "policy":
        return {
            "desk": "engine",
            "subject": "policy:orders.risk_threshold",
            "action": "policy.edit",
            "outcome": "human",
            "reasons": [],
            "evidence": {"section": "orders", "key": "risk_threshold", "old": 0.7, "new": 0.8},
            "handoff_id": None,
        }
    if action == "rerun":
        return {
            "desk": "probe",
            "subject": "thing:dead",
            "action": "event.rerun",
            "outcome": "human",
            "reasons": [],
            "evidence": {"event_id": store.dead_event},
            "handoff_id": None,
        }
    return {
        "desk": "engine",
        "subject": "user:new@example.com",
        "action": "user.add",
        "outcome": "human",
        "reasons": [],
        "evidence": {"role": "ops"},
        "handoff_id": None,
    }


@pytest.mark.parametrize(
    ("action", "entry"), [(action, entry) for action, entries in ACTIONS.items() for entry in entries]
)
def test_every_entry_point_writes_the_same_audit_row(
    action: str, entry: str, engine: Engine, registry: Registry, tmp_path: Path
) -> None:
    store = Store(engine, registry, tmp_path)
    before = store.last_audit()
    VIA[entry](store, action)
    row = store.last_audit()
    assert row != before, f"{action} through {entry} wrote no audit row"
    want = expected(store, action)
    if action == "resolve":
        # how long the handoff waited differs by a few milliseconds from one entry point to another
        assert row["evidence"].pop("waited_seconds") >= 0
        want["evidence"] = {"note": "ok", "changes": {}}
    assert row == want


def test_a_command_checks_the_role_whatever_the_entry_point(engine: Engine, registry: Registry, tmp_path: Path) -> None:
    store = Store(engine, registry, tmp_path)
    support = Principal(actor="user:s@example.com", role=Role.SUPPORT)
    with pytest.raises(Forbidden, match="only the owner creates API tokens"):
        people.create_token(store.application, support, "owner", "sneaky")
    with pytest.raises(Forbidden, match="only owner, ops may queue events"):
        event_commands.ingest(store.application, support, [])
