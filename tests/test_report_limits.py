"""The quality report stays readable and sendable: a bounded number of quarantined rows per unit
with the rest in a CSV export, an e-mail never above D06_MAIL_MAX_BYTES, and a mail server that
is down or refusing ends in one named error instead of a traceback.

Expected numbers come from the files built here: AG.STP sends 1 good row and 300 bad ones
(file rows 3 to 302), and a file whose unit cannot be told sends 3 bad rows.
"""

from __future__ import annotations

import csv
import email
import logging
import re
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller
from conftest import environment
from submissions.files import csv_bytes, row

from ingest.config import SmtpSettings, inbox_dir, reports_dir
from ingest.pipeline import build_models, ingest_period
from ingest.reporting import mailer
from ingest.reporting.mailer import ReportDeliveryError, build_message, message_size, send_report
from ingest.reporting.quality_report import collect, deliver_report, plain_text, render, write_report
from ingest.reporting.smtp_sink import SmtpSink, _WriteEml
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-03"
RUN = "limits"
UNIT = "AG.STP"
BAD_ROWS = 300  # AG.STP's quarantined rows
ORPHAN = "khong_ro_don_vi.csv"  # no good row, so no unit: grouped under its file name
FORMULA = "=HYPERLINK(1)"
TO = ["cat@angiang.d06.example"]
CSV_HEADER_VI = ["Mã đơn vị", "Tên đơn vị", "Tệp", "Dòng", "Cột", "Giá trị", "Lý do"]


def _unit_file() -> bytes:
    """Row 2 is good; rows 3-301 name an unknown indicator; row 302 has a formula as numerator."""
    rows = [row(UNIT, PERIOD, "HT_SCANNED")]
    rows += [row(UNIT, PERIOD, f"KHONG_CO_{i:03d}") for i in range(BAD_ROWS - 1)]
    rows.append(row(UNIT, PERIOD, "HT_SYNCED", numerator=FORMULA))
    return csv_bytes(rows)


@pytest.fixture(scope="module")
def report(warehouse_dsn: str) -> Path:
    folder = inbox_dir() / PERIOD
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{UNIT}.csv").write_bytes(_unit_file())
    (folder / ORPHAN).write_bytes(csv_bytes([row(UNIT, PERIOD, f"SAI_{i}") for i in range(3)]))
    totals = ingest_period(PERIOD, run_id=RUN)
    assert totals["rows_quarantined"] == BAD_ROWS + 3
    build_models()
    return write_report(PERIOD, run_id=RUN, out_dir=reports_dir() / PERIOD)


def _section(html: str, heading: str) -> str:
    """The part of the report from the heading that starts with ``heading`` to the next heading."""
    start = html.index(f"<h3>{heading}")
    return re.split(r"<h[23]>", html[start + 4 :], maxsplit=1)[0]


def _listed_rows(section: str) -> list[int]:
    """File row numbers listed in a section's table."""
    return [int(n) for n in re.findall(r'<tr><td>[^<]*</td><td class="num">(\d+)</td>', section)]


