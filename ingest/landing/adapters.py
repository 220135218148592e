"""Source adapters: which kind of file this is, and how its rows are read.

Every received file goes through one landing path (:mod:`ingest.landing.land`).  What differs
between sources is only how a file is recognised and read, and that is an :class:`Adapter`:

* ``template``: a structured submission (CSV, XLSX, JSON, or a ``.txt`` that is a delimited
  table, such as Excel's "Unicode Text" export);
* ``review``: a review workbook (``*_ra_soat.xlsx``) that a person corrected and sent back; its
  rows replace only the narrative figures they review;
* ``narrative``: a Word, PDF or plain-text report whose figures are extracted;
* ``civil_registry``, ``bhxh``: a source extract (formats.md §3, §4), recognised by its CSV
  header (:func:`ingest.extracts.detect_extract`).  Its rows are *streamed*: the store pass
  parses it and COPYs its rows straight into its raw table (:func:`ingest.extracts.load_extract`)
  in the batch's transaction, with no row cap and flat memory;
* anything else is refused with a reason, and still recorded and archived.

An adapter is chosen by content as well as by extension (:func:`choose_adapter`).  Its
``read`` yields :class:`SubmissionRow`, :class:`RowProblem` and :class:`FileNotice` items and
raises only :class:`SubmissionError`; the landing layer turns anything else into a failed file.

>>> adapter = choose_adapter("AG.STP.txt", head, LandingContext(registry, today, "2026-03"))
>>> adapter.kind
'template'
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from ingest.extracts import detect_extract
from ingest.landing.receipt import is_manifest
from ingest.narrative.review import REVIEW_KEYWORD, after_narrative_load
from ingest.narrative.submission import narrative_parser
from ingest.registry import Registry
from ingest.submissions.model import FileNotice, RowProblem, SubmissionError, SubmissionRow
from ingest.submissions.parse import looks_like_table, parse_submission
from ingest.submissions.plan_status import store_plan_statuses
from ingest.submissions.reasons import Reason, submission_error

SourceKind = Literal["template", "review", "narrative", "extract", "civil_registry", "bhxh"]
Item = SubmissionRow | RowProblem | FileNotice
Reader = Callable[[BinaryIO, str], Iterator[Item]]
AfterLoad = Callable[[Any, int, str, bytes, list[SubmissionRow | RowProblem]], None]
"""Called in the file's transaction once it is loaded: (conn, file_id, name, data, items)."""

STRUCTURED_SUFFIXES = (".csv", ".xlsx", ".json")
EXTRACT_SUFFIXES = (".csv", ".txt", "")
"""Extensions a source extract may come with (it is recognised by its header)."""
NARRATIVE_SUFFIXES = (".docx", ".pdf", ".txt")
HEAD_BYTES = 64 * 1024
"""How much of a file :func:`choose_adapter` looks at."""


@dataclass(frozen=True)
class LandingContext:
    """What adapters validate against: the registry, today's date and the month sent for."""

    registry: Registry
    today: dt.date
    period: str | None = None


@dataclass(frozen=True)
class Adapter:
    """One source kind: its name in the ledger, its reader and what follows its load."""

    kind: SourceKind
    read: Reader
    after_load: AfterLoad | None = None
    streamed: bool = False
    """Rows go straight from the file to COPY when it is stored, not through ``read`` and a spool."""


def is_received_file(path: Path) -> bool:
    """Whether a file in an inbox is a submission to load.

    Every file counts, not only known formats: an unsupported one is recorded and reported as
    rejected.  Hidden files, Office lock files, partial copies (``.part``) and the folder's
    receipt manifest (``received.csv``, metadata read by :mod:`ingest.landing.receipt`) are left alone.
    """
    return path.is_file() and not path.name.startswith((".", "~$")) and path.suffix != ".part" and not is_manifest(path)


def _structured(ctx: LandingContext, kind: SourceKind = "template") -> Adapter:
    def read(fp: BinaryIO, name: str) -> Iterator[Item]:
        return parse_submission(fp, name=name, registry=ctx.registry, today=ctx.today, period=ctx.period)

    return Adapter(kind, read)


