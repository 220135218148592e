"""Write parsed files to the warehouse: ledger rows, rows and quarantine, one COPY stream each.

A batch is one transaction.  It first takes an advisory lock on every file hash of the batch
(in a fixed order, so two landings cannot deadlock), then drops the files already in the
ledger: two landings of the same folder at once serialise, and the second records duplicates.

A row is ``held`` when its own month is closed (``audit.period_lock``): the lock applies to
every row's month, not to the month most of the file is about.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import psycopg

from ingest.landing.adapters import AfterLoad, SourceKind
from ingest.landing.model import FileOutcome, Parsed
from ingest.warehouse.db import copy_rows

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


Hooks = Callable[[SourceKind], AfterLoad | None]
"""The hook to run after a file of a source kind is stored, if any."""


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
        replay.loaded_at if replay and replay.loaded_at else now,
        p.status,
        len(p.rows) + len(p.problems),
        len(p.rows),
        len(p.problems),
        code,
        vi,
        en,
        str(r.archive_path),
        r.requested_period,
        json.dumps([asdict(n) for n in p.notices], ensure_ascii=False),
    )


def _submission_rows(parsed: list[Parsed], ids: list[int], batch_id: str) -> Iterator[tuple[Any, ...]]:
    for p, file_id in zip(parsed, ids, strict=True):
        batch = p.received.replay_of.batch_id if p.received.replay_of else batch_id
        for r in p.rows:
            yield (
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
                p.source_kind,
                r.source_line,
                r.snippet,
                batch,
                p.received.sha256,
            )


def _quarantine_rows(parsed: list[Parsed], ids: list[int], batch_id: str) -> Iterator[tuple[Any, ...]]:
    for p, file_id in zip(parsed, ids, strict=True):
        batch = p.received.replay_of.batch_id if p.received.replay_of else batch_id
        for q in p.problems:
            raw_row = json.dumps(q.raw_row, ensure_ascii=False)
            yield (file_id, q.row_no, q.column, q.raw_value, q.reason_code, q.reason_vi, q.reason_en, raw_row, batch)


def _closed_periods(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute("select period from audit.period_lock").fetchall()}


def _after_load(conn: psycopg.Connection[Any], parsed: list[Parsed], ids: list[int], hooks: Hooks) -> None:
    """Per-file hooks (a narrative report's findings and review workbook) in the batch's transaction."""
    for p, file_id in zip(parsed, ids, strict=True):
        hook = hooks(p.source_kind)
        if hook is not None and p.status == "loaded":
            hook(conn, file_id, p.received.name, p.received.archive_path.read_bytes(), [*p.rows, *p.problems])


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
        len(p.rows) + len(p.problems),
        len(p.rows),
        len(p.problems),
        held=bool(p.row_periods & closed),
        error=en if code else None,
        warnings=sum(n.severity == "warning" for n in p.notices),
    )


def store_batch(
    conn: psycopg.Connection[Any], parsed: list[Parsed], batch_id: str, hooks: Hooks = lambda kind: None
) -> list[FileOutcome]:
    """Store ``parsed`` in one transaction; raise :class:`StoreError` (and store nothing) on failure."""
    try:
        with conn.transaction():
            fresh, existing = _claim(conn, parsed)
            ids = _file_ids(conn, fresh) if fresh else []
            (now,) = conn.execute("select now()").fetchone()  # type: ignore[misc]
            ledger = (_ledger_row(p, i, batch_id, now) for p, i in zip(fresh, ids, strict=True))
            copy_rows(conn, "audit.load_ledger", LEDGER_COLUMNS, ledger)
            copy_rows(conn, "raw.submission_row", ROW_COLUMNS, _submission_rows(fresh, ids, batch_id))
            copy_rows(conn, "raw.quarantine", QUARANTINE_COLUMNS, _quarantine_rows(fresh, ids, batch_id))
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
