"""The pages of a signed-in unit: its overview, template, upload and result, history and violations.

Every path names the unit (``/don-vi/{unit}/…``) and every handler first checks that the
signed-in principal may see it; an upload, a file or a violation of another unit does not
exist for it (404, the same page as a wrong address).

>>> GET /don-vi/AG.STP/mau-bieu?ky=2026-11   # the unit's XLSX template for November 2026
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ingest.portal import queries
from ingest.portal.auth import Principal, today
from ingest.portal.uploads import ReceivedUpload, UploadInvalid, UploadTooLarge, receive_upload, submit
from ingest.portal.web import PortalError, check_csrf, database, for_unit, not_found, portal, render, signed_in
from ingest.quality.violations import (
    SEVERITY_VI,
    STATUS_VI,
    ViolationError,
    ViolationNotFound,
    explain,
    get_violation,
)
from ingest.submissions.parse import COLUMNS, REVIEW_COLUMNS
from ingest.submissions.periods import deadline_day
from ingest.submissions.template import write_template

log = logging.getLogger("ingest.portal")
router = APIRouter()

STATUS_LABELS = {
    "loaded": "Đã nạp",
    "held": "Đã nhận, kỳ đã khóa sổ",
    "duplicate": "Trùng tệp đã nhận",
    "rejected": "Bị từ chối",
    "failed": "Lỗi hệ thống",
    "refused": "Cổng từ chối",
}
COLUMN_VI = {c.name: c.label_vi for c in (*COLUMNS, *REVIEW_COLUMNS)}
"""A quarantined row's column as the unit's template names it (``numerator`` → ``Tử số``)."""


def _period(value: str | None) -> str:
    """A month the portal offers (the reporting month and the eleven before it); default the reporting month."""
    choices = queries.recent_periods(today())
    if not value:
        return choices[0]
    if value not in choices:
        raise PortalError(400, "Kỳ báo cáo không hợp lệ", f"Kỳ {value[:7]!r} không nằm trong các kỳ được nộp qua cổng.")
    return value


@router.get("/don-vi", response_class=HTMLResponse)
def units(request: Request) -> Response:
    principal = signed_in(request)
    if principal.role == "unit":
        return RedirectResponse(f"/don-vi/{principal.unit_code}", status_code=303)
    return render(request, "units.html.j2", units=list(queries.iter_scope(portal(request).registry, principal.scope)))


@router.get("/don-vi/{unit}", response_class=HTMLResponse)
def overview(request: Request, unit: str) -> Response:
    for_unit(request, unit)
    registry = portal(request).registry
    period = queries.current_period(today())
    with database() as conn:
        months = queries.history(conn, unit)
        open_count = len(queries.active_violations(conn, registry, unit))
    this_month = next((m for m in months if m.period == period), None)
    return render(
        request,
        "unit.html.j2",
        unit=registry.units[unit],
        period=period,
        periods=queries.recent_periods(today()),
        deadline=deadline_day(period),
        this_month=this_month,
        open_count=open_count,
        max_mb=portal(request).settings.max_upload_bytes / 1024 / 1024,
    )


@router.get("/don-vi/{unit}/mau-bieu")
def template(request: Request, unit: str, ky: Annotated[str | None, Query(max_length=7)] = None) -> Response:
    for_unit(request, unit)
    period = _period(ky)
    out = io.BytesIO()
    try:
        write_template(portal(request).registry, unit, period, out)
    except ValueError:
        raise PortalError(400, "Không có mẫu biểu", f"Đơn vị {unit} không có mẫu biểu cho kỳ {period}.") from None
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{unit}_{period}.xlsx"'},
    )


@router.post("/don-vi/{unit}/nop", response_class=HTMLResponse)
async def upload(request: Request, unit: str) -> Response:
    """Receive a file (streamed to disk within the size limit), check it and land it."""
    principal = await run_in_threadpool(for_unit, request, unit)
    settings = portal(request).settings
    with tempfile.TemporaryDirectory(prefix="d06-portal-upload-") as folder:
        try:
            received = await receive_upload(
                request.headers, request.stream(), Path(folder), max_bytes=settings.max_upload_bytes
            )
        except UploadTooLarge:
            log.info("upload for %s refused: larger than the limit", unit)
            limit_mb = settings.max_upload_bytes / 1024 / 1024
            raise PortalError(413, "Tệp quá lớn", f"Tệp vượt quá dung lượng cho phép ({limit_mb:g} MB).") from None
        except UploadInvalid:
            raise PortalError(400, "Chưa chọn tệp", "Vui lòng chọn một tệp để nộp.") from None
        check_csrf(request, received.fields.get("csrf"))
        period = _period(received.fields.get("ky"))
        submitted = await run_in_threadpool(_land, request, principal, unit, received, period)
    return RedirectResponse(f"/don-vi/{unit}/tep/{submitted}", status_code=303)


def _land(request: Request, principal: Principal, unit: str, received: ReceivedUpload, period: str) -> int:
    with database() as conn:
        done = submit(
            conn,
            portal(request).registry,
            received,
            unit_code=unit,
            signed_in_as=principal.unit_code,
            period=period,
            today=today(),
        )
    return done.upload_id


@router.get("/don-vi/{unit}/tep/{upload_id}", response_class=HTMLResponse)
def result(request: Request, unit: str, upload_id: int) -> Response:
    for_unit(request, unit)
    with database() as conn:
        found = queries.upload(conn, upload_id, unit)
        if found is None:
            raise not_found()
        file_id = found["file_id"]
        rows = queries.quarantined(conn, file_id) if file_id and queries.owns_file(conn, file_id, unit) else []
    return render(
        request,
        "result.html.j2",
        unit=portal(request).registry.units[unit],
        upload=found,
        status_label=STATUS_LABELS.get(found["status"], found["status"]),
        quarantined=rows,
        shown=queries.QUARANTINE_SHOWN,
        column_vi=COLUMN_VI,
    )


@router.get("/don-vi/{unit}/lich-su", response_class=HTMLResponse)
def history(request: Request, unit: str) -> Response:
    for_unit(request, unit)
    with database() as conn:
        months = queries.history(conn, unit)
    return render(
        request, "history.html.j2", unit=portal(request).registry.units[unit], months=months, labels=STATUS_LABELS
    )


@router.get("/don-vi/{unit}/vi-pham", response_class=HTMLResponse)
def violations(request: Request, unit: str, da: Annotated[int | None, Query()] = None) -> Response:
    for_unit(request, unit)
    registry = portal(request).registry
    with database() as conn:
        found = queries.active_violations(conn, registry, unit)
    return render(
        request,
        "violations.html.j2",
        unit=registry.units[unit],
        violations=found,
        registry=registry,
        severity_vi=SEVERITY_VI,
        status_vi=STATUS_VI,
        explained=da,
    )


@router.post("/don-vi/{unit}/vi-pham/{violation_id}", response_class=HTMLResponse)
def explain_violation(
    request: Request,
    unit: str,
    violation_id: int,
    comment: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    principal = for_unit(request, unit)
    check_csrf(request, csrf)
    with database() as conn:
        try:
            if get_violation(conn, violation_id).unit_code != unit:
                raise not_found()
            explain(conn, violation_id, f"cong-nop:{principal.unit_code}", comment)
        except ViolationNotFound:
            raise not_found() from None
        except ViolationError as exc:
            raise PortalError(400, "Chưa ghi nhận được giải trình", exc.message_vi) from None
    log.info("violation %d of %s explained through the portal", violation_id, unit)
    return RedirectResponse(f"/don-vi/{unit}/vi-pham?da={violation_id}", status_code=303)
