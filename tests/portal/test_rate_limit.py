"""Failed sign-ins are rate-limited per address and per client address, in the warehouse.

The application here trusts any proxy, so that each test speaks from its own client address
(X-Forwarded-For); limits are small (3 per address, 4 per client, in 15 minutes) so that the
counts are easy to follow by hand.
"""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient

from ingest.portal import auth
from ingest.reporting.smtp_sink import SmtpSink

from .conftest import UNIT_A, client_for, csrf_of, link_token, make_app, redeem

pytestmark = pytest.mark.warehouse


@pytest.fixture(scope="module")
def app(warehouse: str) -> Any:
    return make_app(trusted_proxies="*", max_failures_per_address=3, max_failures_per_client=4)


def from_address(app: Any, ip: str) -> TestClient:
    client = client_for(app)
    client.headers["x-forwarded-for"] = ip
    return client


def ask_link(client: TestClient, address: str) -> int:
    form = client.get("/dang-nhap")
    return client.post("/dang-nhap", data={"email": address, "csrf": csrf_of(form.text)}).status_code


def test_failed_link_requests_for_one_address_are_limited_whatever_the_client(app: Any) -> None:
    address = "khong.dang.ky@example.org"
    statuses = [ask_link(from_address(app, f"203.0.113.{i}"), address) for i in range(1, 5)]
    assert statuses == [200, 200, 200, 429], "3 failures allowed for an address, from 3 clients; the 4th refused"
    assert ask_link(from_address(app, "203.0.113.9"), "mot.dia.chi.khac@example.org") == 200


def test_failed_sign_ins_from_one_client_are_limited_even_with_a_good_link(app: Any, warehouse: str) -> None:
    client = from_address(app, "198.51.100.20")
    statuses = [redeem(client, f"sai-{i}").status_code for i in range(4)]
    assert statuses == [400, 400, 400, 400]
    good = link_token(warehouse, UNIT_A)
    blocked = redeem(client, good)
    assert blocked.status_code == 429 and "Tạm khóa đăng nhập" in blocked.text
    assert redeem(from_address(app, "198.51.100.21"), good).status_code == 303, (
        "another client is not limited, and the link refused while limited was not used up"
    )


def test_the_limit_is_stored_as_hashes_in_the_warehouse(app: Any, warehouse: str) -> None:
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "select action, succeeded from portal.signin_attempt where client_hash = %s order by attempt_id",
            (auth.digest("client", "198.51.100.20"),),
        ).fetchall()
        dump = conn.execute("select string_agg(t::text, ' ') from portal.signin_attempt t").fetchone()
    assert rows == [("redeem", False)] * 4, "four failures recorded; the refused fifth is not an attempt"
    assert dump is not None
    for personal in ("198.51.100.20", "203.0.113.1", "khong.dang.ky@example.org"):
        assert personal not in dump[0]


def test_links_sent_to_an_address_are_limited_but_the_last_one_still_signs_in(
    app: Any, warehouse: str, smtp_sink: SmtpSink
) -> None:
    """3 links may go to one address in the window (a 4th would flood its mailbox); using the
    third still works: using a link counts failures only."""
    address = "cat@angiang.d06.example"
    statuses = [ask_link(from_address(app, f"192.0.2.{i}"), address) for i in range(1, 5)]
    assert statuses == [200, 200, 200, 429]
    messages = sorted(Path(smtp_sink.outbox).glob("*.eml"))
    assert len(messages) == 3
    body = email.message_from_bytes(messages[-1].read_bytes(), policy=policy.default).get_body(("plain",))
    link = next(line for line in body.get_content().splitlines() if "lien-ket?t=" in line)  # type: ignore[union-attr]
    token = parse_qs(urlsplit(link.strip()).query)["t"][0]
    assert redeem(from_address(app, "192.0.2.50"), token).status_code == 303
