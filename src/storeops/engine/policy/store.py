"""Policy versions in the database: every distinct policy a decision used, numbered."""

from __future__ import annotations

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.clock import utcnow
from storeops.engine.policy.model import Policy
from storeops.errors import PolicyError
from storeops.storage.schema import policy_versions


def record_policy_version(conn: Connection, policy: Policy) -> int:
    """Store the policy (once per distinct content) and set and return its version number.

    Safe when several workers start at once: a version number or digest another process
    took first is simply looked up again.
    """
    digest = policy.digest
    factory = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for _ in range(10):
        existing = conn.execute(select(policy_versions.c.version).where(policy_versions.c.digest == digest)).scalar()
        if existing is not None:
            policy.version = int(existing)
            return policy.version
        latest = conn.execute(select(func.max(policy_versions.c.version))).scalar() or 0
        inserted = conn.execute(
            factory(policy_versions)
            .values(
                version=latest + 1,
                digest=digest,
                content=policy.as_dict(),
                source=policy.source,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        if inserted.rowcount == 1:
            policy.version = latest + 1
            return policy.version
    raise PolicyError("could not record the policy version: too many concurrent policy changes; try again")