def _narrative(ctx: LandingContext) -> Adapter:
    return Adapter("narrative", narrative_parser(ctx.registry, ctx.period), after_load_hooks(ctx)("narrative"))


def after_load_hooks(ctx: LandingContext) -> Callable[[SourceKind], AfterLoad | None]:
    """What runs once a file of each source kind is stored (in its transaction), if anything.

    Kept apart from the adapters' readers so that reading can happen in worker processes."""

    def narrative(conn: Any, file_id: int, name: str, data: bytes, items: list[SubmissionRow | RowProblem]) -> None:
        after_narrative_load(conn, file_id, name, data, items, ctx.registry)

    def template(conn: Any, file_id: int, name: str, data: bytes, items: list[SubmissionRow | RowProblem]) -> None:
        if name.lower().endswith(".xlsx"):  # a workbook's second sheet: the unit's plan-task statuses
            store_plan_statuses(conn, file_id, data)

    return lambda kind: {"narrative": narrative, "template": template}.get(kind)


def _as_table_name(name: str) -> str:
    """The structured parser picks its format by extension: a table saved as .txt reads as CSV."""
    return str(Path(name).with_suffix(".csv"))


def _refuse(suffix: str) -> Adapter:
    def read(fp: BinaryIO, name: str) -> Iterator[Item]:
        raise submission_error(Reason.UNSUPPORTED_FORMAT, name, extension=suffix or "(không có phần mở rộng)")

    return Adapter("template", read)


def is_review_workbook(name: str, fp: BinaryIO) -> bool:
    """Whether an XLSX is a review workbook we wrote: by its name or its document keywords.

    Only the small ``docProps/core.xml`` part is read, and only when the archive opens.
    """
    if Path(name).stem.endswith("_ra_soat"):
        return True
    try:
        fp.seek(0)
        with zipfile.ZipFile(fp) as archive:
            info = archive.getinfo("docProps/core.xml")
            if info.file_size > HEAD_BYTES:
                return False
            return REVIEW_KEYWORD.encode() in archive.read(info)
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, NotImplementedError):
        return False
    finally:
        fp.seek(0)


def _extract(kind: SourceKind) -> Adapter:
    def read(fp: BinaryIO, name: str) -> Iterator[Item]:
        raise NotImplementedError("an extract is streamed into its table by the store pass")

    return Adapter(kind, read, streamed=True)


def choose_adapter(name: str, fp: BinaryIO, ctx: LandingContext) -> Adapter:
    """The adapter for a received file, by its extension and, where that is ambiguous, its content."""
    suffix = Path(name).suffix.lower()
    if suffix in EXTRACT_SUFFIXES:
        extract = detect_extract(fp.read(HEAD_BYTES))
        fp.seek(0)
        if extract is not None:
            return _extract(extract)
    if suffix == ".xlsx" and is_review_workbook(name, fp):
        return _structured(ctx, "review")
    if suffix in STRUCTURED_SUFFIXES:
        return _structured(ctx)
    if suffix == ".txt":
        head = fp.read(HEAD_BYTES)
        fp.seek(0)
        if looks_like_table(head):
            structured = _structured(ctx)
            return Adapter("template", lambda f, n: structured.read(f, _as_table_name(n)))
    if suffix in NARRATIVE_SUFFIXES:
        return _narrative(ctx)
    return _refuse(suffix)


def read_all(
    adapter: Adapter, fp: BinaryIO, name: str
) -> tuple[list[SubmissionRow], list[RowProblem], list[FileNotice]]:
    """Every item of a file, sorted by type; raises :class:`SubmissionError` for a file refused whole."""
    rows: list[SubmissionRow] = []
    problems: list[RowProblem] = []
    notices: list[FileNotice] = []
    for item in adapter.read(fp, name):
        if isinstance(item, SubmissionRow):
            rows.append(item)
        elif isinstance(item, RowProblem):
            problems.append(item)
        else:
            notices.append(item)
    return rows, problems, notices


__all__ = [
    "HEAD_BYTES",
    "Adapter",
    "LandingContext",
    "SourceKind",
    "SubmissionError",
    "after_load_hooks",
    "choose_adapter",
    "is_received_file",
    "is_review_workbook",
    "read_all",
]
