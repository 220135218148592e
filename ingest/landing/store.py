"""Write parsed files to the warehouse: ledger rows, rows and quarantine, one COPY stream each.

A batch is one transaction.  It first takes an advisory lock on every file hash of the batch
(in a fixed order, so two landings cannot deadlock), then drops the files already in the
ledger: two landings of the same folder at once serialise, and the second records duplicates.

A source extract (``Parsed.streamed``) is parsed here, in the batch's transaction, once its
file id is known: its rows go straight from the archived file into COPY
(:func:`ingest.extracts.load_extract`), under a savepoint, so that an extract refused halfway
through or failing leaves nothing behind and the batch goes on.

A row is ``held`` when its own month is closed (``audit.period_lock``): the lock applies to
every row's month, not to the month most of the file is about.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import IO, Any

import psycopg

from ingest.extracts import CONFIG_ERRORS, ExtractKind, LoadCounts, load_extract
from ingest.extracts.pseudonym import pseudonym_key
from ingest.landing.adapters import AfterLoad, SourceKind
from ingest.landing.archive import open_archived
from ingest.landing.model import FileOutcome, Parsed
from ingest.landing.spool import ROW_COLUMNS, Spool, prefixed_lines
from ingest.registry import Registry
from ingest.submissions.model import SubmissionError
from ingest.warehouse.db import QUARANTINE_COLUMNS, copy_field, copy_into, copy_rows
from ingest.warehouse.roles import LOADER_ROLE, act_as

log = logging.getLogger(__name__)

LEDGER_COLUMNS = [
    "file_id",
    "batch_id",
    "file_name",
    "source_kind",
    "sha256",
    "size_bytes",
    "unit_code",
    "period",
    "received_at",
    "received_at_source",
    "loaded_at",
    "status",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "error_code",
    "error_vi",
    "error_en",
    "archive_path",
    "requested_period",
    "notices",
]


Hooks = Callable[[SourceKind], AfterLoad | None]
"""The hook to run after a file of a source kind is stored, if any."""


Loader = Callable[[psycopg.Connection[Any], IO[bytes], ExtractKind, str, int, str], LoadCounts] | None
"""Streams a source extract into its table: (conn, fp, kind, file name, file id, batch id)."""


def extract_loader(registry: Registry) -> Loader:
    """The loader of source extracts, checking commune codes against ``registry``'s communes."""
    communes = frozenset(code for code, unit in registry.units.items() if unit.kind == "commune")

    def load(conn: Any, fp: IO[bytes], kind: ExtractKind, name: str, file_id: int, batch_id: str) -> LoadCounts:
        key = pseudonym_key() if kind == "bhxh" else None
        return load_extract(
            conn, fp, kind=kind, name=name, file_id=file_id, batch_id=batch_id, communes=communes, key=key
        )

    return load


_COPY_BUFFER = 1024 * 1024


class StoreError(RuntimeError):
    """The database refused a batch (a value it cannot hold, a lost connection ...)."""


def _lock_key(sha256: str) -> int:
    """A signed 64-bit advisory-lock key from a file hash."""
    return int(sha256[:16], 16) - (1 << 63)


def _claim(conn: psycopg.Connection[Any], parsed: list[Parsed]) -> tuple[list[Parsed], dict[str, int]]:
    """Lock the batch's hashes; return the files still to store and the ids of those already stored."""
    shas = sorted({p.received.sha256 for p in parsed})
    conn.execute(
        "select count(pg_advisory_xact_lock(k)) from (select unnest(%s::bigint[]) as k order by 1) as keys",
        ([_lock_key(s) for s in shas],),
    )
    # A file refused for the warehouse's missing key, or stopped by an unexpected error (a database
    # that refused the write), was not the file's fault: sent again, it lands.
    conn.execute(
        """delete from audit.load_ledger
            where sha256 = any(%s) and (status = 'failed' or (status = 'rejected' and error_code = any(%s)))""",
        (shas, sorted(CONFIG_ERRORS)),
    )
    existing = dict(
        conn.execute("select sha256, file_id from audit.load_ledger where sha256 = any(%s)", (shas,)).fetchall()
    )
    fresh: list[Parsed] = []
    seen: set[str] = set()
    for p in parsed:
        if p.received.sha256 not in existing and p.received.sha256 not in seen:
            seen.add(p.received.sha256)
            fresh.append(p)
    return fresh, existing


def _file_ids(conn: psycopg.Connection[Any], parsed: list[Parsed]) -> list[int]:
    """A ledger id per file: a replayed file keeps its own, the others get new ones in order."""
    needed = sum(p.received.replay_of is None or p.received.replay_of.file_id is None for p in parsed)
    new = [
        r[0]
        for r in conn.execute(
            "select nextval(pg_get_serial_sequence('audit.load_ledger', 'file_id')) from generate_series(1, %s)",
            (needed,),
        ).fetchall()
    ]
    it = iter(new)
    ids = []
    for p in parsed:
        replay = p.received.replay_of
        ids.append(replay.file_id if replay and replay.file_id is not None else next(it))
    return ids


def _ledger_row(p: Parsed, file_id: int, batch_id: str, now: Any) -> tuple[Any, ...]:
    r = p.received
    replay = r.replay_of
    code, vi, en = p.error or (None, None, None)
    return (
        file_id,
        replay.batch_id if replay else batch_id,
        r.name,
        p.source_kind,
        r.sha256,
        r.size_bytes,
        p.unit_code,
        p.period,
        r.received_at,
        r.received_at_source,
        replay.loaded_at if replay and replay.loaded_at else now,
        p.status,
        p.rows_loaded + p.rows_quarantined,
        p.rows_loaded,
        p.rows_quarantined,
        code,
        vi,
        en,
        str(r.archive_path),
        r.requested_period,
        json.dumps([asdict(n) for n in p.notices], ensure_ascii=False),
    )


