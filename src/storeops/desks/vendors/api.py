"""What other desks, the web app and the CLI may ask of the vendors desk (its tables are its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from storeops.desks.vendors.handlers import renewal_due_on
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.report import FORMATS, render, renewals, report_data
from storeops.desks.vendors.scorecard import month_bounds, month_of, monthly_scorecards, scorecards
from storeops.engine.policy import Policy

__all__ = [
    "FORMATS",
    "VendorsPolicy",
    "month_bounds",
    "month_of",
    "monthly_scorecards",
    "panel",
    "render",
    "renewal_due_on",
    "renewals",
    "report_data",
    "scorecards",
    "vendors_policy",
]


def vendors_policy(policy: Policy) -> VendorsPolicy:
    """The [vendors] section (its defaults when the store runs without the vendors desk)."""
    section = policy.sections.get("vendors")
    return section if isinstance(section, VendorsPolicy) else VendorsPolicy()


def panel(conn: Connection, policy: Policy, *, now: datetime | None = None) -> dict[str, Any]:
    """The dashboard's vendors panel: this month's scorecards, the latest SLA breaches, renewals due."""
    from datetime import timedelta

    from storeops.desks.vendors.report import breaches

    now = now or datetime.now(UTC)
    section = vendors_policy(policy)
    period = month_of(now)
    since, until = month_bounds(period)
    return {
        "period": period,
        "cards": scorecards(conn, section, since=since, until=until, period=period),
        "breaches": breaches(conn, since=now - timedelta(days=30), until=now + timedelta(seconds=1))[:10],
        "renewals": renewals(conn, section, today=now),
    }
