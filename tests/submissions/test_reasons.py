"""The reason catalogue: unique codes, Vietnamese and English texts that fill in alike."""

from __future__ import annotations

import string
import unicodedata

import pytest

from ingest.submissions.reasons import REASONS, Reason, row_problem, submission_error


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_codes_are_unique_and_indexed():
    assert len(REASONS) == len(Reason)
    assert all(REASONS[r.code] is r for r in Reason)


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.code)
def test_texts(reason):
    assert unicodedata.is_normalized("NFC", reason.vi)
    assert reason.vi != reason.en
    assert any(unicodedata.decomposition(c) for c in reason.vi), "Vietnamese is written with diacritics"
    # The Vietnamese text may use a *_vi variant of a value; otherwise both name the same values.
    assert {f.removesuffix("_vi") for f in fields(reason.vi)} == {f.removesuffix("_vi") for f in fields(reason.en)}
    values = {name: "X" for name in fields(reason.vi) | fields(reason.en)}
    assert all("{" not in text for text in reason.texts(**values))


def test_helpers_fill_in_the_column():
    problem = row_problem(Reason.MISSING_VALUE, 7, column="numerator", raw_value=None, raw_row={}, column_vi="Tử số")
    assert (problem.reason_vi, problem.reason_en) == (
        "Thiếu giá trị bắt buộc ở cột “Tử số”",
        "Required value missing in column “numerator”",
    )
    error = submission_error(Reason.TOO_MANY_ROWS, "a.csv", row=9, limit=5)
    assert (error.file, error.row, error.reason_code) == ("a.csv", 9, "too_many_rows")
    assert str(error) == "a.csv, row 9: The file has too many rows (the limit is 5)"
