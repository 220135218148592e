"""Signing in and out: ask for a link, open it, confirm it, sign out.

Opening the link (GET) changes nothing: it shows a button that signs in (POST), so a mail
scanner that follows links cannot use up the link.  The answer to a request for a link is the
same whether the address is registered or not.

>>> GET /dang-nhap → POST /dang-nhap (e-mail) → GET /dang-nhap/lien-ket?t=… → POST /dang-nhap/lien-ket
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ingest.config import portal_url
from ingest.portal import auth
from ingest.portal.mail import send_link
from ingest.portal.settings import PortalSettings
from ingest.portal.web import (
    SESSION_COOKIE,
    PortalError,
    check_csrf,
    client_hash,
    current,
    database,
    is_secure,
    portal,
    render,
    set_cookie,
)
from ingest.registry import Unit
from ingest.reporting.mailer import ReportDeliveryError

log = logging.getLogger("ingest.portal")
router = APIRouter()

LIMITED = PortalError(
    429,
    "Tạm khóa đăng nhập",
    "Có quá nhiều lần đăng nhập không thành công hoặc quá nhiều yêu cầu liên kết. Vui lòng thử lại sau ít phút.",
)


def _limited(conn: Any, settings: PortalSettings, address_hash: str | None, client: str, *, asking: bool) -> bool:
    return auth.is_limited(
        conn,
        address_hash=address_hash,
        client_hash=client,
        per_address=settings.max_failures_per_address,
        per_client=settings.max_failures_per_client,
        window_minutes=settings.rate_window_minutes,
        links_count=asking,
    )


def link_for(token: str) -> str:
    """The address of a sign-in link (``D06_PORTAL_URL``)."""
    return f"{portal_url()}/dang-nhap/lien-ket?t={quote(token)}"


def new_link(unit: Unit, minutes: int) -> str:
    """Create a sign-in link for ``unit`` (for ``d06 portal link`` and the sign-in form)."""
    with database() as conn:
        return link_for(auth.create_link(conn, unit, minutes=minutes))


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse("/don-vi" if current(request) else "/dang-nhap", status_code=303)


@router.get("/dang-nhap", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    if current(request) is not None:
        return RedirectResponse("/don-vi", status_code=303)
    return render(request, "sign_in.html.j2")


@router.post("/dang-nhap", response_class=HTMLResponse)
def request_link(
    request: Request, email: Annotated[str, Form(max_length=320)] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf)
    state = portal(request)
    settings = state.settings
    address_hash = auth.digest("address", auth.normalise_address(email))
    client = client_hash(request)
    with database() as conn:
        auth.forget_old(conn)
        if _limited(conn, settings, address_hash, client, asking=True):
            log.info("sign-in link refused: rate limit")
            raise LIMITED
        unit = auth.unit_for_address(state.registry, email)
        auth.record_attempt(conn, "request", unit is not None, address_hash=address_hash, client_hash=client)
        token = auth.create_link(conn, unit, minutes=settings.link_minutes) if unit else None
    if unit is not None and token is not None:
        try:
            send_link(unit, link_for(token), minutes=settings.link_minutes)
            log.info("sign-in link sent to the address of %s", unit.code)
        except ReportDeliveryError as exc:
            log.warning("sign-in link for %s not sent: %s", unit.code, exc.reason)
            raise PortalError(
                503, "Chưa gửi được thư", "Máy chủ thư tạm thời không gửi được liên kết. Vui lòng thử lại sau."
            ) from None
    else:
        log.info("sign-in link asked for an address that is not registered")
    return render(request, "sign_in_sent.html.j2", minutes=settings.link_minutes)


@router.get("/dang-nhap/lien-ket", response_class=HTMLResponse)
def open_link(request: Request, t: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The page the e-mailed link opens: a button that signs in (the link is not used yet)."""
    return render(request, "confirm.html.j2", token=t)


@router.post("/dang-nhap/lien-ket", response_class=HTMLResponse)
def use_link(
    request: Request, token: Annotated[str, Form(max_length=200)] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf)
    state = portal(request)
    settings = state.settings
    client = client_hash(request)
    with database() as conn:
        unit_code, address_hash = (None, None) if not token else auth.redeem_link(conn, token)
        if _limited(conn, settings, address_hash, client, asking=False):
            conn.rollback()  # a link used while limited stays unused
            log.info("sign-in refused: rate limit")
            raise LIMITED
        auth.record_attempt(conn, "redeem", unit_code is not None, address_hash=address_hash, client_hash=client)
        if unit_code is None or unit_code not in state.registry.units:
            conn.commit()
            log.info("sign-in refused: link unknown, used or expired")
            raise PortalError(
                400,
                "Liên kết không còn hiệu lực",
                "Liên kết đăng nhập đã hết hạn, đã được sử dụng hoặc không đúng. Vui lòng yêu cầu liên kết mới.",
            )
        principal = auth.principal_for(state.registry, unit_code)
        session = auth.create_session(conn, principal, hours=settings.session_hours)
    log.info("signed in: %s (%s)", principal.unit_code, principal.role)
    response = RedirectResponse("/don-vi", status_code=303)
    set_cookie(request, response, SESSION_COOKIE, session, int(settings.session_hours * 3600))
    return response


@router.post("/dang-xuat", response_class=HTMLResponse)
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        with database() as conn:
            auth.end_session(conn, session)
    response = RedirectResponse("/dang-nhap", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_secure(request))
    return response
