"""Importing suppliers and contracts: procurement's (or the owner's) action, checked line by line
before anything is written, applied in one transaction with its audit row and renewal timers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from storeops.accounts import Principal, Role
from storeops.clock import utcnow
from storeops.commands.audit import record, require_role
from storeops.desks.vendors.catalogue import (
    known_suppliers,
    parse_contracts,
    parse_suppliers,
    write_contracts,
    write_suppliers,
)
from storeops.desks.vendors.handlers import keep_report_running, keep_sweep_running, schedule_renewal
from storeops.desks.vendors.policy import VendorsPolicy


def import_suppliers(
    engine: Engine, actor: Principal, text: str, *, source: str, policy: VendorsPolicy | None = None
) -> dict[str, int]:
    """Suppliers and their catalogues from CSV text: all of it, or (on a bad line) nothing. With the
    policy, the weekly report's timer is set up too (when it names someone to mail it to)."""
    require_role(actor, [Role.PROCUREMENT], "import suppliers")
    rows = parse_suppliers(text)
    with engine.begin() as conn:
        now = utcnow()
        counts = write_suppliers(conn, rows, now)
        if policy is not None:
            keep_report_running(conn, policy, now)
        record(
            conn,
            actor,
            "vendors.suppliers_import",
            "vendors:suppliers",
            desk="vendors",
            evidence={**counts, "source": source, "suppliers_named": [row.supplier for row in rows][:200]},
        )
    return counts


def import_contracts(
    engine: Engine, actor: Principal, text: str, policy: VendorsPolicy, *, source: str
) -> list[dict[str, Any]]:
    """Contracts from CSV text, each with its renewal timer set: all of it, or nothing. Returns
    each contract with the day it comes to a person."""
    require_role(actor, [Role.PROCUREMENT], "import contracts")
    with engine.begin() as conn:
        rows = parse_contracts(text, known_suppliers(conn))
        now = utcnow()
        write_contracts(conn, rows, now)
        keep_report_running(conn, policy, now)
        keep_sweep_running(conn, now)
        out = []
        for row in rows:
            at = schedule_renewal(conn, row["contract"], row["ends_on"], row["notice_days"], policy)
            out.append(
                {
                    "contract": row["contract"],
                    "supplier": row["supplier"],
                    "ends_on": row["ends_on"].isoformat(),
                    "renewal_due_on": at.date().isoformat(),
                }
            )
        record(
            conn,
            actor,
            "vendors.contracts_import",
            "vendors:contracts",
            desk="vendors",
            evidence={"contracts": len(rows), "source": source, "renewals": out[:200]},
        )
    return out
