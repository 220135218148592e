"""Checks on a ZIP container (XLSX, DOCX) made from its central directory, before anything is
decompressed, so that a small hostile file cannot make a reader expand gigabytes.

Python's :mod:`zipfile` never inflates a member beyond the size its directory entry declares (it
stops and fails the CRC check), so the declared sizes bound what a reader built on it (openpyxl,
python-docx) can expand.  Parts that a reader loads whole into memory (an XLSX's
``sharedStrings.xml``, a DOCX's ``document.xml``) get a per-part cap; parts it streams (XLSX
worksheets in read-only mode) are exempt from that cap and bounded only by the total.

>>> check_archive(open("bao_cao.xlsx", "rb"), XLSX_LIMITS)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import IO, Literal

__all__ = ["DOCX_LIMITS", "XLSX_LIMITS", "ArchiveLimits", "ArchiveProblem", "check_archive"]

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What a ZIP container may hold; sizes are uncompressed bytes as the directory declares them."""

    max_members: int = 1_000
    max_directory_bytes: int = 2_000_000
    max_total_bytes: int = 200_000_000
    max_ratio: int = 100
    ratio_min_bytes: int = 1_000_000
    """Members expanding to less than this are not held to the ratio (tiny XML parts compress
    extremely well and are harmless)."""
    max_part_bytes: int = 16_000_000
    """Per member, except those whose name starts with one of ``streamed_prefixes``."""
    streamed_prefixes: tuple[str, ...] = ()


XLSX_LIMITS = ArchiveLimits(streamed_prefixes=("xl/worksheets/",))
"""openpyxl (read-only) streams worksheets but loads shared strings, styles and the workbook
part whole, at about seven times their XML size: 16 MB of shared strings is ~110 MB of memory."""
DOCX_LIMITS = ArchiveLimits(max_total_bytes=100_000_000, max_part_bytes=32_000_000)
"""python-docx parses every XML part whole with lxml (about 2.2 times the XML size) and keeps
media as bytes; a report of a few pages is far below these."""

Kind = Literal["invalid", "members", "ratio", "total", "part"]


class ArchiveProblem(Exception):
    """Why an archive is refused: ``kind`` and, where it applies, the ``member``, its ``ratio``
    and the ``limit`` (a count for ``members``, bytes for ``total`` and ``part``)."""

    def __init__(self, kind: Kind, *, member: str | None = None, ratio: int = 0, limit: int = 0) -> None:
        super().__init__(f"{kind}: {member or ''} (ratio {ratio}, limit {limit})")
        self.kind: Kind = kind
        self.member = member
        self.ratio = ratio
        self.limit = limit


def _directory(fp: IO[bytes]) -> tuple[int, int]:
    """Member count and central-directory size from the end-of-central-directory record."""
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    tail_len = min(size, _EOCD_SIZE + 0xFFFF)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    fp.seek(0)
    pos = tail.rfind(_EOCD)
    if pos < 0 or len(tail) - pos < _EOCD_SIZE:
        raise ArchiveProblem("invalid")
    members = int.from_bytes(tail[pos + 10 : pos + 12], "little")
    directory_bytes = int.from_bytes(tail[pos + 12 : pos + 16], "little")
    return members, directory_bytes


def _infos(fp: IO[bytes]) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(fp) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveProblem("invalid") from exc
    finally:
        fp.seek(0)


def check_archive(fp: IO[bytes], limits: ArchiveLimits) -> None:
    """Raise :class:`ArchiveProblem` unless the ZIP in ``fp`` (seekable) is within ``limits``.

    Reads only the central directory; ``fp`` is left at offset 0.
    """
    members, directory_bytes = _directory(fp)
    if members > limits.max_members or directory_bytes > limits.max_directory_bytes:
        raise ArchiveProblem("members", limit=limits.max_members)
    infos = _infos(fp)
    if len(infos) > limits.max_members:
        raise ArchiveProblem("members", limit=limits.max_members)
    if sum(info.file_size for info in infos) > limits.max_total_bytes:
        raise ArchiveProblem("total", limit=limits.max_total_bytes)
    for info in infos:
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > limits.ratio_min_bytes and ratio > limits.max_ratio:
            raise ArchiveProblem("ratio", member=info.filename, ratio=ratio)
        if info.file_size > limits.max_part_bytes and not info.filename.startswith(limits.streamed_prefixes):
            raise ArchiveProblem("part", member=info.filename, limit=limits.max_part_bytes)
