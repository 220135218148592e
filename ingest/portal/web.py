"""What every page of the portal shares: rendering in Vietnamese, cookies, the signed-in
principal, CSRF checks, error pages, security headers and the request-size limit.

>>> return render(request, "unit.html.j2", unit=unit)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import psycopg
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ingest.portal import auth
from ingest.portal.settings import PortalSettings
from ingest.portal.uploads import FORM_OVERHEAD, UploadTooLarge
from ingest.registry import Registry
from ingest.submissions.periods import TIMEZONE
from ingest.warehouse.db import connect

log = logging.getLogger("ingest.portal")

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "d06_phien"
VISITOR_COOKIE = "d06_khach"
"""A random pre-session cookie: the CSRF key of the forms shown before signing in."""
FORM_MAX_BYTES = 64 * 1024
"""The largest body of any request but an upload."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Portal:
    """The application's state: its settings, the registry and the page templates."""

    settings: PortalSettings
    registry: Registry
    templates: Jinja2Templates


class PortalError(Exception):
    """A request the portal answers with an error page (status, title and message in Vietnamese)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


class NotSignedIn(Exception):
    """The page needs a session: the visitor is sent to the sign-in page."""


NOT_FOUND = ("Không tìm thấy trang", "Trang hoặc dữ liệu này không tồn tại, hoặc quý đơn vị không có quyền xem.")


def not_found() -> PortalError:
    return PortalError(404, *NOT_FOUND)


def portal(request: Request) -> Portal:
    found: Portal = request.app.state.portal
    return found


@contextmanager
def database() -> Iterator[psycopg.Connection[Any]]:
    with connect() as conn:
        yield conn


def vn_time(value: dt.datetime | None) -> str:
    """A time as people in Viet Nam read it: ``10/12/2026 16:30``."""
    return "" if value is None else value.astimezone(TIMEZONE).strftime("%d/%m/%Y %H:%M")


def make_templates() -> Jinja2Templates:
    """The page templates, every value escaped (``*.html.j2`` escapes nothing by Jinja's default)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    templates = Jinja2Templates(env=env)
    templates.env.filters["vn_time"] = vn_time
    templates.env.filters["vn_number"] = lambda n: f"{int(n or 0):,}".replace(",", ".")
    return templates


# --- who is signed in ---------------------------------------------------------------------------

_UNSET = object()


def client_hash(request: Request) -> str:
    return auth.digest("client", request.client.host if request.client else "unknown")


def current(request: Request) -> auth.Principal | None:
    """The signed-in principal of this request (looked up once), or None."""
    if getattr(request.state, "principal", _UNSET) is _UNSET:
        found = None
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            with database() as conn:
                unit_code = auth.session_unit(conn, session)
            registry = portal(request).registry
            if unit_code is not None and unit_code in registry.units:
                found = auth.principal_for(registry, unit_code)
        request.state.principal = found
    principal: auth.Principal | None = request.state.principal
    return principal


def signed_in(request: Request) -> auth.Principal:
    principal = current(request)
    if principal is None:
        raise NotSignedIn
    return principal


def for_unit(request: Request, unit_code: str) -> auth.Principal:
    """The principal, if it may see ``unit_code``; otherwise the page does not exist for it."""
    principal = signed_in(request)
    if not principal.can_see(unit_code) or unit_code not in portal(request).registry.units:
        raise not_found()
    return principal


# --- CSRF and cookies ---------------------------------------------------------------------------


def csrf_key(request: Request) -> str:
    """The key of this visitor's CSRF token: the session cookie once signed in, else the visitor cookie."""
    if current(request) is not None:
        return request.cookies[SESSION_COOKIE]
    key = request.cookies.get(VISITOR_COOKIE) or getattr(request.state, "new_visitor", None)
    if not key:
        key = request.state.new_visitor = auth.new_token()
    return str(key)


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse a form whose CSRF token is not this session's (or this visitor's)."""
    session = request.cookies.get(SESSION_COOKIE) if current(request) is not None else None
    key = session or request.cookies.get(VISITOR_COOKIE)
    if not auth.csrf_valid(key, sent):
        log.info("form refused: CSRF token missing or wrong (%s)", request.url.path)
        raise PortalError(
            403,
            "Biểu mẫu không hợp lệ",
            "Biểu mẫu đã hết hiệu lực hoặc không được gửi từ cổng. Vui lòng tải lại trang và thử lại.",
        )


def is_secure(request: Request) -> bool:
    setting = portal(request).settings.secure_cookies
    return setting == "1" or (setting == "auto" and request.url.scheme == "https")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in Vietnamese, with the signed-in principal and this visitor's CSRF token."""
    state = portal(request)
    principal = current(request)
    context = {"principal": principal, "csrf": auth.csrf_token(csrf_key(request)), **context}
    page = state.templates.TemplateResponse(request, name, context, status_code=status)
    visitor = getattr(request.state, "new_visitor", None)
    if visitor:
        set_cookie(request, page, VISITOR_COOKIE, visitor, None)
    return page


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    try:
        return render(request, "error.html.j2", status, title=title, message=message)
    except Exception:  # the database is down: the page must not need it
        log.warning("error page rendered without the session (%s)", request.url.path)
        request.state.principal = None
        return portal(request).templates.TemplateResponse(
            request, "error.html.j2", {"principal": None, "csrf": "", "title": title, "message": message}, status
        )


def to_sign_in() -> RedirectResponse:
    return RedirectResponse("/dang-nhap", status_code=303)


# --- ASGI middleware ----------------------------------------------------------------------------

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


UNEXPECTED = ("Lỗi hệ thống", "Cổng gặp lỗi ngoài dự kiến; bộ phận kỹ thuật đã được ghi nhận. Vui lòng thử lại sau.")
TOO_LARGE = ("Tệp quá lớn", "Yêu cầu vượt quá dung lượng cho phép của cổng nộp báo cáo.")


def plain_error_page(scope: Scope, status: int, title: str, message: str) -> HTMLResponse:
    """An error page that needs neither the database nor the request body."""
    request = Request(scope)
    request.state.principal = None
    templates = portal(request).templates
    context = {"principal": None, "csrf": "", "title": title, "message": message}
    return templates.TemplateResponse(request, "error.html.j2", context, status_code=status)


class Guard:
    """Pure ASGI middleware: security headers on every response, ``no-store`` on every page; the
    size of a request body bounded (refused at once when it says it is larger, stopped as soon as
    more arrives than it may carry); and any unexpected error turned into a Vietnamese page, logged
    by its type and path only (its traceback at debug level), so that no traceback reaches anyone."""

    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    def limit(self, path: str) -> int:
        return self.max_upload_bytes + FORM_OVERHEAD if path.endswith("/nop") else FORM_MAX_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, seen, started = self.limit(scope["path"]), 0, False

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise UploadTooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if not scope["path"].startswith("/tai-nguyen/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        declared = dict(scope["headers"]).get(b"content-length", b"")
        try:
            if declared.isdigit() and int(declared) > limit:
                raise UploadTooLarge
            await self.app(scope, bounded, with_headers)
        except UploadTooLarge:
            if not started:
                response = plain_error_page(scope, 413, *TOO_LARGE)
                response.headers["connection"] = "close"
                await response(scope, receive, with_headers)
        except Exception as exc:
            log.error("unexpected %s on %s %s", type(exc).__name__, scope.get("method"), scope["path"])
            log.debug("traceback", exc_info=True)
            if not started:
                await plain_error_page(scope, 500, *UNEXPECTED)(scope, receive, with_headers)
