"""Simulated suppliers with ground truth: steady ones, noisy small ones, one that slides and one
that recovers, and contracts ending inside the simulated period (docs/vendors.md#the-simulator).

Each supplier is a series of purchase orders and their deliveries, drawn from its own random
stream; what changed, and when, is kept apart as ``Change`` truth. ``bench.vendors`` runs the
desk's drop detector over many seeds of it; ``supplier_csv`` and ``contract_csv`` give the same
roster as the files ``storeops vendors import`` reads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rates:
    """The chances of a bad delivery of each kind."""

    late: float
    short: float
    defect: float


@dataclass(frozen=True)
class Profile:
    """How one simulated supplier behaves: its pace and rates, and a change at ``change_day``."""

    supplier: str
    kind: str
    """steady, noisy_small, slides or recovers."""
    per_month: float
    before: Rates
    after: Rates | None = None
    change_day: int | None = None
    lead_time_days: int = 14


@dataclass(frozen=True)
class SimDelivery:
    """One delivery against its purchase order."""

    supplier: str
    number: str
    ordered_at: datetime
    deadline: datetime
    received_at: datetime
    ordered: int
    received: int
    damaged: int

    @property
    def late(self) -> bool:
        """Arrived after its deadline."""
        return self.received_at > self.deadline

    @property
    def short(self) -> bool:
        """Brought fewer units than ordered."""
        return self.received < self.ordered


@dataclass(frozen=True)
class Change:
    """Ground truth: a supplier's rate of bad deliveries of one metric changed on a day."""

    supplier: str
    metric: str
    """on_time, fill or quality (the detector's names)."""
    at: datetime
    before: float
    after: float

    @property
    def is_drop(self) -> bool:
        """Performance got worse (more bad deliveries): a person should hear of it."""
        return self.after > self.before


@dataclass
class Roster:
    """A simulated set of suppliers over ``days`` from ``start``, with their truth."""

    start: datetime
    days: int
    profiles: list[Profile]
    deliveries: dict[str, list[SimDelivery]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    @property
    def years(self) -> float:
        """The simulated span in years."""
        return self.days / 365.25


def roster(seed: int, *, start: datetime = DEFAULT_START, days: int = 3 * 365) -> Roster:
    """Seven suppliers: three steady, two noisy small ones, one that slides (late and short
    deliveries rise at a random day in the middle third) and one that recovers (late deliveries fall)."""
    rng = random.Random(f"vendors-roster-{seed}")
    middle = (days // 3, 2 * days // 3)
    slide_day, recover_day = rng.randint(*middle), rng.randint(*middle)
    steady = Rates(late=0.04, short=0.03, defect=0.02)
    profiles = [
        Profile("SUP-STEADY-A", "steady", 8, steady),
        Profile("SUP-STEADY-B", "steady", 6, Rates(0.06, 0.02, 0.03)),
        Profile("SUP-STEADY-C", "steady", 4, Rates(0.03, 0.05, 0.01)),
        Profile("SUP-SMALL-A", "noisy_small", 1.5, Rates(0.12, 0.08, 0.06)),
        Profile("SUP-SMALL-B", "noisy_small", 1.0, Rates(0.15, 0.05, 0.05)),
        Profile("SUP-SLIDES", "slides", 6, steady, Rates(late=0.35, short=0.25, defect=0.02), slide_day),
        Profile("SUP-RECOVERS", "recovers", 6, Rates(0.30, 0.03, 0.02), steady, recover_day),
    ]
    out = Roster(start, days, profiles)
    for profile in profiles:
        out.deliveries[profile.supplier] = _history(profile, seed, start, days)
        if profile.after is not None and profile.change_day is not None:
            at = start + timedelta(days=profile.change_day)
            for metric, before, after in (
                ("on_time", profile.before.late, profile.after.late),
                ("fill", profile.before.short, profile.after.short),
                ("quality", profile.before.defect, profile.after.defect),
            ):
                if before != after:
                    out.changes.append(Change(profile.supplier, metric, at, before, after))
    return out


def _history(profile: Profile, seed: int, start: datetime, days: int) -> list[SimDelivery]:
    rng = random.Random(f"vendors-{seed}-{profile.supplier}")
    out: list[SimDelivery] = []
    moment = start
    end = start + timedelta(days=days)
    index = 0
    while True:
        moment += timedelta(days=rng.expovariate(profile.per_month / 30.44))
        if moment >= end:
            return out
        changed = profile.change_day is not None and moment >= start + timedelta(days=profile.change_day)
        rates = profile.after if changed and profile.after is not None else profile.before
        ordered_at = moment.replace(second=0, microsecond=0)
        deadline = ordered_at + timedelta(days=profile.lead_time_days)
        late = rng.random() < rates.late
        offset = timedelta(hours=rng.randint(1, 120)) if late else -timedelta(hours=rng.randint(0, 72))
        ordered = rng.choice([24, 36, 48, 72, 96])
        received = ordered - rng.randint(1, max(1, ordered // 3)) if rng.random() < rates.short else ordered
        damaged = rng.randint(1, 3) if rng.random() < rates.defect else 0
        index += 1
        out.append(
            SimDelivery(
                supplier=profile.supplier,
                number=f"PO-{profile.supplier}-{index:04d}",
                ordered_at=ordered_at,
                deadline=deadline,
                received_at=deadline + offset,
                ordered=ordered,
                received=received,
                damaged=min(damaged, received),
            )
        )


def supplier_csv(found: Roster) -> str:
    """The roster as ``storeops vendors import`` reads it (one catalogue line per supplier)."""
    lines = ["supplier,name,contact_email,currency,sku,cost,moq,pack_size,lead_time_days"]
    for profile in found.profiles:
        slug = profile.supplier.lower()
        lines.append(
            f"{profile.supplier},{profile.supplier.title()},orders@{slug}.example,EUR,SKU-{slug},4.00,12,12,14"
        )
    return "\n".join(lines) + "\n"


def contract_csv(found: Roster) -> str:
    """One contract per supplier, a third of them ending inside the simulated period (their
    renewals fall due during it)."""
    lines = ["contract,supplier,starts_on,ends_on,notice_days,on_time_target,fill_target,defect_target,lead_time_days"]
    begin = found.start.date()
    for index, profile in enumerate(found.profiles):
        ends = begin + timedelta(days=found.days // 2 if index % 3 == 0 else found.days + 365)
        lines.append(
            f"C-{profile.supplier},{profile.supplier},{begin},{ends},30,0.95,0.97,0.03,{profile.lead_time_days}"
        )
    return "\n".join(lines) + "\n"


def contracts_ending(found: Roster) -> list[tuple[str, date]]:
    """Ground truth of renewals: the contracts of ``contract_csv`` that end inside the period."""
    end = (found.start + timedelta(days=found.days)).date()
    out = []
    for line in contract_csv(found).splitlines()[1:]:
        contract, _supplier, _starts, ends, *_ = line.split(",")
        if date.fromisoformat(ends) <= end:
            out.append((contract, date.fromisoformat(ends)))
    return out