def _copy_spooled(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    parsed: list[Parsed],
    ids: list[int],
    batch_id: str,
) -> None:
    """Stream every file's spooled lines into one COPY, each prefixed with its file id and batch
    (no COPY when no file has any: a failed file's ledger row needs no right on the table)."""
    if not any(p.spool for p in parsed):
        return
    buffer = bytearray()
    with copy_into(conn, table, columns) as copy:
        for p, file_id in zip(parsed, ids, strict=True):
            where = p.spool.lines("rows" if table == "raw.submission_row" else "problems") if p.spool else None
            if where is None:
                continue
            batch = p.received.replay_of.batch_id if p.received.replay_of else batch_id
            prefix = f"{file_id}\t{copy_field(batch)}\t".encode()
            for chunk in prefixed_lines(where, prefix):
                buffer += chunk
                if len(buffer) >= _COPY_BUFFER:  # one round trip per megabyte, not per file
                    copy.write(buffer)
                    buffer = bytearray()
        if buffer:
            copy.write(buffer)


def _load_streamed(
    conn: psycopg.Connection[Any], parsed: list[Parsed], ids: list[int], batch_id: str, load: Loader
) -> None:
    """Parse and COPY each source extract of the batch, each under a savepoint; its counts go to
    its ledger row.  A file refused whole is ``rejected``; an unexpected error makes it ``failed``
    (for a BHXH file the error's type only: its message might quote a cell)."""
    for p, file_id in zip(parsed, ids, strict=True):
        if not p.streamed or p.status != "loaded" or load is None:
            continue
        batch = p.received.replay_of.batch_id if p.received.replay_of else batch_id
        kind: ExtractKind = p.source_kind  # type: ignore[assignment]
        try:
            with conn.transaction(), open_archived(p.received.archive_path) as fp:
                counts = load(conn, fp, kind, p.received.name, file_id, batch)
        except SubmissionError as exc:
            p.status, p.error = "rejected", (exc.reason_code, exc.reason_vi, str(exc))
            continue
        except psycopg.OperationalError:
            raise  # the connection is gone: the batch fails, and is retried file by file
        except Exception as exc:
            text = type(exc).__name__ + ("" if kind == "bhxh" else f": {_first_line(exc)}")
            log.warning("%s: unexpected error while loading the extract: %s", p.received.name, text)
            vi = "Lỗi hệ thống khi nạp tệp trích xuất; bộ phận kỹ thuật đã được ghi nhận"
            p.status, p.error = "failed", ("internal_error", vi, text)
            continue
        p.spool = Spool(p.received.sha256, kind, rows=counts.rows, problems=counts.problems, months=counts.months)


def _closed_periods(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute("select period from audit.period_lock").fetchall()}


def _after_load(conn: psycopg.Connection[Any], parsed: list[Parsed], ids: list[int], hooks: Hooks) -> None:
    """Per-file hooks (a narrative report's findings and review workbook) in the batch's transaction."""
    for p, file_id in zip(parsed, ids, strict=True):
        hook = hooks(p.source_kind)
        if hook is not None and p.status == "loaded":
            hook(conn, file_id, p.received.name, p.received.archive_path.read_bytes(), p.hook_items or [])


def _outcome(p: Parsed, file_id: int | None, closed: set[str], status: str | None = None) -> FileOutcome:
    code, _, en = p.error or (None, None, None)
    return FileOutcome(
        p.received.name,
        p.received.sha256,
        status or p.status,  # type: ignore[arg-type]
        file_id,
        p.source_kind,
        p.unit_code,
        p.period,
        p.rows_loaded + p.rows_quarantined,
        p.rows_loaded,
        p.rows_quarantined,
        held=bool(p.row_periods & closed),
        error=en if code else None,
        warnings=sum(n.severity == "warning" for n in p.notices),
    )


def store_batch(
    conn: psycopg.Connection[Any],
    parsed: list[Parsed],
    batch_id: str,
    hooks: Hooks = lambda kind: None,
    load: Loader = None,
) -> list[FileOutcome]:
    """Store ``parsed`` in one transaction; raise :class:`StoreError` (and store nothing) on failure."""
    try:
        with conn.transaction():
            act_as(conn, LOADER_ROLE)  # the batch writes with the loader's rights only
            fresh, existing = _claim(conn, parsed)
            ids = _file_ids(conn, fresh) if fresh else []
            _load_streamed(conn, fresh, ids, batch_id, load)
            (now,) = conn.execute("select now()").fetchone()  # type: ignore[misc]
            ledger = (_ledger_row(p, i, batch_id, now) for p, i in zip(fresh, ids, strict=True))
            copy_rows(conn, "audit.load_ledger", LEDGER_COLUMNS, ledger)
            _copy_spooled(conn, "raw.submission_row", ROW_COLUMNS, fresh, ids, batch_id)
            _copy_spooled(conn, "raw.quarantine", QUARANTINE_COLUMNS, fresh, ids, batch_id)
            _after_load(conn, fresh, ids, hooks)
            closed = _closed_periods(conn)
    except psycopg.Error as exc:
        raise StoreError(_first_line(exc)) from exc
    except Exception as exc:  # a hook that failed: the batch is retried file by file
        raise StoreError(f"{type(exc).__name__}: {_first_line(exc)}") from exc
    stored = {id(p): i for p, i in zip(fresh, ids, strict=True)}
    by_sha = {p.received.sha256: i for p, i in zip(fresh, ids, strict=True)} | existing
    return [
        _outcome(p, stored[id(p)], closed)
        if id(p) in stored
        else _outcome(p, by_sha[p.received.sha256], set(), "duplicate")
        for p in parsed
    ]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__
