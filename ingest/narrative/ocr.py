"""OCR of a scanned page with Tesseract and its Vietnamese model (Debian ``tesseract-ocr`` and
``tesseract-ocr-vie``; ``make office`` installs them).

The page is rendered at the scan's own resolution (else :data:`OCR_DPI`; see
:mod:`ingest.narrative.readers`), sent to the ``tesseract`` binary as PNG on its standard input
(page segmentation 4: one column of text of varying sizes), and its text comes back
NFC-normalised; the text of the last pages read is kept in memory by the image's SHA-256.  Text
read this way may hold misread digits: :mod:`ingest.narrative.submission` sends every OCR figure
to review unless its own figures agree (numerator ÷ denominator = the stated rate).

>>> ocr_png(open("page.png", "rb").read())[:7]  # doctest: +SKIP
'BÁO CÁO'
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import unicodedata
from collections import OrderedDict

__all__ = ["OCR_DPI", "OCR_LANGUAGE", "OcrError", "ocr_available", "ocr_png"]

OCR_DPI = 300
OCR_LANGUAGE = "vie"
OCR_TIMEOUT_SECONDS = 180
"""One page; Tesseract takes a few seconds for an A4 page at 300 dpi on one core."""


class OcrError(Exception):
    """Tesseract is missing, lacks the Vietnamese model, or failed on a page."""


@functools.cache
def ocr_available() -> bool:
    """True when ``tesseract`` is installed with the Vietnamese model."""
    exe = shutil.which("tesseract")
    if exe is None:
        return False
    try:
        done = subprocess.run([exe, "--list-langs"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return OCR_LANGUAGE in done.stdout.decode("utf-8", "replace").split()


_READ: OrderedDict[tuple[str, int], str] = OrderedDict()
_READ_KEEP = 64
"""Pages whose text is kept in memory: a report is read twice (its rows, then its findings and
review workbook), and OCR takes seconds a page."""


def ocr_png(png: bytes, *, dpi: int = OCR_DPI) -> str:
    """The text Tesseract reads on one page image (PNG bytes), in Vietnamese."""
    key = (hashlib.sha256(png).hexdigest(), dpi)
    if key in _READ:
        _READ.move_to_end(key)
        return _READ[key]
    text = _tesseract(png, dpi)
    _READ[key] = text
    if len(_READ) > _READ_KEEP:
        _READ.popitem(last=False)
    return text


def _tesseract(png: bytes, dpi: int) -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        raise OcrError("tesseract is not installed")
    command = [exe, "stdin", "stdout", "-l", OCR_LANGUAGE, "--dpi", str(dpi), "--psm", "4"]
    try:
        done = subprocess.run(command, input=png, capture_output=True, timeout=OCR_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"tesseract took more than {OCR_TIMEOUT_SECONDS} s on one page") from exc
    except OSError as exc:
        raise OcrError(f"tesseract cannot run ({type(exc).__name__})") from exc
    if done.returncode != 0:
        # Tesseract's own message (no document text in it): the first line is enough.
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise OcrError(f"tesseract failed ({done.returncode}): {first[0] if first else ''}")
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8", "replace"))
