"""What the landing path passes between its passes: received files, parsed files, outcomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.landing.adapters import SourceKind
from ingest.landing.receipt import ReceiptSource
from ingest.landing.spool import Spool
from ingest.submissions.model import FileNotice, RowProblem, SubmissionRow

Status = Literal["loaded", "duplicate", "rejected", "failed"]


@dataclass(frozen=True)
class ReplayIdentity:
    """The ledger identity a replayed file keeps, so a replay reproduces the warehouse exactly."""

    file_id: int | None
    batch_id: str
    loaded_at: dt.datetime | None


@dataclass(frozen=True)
class Received:
    """A file as received: its name, where its bytes are archived, and when it arrived.

    ``received_at`` is when the warehouse first received the file, never its modification time;
    ``received_at_source`` says where that time comes from (:mod:`ingest.landing.receipt`)."""

    name: str
    sha256: str
    size_bytes: int
    archive_path: Path
    received_at: dt.datetime
    requested_period: str | None = None
    replay_of: ReplayIdentity | None = None
    received_at_source: ReceiptSource = "ingest"
    withheld: bool = False
    """The bytes hold personal data and no archive key is set: hashed, never archived nor read."""


@dataclass
class Parsed:
    """What reading one received file gave, or why it failed.

    Rows and problems are not held in memory: the reader writes them, as COPY text, to spool
    files (:mod:`ingest.landing.spool`) that the store streams into the warehouse.  What the
    ledger needs (counts, the unit and month most rows are about, every row's month) is kept.
    """

    received: Received
    source_kind: SourceKind
    status: Status
    spool: Spool | None = None
    notices: list[FileNotice] = field(default_factory=list)
    error: tuple[str, str, str] | None = None
    """(reason code, Vietnamese, English) for a rejected or failed file."""
    hook_items: list[SubmissionRow | RowProblem] | None = None
    """Rows and problems, kept only for a source kind whose after-load hook needs them."""
    streamed: bool = False
    """A source extract: its rows are parsed and copied when it is stored (then ``spool`` holds
    only its counts)."""
    period_hint: str | None = None
    """The month a streamed file's first row is about, for its ledger row if it is refused."""

    @property
    def rows_loaded(self) -> int:
        return self.spool.rows if self.spool else 0

    @property
    def rows_quarantined(self) -> int:
        return self.spool.problems if self.spool else 0

    @property
    def unit_code(self) -> str | None:
        return self.spool.unit_code if self.spool else None

    @property
    def period(self) -> str | None:
        spooled = self.spool.period if self.spool else None
        return spooled or self.period_hint or self.received.requested_period

    @property
    def row_periods(self) -> frozenset[str]:
        return self.spool.periods if self.spool else frozenset()

    def discard(self) -> None:
        """Forget the rows (a file that failed after reading): delete its spool files."""
        if self.spool:
            self.spool.remove()
        self.spool = None
        self.hook_items = None


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one received file (ids and counts only: safe for logs and XCom)."""

    file_name: str
    sha256: str
    status: Status
    file_id: int | None
    source_kind: SourceKind
    unit_code: str | None
    period: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    held: bool = False
    error: str | None = None
    warnings: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
