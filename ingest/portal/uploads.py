"""An uploaded file: streamed to disk within a size limit, checked to be the signed-in unit's own,
then landed through the one landing path (:mod:`ingest.landing.land`) like a file of the inbox.

The receipt time is the server's clock when the upload finished arriving; the ledger row gets
it (``received_at_source = 'supplied'``) and timeliness is judged by it.  A file whose rows are
about another unit is refused whole, before anything lands, with a reason in Vietnamese and
English: a unit cannot submit for another.  Every upload, landed or refused, gets a row in
``portal.upload``.

>>> received = await receive_upload(request.headers, request.stream(), folder, max_bytes=20 << 20)
>>> result = submit(conn, registry, received, unit_code="AG.STP", signed_in_as="AG.STP", period="2026-11")
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ingest.landing.adapters import LandingContext, choose_adapter
from ingest.landing.land import land_received, receive_path
from ingest.registry import Registry
from ingest.safety import safe_filename
from ingest.submissions.model import SubmissionRow

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".csv", ".xlsx", ".json", ".docx", ".pdf")
FORM_OVERHEAD = 64 * 1024
"""Bytes a multipart body may carry beyond the file itself (boundaries, the other fields)."""
_CHUNK = 256 * 1024


class UploadTooLarge(Exception):
    """The request body is larger than the limit; nothing more of it is read."""


class UploadInvalid(Exception):
    """The request is not a well-formed upload form."""


@dataclass(frozen=True)
class ReceivedUpload:
    """An uploaded file on disk (under a name that is safe), the form's fields and when it arrived."""

    path: Path
    original_name: str
    fields: dict[str, str]
    received_at: dt.datetime

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Refusal:
    code: str
    vi: str
    en: str


async def _limited(stream: AsyncIterator[bytes], max_bytes: int) -> AsyncGenerator[bytes, None]:
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > max_bytes:
            raise UploadTooLarge
        yield chunk


async def receive_upload(
    headers: Headers, stream: AsyncIterator[bytes], folder: Path, *, max_bytes: int
) -> ReceivedUpload:
    """Read a multipart form with one file into ``folder``, never holding the file in memory
    (Starlette spools a part to disk beyond 1 MB; it is then copied in chunks).  Raises
    :class:`UploadTooLarge` as soon as more than ``max_bytes`` (+ the form's overhead) arrive."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise UploadTooLarge
    if not headers.get("content-type", "").startswith("multipart/form-data"):
        raise UploadInvalid("not multipart/form-data")
    parser = MultiPartParser(
        headers, _limited(stream, max_bytes + FORM_OVERHEAD), max_files=1, max_fields=8, max_part_size=8192
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise UploadInvalid(str(exc)) from None
    received_at = dt.datetime.now(dt.UTC)
    upload = form.get("tep")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise UploadInvalid("no file")
        target = folder / safe_filename(upload.filename)
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out, _CHUNK)
        if target.stat().st_size > max_bytes:
            raise UploadTooLarge
        return ReceivedUpload(target, upload.filename, fields, received_at)
    finally:
        await form.close()


def foreign_units(path: Path, ctx: LandingContext, allowed: str) -> list[str] | None:
    """The units other than ``allowed`` that the file's rows are about (at most five), or None
    for a source extract, which no unit submits.  A file the adapter refuses has none: the
    landing path records why it is refused."""
    found: list[str] = []
    with path.open("rb") as fp:
        adapter = choose_adapter(path.name, fp, ctx)
        if adapter.streamed:
            return None
        try:
            for item in adapter.read(fp, path.name):
                if isinstance(item, SubmissionRow) and item.unit_code != allowed and item.unit_code not in found:
                    found.append(item.unit_code)
                    if len(found) == 5:
                        break
        except Exception:  # refused or failed: the landing path reads it again and records it
            log.debug("pre-check of an upload stopped early", exc_info=True)
    return found


def refusal_for(path: Path, ctx: LandingContext, unit_code: str) -> Refusal | None:
    """Why the portal refuses this file for ``unit_code`` before landing it, if it does."""
    if path.suffix.lower() not in ACCEPTED_SUFFIXES:
        return Refusal(
            "portal_format",
            "Cổng chỉ nhận tệp CSV, XLSX, JSON, DOCX hoặc PDF",
            "the portal accepts CSV, XLSX, JSON, DOCX or PDF files only",
        )
    others = foreign_units(path, ctx, unit_code)
    if others is None:
        return Refusal(
            "portal_extract",
            "Tệp trích xuất của hệ thống nguồn không nộp qua cổng",
            "source-system extracts are not submitted through the portal",
        )
    if others:
        listed = ", ".join(others)
        return Refusal(
            "portal_other_unit",
            f"Tệp có dòng số liệu của đơn vị khác ({listed}); đơn vị {unit_code} chỉ được nộp số liệu của mình",
            f"the file has rows of another unit ({listed}); unit {unit_code} may submit only its own rows",
        )
    return None


@dataclass(frozen=True)
class Submitted:
    upload_id: int
    status: str


def submit(
    conn: psycopg.Connection[Any],
    registry: Registry,
    received: ReceivedUpload,
    *,
    unit_code: str,
    signed_in_as: str,
    period: str,
    today: dt.date,
) -> Submitted:
    """Check and land one upload for ``unit_code``; record it in ``portal.upload``."""
    ctx = LandingContext(registry, today, period)
    refusal = refusal_for(received.path, ctx, unit_code)
    size = received.path.stat().st_size
    if refusal is not None:
        log.info("portal upload for %s refused: %s", unit_code, refusal.code)
        return _record(conn, unit_code, signed_in_as, period, received, size, "refused", None, refusal)
    batch = f"portal-{received.received_at:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    archived = receive_path(received.path, period=period, received_at=received.received_at, source="supplied")
    outcome = land_received(conn, [archived], batch_id=batch, ctx=ctx)[0]
    log.info("portal upload for %s: %s (ledger file %s)", unit_code, outcome.status, outcome.file_id)
    return _record(conn, unit_code, signed_in_as, period, received, size, outcome.status, outcome.file_id, None)


def _record(
    conn: psycopg.Connection[Any],
    unit_code: str,
    signed_in_as: str,
    period: str,
    received: ReceivedUpload,
    size: int,
    status: str,
    file_id: int | None,
    refusal: Refusal | None,
) -> Submitted:
    row = conn.execute(
        """insert into portal.upload (unit_code, signed_in_as, period, file_name, size_bytes, received_at, status,
                                      file_id, reason_code, reason_vi, reason_en)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning upload_id""",
        (
            unit_code,
            signed_in_as,
            period,
            received.name,
            size,
            received.received_at,
            status,
            file_id,
            refusal.code if refusal else None,
            refusal.vi if refusal else None,
            refusal.en if refusal else None,
        ),
    ).fetchone()
    assert row is not None
    return Submitted(int(row[0]), status)
