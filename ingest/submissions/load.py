"""Load received files into the warehouse: archive, ledger, COPY of good rows, quarantine of bad ones.

Each file is one transaction.  The same bytes again (same sha256) change nothing.  For every
file, rows read = rows loaded + rows quarantined, and the ledger says so.

>>> with connect() as conn:
...     outcome = ingest_path(conn, Path("inbox/2026-03/AG.STP.csv"), batch_id="manual")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO, Literal

import psycopg

from ingest.config import archive_dir
from ingest.registry import Registry, load_registry
from ingest.safety import safe_filename
from ingest.submissions.model import RowProblem, SubmissionError, SubmissionRow
from ingest.submissions.parse import parse_submission
from ingest.warehouse.db import copy_rows

log = logging.getLogger(__name__)

SourceKind = Literal["template", "narrative", "extract"]
Parser = Callable[[BinaryIO, str], Iterator[SubmissionRow | RowProblem]]
AfterLoad = Callable[[Any, int, str, bytes, list[SubmissionRow | RowProblem]], None]
"""Called in the file's transaction once it is loaded: (conn, file_id, name, data, items)."""


@dataclass(frozen=True)
class FileHandler:
    """How a received file is read: its source kind, its parser and what follows its load."""

    source_kind: SourceKind
    parser: Parser
    after_load: AfterLoad | None = None


STRUCTURED_SUFFIXES = (".csv", ".xlsx", ".json")
NARRATIVE_SUFFIXES = (".docx", ".pdf", ".txt")


def is_received_file(path: Path) -> bool:
    """Whether a file in an inbox is a submission to load.

    Every file counts, not only known formats: an unsupported one is recorded and reported as
    rejected.  Hidden files, Office lock files and partial copies (``.part``) are left alone.
    """
    return path.is_file() and not path.name.startswith((".", "~$")) and path.suffix != ".part"


ROW_COLUMNS = [
    "file_id",
    "row_no",
    "unit_code",
    "period",
    "indicator_code",
    "service_code",
    "numerator",
    "denominator",
    "reported_rate",
    "note",
    "flags",
    "source_kind",
    "source_line",
    "snippet",
    "batch_id",
    "source_sha256",
]
QUARANTINE_COLUMNS = [
    "file_id",
    "row_no",
    "column_name",
    "raw_value",
    "reason_code",
    "reason_vi",
    "reason_en",
    "raw_row",
    "batch_id",
]


