"""The one landing path: archive, parse, ledger, COPY, quarantine, for every source kind.

A batch of received files lands in three passes:

1. **receive**: each file is hashed and archived immutably under its content address before
   anything reads it, so nothing received is ever lost;
2. **parse**: each file is read by its adapter (:mod:`ingest.landing.adapters`), on every core
   when the batch is large.  A file refused as a whole is ``rejected`` with its reason; an
   unexpected error in a file marks that file ``failed`` with the error, and the batch goes on;
3. **store**: the whole batch is written in one transaction, through one COPY stream per
   target table (ledger, rows, quarantine).  Should that transaction fail, the batch is stored
   again file by file, and a file that still cannot be stored is recorded as ``failed``.

Every file gets a ledger row, whatever happens, with rows read = rows loaded + rows quarantined.
Concurrent landings serialise on an advisory lock per file hash: the same bytes land once, and
the other landing records them as duplicates.

>>> with connect() as conn:
...     outcomes = land_paths(conn, [Path("inbox/2026-03/AG.STP.csv")], batch_id="manual", ctx=ctx)
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import current_process, get_context
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import psycopg

from ingest.config import archive_dir
from ingest.extracts import ExtractReason, detect_extract, inspect_extract
from ingest.extracts.pseudonym import PseudonymKeyMissing, pseudonym_key
from ingest.landing import spool
from ingest.landing.adapters import LandingContext, SourceKind, after_load_hooks, choose_adapter
from ingest.landing.archive import SEALED_SUFFIX, archive_fernet, open_archived, seal
from ingest.landing.model import FileOutcome, Parsed, Received, ReplayIdentity
from ingest.landing.receipt import Arrival, ReceiptSource, arrivals
from ingest.landing.spool import Spool
from ingest.landing.store import Hooks, Loader, StoreError, extract_loader, store_batch
from ingest.safety import safe_filename
from ingest.submissions.model import FileNotice, RowProblem, SubmissionError, SubmissionRow

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
PARALLEL_MIN_FILES = 16
"""Below this many files, parsing in worker processes costs more than it saves."""
BATCH_FILES = 500
"""Files stored per transaction: bounds the memory a batch holds before its COPY."""


# --- pass 1: receive --------------------------------------------------------------------------


class Archived(NamedTuple):
    """Where a received file's bytes are archived, their sha256 and size, and whether they were
    withheld (personal data and no archive key: hashed, never written)."""

    path: Path
    sha256: str
    size: int
    withheld: bool = False


def _copied(first: bytes, fp: BinaryIO, out: BinaryIO | None) -> Iterator[bytes]:
    """The chunks of a file (``first``, then the rest of ``fp``), each written to ``out`` if given."""
    chunk = first
    while chunk:
        if out is not None:
            out.write(chunk)
        yield chunk
        chunk = fp.read(_CHUNK)


class ArchiveWriteError(OSError):
    """The raw archive cannot be written (disk full, quota, read-only): the landing stops, and the
    file keeps no ledger row, since a ledger row promises its archived bytes.  It stays in the
    inbox and lands on the next run once there is room."""

    def __init__(self, folder: Path, exc: OSError) -> None:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        super().__init__(
            exc.errno,
            f"Không ghi được vào kho lưu trữ tệp gốc {folder} ({reason}); tệp vẫn ở hộp thư đến và sẽ được nạp "
            f"khi có chỗ / cannot write to the raw archive at {folder} ({reason}); the file stays in the inbox "
            "and lands once there is room",
        )


_ARCHIVE_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def archive_stream(fp: BinaryIO, suffix: str) -> Archived:
    """Copy ``fp`` into the archive in chunks, hashing as it goes.

    Memory stays flat whatever the size; the copy is named by its content once it is whole.  A
    file with personal data (a BHXH extract) is archived sealed (:mod:`ingest.landing.archive`),
    or, without an archive key, not at all; its hash is the hash of the bytes received."""
    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    first = fp.read(_CHUNK)
    personal = detect_extract(first) == "bhxh"
    tmp = folder / f".incoming.{os.getpid()}.{uuid.uuid4().hex}.part"
    try:
        return _archive(fp, first, suffix, folder, tmp, personal)
    except OSError as exc:
        if exc.errno in _ARCHIVE_FULL and not isinstance(exc, ArchiveWriteError):
            raise ArchiveWriteError(folder, exc) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _archive(fp: BinaryIO, first: bytes, suffix: str, folder: Path, tmp: Path, personal: bool) -> Archived:
    """Write the copy to ``tmp`` as it streams, then name it by its hash (pass 1 of the archive)."""
    fernet = archive_fernet() if personal else None
    digest, size = hashlib.sha256(), 0
    with tmp.open("wb") as out:
        chunks = seal(first, fp, out, fernet) if fernet is not None else _copied(first, fp, None if personal else out)
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
    sha256 = digest.hexdigest()
    target = folder / sha256[:2] / f"{sha256}{suffix}{SEALED_SUFFIX if fernet else ''}"
    if personal and fernet is None:
        return Archived(target, sha256, size, withheld=True)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.chmod(0o444)
        os.replace(tmp, target)
    return Archived(target, sha256, size)


def receive_bytes(
    data: bytes,
    name: str,
    received_at: dt.datetime,
    *,
    period: str | None = None,
    replay_of: ReplayIdentity | None = None,
    source: ReceiptSource = "ingest",
) -> Received:
    """Hash and archive one file's bytes, received at ``received_at`` (known from ``source``)."""
    file_name = safe_filename(name)
    archive, sha256, size, withheld = archive_stream(io.BytesIO(data), Path(file_name).suffix.lower())
    return Received(file_name, sha256, size, archive, received_at, period, replay_of, source, withheld)


