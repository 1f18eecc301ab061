"""The command line as people and scripts use it: exit codes, one-line errors, stable JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner, Result

from storeops.cli.main import app
from storeops.desks.orders.tables import orders
from storeops.desks.support.nlu import SupportModels
from storeops.engine.outbox import outbox_row
from storeops.storage.db import create_db_engine
from storeops.storage.schema import audit_log, events, outbox
from tests.probe_desk import probe_metadata

DESKS = "storeops.desks.orders:DESK,storeops.desks.support:DESK,storeops.desks.inventory:DESK,tests.probe_desk:DESK"


class Cli:
    """Runs ``storeops`` in-process against one database."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.env = {
            "STOREOPS_DATABASE_URL": url,
            "STOREOPS_DESKS": DESKS,
            "STOREOPS_POLICY_FILE": "",
            "STOREOPS_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
        self.tmp_path = tmp_path

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = CliRunner().invoke(app, list(args), env={**self.env, **(env or {})})
        assert "Traceback" not in result.stderr
        return result

    def json(self, *args: str) -> Any:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def count_events(self) -> int:
        engine = create_db_engine(self.url)
        with engine.connect() as conn:
            count = int(conn.execute(select(func.count()).select_from(events)).scalar_one())
        engine.dispose()
        return count


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    runner = Cli(db_url, tmp_path)
    result = runner("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.stdout
    engine = create_db_engine(db_url)
    probe_metadata.create_all(engine)
    engine.dispose()
    return runner


def line(kind: str = "probe.step", external_id: str = "e1", subject: str = "thing:1", **payload: Any) -> str:
    return json.dumps(
        {
            "source": "test",
            "external_id": external_id,
            "kind": kind,
            "subject": subject,
            "occurred_at": "2026-02-01T10:00:00Z",
            "payload": payload or {"seq": 1},
        }
    )


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_stores_once_and_acknowledges_duplicates(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, line(external_id="a"), line(external_id="b", seq=2), "", line(external_id="a"))
    first = cli("ingest", str(path))
    assert first.exit_code == 0 and "stored 2 new events, 1 duplicate acknowledged" in first.stdout
    again = cli("ingest", str(path))
    assert "stored 0 new events, 3 duplicates acknowledged" in again.stdout
    assert cli.count_events() == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "events.jsonl:2: not valid JSON"),
        (line(kind="order.teleported", external_id="x"), "events.jsonl:2: unknown event kind 'order.teleported'"),
        (
            line(external_id="x", seq="seven"),
            "events.jsonl:2: probe.step: payload.seq: Input should be a valid integer",
        ),
        ('["an", "array"]', "events.jsonl:2: an event must be a JSON object, got list"),
    ],
)
def test_one_bad_line_stores_nothing_and_names_the_line(cli: Cli, tmp_path: Path, bad: str, message: str) -> None:
    path = write(tmp_path, line(external_id="ok"), bad, line(external_id="ok2"))
    result = cli("ingest", str(path))
    assert result.exit_code == 2
    assert message in result.output
    assert cli.count_events() == 0


def test_ingest_of_a_missing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2 and "cannot read" in result.output and "No such file" in result.output


