"""Vietnamese number formats, edge by edge (written to kill mutmut's surviving mutants).

Every expected value is worked out by hand from the formats: ``.`` groups thousands in a count,
``,`` is the decimal mark in a rate, a count is a non-negative whole number that fits PostgreSQL's
``bigint`` (at most 9 223 372 036 854 775 807), and a rate must fit ``numeric(9,2)`` once rounded
to two decimals (at most 9 999 999.99).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.numbers import NumberFormatError, NumberTooLargeError, parse_count, parse_rate

BIGINT_MAX = 9_223_372_036_854_775_807


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        (0, 0),
        (0.0, 0),
        (1, 1),
        ("1.597.452", 1_597_452),
        ("1 597 452", 1_597_452),
        ("1\u00a0597\u00a0452", 1_597_452),
        ("1\u202f000", 1_000),
        ("2076.0", 2_076),
        ("2076,00", 2_076),
        ("**1.000**", 1_000),
        ("_850_", 850),
        ("9223372036854775807", BIGINT_MAX),
        ("9.223.372.036.854.775.807", BIGINT_MAX),
        ("00009223372036854775807", BIGINT_MAX),
        (BIGINT_MAX, BIGINT_MAX),
        (2076.0, 2_076),
    ],
)
def test_counts_that_load(text: str | int | float, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        -1,
        -3.0,
        -0.5,
        12.5,
        float("nan"),
        float("inf"),
        True,
        "12.34",
        "1.50.000",
        "1.5000",
        "12,5",
        "12X",
        "X12",
        "-3",
        "abc",
        "",
    ],
)
def test_counts_that_are_refused(text: str | int | float) -> None:
    with pytest.raises(NumberFormatError) as caught:
        parse_count(text)
    assert not isinstance(caught.value, NumberTooLargeError)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (BIGINT_MAX + 1, "9223372036854775808"),
        (1e19, "1e+19"),
        ("9223372036854775808", "9223372036854775808"),
        ("9.223.372.036.854.775.808", "9.223.372.036.854.775.808"),
        ("9223372036854775808.0", "9223372036854775808.0"),
        ("1" + "0" * 25, "1" + "0" * 25),
        ("1" + "0" * 5000, "1000"),
    ],
)
def test_counts_above_bigint_are_too_large_and_say_which(text: str | int | float, shown: str) -> None:
    with pytest.raises(NumberTooLargeError) as caught:
        parse_count(text)
    assert shown in str(caught.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [(True, "True"), (-3, "-3"), (-3.5, "-3.5"), ("-7", "-7"), ("1.50.000", "1.50.000"), ("abc", "abc")],
)
def test_a_refused_count_names_its_value(text: str | int | float, shown: str) -> None:
    with pytest.raises(NumberFormatError) as caught:
        parse_count(text)
    assert shown in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("82,52", Decimal("82.52")),
        ("82,52%", Decimal("82.52")),
        ("82.52", Decimal("82.52")),
        ("100 %", Decimal("100")),
        (82.52, Decimal("82.52")),
        (0, Decimal("0")),
        (0.0, Decimal("0")),
        (100, Decimal("100")),
        ("0", Decimal("0")),
        ("9999999,99", Decimal("9999999.99")),
        ("9999999.994", Decimal("9999999.994")),
    ],
)
def test_rates_that_load(text: str | int | float, expected: Decimal) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "text", [-1, -0.5, float("nan"), float("inf"), float("-inf"), True, "-5%", "82X", "X82", "abc", "12,5,3", "%"]
)
def test_rates_that_are_refused(text: str | int | float) -> None:
    with pytest.raises(NumberFormatError):
        parse_rate(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("9999999,995", "9999999,995"),
        ("10000000", "10000000"),
        (10_000_000, "10000000"),
        (1e7, "10000000.0"),
    ],
)
def test_rates_that_do_not_fit_numeric_9_2_are_too_large(text: str | int | float, shown: str) -> None:
    with pytest.raises(NumberTooLargeError) as caught:
        parse_rate(text)
    assert shown in str(caught.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [(True, "True"), (-5, "-5"), (float("nan"), "nan"), ("-5%", "-5"), ("abc", "abc")],
)
def test_a_refused_rate_names_its_value(text: str | int | float, shown: str) -> None:
    with pytest.raises(NumberFormatError) as caught:
        parse_rate(text)
    assert shown in str(caught.value)
