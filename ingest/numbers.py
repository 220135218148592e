"""Vietnamese number formats.

Officials write ``1.597.452`` (``.`` groups thousands) and ``97,11%`` (``,`` is the decimal
mark); spreadsheets export plain ``2076`` or ``82.52``.  These helpers accept all of them and
refuse anything ambiguous, so that a value is never silently misread.

>>> parse_count("1.597.452"), parse_rate("97,11%")
(1597452, Decimal('97.11'))
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = ["NumberFormatError", "parse_count", "parse_rate"]

_GROUPED_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_GROUPED_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_GROUPED_SPACE = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+$")
_PLAIN = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^\d+(?:[.,]\d+)?$")


class NumberFormatError(ValueError):
    """A text that is not a number in any accepted format."""


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().strip("*_").strip()


def parse_count(text: str | int | float) -> int:
    """Parse a non-negative whole number written the Vietnamese way or as plain digits.

    ``1.597.452`` and ``1 597 452`` and ``2076`` are accepted; ``12,5`` (a fraction), ``-3``
    and ``abc`` raise :class:`NumberFormatError`.  A float from a spreadsheet is accepted only
    when it is whole.
    """
    if isinstance(text, bool):
        raise NumberFormatError(f"not a number: {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise NumberFormatError(f"negative number: {text}")
        return text
    if isinstance(text, float):
        if text < 0 or not text.is_integer():
            raise NumberFormatError(f"not a non-negative whole number: {text}")
        return int(text)
    s = _clean(text)
    if s.startswith("-"):
        raise NumberFormatError(f"negative number: {s}")
    if _PLAIN.match(s):
        return int(s)
    if _GROUPED_DOT.match(s) or _GROUPED_COMMA.match(s):
        return int(re.sub(r"[.,]", "", s))
    if _GROUPED_SPACE.match(s):
        return int(re.sub(r"\D", "", s))
    # A spreadsheet may write a whole number as "2076.0".
    m = re.match(r"^(\d+)[.,]0+$", s)
    if m:
        return int(m.group(1))
    raise NumberFormatError(f"not a non-negative whole number: {s!r}")


def parse_rate(text: str | int | float) -> Decimal:
    """Parse a percentage: ``82,52``, ``82,52%``, ``82.52``, ``100 %`` -> ``Decimal('82.52')``.

    A lone ``.`` or ``,`` followed by exactly three digits is read as a decimal mark here,
    because a rate in percent never needs a thousands separator below 1000.
    """
    if isinstance(text, bool):
        raise NumberFormatError(f"not a rate: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise NumberFormatError(f"negative rate: {text}")
        return Decimal(str(text))
    s = _clean(text).rstrip("%").strip()
    if s.startswith("-"):
        raise NumberFormatError(f"negative rate: {s}")
    if not _DECIMAL.match(s):
        raise NumberFormatError(f"not a percentage: {text!r}")
    try:
        return Decimal(s.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise NumberFormatError(f"not a percentage: {text!r}") from exc
