"""Reading untrusted JSON and text (issue 15 items 1 and 3): bounded, and the same on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storeops import untrusted
from storeops.bounds import MAX_MINOR, bounded_utc
from storeops.errors import InvalidInput
from storeops.money import Money


def test_text_loses_nul_bytes_and_lone_surrogates_become_replacement_characters() -> None:
    assert untrusted.clean_text("a\x00b") == "ab"
    assert untrusted.clean_text("x\ud800y\udfff") == "x\ufffdy\ufffd"
    assert untrusted.clean_text("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"  # a real pair stays


def test_loads_cleans_keys_and_values_and_keeps_everything_else() -> None:
    value = untrusted.loads(b'{"na\\u0000me": ["\\ud83d\\ude00", "\\ud800", 1.5, null, true]}')
    assert value == {"name": ["\U0001f600", "\ufffd", 1.5, None, True]}


def test_deep_nesting_is_refused_never_a_recursion_error() -> None:
    with pytest.raises(InvalidInput, match="nested deeper than 32 levels"):
        untrusted.loads("[" * (untrusted.MAX_DEPTH + 1) + "]" * (untrusted.MAX_DEPTH + 1))
    with pytest.raises(untrusted.NotJson, match="nested deeper"):
        untrusted.loads("[" * 100_000 + "]" * 100_000)


def test_nested_to_the_limit_is_accepted() -> None:
    value: list[object] = []
    for _ in range(untrusted.MAX_DEPTH - 1):
        value = [value]
    assert untrusted.clean(value) == value


def test_non_finite_numbers_are_refused_naming_where_they_are() -> None:
    parsed = untrusted.loads('{"lines": [{"quantity": NaN}]}')  # parsed: the model reading it names it
    with pytest.raises(InvalidInput) as caught:
        untrusted.clean(parsed)
    assert caught.value.field == "lines.0.quantity"


@pytest.mark.parametrize("raw", [b"{oops", b"\xff\xfe\x00", b'{"a": ' + b"9" * 5000 + b"}"])
def test_what_does_not_parse_is_not_json(raw: bytes) -> None:
    with pytest.raises(untrusted.NotJson):
        untrusted.loads(raw)


def test_too_many_values_are_refused() -> None:
    with pytest.raises(InvalidInput, match="more than 200,000 values"):
        untrusted.clean([0] * (untrusted.MAX_ITEMS + 1))


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), True),
        (datetime(2100, 12, 31, 23, 59, tzinfo=UTC), True),
        (datetime(1969, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(2101, 1, 1, tzinfo=UTC), False),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))), False),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), False),
        (datetime(1970, 1, 1, 3, tzinfo=timezone(timedelta(hours=5))), False),  # 1969 in UTC
    ],
)
def test_timestamps_are_bounded_to_1970_2100_in_utc(when: datetime, ok: bool) -> None:
    if ok:
        assert bounded_utc(when).tzinfo == UTC
    else:
        with pytest.raises(ValueError, match="outside the years 1970–2100"):
            bounded_utc(when)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("10000000000000.00", MAX_MINOR),
        ("-10000000000000.00", -MAX_MINOR),
        ("1.500", 150),
        ("1E+2", 10000),
        ("0e999999999", 0),
    ],
)
def test_amounts_up_to_the_bound_are_exact(text: str, minor: int) -> None:
    assert Money.parse(text, "USD").minor == minor


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10000000000000.01", "more than the largest amount"),
        ("1e30", "more than the largest amount"),
        ("1e999999999", "more than the largest amount"),
        ("1.000000000000000000000000000001", "more than 2 decimals"),
        ("1e-999999999", "more than 2 decimals"),
        ("NaN", "not a finite amount"),
        ("-Infinity", "not a finite amount"),
    ],
)
def test_amounts_past_the_bound_or_the_currencys_precision_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Money.parse(text, "USD")