def receive_path(
    path: Path,
    *,
    period: str | None = None,
    received_at: dt.datetime | None = None,
    source: ReceiptSource = "ingest",
) -> Received:
    """Hash and archive one file on disk, streaming.

    Its time of receipt is ``received_at`` (supplied, or from its folder's manifest), else now;
    never its modification time, which copying changes."""
    if received_at is None:
        received_at, source = dt.datetime.now(dt.UTC), "ingest"
    file_name = safe_filename(path.name)
    with path.open("rb") as fp:
        archive, sha256, size, withheld = archive_stream(fp, Path(file_name).suffix.lower())
    return Received(file_name, sha256, size, archive, received_at, period, None, source, withheld)


# --- pass 2: parse ----------------------------------------------------------------------------


def _error_text(exc: BaseException) -> str:
    """An unexpected error in one line, for the ledger and the log (never a traceback)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


def parse_received(received: Received, ctx: LandingContext) -> Parsed:
    """Read one archived file with its adapter, spooling its rows to disk.  Never raises."""
    kind: SourceKind = "template"
    spooled: Spool | None = None
    if received.withheld:
        return _refused(received, "bhxh", ExtractReason.ARCHIVE_KEY_MISSING)
    try:
        with open_archived(received.archive_path) as fp:
            adapter = choose_adapter(received.name, fp, ctx)
            kind = adapter.kind
            if adapter.streamed:
                return _inspect_extract(received, kind, fp)
            spooled = Spool.open(received.sha256, kind)
            parsed = Parsed(received, kind, "loaded", spooled)
            keep: list[SubmissionRow | RowProblem] | None = [] if adapter.after_load else None
            for item in adapter.read(fp, received.name):
                if isinstance(item, FileNotice):
                    parsed.notices.append(item)
                    continue
                spooled.add(item)
                if keep is not None:
                    keep.append(item)
        spooled.close()
        parsed.hook_items = keep
        return parsed
    except SubmissionError as exc:
        _drop(spooled)
        return Parsed(received, kind, "rejected", error=(exc.reason_code, exc.reason_vi, str(exc)))
    except (Exception, RecursionError) as exc:  # one bad file must never stop the batch
        _drop(spooled)
        log.warning("%s: unexpected error while reading: %s", received.name, _error_text(exc))
        log.debug("traceback", exc_info=True)
        vi = f"Lỗi hệ thống khi đọc tệp ({type(exc).__name__}); bộ phận kỹ thuật đã được ghi nhận"
        return Parsed(received, kind, "failed", error=("internal_error", vi, _error_text(exc)))


def _refused(received: Received, kind: SourceKind, reason: ExtractReason, period: str | None = None) -> Parsed:
    vi, en = reason.texts()
    return Parsed(received, kind, "rejected", error=(reason.code, vi, en), streamed=True, period_hint=period)


def _inspect_extract(received: Received, kind: SourceKind, fp: BinaryIO) -> Parsed:
    """A source extract in the parse pass: its header checked and its month read (a file that
    cannot load is refused now); its rows are parsed and copied when it is stored.  A BHXH
    extract is refused whole without a pseudonym key: nothing of it is read further."""
    head = inspect_extract(fp, name=received.name, kind=kind)  # type: ignore[arg-type]
    if kind == "bhxh":
        try:
            pseudonym_key()
        except PseudonymKeyMissing:
            return _refused(received, kind, ExtractReason.PSEUDONYM_KEY_MISSING, head.period)
    return Parsed(received, kind, "loaded", streamed=True, period_hint=head.period)


def _drop(spooled: Spool | None) -> None:
    if spooled is not None:
        spooled.remove()


def receive_and_parse(arrival: Arrival, ctx: LandingContext) -> Parsed:
    """Receive (hash, archive) and read one file on disk; runs in a worker process.

    A file that cannot be read from disk still gets a ledger row, ``failed``, keyed by its path.
    A notice about its receipt time (an unreadable manifest line) goes on its ledger row."""
    path = arrival.path
    try:
        received = receive_path(path, period=ctx.period, received_at=arrival.received_at, source=arrival.source)
    except ArchiveWriteError:
        raise  # the archive, not the file: stop the landing, record nothing
    except OSError as exc:
        log.warning("%s: cannot be read from disk: %s", path.name, _error_text(exc))
        key = hashlib.sha256(f"unreadable:{path.resolve()}:{dt.datetime.now(dt.UTC).isoformat()}".encode()).hexdigest()
        received = Received(
            safe_filename(path.name), key, 0, path, arrival.received_at, ctx.period, None, arrival.source
        )
        vi = "Không đọc được tệp từ hộp thư đến (quyền truy cập hoặc lỗi đĩa)"
        parsed = Parsed(received, "template", "failed", error=("unreadable_file", vi, _error_text(exc)))
    else:
        parsed = parse_received(received, ctx)
    if arrival.notice is not None:
        parsed.notices.insert(0, arrival.notice)
    return parsed


Work = Callable[[Any, LandingContext], Parsed]
_WORKER: tuple[Work, LandingContext] | None = None


def _init_worker(work: Work, ctx: LandingContext, spool_folder: Path) -> None:
    global _WORKER
    _WORKER = (work, ctx)
    spool.use_folder(spool_folder)


def _in_worker(item: Any) -> Parsed:
    assert _WORKER is not None
    work, ctx = _WORKER
    return work(item, ctx)


def parse_all(
    items: Sequence[Any], ctx: LandingContext, work: Work = parse_received, *, spool_folder: Path
) -> Iterator[Parsed]:
    """``work`` on each item in order, on every core when the batch is large enough to gain.

    In a daemonic process (a Celery prefork worker's child, where Airflow runs the task) no
    process may be started: the batch is read in this process."""
    workers = os.cpu_count() or 1
    if workers < 2 or len(items) < PARALLEL_MIN_FILES or current_process().daemon:
        spool.use_folder(spool_folder)
        for item in items:
            yield work(item, ctx)
        return
    chunk = max(1, min(32, len(items) // (workers * 8)))
    with ProcessPoolExecutor(
        workers, mp_context=get_context("fork"), initializer=_init_worker, initargs=(work, ctx, spool_folder)
    ) as pool:
        yield from pool.map(_in_worker, items, chunksize=chunk)


# --- pass 3: store ----------------------------------------------------------------------------


def _store(
    conn: psycopg.Connection[Any], parsed: list[Parsed], batch_id: str, hooks: Hooks, load: Loader = None
) -> list[FileOutcome]:
    """Store a batch in one transaction; on failure, file by file, so one file cannot sink the rest.

    The batch's spool files are removed afterwards, whatever happened."""
    try:
        return _store_or_retry(conn, parsed, batch_id, hooks, load)
    finally:
        for p in parsed:
            p.discard()


def _store_or_retry(
    conn: psycopg.Connection[Any], parsed: list[Parsed], batch_id: str, hooks: Hooks, load: Loader
) -> list[FileOutcome]:
    try:
        return store_batch(conn, parsed, batch_id, hooks, load)
    except StoreError as exc:
        log.warning("storing %d files at once failed (%s); storing them one by one", len(parsed), exc)
    outcomes: list[FileOutcome] = []
    for p in parsed:
        try:
            outcomes += store_batch(conn, [p], batch_id, hooks, load)
        except StoreError as exc:
            log.warning("%s: cannot be stored: %s", p.received.name, exc)
            vi = "Lỗi hệ thống khi ghi dữ liệu của tệp; bộ phận kỹ thuật đã được ghi nhận"
            p.discard()
            p.status, p.error = "failed", ("internal_error", vi, str(exc))
            outcomes += store_batch(conn, [p], batch_id)
    return outcomes


def land_received(
    conn: psycopg.Connection[Any],
    files: Sequence[Any],
    *,
    batch_id: str,
    ctx: LandingContext,
    work: Work = parse_received,
) -> list[FileOutcome]:
    """Parse and store files in their order: :class:`Received` files (hashed and archived), or
    other items that ``work`` receives and parses."""
    outcomes: list[FileOutcome] = []
    pending: list[Parsed] = []
    hooks, load = after_load_hooks(ctx), extract_loader(ctx.registry)
    with tempfile.TemporaryDirectory(prefix="d06-spool-") as folder:
        for parsed in parse_all(files, ctx, work, spool_folder=Path(folder)):
            pending.append(parsed)
            if len(pending) >= BATCH_FILES:
                outcomes += _store(conn, pending, batch_id, hooks, load)
                pending = []
        if pending:
            outcomes += _store(conn, pending, batch_id, hooks, load)
    for o in outcomes:
        _log_outcome(o)
    return outcomes


def _log_outcome(o: FileOutcome) -> None:
    log.info(
        "%s: %s, %d rows read, %d loaded, %d quarantined%s%s",
        o.file_name,
        o.status,
        o.rows_read,
        o.rows_loaded,
        o.rows_quarantined,
        " (period closed: held)" if o.held else "",
        f" - {o.error}" if o.error else "",
    )


def land_paths(
    conn: psycopg.Connection[Any],
    paths: Sequence[Path],
    *,
    batch_id: str,
    ctx: LandingContext,
    received_at: dt.datetime | None = None,
) -> list[FileOutcome]:
    """Receive and land files on disk (any source kind), in the order they were received.

    Each file's receipt time is ``received_at`` when supplied (``d06 ingest --received-at``),
    else the time its folder's ``received.csv`` lists, else the start of this landing
    (:mod:`ingest.landing.receipt`).  Receipt manifests are read, not landed."""
    now = dt.datetime.now(dt.UTC)
    ordered = arrivals(paths, now=now, received_at=received_at)  # ledger ids follow receipt
    return land_received(conn, ordered, batch_id=batch_id, ctx=ctx, work=receive_and_parse)


def land_bytes(
    conn: psycopg.Connection[Any],
    data: bytes,
    *,
    name: str,
    batch_id: str,
    ctx: LandingContext,
    received_at: dt.datetime | None = None,
) -> FileOutcome:
    """Receive and land one file's bytes (uploads, tests), received now or at ``received_at`` (supplied)."""
    source: ReceiptSource = "supplied" if received_at is not None else "ingest"
    received = receive_bytes(data, name, received_at or dt.datetime.now(dt.UTC), period=ctx.period, source=source)
    return land_received(conn, [received], batch_id=batch_id, ctx=ctx)[0]
