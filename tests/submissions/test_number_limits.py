"""parse_count and parse_rate at the edges: what the warehouse columns hold, non-finite values,
negative spreadsheet numbers and texts that only look grouped."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from ingest.numbers import MAX_COUNT, MAX_RATE, NumberFormatError, NumberTooLargeError, parse_count, parse_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("9223372036854775807", 2**63 - 1),
        ("9.223.372.036.854.775.807", 2**63 - 1),
        ("0000000000000000000000001", 1),  # leading zeros are not magnitude
        (2**63 - 1, 2**63 - 1),
        (2076.0, 2076),
    ],
)
def test_counts_that_fit(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["12.34", "1.50.000", "1.5000", "12,34", "1.500.00", ".500", "1..500"])
def test_texts_that_only_look_grouped_are_refused(text):
    with pytest.raises(NumberFormatError) as info:
        parse_count(text)
    assert not isinstance(info.value, NumberTooLargeError)


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "1" * 30, "9" * 5000, 2**63, 1e30, "9.223.372.036.854.775.808"]
)
def test_counts_above_bigint(value):
    with pytest.raises(NumberTooLargeError):
        parse_count(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, -1.0, -0.5, True])
def test_non_finite_negative_and_boolean_counts(value):
    with pytest.raises(NumberFormatError) as info:
        parse_count(value)
    assert not isinstance(info.value, NumberTooLargeError)


def test_max_count_is_postgres_bigint():
    assert MAX_COUNT == 9_223_372_036_854_775_807


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9999999,99", Decimal("9999999.99")),
        (9999999.99, Decimal("9999999.99")),
        ("9999999,994", Decimal("9999999.994")),
    ],
)
def test_rates_that_fit_numeric_9_2(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["12345678901", 12345678901, "10000000", "9999999,995", 1e30, "1" * 5000])
def test_rates_too_large(value):
    with pytest.raises(NumberTooLargeError):
        parse_rate(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, -0.01, "NaN", "inf", "Infinity"])
def test_non_finite_and_negative_rates(value):
    with pytest.raises(NumberFormatError) as info:
        parse_rate(value)
    assert not isinstance(info.value, NumberTooLargeError)


def test_max_rate():
    assert Decimal("9999999.99") == MAX_RATE
