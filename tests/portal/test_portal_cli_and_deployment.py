"""`d06 portal link|start|stop`, the portal's settings, its compose service and its place in the layers.

* ``d06 portal link --unit AG.STP`` prints a link that signs in once; an unknown unit is exit 2.
* ``d06 portal start`` serves in the background (pid file under the data directory) and
  ``stop`` ends it.
* The compose service passes every variable the portal reads (``ENVIRONMENT``), and every
  ``D06_PORTAL_*`` name in the portal's code is listed there.
* Nothing below the portal imports it: only ``ingest.cli`` does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from conftest import REPO, environment

from ingest.cli import main as d06
from ingest.config import ConfigError
from ingest.portal.settings import ENVIRONMENT, PortalSettings

from .conftest import UNIT_A, client_for, free_port, make_app, redeem

INGEST = REPO / "ingest"


@pytest.mark.warehouse
def test_the_link_command_prints_a_link_that_signs_in_once(warehouse: str, capsys: pytest.CaptureFixture[str]) -> None:
    with environment(D06_PORTAL_URL="https://nop.example.vn/", D06_BI_READER_PASSWORD=""):
        assert d06(["portal", "link", "--unit", UNIT_A, "--minutes", "5"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"sign-in link for {UNIT_A}, valid 5 min, once: https://nop.example.vn/dang-nhap/lien-ket?t=")
    token = parse_qs(urlsplit(out.rsplit(" ", 1)[1]).query)["t"][0]
    app = make_app()
    assert redeem(client_for(app), token).status_code == 303
    assert redeem(client_for(app), token).status_code == 400

    assert d06(["portal", "link", "--unit", "KHONG.CO"]) == 2
    assert "not a unit of the registry valid today" in capsys.readouterr().err


@pytest.mark.warehouse
def test_start_serves_in_the_background_and_stop_ends_it(warehouse: str, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with environment(D06_PORTAL_PORT=str(port), D06_PORTAL_URL=f"http://127.0.0.1:{port}", D06_BI_READER_PASSWORD=""):
        assert d06(["portal", "start"]) == 0
        try:
            assert f"portal: http://127.0.0.1:{port}" in capsys.readouterr().out
            health = httpx.get(f"http://127.0.0.1:{port}/suc-khoe", timeout=10)
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            page = httpx.get(f"http://127.0.0.1:{port}/dang-nhap", timeout=10)
            assert page.status_code == 200 and "Đăng nhập" in page.text
            assert d06(["portal", "start"]) == 0, "idempotent: the running portal is kept"
        finally:
            assert d06(["portal", "stop"]) == 0
    assert "portal: stopped" in capsys.readouterr().out
    assert d06(["portal", "stop"]) == 0 and "was not running" in capsys.readouterr().out


def test_settings_come_from_the_environment_with_bounds() -> None:
    values = {
        "D06_PORTAL_MAX_UPLOAD_MB": "2",
        "D06_PORTAL_LINK_MINUTES": "7",
        "D06_PORTAL_SESSION_HOURS": "1.5",
        "D06_PORTAL_SECURE_COOKIES": "1",
        "D06_PORTAL_TRUSTED_PROXIES": "10.0.0.1,10.0.0.2",
        "D06_PORTAL_MAX_FAILURES_PER_ADDRESS": "3",
        "D06_PORTAL_MAX_FAILURES_PER_CLIENT": "9",
        "D06_PORTAL_RATE_WINDOW_MINUTES": "30",
    }
    with environment(**values):
        settings = PortalSettings.from_env()
    assert settings == PortalSettings(2 * 1024 * 1024, 7, 1.5, "1", "10.0.0.1,10.0.0.2", 3, 9, 30)
    for name, bad in (
        ("D06_PORTAL_MAX_UPLOAD_MB", "500"),
        ("D06_PORTAL_LINK_MINUTES", "x"),
        ("D06_PORTAL_SECURE_COOKIES", "yes"),
    ):
        with environment(**{name: bad}), pytest.raises(ConfigError, match=name):
            PortalSettings.from_env()


def _compose_portal() -> dict[str, Any]:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    portal: dict[str, Any] = services["portal"]
    return portal


def test_the_compose_service_passes_every_setting_the_portal_reads() -> None:
    portal = _compose_portal()
    assert portal["image"] == "${D06_IMAGE:-d06-warehouse:latest}", "the same image as the Airflow services"
    assert portal["entrypoint"] == ["d06"] and portal["command"] == ["portal", "serve"]
    env = portal["environment"]
    assert sorted(set(ENVIRONMENT) - set(env)) == []
    assert env["D06_PORTAL_HOST"] == "0.0.0.0" and portal["ports"] == [f"127.0.0.1:{env['D06_PORTAL_PORT']}:8000"]
    assert "/suc-khoe" in " ".join(portal["healthcheck"]["test"])


def test_every_setting_named_in_the_portal_code_is_listed() -> None:
    named = set()
    for path in (INGEST / "portal").rglob("*.py"):
        named |= set(re.findall(r"\"(D06_PORTAL_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    named |= set(re.findall(r"\"(D06_PORTAL_[A-Z_]+)\"", (INGEST / "config.py").read_text(encoding="utf-8")))
    assert named and sorted(named - set(ENVIRONMENT)) == []


def _imports_portal(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ingest.portal"):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("ingest.portal") for a in node.names):
            return True
    return False


def test_the_portal_is_a_top_layer() -> None:
    importers = {
        str(p.relative_to(INGEST))
        for p in INGEST.rglob("*.py")
        if not p.is_relative_to(INGEST / "portal") and _imports_portal(p)
    }
    assert importers == {"cli.py"}
