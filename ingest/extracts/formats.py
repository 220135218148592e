"""The two source-extract formats (formats.md §3, §4): their columns, codes and headers.

An extract is recognised by its CSV header, whatever the case, surrounding whitespace, quotes,
a UTF-8 byte-order mark, and a ``;`` or ``,`` delimiter.

>>> detect_extract(b"\\xef\\xbb\\xbfExtract_Date;BHXH_code;personal_id\\n")
'bhxh'
"""

from __future__ import annotations

import re
from typing import Literal

ExtractKind = Literal["civil_registry", "bhxh"]

CIVIL_REGISTRY_COLUMNS = (
    "extract_date",
    "commune_code",
    "record_type",
    "records_total",
    "records_scanned",
    "records_entered",
    "records_synced",
)
"""formats.md §3, in the order the rows carry them."""
BHXH_COLUMNS = (
    "extract_date",
    "bhxh_code",
    "personal_id",
    "full_name",
    "birth_date",
    "commune_code",
    "status",
    "status_at",
)
"""formats.md §4, in the order the rows carry them."""
COLUMNS: dict[ExtractKind, tuple[str, ...]] = {"civil_registry": CIVIL_REGISTRY_COLUMNS, "bhxh": BHXH_COLUMNS}
PERSONAL_COLUMNS = frozenset({"bhxh_code", "personal_id", "full_name", "birth_date"})
"""BHXH columns that never reach the warehouse in the clear (nor its quarantine, logs or messages)."""
RECORD_TYPE_ORDER = ("khai_sinh", "ket_hon", "khai_tu", "nhan_cha_me_con", "thay_doi_ho_tich", "khac")
"""formats.md §3's record types, in its order."""
STATUS_ORDER = ("verified", "mismatch", "not_found", "pending")
"""formats.md §4's verification statuses, in its order."""
RECORD_TYPES = frozenset(RECORD_TYPE_ORDER)
STATUSES = frozenset(STATUS_ORDER)

_MARKERS: tuple[tuple[ExtractKind, frozenset[str]], ...] = (
    ("bhxh", frozenset({"extract_date", "bhxh_code"})),
    ("civil_registry", frozenset({"extract_date", "records_synced"})),
)
"""The columns that say which extract a header is; the others are checked when it is read."""
_SPACES = re.compile(r"\s+")


def normalise_name(label: str) -> str:
    """A header label as a column name: ``' Extract Date '`` -> ``'extract_date'``."""
    return _SPACES.sub("_", label.strip().strip('"').strip().lower())


def header_delimiter(line: str) -> str:
    """``;`` or ``,``: whichever splits the header line into more fields."""
    return ";" if line.count(";") > line.count(",") else ","


def header_names(line: str) -> list[str]:
    """The normalised column names of a header line (its BOM, if any, removed)."""
    line = line.lstrip("\ufeff").rstrip("\r\n")
    return [normalise_name(label) for label in line.split(header_delimiter(line))]


def kind_of(names: list[str]) -> ExtractKind | None:
    """Which extract a header's column names say this is, if any."""
    found = set(names)
    return next((kind for kind, marker in _MARKERS if marker <= found), None)


def detect_extract(head: bytes) -> ExtractKind | None:
    """The kind of source extract whose first bytes are ``head``, or None for any other file."""
    first = head.split(b"\n", 1)[0][:4096]
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16: not what the source systems export
    return kind_of(header_names(first.decode("utf-8", "replace")))
