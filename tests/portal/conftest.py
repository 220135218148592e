"""Shared helpers of the portal tests: the application on a fresh warehouse, signing in, forms.

Every module gets its own database (``warehouse_dsn``) with the warehouse schema; the portal
runs in process (Starlette's TestClient) or, for the browser and the streaming tests, under
uvicorn in a thread on a free port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from conftest import environment
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ingest.pipeline import prepare_warehouse
from ingest.portal import auth
from ingest.portal.app import create_app
from ingest.portal.settings import PortalSettings
from ingest.registry import load_registry

REGISTRY = load_registry()
UNIT_A, UNIT_B, PROVINCE = "AG.STP", "AG.CAT", "AG"
OTHER_PROVINCE_UNIT = "DT.STP"
HEADER = "ma_don_vi,ky_bao_cao,ma_chi_tieu,ma_dich_vu,tu_so,mau_so\n"


def reporting_period() -> str:
    """The month units report now: the month before today's in Viet Nam (computed here by hand)."""
    today = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def previous_period(period: str) -> str:
    year, month = map(int, period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    """A fresh database with the warehouse schema (the portal's tables included) and the registry.

    The BI login is not set up: it is a role of the whole server, which test modules running at
    the same time would alter at once ("tuple concurrently updated"), and the portal needs none."""
    with environment(D06_BI_READER_PASSWORD=""):
        prepare_warehouse()
    return warehouse_dsn


def make_app(**settings: Any) -> FastAPI:
    return create_app(PortalSettings(**settings), REGISTRY)


def client_for(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, raise_server_exceptions=False, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def link_token(dsn: str, unit_code: str, minutes: int = 15) -> str:
    """A sign-in token made as `d06 portal link` makes it."""
    with psycopg.connect(dsn) as conn:
        return auth.create_link(conn, REGISTRY.units[unit_code], minutes=minutes)


def redeem(client: TestClient, token: str) -> Any:
    """Open a sign-in link and press its button; returns the response of the POST."""
    page = client.get("/dang-nhap/lien-ket", params={"t": token})
    assert page.status_code == 200
    return client.post("/dang-nhap/lien-ket", data={"token": token, "csrf": csrf_of(page.text)})


def sign_in(client: TestClient, dsn: str, unit_code: str) -> TestClient:
    response = redeem(client, link_token(dsn, unit_code))
    assert response.status_code == 303 and response.headers["location"] == "/don-vi", response.text
    return client


def page_csrf(client: TestClient, unit_code: str) -> str:
    return csrf_of(client.get(f"/don-vi/{unit_code}").text)


def upload(client: TestClient, unit_code: str, name: str, content: bytes, period: str, csrf: str | None = None) -> Any:
    token = page_csrf(client, unit_code) if csrf is None else csrf
    return client.post(
        f"/don-vi/{unit_code}/nop", data={"csrf": token, "ky": period}, files={"tep": (name, content, "text/csv")}
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread on a free port; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
