"""The simulated suppliers: the same seed gives the same history, the truth says what changed and
when, the slide really slides, and some contracts end inside the period."""

from __future__ import annotations

from datetime import timedelta

from storeops.desks.vendors.catalogue import parse_contracts, parse_suppliers
from storeops.simulate.vendors import contract_csv, contracts_ending, roster, supplier_csv


def test_a_seed_gives_the_same_suppliers_and_truth() -> None:
    first, second = roster(3), roster(3)
    assert first.deliveries == second.deliveries and first.changes == second.changes
    assert roster(4).deliveries != first.deliveries


def test_the_slide_and_the_recovery_are_in_the_truth_and_in_the_deliveries() -> None:
    found = roster(1)
    kinds = {profile.supplier: profile.kind for profile in found.profiles}
    assert sorted(set(kinds.values())) == ["noisy_small", "recovers", "slides", "steady"]
    drops = [change for change in found.changes if change.is_drop]
    assert {(c.supplier, c.metric) for c in drops} == {("SUP-SLIDES", "on_time"), ("SUP-SLIDES", "fill")}
    [recovery] = [change for change in found.changes if change.supplier == "SUP-RECOVERS"]
    assert not recovery.is_drop
    slide = drops[0].at
    before = [d for d in found.deliveries["SUP-SLIDES"] if d.ordered_at < slide - timedelta(days=1)]
    after = [d for d in found.deliveries["SUP-SLIDES"] if d.ordered_at >= slide]
    late = lambda rows: sum(d.late for d in rows) / len(rows)  # noqa: E731
    assert late(after) > late(before) + 0.15
    small = found.deliveries["SUP-SMALL-B"]
    assert len(small) < len(found.deliveries["SUP-STEADY-A"]) / 4


def test_the_roster_imports_and_some_contracts_end_inside_the_period() -> None:
    found = roster(0)
    suppliers = parse_suppliers(supplier_csv(found))
    contracts = parse_contracts(contract_csv(found), {row.supplier for row in suppliers})
    assert len(contracts) == len(found.profiles)
    ending = contracts_ending(found)
    assert 0 < len(ending) < len(contracts)
