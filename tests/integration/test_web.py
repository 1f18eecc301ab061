"""The web app over a real database and a real HTTP server: sign-in, roles, CSRF, the inbox and the API."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from storeops.clock import utcnow
from storeops.engine.decisions import HandoffRequest
from storeops.engine.desk import Registry
from storeops.engine.inbox import InboxQuery, SlaState, open_handoff, search_inbox
from storeops.engine.policy import Policy
from storeops.engine.queue import event_states, ingest
from storeops.engine.worker import Worker
from storeops.storage.schema import audit_log, events, handoffs
from tests.conftest import ROUTES, make_policy, served, step
from tests.web_helpers import PASSWORD, csrf_in, person, sign_in, token, web


def _support_handoff(engine: Engine, subject: str = "ticket:chat:1") -> int:
    with engine.begin() as conn:
        return open_handoff(
            conn,
            desk="support",
            subject=subject,
            request=HandoffRequest(role="support", suggestion="answer the customer"),
            reasons=["negative_sentiment"],
            evidence={"sentiment": -0.8},
            now=datetime.now(UTC),
            sla_minutes=60,
            event_id=None,
            policy_version=None,
        )


def _probe_handoff(engine: Engine, registry: Registry, policy: Policy, subject: str = "thing:2") -> int:
    with engine.begin() as conn:
        # happening now, so its handoff is not yet overdue
        ingest(conn, [step(subject, 1, handoff=True, occurred_at=utcnow())], routes=ROUTES)
    Worker(engine, registry, policy).run(until_idle=True)
    with engine.connect() as conn:
        return int(conn.execute(select(handoffs.c.id).where(handoffs.c.subject == subject)).scalar_one())


PUBLIC_RETURNS = {("post", "/api/v1/returns"), ("post", "/api/v1/returns/lookup")}


def test_pages_need_a_session_and_every_api_endpoint_a_valid_token(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    revoked = token(engine, "owner", "old")
    from storeops.accounts import revoke_token

    with engine.begin() as conn:
        revoke_token(conn, "old")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        for path in ("/", "/inbox", "/dashboard", "/policy", "/dead", "/subjects/thing:1"):
            response = http.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
        schema = http.get("/api/v1/openapi.json").json()
        checked = 0
        for path, operations in schema["paths"].items():
            if path.startswith(("/api/v1/chat", "/webhooks/")):
                # public by design: the shopper's chat and its transcript (the conversation id, random
                # and unguessable, is the key); webhooks are signed instead (test_webhooks.py)
                continue
            concrete = path.replace("{handoff_id}", "1").replace("{event_id}", "1").replace("{desk}", "orders")
            for method in operations:
                if (method, path) in PUBLIC_RETURNS:
                    # public by design: a customer's return, the order's email the proof that it is
                    # theirs (test_returns_web.py)
                    continue
                for headers in ({}, {"Authorization": "Bearer so_wrong"}, {"Authorization": f"Bearer {revoked}"}):
                    response = http.request(method.upper(), concrete, headers=headers, json={})
                    assert response.status_code == 401, (method, path, headers, response.text)
                    assert response.json()["error"]["code"] == "unauthorized"
                    checked += 1
        assert checked >= 3 * 12
        assert {("get", "/api/v1/returns/insights")} <= {
            (method, path) for path, operations in schema["paths"].items() for method in operations
        }  # the returns desk's figures are not public: checked above


def test_sign_in_sets_a_safe_cookie_refuses_wrong_passwords_and_limits_attempts(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "ops@example.com", "ops")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        token_value = csrf_in(http.get("/login").text)
        wrong = http.post(
            "/login", data={"email": "ops@example.com", "password": "nope-nope-nope", "csrf_token": token_value}
        )
        assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
        no_csrf = http.post("/login", data={"email": "ops@example.com", "password": PASSWORD, "csrf_token": "x"})
        assert no_csrf.status_code == 403
        ok = http.post(
            "/login",
            data={"email": "ops@example.com", "password": PASSWORD, "csrf_token": token_value},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain HTTP here
        assert http.get("/inbox").status_code == 200
        for elsewhere in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
            token_value = csrf_in(http.get("/login").text)
            away = http.post(
                "/login",
                data={"email": "ops@example.com", "password": PASSWORD, "csrf_token": token_value, "next": elsewhere},
                follow_redirects=False,
            )
            assert away.headers["location"] == "/inbox", elsewhere
        logout_without_csrf = http.post("/logout", data={})
        assert logout_without_csrf.status_code == 403
        assert http.get("/inbox", follow_redirects=False).status_code == 200  # still signed in
        http.post("/logout", data={"csrf_token": csrf_in(http.get("/inbox").text)})
        assert http.get("/inbox", follow_redirects=False).status_code == 303
        token_value = csrf_in(http.get("/login").text)
        statuses = [
            http.post(
                "/login", data={"email": "ops@example.com", "password": "wrong-wrong-1", "csrf_token": token_value}
            ).status_code
            for _ in range(10)
        ]
        assert statuses[-1] == 429 and statuses[0] == 401


def test_a_role_sees_and_resolves_only_its_own_handoffs_and_the_desk_resumes(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    probe_id = _probe_handoff(engine, registry, policy)  # asks for the ops role
    support_id = _support_handoff(engine)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "ops@example.com", "ops")
    person(engine, "help@example.com", "support")
    with (
        served(asgi) as base,
        httpx.Client(base_url=base, follow_redirects=True) as ops,
        httpx.Client(base_url=base, follow_redirects=True) as helper,
    ):
        ops_csrf = sign_in(ops, "ops@example.com")
        help_csrf = sign_in(helper, "help@example.com")
        # The filter form sends every field, the unused ones empty.
        empty = ops.get("/inbox", params={"desk": "", "reason": "", "sla": "", "min_age_minutes": "", "role": ""})
        assert empty.status_code == 200 and f'id="handoff-{probe_id}"' in empty.text
        filtered = ops.get("/inbox", params={"sla": "overdue", "min_age_minutes": "5"})
        assert filtered.status_code == 200 and f'id="handoff-{probe_id}"' not in filtered.text
        assert ops.get("/inbox", params={"sla": "late"}).status_code == 400
        ops_inbox = ops.get("/inbox").text
        assert f'id="handoff-{probe_id}"' in ops_inbox and f'id="handoff-{support_id}"' not in ops_inbox
        help_inbox = helper.get("/inbox").text
        assert f'id="handoff-{support_id}"' in help_inbox and f'id="handoff-{probe_id}"' not in help_inbox

        refused = helper.post(f"/handoffs/{probe_id}/resolve", data={"csrf_token": help_csrf, "resolution": "approve"})
        assert refused.status_code == 403
        no_csrf = ops.post(f"/handoffs/{probe_id}/resolve", data={"resolution": "approve"})
        assert no_csrf.status_code == 403
        with engine.connect() as conn:
            assert conn.execute(select(handoffs.c.state).where(handoffs.c.id == probe_id)).scalar_one() == "open"

        done = ops.post(
            f"/handoffs/{probe_id}/resolve",
            data={"csrf_token": ops_csrf, "resolution": "approve", "note": "looks fine", "back": "/inbox"},
        )
        assert done.status_code == 200 and f"Handoff {probe_id} approved" in done.text
        again = ops.post(f"/handoffs/{probe_id}/resolve", data={"csrf_token": ops_csrf, "resolution": "reject"})
        assert "already resolved" in again.text
    with engine.connect() as conn:
        row = conn.execute(select(handoffs).where(handoffs.c.id == probe_id)).one()
        assert (row.state, row.resolution, row.resolved_by, row.note) == (
            "resolved",
            "approve",
            "user:ops@example.com",
            "looks fine",
        )
        resumed = conn.execute(
            select(event_states.c.kind, event_states.c.status).where(event_states.c.subject == "thing:2")
        ).all()
    # the resolution was carried out before the page answered (the desk settled its subject)
    assert ("handoff.resolved", "done") in resumed
    Worker(engine, registry, policy).run(until_idle=True)
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action).where(audit_log.c.subject == "thing:2")).scalars().all()
    assert "handoff.approve" in actions


def test_bulk_approve_resolves_every_selected_handoff_the_role_may(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    ids = [_probe_handoff(engine, registry, policy, f"thing:{n}") for n in range(3)]
    support_id = _support_handoff(engine)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "ops@example.com", "ops")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        csrf = sign_in(http, "ops@example.com")
        page = http.post(
            "/inbox/bulk",
            data={"csrf_token": csrf, "action": "approve", "ids": [*map(str, ids), str(support_id)]},
        )
    assert (
        "approved 3 handoffs" in page.text
        and f"{support_id}: handoff {support_id} is for the support role" in page.text
    )
    with engine.connect() as conn:
        states = dict(conn.execute(select(handoffs.c.id, handoffs.c.state)).all())
    assert [states[i] for i in ids] == ["resolved"] * 3 and states[support_id] == "open"


def test_api_lists_claims_and_resolves_with_role_scoped_tokens(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    probe_id = _probe_handoff(engine, registry, policy)
    support_id = _support_handoff(engine)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    ops, support, owner = token(engine, "ops", "ops-bot"), token(engine, "support", "help-bot"), token(engine, "owner")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:

        def call(method: str, path: str, secret: str, **kwargs: object) -> httpx.Response:
            return http.request(method, path, headers={"Authorization": f"Bearer {secret}"}, **kwargs)  # type: ignore[arg-type]

        listed = call("GET", "/api/v1/handoffs", ops).json()
        assert [h["id"] for h in listed["items"]] == [probe_id] and listed["total"] == 1
        assert listed["items"][0]["sla"] == "ok"
        assert {h["id"] for h in call("GET", "/api/v1/handoffs", owner).json()["items"]} == {probe_id, support_id}
        assert call("GET", f"/api/v1/handoffs/{probe_id}", support).status_code == 403
        assert call("GET", "/api/v1/handoffs/999999", owner).json()["error"]["code"] == "not_found"

        assert call("POST", f"/api/v1/handoffs/{probe_id}/claim", ops).json()["claimed_by"] == "token:ops-bot"
        second = call("POST", f"/api/v1/handoffs/{probe_id}/claim", owner)
        assert second.status_code == 409 and "claimed by token:ops-bot" in second.json()["error"]["message"]

        bad = call("POST", f"/api/v1/handoffs/{probe_id}/resolve", ops, json={"resolution": "maybe"})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "resolution"
        modify = call("POST", f"/api/v1/handoffs/{probe_id}/resolve", ops, json={"resolution": "modify"})
        assert modify.status_code == 400 and modify.json()["error"]["field"] == "changes"
        done = call("POST", f"/api/v1/handoffs/{probe_id}/resolve", ops, json={"resolution": "approve", "note": "ok"})
        assert done.status_code == 200 and done.json()["handoff"]["state"] == "resolved"
        assert done.json()["handoff"]["resolved_by"] == "token:ops-bot"

        audit = call("GET", "/api/v1/audit", support, params={"subject": "thing:2"}).json()
        assert audit == []  # the probe desk is not a support desk
        actions = [a["action"] for a in call("GET", "/api/v1/audit", owner, params={"subject": "thing:2"}).json()]
        assert actions[-2:] == ["handoff.approve", "probe.resumed.approve"]
        metrics = call("GET", "/api/v1/metrics", owner, params={"since": "2000-01-01T00:00:00Z"}).json()
        assert metrics["overall"]["handed_off"] == 1
        naive = call("GET", "/api/v1/metrics", owner, params={"since": "2000-01-01T00:00:00"})
        assert naive.status_code == 400 and naive.json()["error"]["field"] == "since"
        assert call("GET", "/api/v1/desks/orders/objects", support).status_code == 403
        assert call("GET", "/api/v1/desks/orders/objects", ops).json()["items"] == []
        assert call("GET", "/api/v1/desks/nope/objects", owner).status_code == 404


def test_events_api_stores_all_or_nothing_and_only_for_owner_or_ops(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    ops, support = token(engine, "ops"), token(engine, "support", "s")
    good = step("thing:9", 1).model_dump(mode="json")
    bad = {**step("thing:9", 2).model_dump(mode="json"), "payload": {"seq": "two"}}
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        headers = {"Authorization": f"Bearer {ops}"}
        refused = http.post("/api/v1/events", json=[good, bad], headers=headers)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "1.payload.seq"
        with engine.connect() as conn:
            assert conn.execute(select(events.c.id)).all() == []
        engine_kind = {**good, "kind": "handoff.resolved", "external_id": "x"}
        assert http.post("/api/v1/events", json=engine_kind, headers=headers).status_code == 400
        assert http.post("/api/v1/events", content=b"{not json", headers=headers).status_code == 400
        stored = http.post("/api/v1/events", json=[good], headers=headers).json()
        assert stored["stored"] == 1 and stored["duplicates"] == 0
        assert http.post("/api/v1/events", json=good, headers=headers).json()["duplicates"] == 1
        forbidden = http.post("/api/v1/events", json=good, headers={"Authorization": f"Bearer {support}"})
        assert forbidden.status_code == 403


def test_dead_letters_page_and_api_rerun(engine: Engine, registry: Registry, policy: Policy, tmp_path: Path) -> None:
    with engine.begin() as conn:
        ingest(conn, [step("thing:5", 1, fail_times=99)], routes=ROUTES)
    worker = Worker(engine, registry, policy)
    for _ in range(5):
        worker.run(until_idle=True)
        import time

        time.sleep(0.01)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "boss@example.com", "owner")
    owner = token(engine, "owner")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        [dead] = http.get("/api/v1/events/dead", headers={"Authorization": f"Bearer {owner}"}).json()
        assert dead["subject"] == "thing:5" and "probe failure" in dead["last_error"]
        csrf = sign_in(http, "boss@example.com")
        page = http.get("/dead").text
        assert "thing:5" in page and "probe failure" in page
        rerun_page = http.post(f"/dead/{dead['id']}/rerun", data={"csrf_token": csrf})
        assert f"Event {dead['id']} is queued again" in rerun_page.text
        missing = http.post("/api/v1/events/999/rerun", headers={"Authorization": f"Bearer {owner}"})
        assert missing.status_code == 404
    with engine.connect() as conn:
        assert (
            conn.execute(select(event_states.c.status).where(event_states.c.id == dead["id"])).scalar_one() == "pending"
        )


def test_policy_edits_are_validated_versioned_audited_and_reach_the_worker(
    engine: Engine, registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "storeops.toml"
    path.write_text("# the shop's policy\n[inbox]\nsla_minutes = 240 # four hours\n", encoding="utf-8")
    policy = make_policy({"inbox": {"sla_minutes": 240}})
    application, asgi = web(engine, registry, policy, path)
    worker = Worker(engine, registry, policy, policy_file=application.policy_file())
    first_version = policy.version
    owner, ops = token(engine, "owner", "boss"), token(engine, "ops")
    person(engine, "boss@example.com", "owner")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        headers = {"Authorization": f"Bearer {owner}"}
        bad = http.patch(
            "/api/v1/policy", json={"section": "inbox", "key": "sla_minutes", "value": "0"}, headers=headers
        )
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "inbox.sla_minutes"
        not_toml = http.patch(
            "/api/v1/policy", json={"section": "inbox", "key": "sla_minutes", "value": "ten"}, headers=headers
        )
        assert not_toml.status_code == 400 and "not a TOML value" in not_toml.json()["error"]["message"]
        unknown = http.patch("/api/v1/policy", json={"section": "inbox", "key": "nope", "value": "1"}, headers=headers)
        assert unknown.status_code == 400
        assert tomllib.loads(path.read_text())["inbox"]["sla_minutes"] == 240
        forbidden = http.patch(
            "/api/v1/policy",
            json={"section": "inbox", "key": "sla_minutes", "value": "60"},
            headers={"Authorization": f"Bearer {ops}"},
        )
        assert forbidden.status_code == 403
        changed = http.patch(
            "/api/v1/policy", json={"section": "inbox", "key": "sla_minutes", "value": "60"}, headers=headers
        )
        assert changed.status_code == 200 and changed.json()["policy"]["inbox"]["sla_minutes"] == 60
        assert changed.json()["version"] != first_version
        text = path.read_text()
        assert "# the shop's policy" in text and tomllib.loads(text)["inbox"]["sla_minutes"] == 60

        csrf = sign_in(http, "boss@example.com")
        form = http.post(
            "/policy", data={"csrf_token": csrf, "section": "inbox", "key": "warn_before_minutes", "value": "15"}
        )
        assert "warn_before_minutes saved" in form.text
        assert 'value="15"' in http.get("/policy").text
    with engine.connect() as conn:
        edits = conn.execute(
            select(audit_log.c.actor, audit_log.c.evidence).where(audit_log.c.action == "policy.edit")
        ).all()
    assert [(actor, ev["key"], ev["old"], ev["new"]) for actor, ev in edits] == [
        ("token:boss", "sla_minutes", 240, 60),
        ("user:boss@example.com", "warn_before_minutes", 30, 15),
    ]
    assert worker.reload_policy() is True
    assert (worker.policy.inbox.sla_minutes, worker.policy.inbox.warn_before_minutes) == (60, 15)
    assert worker.reload_policy() is False  # nothing changed since


def test_sla_state_boundaries_and_filters(engine: Engine) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    warn = 30
    dues = {
        "overdue-at": now,
        "warning-just-after": now + timedelta(seconds=1),
        "warning-at": now + timedelta(minutes=warn),
        "ok-just-after": now + timedelta(minutes=warn, seconds=1),
    }
    with engine.begin() as conn:
        for subject, due in dues.items():
            handoff_id = open_handoff(
                conn,
                desk="orders",
                subject=subject,
                request=HandoffRequest(role="ops", suggestion="s"),
                reasons=["fraud_signal"],
                evidence={},
                now=now - timedelta(hours=1),
                sla_minutes=1,
                event_id=None,
                policy_version=None,
            )
            conn.execute(handoffs.update().where(handoffs.c.id == handoff_id).values(due_at=due))
    with engine.connect() as conn:
        rows, total = search_inbox(conn, InboxQuery(), now=now, warn_before_minutes=warn)
        assert total == 4
        assert {r["subject"]: r["sla"] for r in rows} == {
            "overdue-at": "overdue",
            "warning-just-after": "warning",
            "warning-at": "warning",
            "ok-just-after": "ok",
        }
        for state in SlaState:
            filtered, _ = search_inbox(conn, InboxQuery(sla=state), now=now, warn_before_minutes=warn)
            assert {r["sla"] for r in filtered} == {state.value}
        assert search_inbox(conn, InboxQuery(reason="fraud"), now=now, warn_before_minutes=warn)[1] == 0
        assert search_inbox(conn, InboxQuery(reason="fraud_signal"), now=now, warn_before_minutes=warn)[1] == 4
        assert search_inbox(conn, InboxQuery(min_age_minutes=61), now=now, warn_before_minutes=warn)[1] == 0
        assert search_inbox(conn, InboxQuery(min_age_minutes=60), now=now, warn_before_minutes=warn)[1] == 4
        assert search_inbox(conn, InboxQuery(role="support"), now=now, warn_before_minutes=warn)[1] == 0


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/panel?days=1", "/subjects/thing:2"])
def test_dashboard_and_subject_pages_show_what_happened(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path, path: str
) -> None:
    now = utcnow()
    with engine.begin() as conn:
        ingest(
            conn,
            [step("thing:1", 1, occurred_at=now), step("thing:2", 1, handoff=True, occurred_at=now)],
            routes=ROUTES,
        )
    Worker(engine, registry, policy).run(until_idle=True)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "boss@example.com", "owner")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        sign_in(http, "boss@example.com")
        page = http.get(path)
    assert page.status_code == 200
    if path.startswith("/dashboard"):
        assert "<svg" in page.text and 'id="fig-handed">1<' in page.text
    else:
        assert "probe.hold" in page.text and "needs person" in page.text


def test_the_owner_adds_and_disables_people_and_nobody_else_may(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "boss@example.com", "owner")
    person(engine, "ops@example.com", "ops")
    with (
        served(asgi) as base,
        httpx.Client(base_url=base, follow_redirects=True) as boss,
        httpx.Client(base_url=base, follow_redirects=True) as ops,
        httpx.Client(base_url=base, follow_redirects=True) as newcomer,
    ):
        boss_csrf = sign_in(boss, "boss@example.com")
        ops_csrf = sign_in(ops, "ops@example.com")
        assert ops.get("/users").status_code == 403
        refused = ops.post(
            "/users", data={"csrf_token": ops_csrf, "email": "x@example.com", "role": "owner", "password": PASSWORD}
        )
        assert refused.status_code == 403
        short = boss.post(
            "/users", data={"csrf_token": boss_csrf, "email": "new@example.com", "role": "support", "password": "short"}
        )
        assert "at least 10 characters" in short.text
        added = boss.post(
            "/users",
            data={"csrf_token": boss_csrf, "email": "new@example.com", "role": "support", "password": PASSWORD},
        )
        assert "new@example.com can sign in now" in added.text
        sign_in(newcomer, "new@example.com")
        disabled = boss.post(
            "/users/access", data={"csrf_token": boss_csrf, "email": "new@example.com", "disable": "true"}
        )
        assert "disabled and signed out" in disabled.text
        assert newcomer.get("/inbox", follow_redirects=False).status_code == 303  # the session ended
        self_disable = boss.post(
            "/users/access", data={"csrf_token": boss_csrf, "email": "boss@example.com", "disable": "true"}
        )
        assert "cannot disable yourself" in self_disable.text
    with engine.connect() as conn:
        actions = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.subject).where(audit_log.c.desk == "engine")
        ).all()
    assert [tuple(row) for row in actions] == [
        ("user:boss@example.com", "user.add", "user:new@example.com"),
        ("user:boss@example.com", "user.disable", "user:new@example.com"),
    ]


def test_figures_cover_only_the_desks_chosen_or_allowed(
    engine: Engine, registry: Registry, policy: Policy, tmp_path: Path
) -> None:
    now = utcnow()  # the dashboard shows the last days
    with engine.begin() as conn:
        ingest(
            conn,
            [step("thing:1", 1, occurred_at=now), step("thing:2", 1, handoff=True, occurred_at=now)],
            routes=ROUTES,
        )
    Worker(engine, registry, policy).run(until_idle=True)
    _, asgi = web(engine, registry, policy, tmp_path / "storeops.toml")
    person(engine, "boss@example.com", "owner")
    owner, support = token(engine, "owner"), token(engine, "support", "s")
    with served(asgi) as base, httpx.Client(base_url=base, follow_redirects=True) as http:
        mine = http.get("/api/v1/metrics", headers={"Authorization": f"Bearer {owner}"}).json()["overall"]
        theirs = http.get("/api/v1/metrics", headers={"Authorization": f"Bearer {support}"}).json()["overall"]
        assert (mine["automatic"], mine["handed_off"]) == (1, 1)
        assert (theirs["automatic"], theirs["handed_off"]) == (0, 0)  # the probe desk is not theirs
        sign_in(http, "boss@example.com")
        assert 'id="fig-handed">1<' in http.get("/dashboard/panel", params={"desk": "probe"}).text
        assert 'id="fig-handed">0<' in http.get("/dashboard/panel", params={"desk": "orders"}).text
