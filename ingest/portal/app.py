"""The portal's FastAPI application: routes, error pages in Vietnamese, middleware.

No traceback reaches a user: every error, expected or not, is a Vietnamese page; an unexpected
one is logged by its type and path only (:class:`ingest.portal.web.Guard`), never with a form
value, an address or a client address.

>>> uvicorn.run(create_app(), host="127.0.0.1", port=config.portal_port())
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ingest.portal import pages, signin
from ingest.portal.settings import PortalSettings
from ingest.portal.uploads import UploadTooLarge
from ingest.portal.web import HERE, Guard, NotSignedIn, Portal, PortalError, error_page, make_templates, to_sign_in
from ingest.registry import Registry, load_registry

STATIC_FILES = {"portal.css": "text/css", "logo.svg": "image/svg+xml"}
"""The only files served as they are."""

_HTTP_TITLES = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu không đúng định dạng. Vui lòng quay lại và thử lại."),
    404: ("Không tìm thấy trang", "Trang hoặc dữ liệu này không tồn tại, hoặc quý đơn vị không có quyền xem."),
    405: ("Thao tác không được phép", "Trang này không hỗ trợ thao tác vừa gửi."),
    413: ("Tệp quá lớn", "Yêu cầu vượt quá dung lượng cho phép của cổng."),
}


def create_app(settings: PortalSettings | None = None, registry: Registry | None = None) -> FastAPI:
    """The portal, with ``settings`` (default: from the environment) and ``registry`` (default: loaded)."""
    settings = settings or PortalSettings.from_env()
    app = FastAPI(title="Cổng nộp báo cáo Đề án 06", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = Portal(settings, registry or load_registry(), make_templates())
    app.include_router(signin.router)
    app.include_router(pages.router)
    _add_plain_routes(app)
    _add_error_pages(app)
    app.add_middleware(Guard, max_upload_bytes=settings.max_upload_bytes)
    trusted = ["*"] if settings.trusted_proxies == "*" else [h.strip() for h in settings.trusted_proxies.split(",")]
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    return app


def _add_plain_routes(app: FastAPI) -> None:
    @app.get("/tai-nguyen/{name}")
    def static(name: str) -> Response:
        """The stylesheet and the logo (no unit data; no session needed)."""
        if name not in STATIC_FILES:
            raise StarletteHTTPException(404)
        return FileResponse(HERE / "static" / name, media_type=STATIC_FILES[name])

    @app.get("/suc-khoe")
    def health() -> Response:
        """For the container's health check: the process answers (no data, no database)."""
        return JSONResponse({"status": "ok"})


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(PortalError)
    def portal_error(request: Request, exc: PortalError) -> Response:
        return error_page(request, exc.status, exc.title, exc.message)

    @app.exception_handler(NotSignedIn)
    def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return to_sign_in()

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title, message = _HTTP_TITLES.get(exc.status_code, ("Không thực hiện được yêu cầu", "Vui lòng thử lại sau."))
        return error_page(request, exc.status_code, title, message)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, 400, *_HTTP_TITLES[400])

    @app.exception_handler(UploadTooLarge)
    def too_large(request: Request, exc: UploadTooLarge) -> Response:
        return error_page(request, 413, *_HTTP_TITLES[413])
