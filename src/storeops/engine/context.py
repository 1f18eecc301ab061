"""What a handler gets besides its event: the transaction, the policy and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection

from storeops.engine.models import DeskModels
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
    desk_models: DeskModels | None = None

    @property
    def models(self) -> Any:
        """This desk's models (loaded now if none of its handlers asked before); None when it has none."""
        return self.desk_models.get(self.desk) if self.desk_models is not None else None

    def settings(self, model: type[SectionT]) -> SectionT:
        """This desk's policy section."""
        return self.policy.section(self.desk, model)
