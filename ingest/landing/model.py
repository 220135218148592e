"""What the landing path passes between its passes: received files, parsed files, outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.landing.adapters import SourceKind
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
    """A file as received: its name, where its bytes are archived, and when it arrived."""

    name: str
    sha256: str
    size_bytes: int
    archive_path: Path
    received_at: dt.datetime
    requested_period: str | None = None
    replay_of: ReplayIdentity | None = None


@dataclass
class Parsed:
    """What reading one received file gave: its rows, problems and notices, or why it failed."""

    received: Received
    source_kind: SourceKind
    status: Status
    rows: list[SubmissionRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    notices: list[FileNotice] = field(default_factory=list)
    error: tuple[str, str, str] | None = None
    """(reason code, Vietnamese, English) for a rejected or failed file."""

    @property
    def unit_code(self) -> str | None:
        return _dominant(r.unit_code for r in self.rows)

    @property
    def period(self) -> str | None:
        return _dominant(r.period for r in self.rows) or self.received.requested_period

    @property
    def row_periods(self) -> set[str]:
        return {r.period for r in self.rows}


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


def _dominant(values: Iterable[str]) -> str | None:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None
