"""When each file was received: the time its timeliness is judged by.

Every ledger row records the time the warehouse first received the file (``received_at``) and
where that time came from (``received_at_source``):

* ``ingest``: when the landing call began receiving its batch (the default);
* ``supplied``: given for every file of one call (``d06 ingest --received-at``), to load
  archived files with their true receipt time;
* ``manifest``: listed in the folder's receipt manifest by whatever received the files (the
  mail gateway, the portal, ``d06 synth``, ``d06 demo-inbox``).

A file's modification time is never used: copying a file changes it.

**The receipt manifest** is ``received.csv`` in an inbox folder: UTF-8, header
``file_name,received_at``, one line per file, ISO 8601 times (a time without an offset is
Asia/Ho_Chi_Minh local time)::

    file_name,received_at
    AG.STP_2026-03.csv,2026-04-08T09:15:00+07:00

It is metadata of the folder, not a submission: it is not landed and gets no ledger row of its
own; what it says is kept in the ledger row of each file it lists.  A line that cannot be read
does not stop the load: the file it names is received at ingest time, with a notice on its
ledger row (and in the report) saying why.

>>> arrivals([Path("inbox/2026-03/AG.STP.csv")], now=dt.datetime.now(dt.UTC))[0].source
'manifest'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ingest.submissions.model import FileNotice
from ingest.submissions.periods import TIMEZONE

log = logging.getLogger(__name__)

ReceiptSource = Literal["ingest", "supplied", "manifest"]
MANIFEST_NAME = "received.csv"
MANIFEST_HEADER = ("file_name", "received_at")
MANIFEST_MAX_BYTES = 10 * 1024 * 1024
"""A larger manifest is not read (every file of its folder is then received at ingest time)."""


class ReceiptTimeError(ValueError):
    """A receipt time that is not an ISO 8601 date and time."""


def parse_receipt_time(text: str) -> dt.datetime:
    """An ISO 8601 time, timezone-aware; one without an offset is Asia/Ho_Chi_Minh local time.

    >>> parse_receipt_time("2026-04-10T23:59")
    datetime.datetime(2026, 4, 10, 23, 59, tzinfo=zoneinfo.ZoneInfo(key='Asia/Ho_Chi_Minh'))
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReceiptTimeError(f"{text!r} is not an ISO 8601 time (e.g. 2026-04-10T16:30:00+07:00)") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=TIMEZONE)


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is a folder's receipt manifest (metadata, not a submission)."""
    return path.name == MANIFEST_NAME


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


@dataclass
class Manifest:
    """What a folder's ``received.csv`` says: receipt times, and the files whose line was unreadable."""

    times: dict[str, dt.datetime] = field(default_factory=dict)
    problems: dict[str, tuple[str, str]] = field(default_factory=dict)
    """File name -> (Vietnamese, English) reason its line could not be used."""
    unusable: tuple[str, str] | None = None
    """Why the manifest as a whole could not be read, if it could not."""


def _unusable(folder: Path, vi: str, en: str) -> Manifest:
    log.warning("%s: receipt manifest not used: %s", folder / MANIFEST_NAME, en)
    return Manifest(unusable=(vi, en))


def read_manifest(folder: Path) -> Manifest:
    """The receipt manifest of ``folder`` (empty when there is none).  Never raises."""
    path = folder / MANIFEST_NAME
    try:
        if not path.is_file():
            return Manifest()
        if path.stat().st_size > MANIFEST_MAX_BYTES:
            return _unusable(folder, "tệp quá lớn", "the file is too large")
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return _unusable(folder, "không đọc được tệp (không phải UTF-8?)", f"cannot be read: {type(exc).__name__}")
    lines = csv.reader(io.StringIO(text))
    header = tuple(c.strip().lower() for c in next(lines, []))
    if header != MANIFEST_HEADER:
        return _unusable(
            folder, "dòng tiêu đề phải là file_name,received_at", "the header must be file_name,received_at"
        )
    return _manifest_lines(folder, lines)


def _manifest_lines(folder: Path, lines: Iterator[list[str]]) -> Manifest:
    """The manifest's data lines: a time per file; a line that cannot be used is a problem for its file."""
    manifest = Manifest()
    for number, cells in enumerate(lines, start=2):
        if not any(c.strip() for c in cells):
            continue
        name = _key(cells[0]) if cells else ""
        problem: tuple[str, str] | None = None
        if len(cells) != 2 or not name:
            problem = (f"dòng {number} phải có đúng 2 cột", f"line {number} must have exactly 2 columns")
        elif name in manifest.times or name in manifest.problems:
            problem = (f"tệp được liệt kê hơn một lần (dòng {number})", f"the file is listed twice (line {number})")
        else:
            try:
                manifest.times[name] = parse_receipt_time(cells[1])
                continue
            except ReceiptTimeError:
                problem = (
                    f"dòng {number}: thời điểm {cells[1]!r} không đúng định dạng ISO 8601",
                    f"line {number}: the time {cells[1]!r} is not ISO 8601",
                )
        log.warning("%s: %s", folder / MANIFEST_NAME, problem[1])
        if name:
            manifest.times.pop(name, None)
            manifest.problems[name] = problem
    return manifest


@dataclass(frozen=True)
class Arrival:
    """A file on disk about to be received: its receipt time, where that comes from, and a notice
    when its manifest line could not be used."""

    path: Path
    received_at: dt.datetime
    source: ReceiptSource = "ingest"
    notice: FileNotice | None = None


def _notice(reason: tuple[str, str]) -> FileNotice:
    vi, en = reason
    return FileNotice(
        "receipt_manifest_unreadable",
        f"Không dùng được thời điểm nhận trong {MANIFEST_NAME} ({vi}); thời điểm nhận là lúc nạp vào kho",
        f"The receipt time in {MANIFEST_NAME} could not be used ({en}); the file is received at ingest time",
        severity="info",
    )


def _arrival(path: Path, manifest: Manifest, now: dt.datetime) -> Arrival:
    name = _key(path.name)
    if name in manifest.times:
        return Arrival(path, manifest.times[name], "manifest")
    reason = manifest.problems.get(name) or manifest.unusable
    return Arrival(path, now, "ingest", _notice(reason) if reason else None)


def arrivals(paths: Iterable[Path], *, now: dt.datetime, received_at: dt.datetime | None = None) -> list[Arrival]:
    """Each file's receipt, in the order the files were received (then by name, then path).

    ``received_at`` (supplied) applies to every file; otherwise a file listed in its folder's
    manifest has the time listed there, and any other file ``now``, the time of this landing.
    Manifests themselves are left out: they are not submissions."""
    files = [p for p in paths if not is_manifest(p)]
    if received_at is not None:
        found = [Arrival(p, received_at, "supplied") for p in files]
    else:
        manifests: dict[Path, Manifest] = {}
        for folder in {p.parent for p in files}:
            manifests[folder] = read_manifest(folder)
        found = [_arrival(p, manifests[p.parent], now) for p in files]
    return sorted(found, key=lambda a: (a.received_at, a.path.name, str(a.path)))


def write_manifest(folder: Path, times: Mapping[str, dt.datetime]) -> Path:
    """Write ``folder/received.csv`` listing each file name's receipt time (what a gateway does)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST_NAME
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_HEADER)
        for name in sorted(times):
            writer.writerow([name, times[name].isoformat()])
    return path