def test_handoff_list_resolve_and_audit_json(cli: Cli, tmp_path: Path) -> None:
    cli("ingest", str(write(tmp_path, line(seq=5, handoff=True))))
    assert cli("work", "--until-idle").exit_code == 0
    [handoff] = cli.json("handoffs", "list", "--json")
    assert {"id", "desk", "subject", "reasons", "state", "created_at"} <= set(handoff)
    assert (handoff["desk"], handoff["subject"], handoff["reasons"], handoff["state"]) == (
        "probe",
        "thing:1",
        ["needs_person"],
        "open",
    )
    both = cli("handoffs", "resolve", str(handoff["id"]), "--approve", "--reject")
    assert both.exit_code == 2 and "exactly one of --approve, --reject or --modify" in both.output
    bad_json = cli("handoffs", "resolve", str(handoff["id"]), "--modify", "{postal")
    assert bad_json.exit_code == 2 and "--modify: not valid JSON" in bad_json.output
    not_object = cli("handoffs", "resolve", str(handoff["id"]), "--modify", "[1]")
    assert not_object.exit_code == 2 and "JSON object of changes" in not_object.output
    resolved = cli("handoffs", "resolve", str(handoff["id"]), "--approve", "--note", "known customer", "--as", "ana")
    assert resolved.exit_code == 0, resolved.output
    again = cli("handoffs", "resolve", str(handoff["id"]), "--reject")
    assert again.exit_code == 2 and "already resolved" in again.output
    missing = cli("handoffs", "resolve", "999", "--reject")
    assert missing.exit_code == 2 and "handoff 999 does not exist" in missing.output
    assert cli.json("handoffs", "list", "--json") == []
    assert [h["state"] for h in cli.json("handoffs", "list", "--json", "--state", "all")] == ["resolved"]
    cli("work", "--until-idle")
    trail = cli.json("audit", "--subject", "thing:1", "--json")
    for entry in trail:
        assert {"at", "actor", "subject", "action", "reasons", "evidence"} <= set(entry)
    assert [(e["actor"], e["action"]) for e in trail] == [
        ("automation:probe", "probe.hold"),
        ("user:ana", "handoff.approve"),
        ("automation:probe", "probe.resumed.approve"),
    ]
    assert trail[1]["evidence"]["note"] == "known customer"


def test_report_json_counts_what_happened(cli: Cli, tmp_path: Path) -> None:
    cli(
        "ingest",
        str(
            write(
                tmp_path,
                line(external_id="1", subject="thing:1", seq=1),
                line(external_id="2", subject="thing:2", seq=1),
                line(external_id="3", subject="thing:3", seq=1, handoff=True),
                line(kind="probe.ignored", external_id="4", subject="thing:4"),
            )
        ),
    )
    cli("work", "--until-idle")
    report = cli.json("report", "--json")
    [probe] = [d for d in report["desks"] if d["desk"] == "probe"]
    assert (probe["events"], probe["automatic"], probe["handed_off"], probe["unhandled"]) == (4, 2, 1, 1)
    assert probe["automation_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert probe["handoffs_by_reason"] == {"needs_person": 1}
    assert probe["time_saved_minutes"] == 4.0  # two probe.step tasks at 2 minutes each
    assert report["overall"]["events"] == 4
    bad = cli("report", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.output


def test_dead_letters_listed_and_rerun(cli: Cli, tmp_path: Path) -> None:
    cli("ingest", str(write(tmp_path, line(seq=1, fail_times=99))))
    policy = tmp_path / "fast.toml"
    policy.write_text("[engine]\nmax_attempts = 1\n", encoding="utf-8")
    cli("work", "--until-idle", env={"STOREOPS_POLICY_FILE": str(policy)})
    [dead] = cli.json("events", "dead", "--json")
    assert dead["status"] == "dead" and "probe failure on attempt 1" in dead["last_error"]
    assert cli("events", "rerun", str(dead["id"])).exit_code == 0
    refused = cli("events", "rerun", str(dead["id"]))
    assert refused.exit_code == 2 and "only dead ones can be re-run" in refused.output


def test_policy_check_names_the_bad_key(cli: Cli, tmp_path: Path) -> None:
    policy = tmp_path / "storeops.toml"
    policy.write_text("[orders]\nrisk_threshold = 2\n", encoding="utf-8")
    result = cli("policy", "check", env={"STOREOPS_POLICY_FILE": str(policy)})
    assert result.exit_code == 2
    assert f"{policy}: [orders] risk_threshold: Input should be less than or equal to 1" in result.output
    policy.write_text("[orders]\nrisk_threshold = 0.5\n", encoding="utf-8")
    assert cli("policy", "check", env={"STOREOPS_POLICY_FILE": str(policy)}).exit_code == 0
    assert cli.json("policy", "show", "--json")["orders"]["high_value_threshold"] == "500.00"


# Two whole days in the past: a window ending today grows as the clock moves between two runs,
# and the second run would rightly store what has happened since.
PAST = ("--days", "2", "--start", "2026-01-05")


def test_simulate_into_the_database_is_idempotent(cli: Cli) -> None:
    first = cli("simulate", *PAST, "--seed", "3")
    assert first.exit_code == 0, first.output
    stored = cli.count_events()
    assert stored > 100
    second = cli("simulate", *PAST, "--seed", "3")
    assert f"stored 0 new events ({stored:,} already there)" in second.stdout
    assert cli.count_events() == stored


def test_a_second_seed_into_the_same_store_brings_its_own_orders_customers_and_tickets(cli: Cli) -> None:
    # given a store holding seed 7's simulation
    assert cli("simulate", *PAST, "--seed", "7").exit_code == 0
    # when seed 8's is simulated into it
    second = cli("simulate", *PAST, "--seed", "8")
    assert second.exit_code == 0 and "(0 already there)" in second.stdout
    # then no order, customer or ticket has events from both
    engine = create_db_engine(cli.url)
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.subject, events.c.external_id, events.c.kind, events.c.payload)).all()
    by_seed: dict[str, set[str]] = {"7": set(), "8": set()}
    numbers: dict[str, set[str]] = {"7": set(), "8": set()}
    for subject, external_id, kind, payload in rows:
        seed = external_id.split("-")[1]
        if not subject.startswith("sku:"):
            by_seed[seed].add(subject)
        if kind == "order.created":
            numbers[seed].add(payload["order_number"])
    assert numbers["7"] and numbers["8"] and not numbers["7"] & numbers["8"]
    assert {s.split(":")[0] for s in by_seed["8"]} >= {"order", "customer", "ticket"}
    assert not by_seed["7"] & by_seed["8"]
    # and when storeops decides them, each seed's orders are orders of their own
    assert cli("work", "--until-idle").exit_code == 0
    with engine.connect() as conn:
        stored = set(conn.execute(select(orders.c.number)).scalars())
    engine.dispose()
    assert stored == numbers["7"] | numbers["8"]
    # and the same seed again stores nothing twice
    assert "stored 0 new events" in cli("simulate", *PAST, "--seed", "8").stdout


