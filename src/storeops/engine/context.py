"""What a handler gets besides its event: the transaction, the policy and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection

from storeops.engine.policy import Policy

SectionT = TypeVar("SectionT", bound=BaseModel)


@dataclass(frozen=True)
class HandlerContext:
    """The unit of work of one handler run.

    ``conn`` is inside the transaction that also commits the event's done-mark: a handler's
    writes through it happen exactly once, or not at all.
    """

    conn: Connection
    policy: Policy
    now: datetime
    desk: str

    def settings(self, model: type[SectionT]) -> SectionT:
        """This desk's policy section."""
        return self.policy.section(self.desk, model)
