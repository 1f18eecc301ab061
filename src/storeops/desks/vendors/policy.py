"""[vendors] section of storeops.toml."""

from __future__ import annotations

from pydantic import Field, model_validator

from storeops.engine.desk import DeskPolicy


class Weights(DeskPolicy):
    """How much each part of a supplier's performance counts in its score (they need not add to 1:
    the score divides by their sum)."""

    on_time: float = Field(0.4, ge=0, le=1, description="Deliveries on or before their SLA deadline.")
    fill: float = Field(0.3, ge=0, le=1, description="Units delivered of those ordered.")
    quality: float = Field(0.2, ge=0, le=1, description="One minus the defect rate.")
    cost: float = Field(0.1, ge=0, le=1, description="Paying the catalogue price: one minus the mean price rise.")

    @model_validator(mode="after")
    def _some(self) -> Weights:
        if self.on_time + self.fill + self.quality + self.cost <= 0:
            raise ValueError("at least one weight must be above 0")
        return self


class Standings(DeskPolicy):
    """The lowest score (0-100) of each standing; below ``watch`` a supplier is ``poor``."""

    excellent: float = Field(90, ge=0, le=100)
    good: float = Field(75, ge=0, le=100)
    watch: float = Field(60, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Standings:
        if not self.excellent >= self.good >= self.watch:
            raise ValueError("standings must be excellent >= good >= watch")
        return self


class VendorsPolicy(DeskPolicy):
    """Rules of the vendors desk (docs/vendors.md)."""

    weights: Weights = Field(default_factory=Weights, description="Weights of the score's parts.")
    standings: Standings = Field(default_factory=Standings, description="Scores of each standing.")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Coverage of every interval on a scorecard.")
    on_time_target: float = Field(
        0.95, ge=0, le=1, description="SLA on-time rate of a supplier with no contract (or a contract naming none)."
    )
    fill_target: float = Field(0.98, ge=0, le=1, description="SLA fill rate when no contract names one.")
    defect_target: float = Field(0.02, ge=0, le=1, description="SLA defect rate when no contract names one.")
    renewal_lead_days: int = Field(
        30, ge=0, le=365, description="A contract goes to a person this many days before its notice period starts."
    )
    false_alarms_per_year: float = Field(
        0.1,
        gt=0,
        le=12,
        description="Performance drops a supplier that did not change may raise per year, at most (all metrics "
        "together): sets the detector's threshold.",
    )
    drop_odds_ratio: float = Field(
        5.0,
        gt=1,
        le=100,
        description="The drop the detector looks for: the odds of a late, short or defective delivery "
        "multiplied by this against the supplier's own baseline.",
    )
    baseline_deliveries: int = Field(
        12, ge=3, le=1000, description="Deliveries a supplier needs before its own baseline is judged against."
    )
    alert_team: bool = Field(True, description="SLA violations are also posted to the team's channel (notify).")
    report_to: str = Field(
        "", max_length=255, description="Procurement's address for the weekly vendors report; empty: none is mailed."
    )
    report_weekday: int = Field(0, ge=0, le=6, description="Day of the weekly report (0 = Monday).")
    report_hour_utc: int = Field(7, ge=0, le=23, description="Hour (UTC) of the weekly report.")