def test_a_store_holds_only_what_has_happened(cli: Cli) -> None:
    # a simulation into the store whose last day is today stops at the present
    before = datetime.now(UTC)
    assert cli("simulate", "--days", "1").exit_code == 0
    engine = create_db_engine(cli.url)
    with engine.connect() as conn:
        latest = conn.execute(select(func.max(events.c.occurred_at))).scalar_one()
    engine.dispose()
    assert latest is not None and latest <= datetime.now(UTC)
    assert latest >= before.replace(hour=0, minute=0, second=0, microsecond=0)
    # and days still to come are refused, naming the option
    result = cli("simulate", "--days", "2", "--start", "2999-01-01")
    assert result.exit_code == 2 and "--start: 2999-01-01 is in the future" in result.stderr


def test_simulate_to_files_is_deterministic_and_keeps_truth_apart(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(
            app,
            [
                "simulate",
                "--days",
                "3",
                "--seed",
                "5",
                "--start",
                "2026-01-05",
                "--out",
                str(tmp_path / f"{name}.jsonl"),
            ],
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    truth = [json.loads(x) for x in (tmp_path / "a.truth.jsonl").read_text().splitlines()]
    assert truth and all({"external_id", "subject", "label"} <= set(t) for t in truth)
    assert '"label":' not in (tmp_path / "a.jsonl").read_text()


def test_database_problems_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("shopping list: bread, milk, eggs\n" * 200, encoding="utf-8")
    cases = {
        # a URL naming a file that is not SQLite (issue 15 item 8): a traceback before
        f"sqlite:///{not_a_database}": "file is not a database",
        f"sqlite:///{tmp_path}/fresh.db": "has no storeops schema; run 'storeops db upgrade' first",
        f"sqlite:///{tmp_path}/no/such/folder/x.db": "folder",
        "postgresql+psycopg://nobody@127.0.0.1:1/none": "cannot reach database",
        "not a url": "is not a database URL",
        "mysql://root@localhost/x": "unsupported database 'mysql'",
    }
    for url, message in cases.items():
        result = runner.invoke(app, ["handoffs", "list"], env={"STOREOPS_DATABASE_URL": url})
        assert result.exit_code == 3, (url, result.output)
        assert message in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) <= 2


def test_demo_without_serving_prints_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--days", "2", "--no-serve"], env={"STOREOPS_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert "What happened, per desk" in result.stdout and "estimated time saved" in result.stdout
    assert (tmp_path / "storeops.db").exists()


def test_modify_sends_the_changes_to_the_desk(cli: Cli, tmp_path: Path) -> None:
    cli("ingest", str(write(tmp_path, line(seq=5, handoff=True))))
    cli("work", "--until-idle")
    [handoff] = cli.json("handoffs", "list", "--json")
    changes = '{"shipping_address": {"postal_code": "69001"}}'
    result = cli("handoffs", "resolve", str(handoff["id"]), "--modify", changes, "--as", "ana")
    assert result.exit_code == 0 and "modified" in result.stdout
    [entry] = [e for e in cli.json("audit", "--json") if e["action"] == "handoff.modify"]
    assert entry["evidence"]["changes"] == {"shipping_address": {"postal_code": "69001"}}


def test_ingest_a_shopify_file_through_the_webhook_path(cli: Cli, tmp_path: Path) -> None:
    order = {
        "order": {
            "id": 9,
            "name": "#9",
            "currency": "EUR",
            "total_price": "20.00",
            "email": "a@b.test",
            "customer": {"id": 5},
            "line_items": [{"sku": "TEE", "quantity": 1, "price": "20.00"}],
        }
    }
    path = tmp_path / "order.json"
    path.write_text(json.dumps(order), encoding="utf-8")
    ok = cli("ingest", "shopify", "--topic", "orders/create", str(path))
    assert ok.exit_code == 0 and "stored 1 new event," in ok.stdout
    order["order"]["line_items"][0]["price"] = "twenty"
    path.write_text(json.dumps(order), encoding="utf-8")
    bad = cli("ingest", "shopify", "--topic", "orders/create", str(path))
    assert bad.exit_code == 2 and "order.line_items[0].price" in bad.output
    assert cli("ingest", "etsy", str(path)).exit_code == 2
    assert "--topic and --backfill go with a storefront file" in cli("ingest", str(path), "--topic", "x").output
    assert cli.count_events() == 1


def test_support_ask_prints_the_documented_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, support_models: SupportModels
) -> None:

    # The store's own model (here the default's learners under another version) wins over the default.
    SupportModels(support_models.intent, support_models.sentiment, "cli-test").save(tmp_path / "models")
    runner = CliRunner()
    env = {"STOREOPS_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", "STOREOPS_MODELS_DIR": str(tmp_path / "models")}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(
        app, ["support", "ask", "--text", "I want to speak to a human", "--email", "a@b.test", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) >= {"conversation", "reply", "intents", "sentiment", "handoff"}
    assert answer["handoff"]["reasons"] == ["asked_for_human"]
    assert {"label", "score"} <= set(answer["sentiment"])
    with create_db_engine(env["STOREOPS_DATABASE_URL"]).connect() as conn:
        [evidence] = conn.execute(select(audit_log.c.evidence).where(audit_log.c.desk == "support")).scalars()
    assert evidence["model"] == "cli-test"


def test_ingest_email_threads_replies_into_one_conversation(cli: Cli, tmp_path: Path) -> None:
    first = tmp_path / "first.eml"
    first.write_text(
        "From: Ana Lima <ana@example.test>\nTo: help@shop.test\nSubject: Where is my parcel?\n"
        "Message-ID: <m1@example.test>\nDate: Mon, 02 Mar 2026 10:00:00 +0100\n"
        "Content-Type: text/plain; charset=utf-8\n\nHello, my order has not arrived yet.\n-- \nAna\n",
        encoding="utf-8",
    )
    reply = tmp_path / "reply.eml"
    reply.write_text(
        "From: ana@example.test\nSubject: Re: Where is my parcel?\nMessage-ID: <m2@example.test>\n"
        "In-Reply-To: <m1@example.test>\nReferences: <m1@example.test>\nDate: Mon, 02 Mar 2026 12:00:00 +0100\n"
        "Content-Type: text/plain; charset=utf-8\n\nAny news?\n> Hello, my order has not arrived yet.\n",
        encoding="utf-8",
    )
    assert cli("ingest", "email", str(first)).exit_code == 0
    assert "stored 1 new event," in cli("ingest", "email", str(reply)).stdout
    assert "1 duplicate acknowledged" in cli("ingest", "email", str(reply)).stdout
    engine = create_db_engine(cli.url)
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.subject, events.c.payload).order_by(events.c.id)).all()
    engine.dispose()
    assert rows[0].subject == rows[1].subject and rows[0].subject.startswith("ticket:email:")
    assert rows[1].payload["text"] == "Re: Where is my parcel?\nAny news?"
    assert (
        rows[0].payload["customer_email"] == "ana@example.test" and "Ana" not in rows[0].payload["text"].split("\n")[-1]
    )
    broken = tmp_path / "broken.eml"
    broken.write_text("Subject: no sender\nMessage-ID: <m3@example.test>\n\nhi\n", encoding="utf-8")
    result = cli("ingest", "email", str(broken))
    assert result.exit_code == 2 and "no sender address in From" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sku,location\nMUG,WH\n", "line 1: the header needs sku, location, counted; missing counted"),
        ("sku,location,counted\nMUG,WH,4\nCUP,WH,four\n", "line 3: counted must be a whole number ≥ 0, got 'four'"),
        ("sku,location,counted\nMUG,WH,4\nCUP,WH,-1\n", "line 3: counted must be a whole number"),
        ("sku,location,counted\nMUG,WH,4\n,WH,1\n", "line 3: sku is empty"),
        ("sku,location,counted\nMUG,WH,4\nMUG,WH,5\n", "line 3: MUG at WH was already counted on line 2"),
        ("sku,location,counted,counted_at\nMUG,WH,4,2026-06-01T10:00\n", "counted_at needs an offset"),
        ("sku,location,counted\n", "the file has a header but no counts"),
    ],
)
def test_a_bad_stock_count_file_is_rejected_with_its_line_and_nothing_applied(
    cli: Cli, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(content, encoding="utf-8")
    result = cli("ingest", "stock-count", str(path))
    assert result.exit_code == 2 and message in result.output, result.output
    assert cli.count_events() == 0


def test_a_stock_count_file_becomes_counts_once(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_bytes("\ufeffSKU,Location,Counted\nMUG,WH,4\nCUP,WH,0\n".encode())
    env = {"STOREOPS_DESKS": "storeops.desks.inventory:DESK"}
    assert "stored 2 new events" in cli("ingest", "stock-count", str(path), env=env).stdout
    assert "stored 0 new events, 2 duplicates" in cli("ingest", "stock-count", str(path), env=env).stdout


def test_users_and_tokens_from_the_command_line(cli: Cli) -> None:
    added = CliRunner().invoke(
        app,
        ["users", "add", "Boss@Example.com", "--role", "owner", "--password-stdin"],
        env=cli.env,
        input="correct-horse-battery\n",
    )
    assert added.exit_code == 0 and "added boss@example.com as owner" in added.stdout
    again = CliRunner().invoke(
        app, ["users", "add", "boss@example.com", "--role", "ops", "--password-stdin"], env=cli.env, input="x" * 12
    )
    assert again.exit_code == 2 and "already exists" in again.output
    short = CliRunner().invoke(
        app, ["users", "add", "b@example.com", "--role", "ops", "--password-stdin"], env=cli.env, input="short\n"
    )
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    bad_role = cli("tokens", "create", "--role", "king")
    assert bad_role.exit_code == 2 and "unknown role 'king'" in bad_role.output
    [user] = cli.json("users", "list", "--json")
    assert (user["email"], user["role"], user["disabled_at"]) == ("boss@example.com", "owner", None)
    assert "password_hash" not in user
    created = cli("tokens", "create", "--role", "ops", "--name", "erp")
    assert created.exit_code == 0 and created.stdout.strip().startswith("so_")
    assert "revoked 1 token named 'erp'" in cli("tokens", "revoke", "erp").stdout
    assert cli("tokens", "revoke", "erp").exit_code == 2
    assert "disabled" in cli("users", "disable", "boss@example.com").stdout
    assert cli.json("users", "list", "--json")[0]["disabled_at"] is not None


def test_a_storefront_import_takes_a_file_of_many_and_names_a_bad_one(cli: Cli, tmp_path: Path) -> None:
    levels = [
        {"inventory_item_id": n, "location_id": 9, "available": n, "updated_at": "2026-11-29T08:00:00Z"}
        for n in (1, 2, 3)
    ]
    path = tmp_path / "levels.jsonl"
    broken = [*levels[:2], {"inventory_item_id": 3, "available": 1}]
    path.write_text("\n".join(json.dumps(level) for level in broken) + "\n", encoding="utf-8")
    bad = cli("ingest", "shopify", "--backfill", "--topic", "inventory_levels/update", str(path))
    assert bad.exit_code == 2
    assert "levels.jsonl: line 3: inventory_level.location_id is missing" in bad.output
    assert cli.count_events() == 0  # nothing of a file with a bad line is stored

    path.write_text("\n".join(json.dumps(level) for level in levels) + "\n", encoding="utf-8")
    ok = cli("ingest", "shopify", "--backfill", "--topic", "inventory_levels/update", str(path))
    assert ok.exit_code == 0, ok.output
    assert "stored 3 new events, 0 duplicates acknowledged (an import" in ok.stdout
    assert cli.count_events() == 3
    imports = [row for row in cli.json("audit", "--json") if row["action"] == "store.import"]
    assert [(row["outcome"], row["evidence"]["events"], row["evidence"]["topic"]) for row in imports] == [
        ("human", 3, "inventory_levels/update")
    ]
    # a REST list of the same levels is the same events
    (tmp_path / "levels.json").write_text(json.dumps({"inventory_levels": levels}), encoding="utf-8")
    again = cli("ingest", "shopify", "--backfill", "--topic", "inventory_levels/update", str(tmp_path / "levels.json"))
    assert "stored 0 new events, 3 duplicates acknowledged" in again.stdout
    # --backfill is for a storefront's records only
    refused = cli("ingest", "email", "--backfill", str(path))
    assert refused.exit_code == 2 and "--backfill imports a storefront's records" in refused.output


def test_desks_lists_what_each_desk_defines_and_subscribes_to(cli: Cli) -> None:
    described = {desk["desk"]: desk for desk in cli.json("desks", "--json")}
    assert set(described) == {"orders", "support", "inventory", "probe"}
    assert "order.created" in described["orders"]["defines"]
    assert "order.created" in described["orders"]["subscribes"]
    assert (
        "refund.created" in described["orders"]["defines"] and "refund.created" not in described["orders"]["subscribes"]
    )
    assert "handoff.resolved" in described["inventory"]["subscribes"]
    assert described["probe"]["subscribes"] == ["probe.step", "handoff.resolved"]
    text = cli("desks").stdout
    assert "subscribes:" in text and "probe.step" in text


def test_a_year_9999_timestamp_in_an_ingest_line_is_a_one_line_error(cli: Cli, tmp_path: Path) -> None:
    # issue 15 item 8: converting 9999-12-31T23:59:59-05:00 to UTC overflowed into a traceback
    for when in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "1969-12-31T23:59:59Z"):
        line = {
            "source": "shop",
            "external_id": "late",
            "kind": "stock.counted",
            "subject": "sku:TEE",
            "occurred_at": when,
            "payload": {"sku": "TEE", "location": "WH-1", "counted": 3},
        }
        path = tmp_path / "events.jsonl"
        path.write_text(json.dumps(line) + "\n", encoding="utf-8")
        result = cli("ingest", str(path))
        assert result.exit_code == 2, result.output
        assert f"events.jsonl:1: occurred_at: Value error, timestamp {when.replace('Z', '+00:00')} is outside" in (
            result.output.replace("\n", "")
        )
    line["occurred_at"] = "2100-12-31T23:59:59Z"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert cli("ingest", str(path)).exit_code == 0
    assert cli.count_events() == 1


def test_a_wrong_setting_is_a_one_line_error_naming_the_variable(cli: Cli) -> None:
    for name, value in (("STOREOPS_MAX_WEBHOOK_BYTES", "lots"), ("STOREOPS_TRUSTED_PROXIES", "10.0.0.1, the-proxy")):
        result = cli("handoffs", "list", env={name: value})
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: {name}:"), result.output
        assert len(result.output.strip().splitlines()) <= 2


def test_status_before_the_schema_says_so_and_loads_no_model(tmp_path: Path) -> None:
    env = {"STOREOPS_DATABASE_URL": f"sqlite:///{tmp_path}/new.db", "STOREOPS_MODELS_DIR": str(tmp_path / "m")}
    result = CliRunner().invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["database"]["kind"] == "sqlite"
    assert (status["database"]["schema_revision"], status["database"]["up_to_date"]) == (None, False)
    assert status["events"] == {"pending": None, "dead": None}
    text = CliRunner().invoke(app, ["status"], env=env)
    assert "no schema yet: run storeops db upgrade" in text.stdout


def test_status_json_names_each_desk_s_models_and_what_waits(cli: Cli, tmp_path: Path) -> None:
    from storeops.desks.support.models import default_version

    cli("ingest", str(write(tmp_path, line(seq=5, handoff=True), line(external_id="e2", subject="thing:2"))))
    status = cli.json("status", "--json")
    assert set(status) == {"database", "policy", "events", "handoffs", "outbox", "desks"}
    database = status["database"]
    assert database["up_to_date"] is True and database["schema_revision"] == database["head_revision"]
    assert status["events"] == {"pending": 2, "dead": 0}
    cli("work", "--until-idle")
    status = cli.json("status", "--json")
    assert (status["events"], status["handoffs"]) == ({"pending": 0, "dead": 0}, {"open": 1, "by_desk": {"probe": 1}})
    models = {desk["desk"]: desk["models"] for desk in status["desks"]}
    assert list(models) == ["orders", "support", "inventory", "probe"]
    keys = {"name", "source", "version", "trained_at", "path", "sklearn_version", "data_digest", "ready", "note"}
    assert all(set(model) == keys for desk in models.values() for model in desk)
    [risk], [nlu], [forecast], [] = models.values()
    assert (risk["name"], risk["source"], risk["version"]) == ("orders-risk", "rules", "rules-1")
    assert (nlu["name"], nlu["source"], nlu["version"]) == ("support-nlu", "default", default_version())
    assert forecast["source"] == "fitted per run"
    text = cli("status").stdout
    assert f"support   support-nlu {default_version()} (default, from the shipped data" in text
    assert "handoffs  1 open (probe 1)" in text
    # what waits to be sent, and what was given up on, per connector
    assert status["outbox"] == {"pending": 0, "dead": 0, "by_connector": {}}
    now = datetime.now(UTC)
    engine = create_db_engine(cli.url)
    with engine.begin() as conn:
        rows = [
            outbox_row(connector=c, action="a", payload={}, key=f"k{i}", subject="thing:1", event_id=None, now=now)
            for i, c in enumerate(["email", "email", "storefront"])
        ]
        conn.execute(insert(outbox), rows)
        conn.execute(update(outbox).where(outbox.c.connector == "storefront").values(status="dead"))
    engine.dispose()
    assert cli.json("status", "--json")["outbox"] == {
        "pending": 2,
        "dead": 1,
        "by_connector": {"email": {"pending": 2, "dead": 0}, "storefront": {"pending": 0, "dead": 1}},
    }
    assert "outbox    2 pending, 1 dead (email 2 pending, storefront 0 pending 1 dead)" in cli("status").stdout


def test_building_the_default_is_a_support_nlu_step(cli: Cli, support_models: SupportModels) -> None:
    built = cli("models", "train", "support-nlu", "--default")
    assert built.exit_code == 0 and f"support-nlu {support_models.version} is ready at" in built.stdout
    wrong = cli("models", "train", "orders-risk", "--default")
    assert wrong.exit_code == 2 and "--default goes with support-nlu" in wrong.output


def test_an_unwritable_model_cache_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache should be", encoding="utf-8")
    env = {"STOREOPS_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", "STOREOPS_CACHE_DIR": str(blocked / "cache")}
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    result = CliRunner().invoke(app, ["support", "ask", "--text", "hi"], env=env)
    assert result.exit_code == 2
    assert (
        result.output.strip().splitlines()[-1].startswith(f"error: cannot keep the default support model in {blocked}")
    )
    assert "STOREOPS_CACHE_DIR" in result.output and "Traceback" not in result.output
