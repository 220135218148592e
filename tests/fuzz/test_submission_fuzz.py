"""Property-based fuzzing of the submission adapters (issue 8, item 8).

For every generated file (``generate.submissions``):

1. nothing but :class:`SubmissionError` (the file refused whole) escapes the adapter;
2. rows read = rows loaded + rows quarantined: every non-blank data row written yields exactly
   one item, under its own row number;
3. every row the generator knows to be valid loads, with the values written; every row it knows
   to be invalid is quarantined.

``make test`` runs the derandomized ``ci`` profile; ``make fuzz`` runs the ``long`` one.
"""

from __future__ import annotations

import io

from hypothesis import given, note

from ingest.landing.adapters import LandingContext, choose_adapter, read_all
from ingest.submissions.model import RowProblem, SubmissionError, SubmissionRow

from .generate import REGISTRY, TODAY, Case, submissions

CONTEXT = LandingContext(registry=REGISTRY, today=TODAY, period=None)


def read(case: Case) -> tuple[list[SubmissionRow], list[RowProblem]]:
    adapter = choose_adapter(case.name, io.BytesIO(case.data), CONTEXT)
    rows, problems, _notices = read_all(adapter, io.BytesIO(case.data), case.name)
    return rows, problems


def check(case: Case) -> None:
    """The three properties for one file (also used by the reproducers)."""
    note(case.describe())
    try:
        rows, problems = read(case)  # (1): any other exception fails the test
    except SubmissionError as exc:
        assert case.may_refuse or case.must_refuse, f"file refused: {exc} ({exc.reason_code})"
        return
    assert not case.must_refuse, "a file with no data row, no required column or only a BOM must be refused"

    items: dict[int, SubmissionRow | RowProblem] = {}
    every: list[SubmissionRow | RowProblem] = [*rows, *problems]
    for item in every:
        assert item.row_no not in items, f"two items for row {item.row_no}"
        items[item.row_no] = item
    written = {w.row_no: w.row for w in case.rows}
    if case.exact_count:
        # (2) rows read = rows loaded + rows quarantined, row for row
        assert len(rows) + len(problems) == len(case.rows)
        assert set(items) == set(written), f"items for rows {sorted(items)}, data rows written {sorted(written)}"
    for row_no, row in written.items():
        if not case.exact_count or row.status == "unsure":
            continue
        item = items[row_no]
        if row.status == "invalid":
            assert isinstance(item, RowProblem), f"row {row_no} must be quarantined, loaded {item}"
            continue
        # (3) a valid row loads with the values written
        assert isinstance(item, SubmissionRow), f"row {row_no} must load: {item}"
        got = {k: getattr(item, k) for k in row.expected}
        assert got == row.expected, f"row {row_no}"


@given(case=submissions())
def test_submission_files_keep_the_contract(case: Case) -> None:
    check(case)
