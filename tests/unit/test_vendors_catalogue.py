"""Supplier and contract CSVs: what is read, and the first bad line named with its column."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.desks.vendors.catalogue import parse_contracts, parse_suppliers
from storeops.errors import InvalidInput

HEAD = "supplier,name,contact_email,currency,sku,cost,moq,pack_size,lead_time_days\n"


def test_suppliers_and_their_catalogue_lines_are_read_in_minor_units() -> None:
    [acme] = parse_suppliers(HEAD + "ACME,Acme,a@acme.example,EUR,TEE,4.20,50,10,14\nACME,Acme,,EUR,MUG,2,,,7\n")
    assert acme.contact_email == "a@acme.example"
    assert acme.items["TEE"] == {"cost_minor": 420, "currency": "EUR", "moq": 50, "pack_size": 10, "lead_time_days": 14}
    assert acme.items["MUG"]["cost_minor"] == 200 and acme.items["MUG"]["moq"] == 1


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (
            "ACME,Acme,a@acme.example,EUR,TEE,4.20,50,10,14\nACME,Acme,,EUR,TEE,4,1,1,1\n",
            "line 3: sku: TEE is listed twice",
        ),
        ("ACME,Acme,not-an-email,EUR,,,,,\n", "line 2: contact_email"),
        ("ACME,Acme,,EUR,TEE,4.20,0,10,14\n", "line 2: moq: 0 is not between 1"),
        ("ACME,Acme,,EUR,TEE,4.20,1,10,\n", "line 2: lead_time_days: is empty"),
        ("ACME,Acme,,EUR,TEE,,1,10,3\n", "line 2: cost: is empty"),
        ("ACME,Acme,,USD,,,,,\nACME,Acme,,EUR,,,,,\n", "line 3: currency: EUR but an earlier line gives ACME USD"),
        ("ACME,Acme,,EUR,TEE,4.20,1,10,3,extra\n", "line 2: line: more fields"),
    ],
)
def test_a_bad_supplier_line_is_named(lines: str, error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        parse_suppliers(HEAD + lines)


def test_an_unknown_or_missing_column_is_named_on_the_header_line() -> None:
    with pytest.raises(InvalidInput, match="line 1: colour: unknown column"):
        parse_suppliers("supplier,currency,colour\nA,EUR,red\n")
    with pytest.raises(InvalidInput, match="line 1: currency: missing column"):
        parse_suppliers("supplier,name\nA,B\n")


def test_contract_targets_read_as_shares_or_percentages() -> None:
    head = "contract,supplier,starts_on,ends_on,notice_days,on_time_target,fill_target\n"
    [row] = parse_contracts(head + "C1,ACME,2026-01-01,2026-12-31,30,95%,0.99\n", {"ACME"})
    assert row["on_time_target"] == pytest.approx(0.95) and row["fill_target"] == 0.99
    with pytest.raises(InvalidInput, match="line 2: on_time_target: '120%' is not between 0 and 1"):
        parse_contracts(head + "C1,ACME,2026-01-01,2026-12-31,30,120%,\n", {"ACME"})
    with pytest.raises(InvalidInput, match="line 2: starts_on: '2026-02-30' is not a date"):
        parse_contracts(head + "C1,ACME,2026-02-30,2026-12-31,30,,\n", {"ACME"})


@given(
    st.lists(st.integers(1, 99_999), min_size=1, max_size=30),
    st.data(),
    st.sampled_from(["4.001", "abc", "", "1e999"]),
)
def test_whichever_line_is_bad_is_the_one_named(costs: list[int], data: st.DataObject, bad_cost: str) -> None:
    lines = [f"S{i % 3},Supplier,,EUR,SKU-{i},{cost / 100:.2f},1,1,7" for i, cost in enumerate(costs)]
    bad = data.draw(st.integers(0, len(lines) - 1))
    lines[bad] = f"S{bad % 3},Supplier,,EUR,SKU-{bad},{bad_cost},1,1,7"
    with pytest.raises(InvalidInput, match=rf"^line {bad + 2}: cost: "):
        parse_suppliers(HEAD + "\n".join(lines) + "\n")
