"""Handoffs: opened by a decision, claimed and resolved by people, resumed by the desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from storeops.engine.audit import read_audit
from storeops.engine.desk import Registry
from storeops.engine.inbox import claim_handoff, expire_handoffs, list_handoffs, resolve_handoff
from storeops.engine.policy import Policy
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.errors import Conflict, InvalidInput, NotFound
from storeops.storage.schema import handoffs
from tests.conftest import ROUTES, step
from tests.probe_desk import probe_log


def _hand_off(engine: Engine, registry: Registry, policy: Policy, subject: str = "thing:1") -> dict:
    with engine.begin() as conn:
        ingest(conn, [step(subject, 7, handoff=True)], routes=ROUTES)
    Worker(engine, registry, policy).run(until_idle=True)
    with engine.connect() as conn:
        [handoff] = list_handoffs(conn, desk="probe")
    return handoff


def test_a_decision_with_a_handoff_opens_it_with_reasons_evidence_and_due_time(
    engine: Engine, registry: Registry, policy: Policy
) -> None:
    handoff = _hand_off(engine, registry, policy)
    assert handoff["subject"] == "thing:1"
    assert handoff["reasons"] == ["needs_person"]
    assert handoff["evidence"] == {"seq": 7}
    assert handoff["state"] == "open" and handoff["role"] == "ops"
    assert (handoff["amount_minor"], handoff["currency"]) == (12345, "EUR")
    with engine.connect() as conn:
        row = conn.execute(select(handoffs).where(handoffs.c.id == handoff["id"])).one()
        [audit] = read_audit(conn, subject="thing:1")
    assert row.due_at - row.created_at == timedelta(minutes=policy.sla_minutes("probe"))
    # the case arose, and its decision happened, when its event did (step() events happened on
    # 2026-01-01); the audit row also says when it was recorded: now
    assert handoff["created_at"] == audit["occurred_at"] == "2026-01-01T00:00:00+00:00"
    assert audit["recorded_at"] == audit["at"]
    assert datetime.fromisoformat(audit["recorded_at"]) > datetime.fromisoformat(audit["occurred_at"])
    assert audit["outcome"] == "handoff" and audit["handoff_id"] == handoff["id"]
    assert audit["reasons"] == ["needs_person"] and audit["policy_version"] == policy.version


@pytest.mark.parametrize("resolution", ["approve", "reject"])
def test_resolving_resumes_the_desk_through_the_queue(
    engine: Engine, registry: Registry, policy: Policy, resolution: str
) -> None:
    handoff = _hand_off(engine, registry, policy)
    # when a person resolves it (on 2 January, recorded only now: a replayed history)
    decided = datetime(2026, 1, 2, tzinfo=UTC)
    with engine.begin() as conn:
        resolve_handoff(conn, handoff["id"], resolution, "user:ana", note="looked fine", now=decided)
    # then nothing resumes before a worker runs (the resolution waits in the queue) ...
    with engine.connect() as conn:
        assert conn.execute(select(probe_log.c.seq).where(probe_log.c.seq == -1)).first() is None
    Worker(engine, registry, policy).run(until_idle=True)
    # ... and then the desk resumes, and the audit log tells the whole story in order
    with engine.connect() as conn:
        assert conn.execute(select(probe_log.c.seq).where(probe_log.c.seq == -1)).scalars().all() == [-1]
        trail = read_audit(conn, subject="thing:1")
        state = conn.execute(
            select(handoffs.c.state, handoffs.c.resolved_by).where(handoffs.c.id == handoff["id"])
        ).one()
    assert [(a["actor"], a["action"]) for a in trail] == [
        ("automation:probe", "probe.hold"),
        ("user:ana", f"handoff.{resolution}"),
        ("automation:probe", f"probe.resumed.{resolution}"),
    ]
    assert trail[1]["evidence"]["note"] == "looked fine"
    assert tuple(state) == ("resolved", "user:ana")
    # and the person's action and the desk's resumption happened when the person decided
    assert [a["occurred_at"] for a in trail[1:]] == [decided.isoformat()] * 2
    assert all(datetime.fromisoformat(a["recorded_at"]) > decided for a in trail)


def test_a_handoff_is_resolved_once(engine: Engine, registry: Registry, policy: Policy) -> None:
    handoff = _hand_off(engine, registry, policy)
    with engine.begin() as conn:
        resolve_handoff(conn, handoff["id"], "approve", "user:ana")
    with engine.begin() as conn, pytest.raises(Conflict, match="already resolved"):
        resolve_handoff(conn, handoff["id"], "reject", "user:bob")
    with engine.begin() as conn, pytest.raises(NotFound):
        resolve_handoff(conn, 424242, "approve", "user:bob")
    with engine.begin() as conn, pytest.raises(InvalidInput, match="resolution must be one of"):
        resolve_handoff(conn, handoff["id"], "maybe", "user:bob")


def test_claim_is_exclusive(engine: Engine, registry: Registry, policy: Policy) -> None:
    handoff = _hand_off(engine, registry, policy)
    with engine.begin() as conn:
        claim_handoff(conn, handoff["id"], "user:ana")
    with engine.begin() as conn, pytest.raises(Conflict, match="claimed by user:ana"):
        claim_handoff(conn, handoff["id"], "user:bob")
    with engine.connect() as conn:
        assert list_handoffs(conn)[0]["claimed_by"] == "user:ana"


def test_modify_needs_the_changes(engine: Engine, registry: Registry, policy: Policy) -> None:
    handoff = _hand_off(engine, registry, policy)
    with engine.begin() as conn, pytest.raises(InvalidInput, match="needs the changes"):
        resolve_handoff(conn, handoff["id"], "modify", "user:ana")


def test_overdue_handoffs_expire_only_when_policy_says_so(engine: Engine, registry: Registry, policy: Policy) -> None:
    handoff = _hand_off(engine, registry, policy)
    due = datetime.fromisoformat(handoff["due_at"])
    with engine.begin() as conn:
        assert expire_handoffs(conn, now=due + timedelta(hours=5), after_hours=0) == 0
        # just before the grace period ends: still open
        assert expire_handoffs(conn, now=due + timedelta(hours=2) - timedelta(minutes=1), after_hours=2) == 0
        assert expire_handoffs(conn, now=due + timedelta(hours=2, minutes=1), after_hours=2) == 1
    with engine.connect() as conn:
        assert list_handoffs(conn, state="expired")[0]["id"] == handoff["id"]
        assert read_audit(conn, subject="thing:1")[-1]["action"] == "handoff.expire"
