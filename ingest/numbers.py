"""Vietnamese number formats.

Officials write ``1.597.452`` (``.`` groups thousands) and ``97,11%`` (``,`` is the decimal
mark); spreadsheets export plain ``2076`` or ``82.52``.  These helpers accept all of them and
refuse anything ambiguous, so that a value is never silently misread.

>>> parse_count("1.597.452"), parse_rate("97,11%")
(1597452, Decimal('97.11'))
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = ["MAX_COUNT", "MAX_RATE", "NumberFormatError", "NumberTooLargeError", "parse_count", "parse_rate"]

MAX_COUNT = 2**63 - 1
"""The largest count the warehouse stores (PostgreSQL ``bigint``)."""
MAX_RATE = Decimal("9999999.99")
"""The largest rate the warehouse stores (``numeric(9,2)``: a value that rounds above this does not fit)."""
_MAX_COUNT_DIGITS = len(str(MAX_COUNT))

_GROUPED_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_GROUPED_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_GROUPED_SPACE = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+$")
_PLAIN = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^\d+(?:[.,]\d+)?$")


class NumberFormatError(ValueError):
    """A text that is not a number in any accepted format."""


class NumberTooLargeError(NumberFormatError):
    """A well-formed number too large for the warehouse (above :data:`MAX_COUNT` or :data:`MAX_RATE`)."""


def _checked_count(value: int, shown: object) -> int:
    if value > MAX_COUNT:
        raise NumberTooLargeError(f"count above {MAX_COUNT}: {shown!r}")
    return value


def _digits_to_int(digits: str, shown: object) -> int:
    """``int(digits)`` without Python's 4300-digit limit error: too many digits is too large."""
    if len(digits.lstrip("0")) > _MAX_COUNT_DIGITS:
        raise NumberTooLargeError(f"count above {MAX_COUNT}: {shown!r}")
    return _checked_count(int(digits), shown)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().strip("*_").strip()


def parse_count(text: str | int | float) -> int:
    """Parse a non-negative whole number written the Vietnamese way or as plain digits.

    ``1.597.452`` and ``1 597 452`` and ``2076`` are accepted; ``12,5`` (a fraction), ``-3``,
    ``NaN`` and ``abc`` raise :class:`NumberFormatError`.  A float from a spreadsheet is
    accepted only when it is whole.  A count above :data:`MAX_COUNT` raises
    :class:`NumberTooLargeError`.
    """
    if isinstance(text, bool):
        raise NumberFormatError(f"not a number: {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise NumberFormatError(f"negative number: {text}")
        return _checked_count(text, text)
    if isinstance(text, float):
        if not math.isfinite(text) or text < 0 or not text.is_integer():
            raise NumberFormatError(f"not a non-negative whole number: {text}")
        return _checked_count(int(text), text)
    s = _clean(text)
    if s.startswith("-"):
        raise NumberFormatError(f"negative number: {s}")
    if _PLAIN.match(s):
        return _digits_to_int(s, text)
    if _GROUPED_DOT.match(s) or _GROUPED_COMMA.match(s) or _GROUPED_SPACE.match(s):
        return _digits_to_int(re.sub(r"\D", "", s), text)
    # A spreadsheet may write a whole number as "2076.0".
    m = re.match(r"^(\d+)[.,]0+$", s)
    if m:
        return _digits_to_int(m.group(1), text)
    raise NumberFormatError(f"not a non-negative whole number: {s!r}")


def parse_rate(text: str | int | float) -> Decimal:
    """Parse a percentage: ``82,52``, ``82,52%``, ``82.52``, ``100 %`` -> ``Decimal('82.52')``.

    A lone ``.`` or ``,`` followed by exactly three digits is read as a decimal mark here,
    because a rate in percent never needs a thousands separator below 1000.  Negative and
    non-finite rates (``NaN``, ``inf``) raise :class:`NumberFormatError`; a rate that rounds
    (to two decimals) above :data:`MAX_RATE` raises :class:`NumberTooLargeError`.
    """
    if isinstance(text, bool):
        raise NumberFormatError(f"not a rate: {text!r}")
    if isinstance(text, int | float):
        if isinstance(text, float) and not math.isfinite(text):
            raise NumberFormatError(f"not a finite rate: {text}")
        if text < 0:
            raise NumberFormatError(f"negative rate: {text}")
        return _checked_rate(Decimal(str(text)), text)
    s = _clean(text).rstrip("%").strip()
    if s.startswith("-"):
        raise NumberFormatError(f"negative rate: {s}")
    if not _DECIMAL.match(s):
        raise NumberFormatError(f"not a percentage: {text!r}")
    try:
        return _checked_rate(Decimal(s.replace(",", ".")), text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise NumberFormatError(f"not a percentage: {text!r}") from exc


def _checked_rate(rate: Decimal, shown: object) -> Decimal:
    if not rate.is_finite():  # pragma: no cover - floats and the regex are checked before
        raise NumberFormatError(f"not a finite rate: {shown!r}")
    if rate >= MAX_RATE + Decimal("0.005"):
        raise NumberTooLargeError(f"rate above {MAX_RATE}: {shown!r}")
    return rate
