from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.money import Money


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("500.00", "EUR", 50000),
        ("500", "EUR", 50000),
        ("0.01", "usd", 1),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_parse_decimal_strings_into_minor_units(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency.upper())


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("500.001", "EUR", "more than 2 decimals for EUR"),
        ("1.5", "JPY", "more than 0 decimals for JPY"),
        ("five", "EUR", "not a decimal amount"),
        ("NaN", "EUR", "not a finite amount"),
        ("1.00", "EURO", "3-letter ISO 4217"),
    ],
)
def test_parse_refuses_what_is_not_money(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Money.parse(text, currency)


def test_parse_refuses_floats() -> None:
    with pytest.raises(ValueError, match="not a float"):
        Money.parse(0.1, "EUR")  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_format_and_parse_round_trip(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.format().split()[0], currency) == money
    assert Decimal(money.format().split()[0]) == Decimal(minor).scaleb(-{"JPY": 0, "KWD": 3}.get(currency, 2))
