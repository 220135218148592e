"""Typed records that the submission parsers yield, and the errors they raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    """One valid indicator row of a monthly submission.

    ``row_no`` is the 1-based row of the file as a person sees it in Excel or a text editor
    (the header is row 1, so the first data row is 2); for JSON it is the 1-based index of
    the object in the list.
    """

    row_no: int
    unit_code: str
    period: str
    """``YYYY-MM``"""
    indicator_code: str
    service_code: str
    """``NA`` (``ingest.registry.NO_SERVICE``) when the row is not about one service."""
    numerator: int
    denominator: int | None
    reported_rate: Decimal | None
    note: str | None
    flags: tuple[str, ...] = ()
    """Soft findings that load with the row, e.g. ``numerator_above_denominator``."""
    source_line: int | None = None
    """For a figure extracted from a narrative report: the line (or paragraph) it came from."""
    snippet: str | None = None
    """For a figure extracted from a narrative report: the sentence it came from."""

    def __reduce__(self) -> tuple[type[SubmissionRow], tuple[object, ...]]:
        # Rows cross process boundaries by the thousand: one constructor call each, not a
        # setattr per field (the default for slotted dataclasses).
        return (SubmissionRow, tuple(getattr(self, f) for f in self.__slots__))


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot load.  It goes to quarantine with everything needed to fix it."""

    row_no: int
    column: str | None
    raw_value: str | None
    reason_code: str
    reason_vi: str
    reason_en: str
    raw_row: dict[str, str | None] = field(default_factory=dict)

    def __reduce__(self) -> tuple[type[RowProblem], tuple[object, ...]]:
        return (RowProblem, tuple(getattr(self, f) for f in self.__slots__))


class SubmissionError(Exception):
    """A whole file cannot be read (empty, wrong sheet, too large, undecodable ...).

    Carries the file name and, where known, the row and column.
    """

    def __init__(
        self,
        file: str,
        reason_code: str,
        reason_vi: str,
        reason_en: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.reason_code = reason_code
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        self.row = row
        self.column = column
        where = file + (f", row {row}" if row is not None else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {reason_en}")


@dataclass(frozen=True, slots=True)
class FileNotice:
    """Something about a whole file that loads anyway but that its unit must hear about.

    Examples: a column the contract does not know (with the nearest known alias), or the text
    encoding that was detected.  Parsers yield notices among their rows; they are not rows, so
    they count in neither rows read nor rows loaded.  The ledger keeps them with the file.
    """

    code: str
    message_vi: str
    message_en: str
    column: str | None = None
    severity: str = "warning"
    """``warning`` (the unit should fix something) or ``info`` (for the record)."""
