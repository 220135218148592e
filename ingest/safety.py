"""Defences for text that comes in from, or goes out to, people's files.

``safe_filename`` turns an uploaded file's name into one that is safe to store on disk;
``neutralise_formula`` keeps text written back out to CSV or XLSX from running as a formula
when someone opens it in a spreadsheet (CSV/formula injection, OWASP).

>>> safe_filename("../../etc/Báo cáo tháng 3.xlsx"), neutralise_formula("=HYPERLINK(1)")
('Báo cáo tháng 3.xlsx', "'=HYPERLINK(1)")
"""

from __future__ import annotations

import re
import unicodedata
from typing import TypeVar

__all__ = ["FORMULA_PREFIXES", "neutralise_formula", "safe_filename"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
"""Leading characters that make a spreadsheet read a cell as a formula (with full-width forms)."""

_T = TypeVar("_T")

_FALLBACK_NAME = "tep_tai_len"
_MAX_NAME_BYTES = 200
# Characters Windows forbids in names, plus look-alike slashes some tools treat as separators.
_FORBIDDEN = re.compile(r'[<>:"|?*\u2215\u2044\uff0f\uff3c\u29f8]')
# CON, PRN, AUX, NUL, COM1-9, LPT1-9 (also with superscript digits), with or without extension.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def safe_filename(name: str) -> str:
    """A name safe to use as one path component, keeping Vietnamese letters.

    Directories and ``..`` are dropped (only the last component of ``/`` or ``\\`` paths is kept),
    control and format characters (NUL, bidirectional overrides ...) and characters Windows
    forbids are removed or replaced with ``_``, leading and trailing dots and spaces go,
    Windows device names (``CON``, ``nul.txt`` ...) get a leading ``_``, the name is cut to
    200 UTF-8 bytes keeping the extension, and it is never empty.
    """
    text = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    if _RESERVED.match(text):
        text = "_" + text
    text = _truncate(text)
    return text if text.strip(" ._") else _FALLBACK_NAME


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= _MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = _MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return cut + suffix


def neutralise_formula(value: _T) -> _T:
    """Prefix ``'`` to text a spreadsheet would run as a formula; other values are returned as is.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed is
    affected (``-5`` too: a spreadsheet reading ``'-5`` shows the text the file held);
    numbers, dates and ``None`` are untouched.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value  # type: ignore[return-value]  # _T is str here
    return value