@dataclass(frozen=True)
class ReplayIdentity:
    """The ledger identity a replayed file keeps, so a replay reproduces the warehouse exactly."""

    file_id: int | None
    batch_id: str
    loaded_at: dt.datetime | None


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one received file (ids and counts only: safe for logs and XCom)."""

    file_name: str
    sha256: str
    status: Literal["loaded", "duplicate", "rejected"]
    file_id: int | None
    source_kind: SourceKind
    unit_code: str | None
    period: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    held: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def archive_file(data: bytes, sha256: str, suffix: str) -> Path:
    """Store ``data`` immutably under archive/<sha[:2]>/<sha><suffix>; return its path."""
    target = archive_dir() / sha256[:2] / f"{sha256}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        target.chmod(0o444)
    return target


def _dominant(values: Iterable[str]) -> str | None:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


def _is_period_closed(conn: psycopg.Connection[Any], period: str | None) -> bool:
    if period is None:
        return False
    row = conn.execute("select 1 from audit.period_lock where period = %s", (period,)).fetchone()
    return row is not None


def ingest_bytes(
    conn: psycopg.Connection[Any],
    data: bytes,
    *,
    name: str,
    handler: FileHandler,
    batch_id: str,
    received_at: dt.datetime,
    period: str | None = None,
    replay_of: ReplayIdentity | None = None,
) -> FileOutcome:
    """Archive, parse and load one file's bytes in one transaction.

    ``period`` is the month the file was sent for (its inbox folder); the ledger records it
    when no row says otherwise, so that a rejected file is still listed under its month.
    ``replay_of`` keeps the ledger identity (file id, batch, load time) of a replayed file.
    """
    file_name = safe_filename(name)
    source_kind, parser, after_load = handler.source_kind, handler.parser, handler.after_load
    sha256 = hashlib.sha256(data).hexdigest()
    existing = conn.execute("select file_id from audit.load_ledger where sha256 = %s", (sha256,)).fetchone()
    if existing is not None:
        log.info("%s: already loaded as file %s (same sha256), nothing to do", file_name, existing[0])
        return FileOutcome(file_name, sha256, "duplicate", existing[0], source_kind, None, None, 0, 0, 0)

    archive = archive_file(data, sha256, Path(file_name).suffix.lower())
    rows: list[SubmissionRow] = []
    problems: list[RowProblem] = []
    error: SubmissionError | None = None
    try:
        for item in parser(BytesIO(data), file_name):
            (rows if isinstance(item, SubmissionRow) else problems).append(item)  # type: ignore[arg-type]
    except SubmissionError as exc:
        error = exc
        rows, problems = [], []

    unit_code = _dominant(r.unit_code for r in rows)
    requested_period = period
    period = _dominant(r.period for r in rows) or period
    status: Literal["loaded", "rejected"] = "rejected" if error else "loaded"
    identity = replay_of or ReplayIdentity(None, batch_id, None)
    batch_id = identity.batch_id
    with conn.transaction():
        (file_id,) = conn.execute(  # type: ignore[misc]
            """
            insert into audit.load_ledger (
                file_id, loaded_at, requested_period,
                batch_id, file_name, source_kind, sha256, size_bytes, unit_code, period, received_at,
                status, rows_read, rows_loaded, rows_quarantined, error_code, error_vi, error_en, archive_path)
            values (coalesce(%s, nextval(pg_get_serial_sequence('audit.load_ledger', 'file_id'))),
                    coalesce(%s, now()), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning file_id
            """,
            (
                identity.file_id,
                identity.loaded_at,
                requested_period,
                batch_id,
                file_name,
                source_kind,
                sha256,
                len(data),
                unit_code,
                period,
                received_at,
                status,
                len(rows) + len(problems),
                len(rows),
                len(problems),
                error.reason_code if error else None,
                error.reason_vi if error else None,
                str(error) if error else None,
                str(archive),
            ),
        ).fetchone()
        copy_rows(
            conn,
            "raw.submission_row",
            ROW_COLUMNS,
            (
                (
                    file_id,
                    r.row_no,
                    r.unit_code,
                    r.period,
                    r.indicator_code,
                    r.service_code,
                    r.numerator,
                    r.denominator,
                    r.reported_rate,
                    r.note,
                    list(r.flags),
                    source_kind,
                    r.source_line,
                    r.snippet,
                    batch_id,
                    sha256,
                )
                for r in rows
            ),
        )
        copy_rows(
            conn,
            "raw.quarantine",
            QUARANTINE_COLUMNS,
            (
                (
                    file_id,
                    p.row_no,
                    p.column,
                    p.raw_value,
                    p.reason_code,
                    p.reason_vi,
                    p.reason_en,
                    json.dumps(p.raw_row, ensure_ascii=False),
                    batch_id,
                )
                for p in problems
            ),
        )
        if after_load is not None and status == "loaded":
            after_load(conn, file_id, file_name, data, [*rows, *problems])
    held = _is_period_closed(conn, period)
    outcome = FileOutcome(
        file_name,
        sha256,
        status,
        file_id,
        source_kind,
        unit_code,
        period,
        len(rows) + len(problems),
        len(rows),
        len(problems),
        held,
        str(error) if error else None,
    )
    log.info(
        "%s: %s, %d rows read, %d loaded, %d quarantined%s",
        file_name,
        status,
        outcome.rows_read,
        outcome.rows_loaded,
        outcome.rows_quarantined,
        " (period closed: held)" if held else "",
    )
    return outcome


def handler_for(name: str, registry: Registry, today: dt.date, period: str | None) -> FileHandler:
    """How to read a received file, by its extension."""
    suffix = Path(name).suffix.lower()
    if suffix in STRUCTURED_SUFFIXES:
        return FileHandler("template", submission_parser(registry, today, period))
    if suffix in NARRATIVE_SUFFIXES:
        from ingest.narrative.review import after_narrative_load
        from ingest.narrative.submission import narrative_parser

        def after(conn: Any, file_id: int, name: str, data: bytes, items: list[SubmissionRow | RowProblem]) -> None:
            after_narrative_load(conn, file_id, name, data, items, registry)

        return FileHandler("narrative", narrative_parser(registry, period), after)

    def refuse(fp: BinaryIO, name: str) -> Iterator[SubmissionRow | RowProblem]:
        # Recorded and archived like any file, so the unit hears why, and nothing is lost.
        raise SubmissionError(
            name,
            "unsupported_format",
            f"Định dạng tệp {suffix or '(không có phần mở rộng)'} không được hỗ trợ: "
            "gửi tệp .xlsx, .csv, .json (mẫu báo cáo) hoặc .docx, .pdf, .txt (báo cáo văn bản)",
            f"unsupported file format {suffix or '(no extension)'}: send .xlsx, .csv, .json, .docx, .pdf or .txt",
        )

    return FileHandler("template", refuse)


def submission_parser(registry: Registry, today: dt.date, period: str | None) -> Parser:
    def parse(fp: BinaryIO, name: str) -> Iterator[SubmissionRow | RowProblem]:
        return parse_submission(fp, name=name, registry=registry, today=today, period=period)

    return parse


def ingest_path(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    batch_id: str,
    registry: Registry | None = None,
    period: str | None = None,
    today: dt.date | None = None,
) -> FileOutcome:
    """Ingest one received file (any kind); its time of receipt is its modification time."""
    registry = registry or load_registry()
    today = today or dt.date.today()
    received_at = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    data = path.read_bytes()
    handler = handler_for(path.name, registry, today, period)
    return ingest_bytes(
        conn,
        data,
        name=path.name,
        handler=handler,
        batch_id=batch_id,
        received_at=received_at,
        period=period,
    )
