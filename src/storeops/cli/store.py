"""The store itself: its database schema, its policy, the desks it runs and ``status``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from storeops.bootstrap import App
from storeops.cli.app import _app, _errors, _operator, app, db_app, policy_app
from storeops.cli.output import console, print_json
from storeops.engine.policy import policy_defaults_dict
from storeops.engine.queue import event_states
from storeops.errors import InvalidInput
from storeops.storage.db import read_only
from storeops.storage.migrate import upgrade
from storeops.storage.schema import handoffs as handoff_table
from storeops.storage.schema import outbox as outbox_table

# --- db, policy -------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema of STOREOPS_DATABASE_URL (default ./storeops.db)."""
    with _errors():
        application = _app(need_schema=False)
        upgrade(application.engine)
        console.print(f"database {application.engine.url.render_as_string(hide_password=True)} is up to date")


@policy_app.command("check")
def policy_check() -> None:
    """Validate the policy file and print its digest; exit 2 naming the key when it is wrong."""
    with _errors():
        application = _app(check=False)
        console.print(f"policy OK ({application.policy.source}), digest {application.policy.digest[:12]}")


@policy_app.command("set")
def policy_set(
    key: Annotated[str, typer.Argument(metavar="SECTION.KEY", help="e.g. orders.high_value_threshold")],
    value: Annotated[str, typer.Argument(help="The value in TOML syntax, e.g. '\"750.00\"' or 0.8.")],
) -> None:
    """Change one policy value: validated against every desk's policy, written to the policy file
    with its comments kept, versioned and audited; running workers pick it up within a second."""
    from storeops.commands.policy import change_policy

    with _errors():
        section, dot, name = key.partition(".")
        if not dot or not section or not name:
            raise InvalidInput(f"{key!r}: say SECTION.KEY, e.g. orders.high_value_threshold", field="key")
        application = _app()
        version = change_policy(application, _operator(), section, name, value)
        console.print(f"[{section}] {name} saved in {application.policy_path}; policy version {version}")


@policy_app.command("show")
def policy_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    defaults: Annotated[bool, typer.Option("--defaults", help="Every key with its default and meaning.")] = False,
) -> None:
    """Print the effective policy (defaults filled in)."""
    with _errors():
        application = _app(check=False)
        data: dict[str, Any] = policy_defaults_dict(application.desks) if defaults else application.policy.as_dict()
        if as_json:
            print_json(data)
            return
        for section, values in data.items():
            console.print(f"[bold]\\[{section}][/]")
            for key, value in values.items():
                console.print(f"  {key} = {json.dumps(value, default=str)}", highlight=False, markup=False)


@app.command("desks")
def desks_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/cli.md).")] = False) -> None:
    """The desks this store runs: the event kinds each defines and the kinds each subscribes to."""
    with _errors():
        application = _app(check=False)
        described = application.registry.describe()
        if as_json:
            print_json(described)
            return
        for desk in described:
            console.print(f"[bold]{desk['desk']}[/] (for {desk['default_role']})", highlight=False)
            console.print(f"  defines:    {', '.join(desk['defines']) or '—'}", highlight=False)
            console.print(f"  subscribes: {', '.join(desk['subscribes']) or '—'}", highlight=False)


def _status(application: App) -> dict[str, Any]:
    from storeops.bootstrap import model_status
    from storeops.storage.migrate import revisions

    engine = application.engine
    current, head = revisions(engine)
    data: dict[str, Any] = {
        "database": {
            "url": engine.url.render_as_string(hide_password=True),
            "kind": engine.dialect.name,
            "schema_revision": current,
            "head_revision": head,
            "up_to_date": current == head,
        },
        "policy": {"source": application.policy.source, "digest": application.policy.digest},
        "events": {"pending": None, "dead": None},
        "handoffs": {"open": None, "by_desk": {}},
        "outbox": {"pending": None, "dead": None, "by_connector": {}},
        "desks": [],
    }
    if current is not None:
        with read_only(engine).connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(event_states.c.status, func.count())
                    .where(event_states.c.status.in_(("pending", "dead")))
                    .group_by(event_states.c.status)
                ).all()
            )
            by_desk: dict[str, int] = dict(
                conn.execute(
                    select(handoff_table.c.desk, func.count())
                    .where(handoff_table.c.state.in_(("open", "claimed")))
                    .group_by(handoff_table.c.desk)
                    .order_by(handoff_table.c.desk)
                ).all()
            )
            waiting_out = conn.execute(
                select(outbox_table.c.connector, outbox_table.c.status, func.count())
                .where(outbox_table.c.status.in_(("pending", "dead")))
                .group_by(outbox_table.c.connector, outbox_table.c.status)
                .order_by(outbox_table.c.connector)
            ).all()
        by_connector: dict[str, dict[str, int]] = {}
        for connector, status, n in waiting_out:
            by_connector.setdefault(connector, {"pending": 0, "dead": 0})[status] = int(n)
        data["outbox"] = {
            "pending": sum(c["pending"] for c in by_connector.values()),
            "dead": sum(c["dead"] for c in by_connector.values()),
            "by_connector": by_connector,
        }
        data["events"] = {"pending": int(counts.get("pending", 0)), "dead": int(counts.get("dead", 0))}
        data["handoffs"] = {"open": sum(by_desk.values()), "by_desk": {k: int(v) for k, v in by_desk.items()}}
    models = model_status(application)
    data["desks"] = [{"desk": desk.name, "models": models.get(desk.name, [])} for desk in application.desks]
    return data


ORIGINS = {"store": "store-trained", "default": "default, from the shipped data", "rules": "rules"}


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON object (docs/cli.md).")] = False,
) -> None:
    """What this store runs on: the database and its schema, waiting events and handoffs, and the
    models each desk decides with (store-trained or default, version, date). Loads nothing."""
    with _errors():
        data = _status(_app(need_schema=False))
        if as_json:
            print_json(data)
            return
        db = data["database"]
        schema = (
            "no schema yet: run storeops db upgrade"
            if db["schema_revision"] is None
            else f"schema {db['schema_revision']}" + ("" if db["up_to_date"] else f", behind {db['head_revision']}")
        )
        console.print(f"database  {db['url']} ({db['kind']}), {schema}", highlight=False, soft_wrap=True)
        console.print(f"policy    {data['policy']['source']}, digest {data['policy']['digest'][:12]}", highlight=False)
        if db["schema_revision"] is not None:
            console.print(
                f"events    {data['events']['pending']:,} pending, {data['events']['dead']:,} dead", highlight=False
            )
            waiting = ", ".join(f"{desk} {n:,}" for desk, n in data["handoffs"]["by_desk"].items())
            console.print(
                f"handoffs  {data['handoffs']['open']:,} open" + (f" ({waiting})" if waiting else ""), highlight=False
            )
            out = data["outbox"]
            stuck = ", ".join(
                f"{name} {c['pending']:,} pending" + (f" {c['dead']:,} dead" if c["dead"] else "")
                for name, c in out["by_connector"].items()
            )
            console.print(
                f"outbox    {out['pending']:,} pending, {out['dead']:,} dead" + (f" ({stuck})" if stuck else ""),
                highlight=False,
                soft_wrap=True,
            )
        for desk in data["desks"]:
            for model in desk["models"]:
                when = f", trained {model['trained_at'][:19]}Z" if model["trained_at"] else ""
                origin = ORIGINS.get(model["source"], model["source"])
                line = f"{desk['desk']:<9} {model['name']} {model['version']} ({origin}{when})"
                if model["note"]:
                    line += f"; {model['note']}"
                console.print(line, highlight=False, markup=False, soft_wrap=True)