def test_report_lists_the_first_rows_per_unit_and_counts_the_rest(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    unit = _section(html, "Sở Tư pháp")
    assert f"({UNIT}): 300 dòng" in unit
    assert _listed_rows(unit) == list(range(3, 23)), "the first 20 rows of the unit, in file order"
    assert "… và 280 dòng khác" in unit
    orphan = _section(html, f"Tệp chưa xác định được đơn vị: {ORPHAN}")
    assert _listed_rows(orphan) == [2, 3, 4]
    assert "dòng khác" not in orphan
    assert f"quarantine_{PERIOD}_{RUN}.csv" in html, "the report links to the full export"


def test_rows_per_unit_is_a_setting(report: Path) -> None:
    with environment(D06_REPORT_ROWS_PER_UNIT="5"):
        html = render(collect(PERIOD, RUN))
    unit = _section(html, "Sở Tư pháp")
    assert _listed_rows(unit) == [3, 4, 5, 6, 7]
    assert "… và 295 dòng khác" in unit


def test_csv_export_holds_every_row_safely(report: Path) -> None:
    path = report.parent / f"quarantine_{PERIOD}_{RUN}.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel reads the Vietnamese"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == CSV_HEADER_VI
    body = rows[1:]
    assert len(body) == BAD_ROWS + 3
    unit_rows = [r for r in body if r[0] == UNIT]
    assert sorted(int(r[3]) for r in unit_rows) == list(range(3, 303))
    assert [r for r in body if r[2] == ORPHAN and r[0] == ""], "a file without a unit keeps its rows"
    assert "'" + FORMULA in [r[5] for r in unit_rows], "the formula cell is neutralised"
    assert not [c for r in body for c in r if c.startswith(("=", "+", "-", "@"))]


def _received(sink: SmtpSink, before: set[Path]) -> list[Path]:
    return sorted(set(sink.outbox.glob("*.eml")) - before)


def _read(eml: Path) -> EmailMessage:
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _forget_deliveries(run_id: str) -> None:
    """Let the run's e-mails go again (each is sent once per run: audit.mail_delivery)."""
    with connect() as conn:
        conn.execute("delete from audit.mail_delivery where run_id = %s", (run_id,))


def _by_recipient(emls: list[Path]) -> dict[str, EmailMessage]:
    messages = {str(m["To"]): m for m in map(_read, emls)}
    assert len(messages) == len(emls), "one message per address"
    return messages


def test_report_within_the_limit_is_sent_whole(report: Path, smtp_sink: SmtpSink) -> None:
    _forget_deliveries(RUN)
    before = set(smtp_sink.outbox.glob("*.eml"))
    deliver_report(PERIOD, run_id=RUN, report_path=report)
    emls = _received(smtp_sink, before)
    assert all(eml.stat().st_size <= 5_000_000 for eml in emls)
    messages = _by_recipient(emls)
    assert {"stp@angiang.d06.example", *TO} <= set(messages), "the unit with rows, and the standing office"
    html = messages["stp@angiang.d06.example"].get_body(preferencelist=("html",))
    assert html is not None
    unit = html.get_content()
    assert _listed_rows(unit) == list(range(3, 23)) and "… và 280 dòng khác" in unit, "the unit's first 20 rows"
    summary = messages[TO[0]].get_body(preferencelist=("html",))
    assert summary is not None and "KHONG_CO_000" not in summary.get_content(), "the summary lists no row"


def test_too_large_report_is_sent_as_its_summary(report: Path, smtp_sink: SmtpSink) -> None:
    data = collect(PERIOD, RUN)
    data.quarantine_csv = report.parent / f"quarantine_{PERIOD}_{RUN}.csv"
    full = build_message(
        subject="s", html=report.read_text(encoding="utf-8"), text=plain_text(data), sender="a@d06.example", to=TO
    )
    limit = message_size(full) - 100  # the whole report does not fit; its summary has 23 rows fewer
    before = set(smtp_sink.outbox.glob("*.eml"))
    send_report(
        subject="s",
        report_path=report,
        text=plain_text(data),
        short_html=render(data, compact=True, report_path=report),
        short_text=plain_text(data, report_path=report),
        to=TO,
        max_bytes=limit,
    )
    (eml,) = _received(smtp_sink, before)
    assert eml.stat().st_size <= limit
    html = _read(eml).get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "1. Tổng quan" in content and "Dòng bị cách ly" in content
    assert "chỉ gồm phần tóm tắt" in content and str(report) in content, "says where the full report is"
    assert f"quarantine_{PERIOD}_{RUN}.csv" in content
    assert "dòng khác" not in content and "KHONG_CO_000" not in content, "no quarantined row is listed"


def test_tiny_limit_still_sends_the_summary(report: Path, smtp_sink: SmtpSink) -> None:
    limit = 10_000  # below each HTML form with its charts: text only
    _forget_deliveries(RUN)
    before = set(smtp_sink.outbox.glob("*.eml"))
    with environment(D06_MAIL_MAX_BYTES=str(limit)):
        deliver_report(PERIOD, run_id=RUN, report_path=report)
    emls = _received(smtp_sink, before)
    assert all(eml.stat().st_size <= limit for eml in emls)
    msg = _by_recipient(emls)[TO[0]]
    assert msg.get_body(preferencelist=("html",)) is None, "only the text summary fits"
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None
    summary = text.get_content()
    assert "dòng bị cách ly: 303" in summary
    assert str(report) in summary, "the note says where the full report is on the server"
    assert f"quarantine_{PERIOD}_{RUN}.csv" in summary


def test_limit_below_the_summary_sends_nothing(report: Path, smtp_sink: SmtpSink) -> None:
    _forget_deliveries(RUN)
    before = set(smtp_sink.outbox.glob("*.eml"))
    with environment(D06_MAIL_MAX_BYTES="300"), pytest.raises(ReportDeliveryError, match="D06_MAIL_MAX_BYTES=300"):
        deliver_report(PERIOD, run_id=RUN, report_path=report)
    assert _received(smtp_sink, before) == []


@pytest.fixture
def closed_port() -> int:
    """A port on which nothing listens: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailer, "RETRY_DELAYS", (0.01, 0.01))


def _settings(port: int, *, starttls: bool = False) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", port, None, None, starttls, "bao-cao@d06.example")


def _send(report: Path, settings: SmtpSettings) -> str:
    return send_report(subject="Báo cáo", report_path=report, text="Tóm tắt", to=TO, settings=settings)


@pytest.mark.usefixtures("no_waiting")
def test_smtp_down_is_a_named_error_and_the_report_stays(
    report: Path, closed_port: int, warehouse_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        environment(D06_SMTP_HOST="127.0.0.1", D06_SMTP_PORT=str(closed_port)),
        caplog.at_level(logging.WARNING, logger="ingest.reporting.mailer"),
        pytest.raises(ReportDeliveryError) as caught,
    ):
        deliver_report(PERIOD, run_id=RUN + "-down", report_path=report)
    err = caught.value
    assert f"127.0.0.1:{closed_port}" in str(err) and "ConnectionRefusedError" in str(err)
    assert "attempt 3 of 3" in str(err)
    assert len([r for r in caplog.records if "trying again" in r.message]) == 2
    assert err.__cause__ is None and err.__suppress_context__, "no chained traceback for the user"
    assert report.exists()
    with psycopg.connect(warehouse_dsn) as conn:
        sent = conn.execute("select count(*) from audit.report_delivery where run_id = %s", (RUN + "-down",))
        assert sent.fetchone() == (0,)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.mark.usefixtures("no_waiting")
def test_a_server_that_never_answers_times_out_into_the_named_error(
    report: Path, silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailer, "SMTP_TIMEOUT_SECONDS", 0.2)
    with pytest.raises(ReportDeliveryError, match=rf"127\.0\.0\.1:{silent_server}.*timed out"):
        _send(report, _settings(silent_server))


@pytest.mark.usefixtures("no_waiting")
def test_starttls_the_server_does_not_offer_is_the_named_error(report: Path, smtp_sink: SmtpSink) -> None:
    with pytest.raises(ReportDeliveryError, match="SMTPNotSupportedError"):
        _send(report, _settings(smtp_sink.port, starttls=True))


def test_permanent_refusal_is_not_retried(report: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = Controller(_WriteEml(tmp_path), hostname="127.0.0.1", port=port, data_size_limit=1_000)
    server.start()
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(ReportDeliveryError, match=r"attempt 1 of 3.*552"):
            _send(report, _settings(port))
    finally:
        server.stop()
    assert not [r for r in caplog.records if "trying again" in r.message]
    assert not list(tmp_path.glob("*.eml"))
