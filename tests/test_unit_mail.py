"""Per-unit e-mails after a realistic multi-unit month: the demo inbox of An Giang (112 files)
with three planted faults, loaded, audited and published for real, then e-mailed through the
real SMTP sink.

Planted by hand (so the expected wording is known without the code):
    AG.X.ANBIEN  DVC_ONLINE_RECEIVED DV12: numerator 6.194 above its denominator 5.111 (an error),
                 and a row with the unknown indicator code SAI_ANBIEN_7731 (quarantined)
    AG.X.ANPHU   a row with the unknown indicator code SAI_ANPHU_8842 (quarantined)
and two overdue plan tasks (chosen by the test in place of the warehouse's):
    KH-TEST-01, led by AG.X.ANBIEN; KH-TEST-02, led by AG.SNV.

Who must hear what is read from the warehouse here with SQL of the test's own (quarantined rows
per unit's file, open errors and warnings per unit), never from the mail code.
"""

from __future__ import annotations

import datetime as dt
import email
import re
import socket
from collections import Counter
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from conftest import environment

from ingest.config import inbox_dir, reports_dir
from ingest.demo import write_demo_inbox
from ingest.pipeline import build_models, ingest_period
from ingest.pipeline import send_report as send_step
from ingest.registry import load_registry
from ingest.reporting import mailer
from ingest.reporting.mailer import ReportDeliveryError
from ingest.reporting.plan_tasks import OverdueTask
from ingest.reporting.quality_report import deliver_report, write_report
from ingest.reporting.smtp_sink import SmtpSink, _WriteEml

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-03"
RUN = "mail-run"
PORTAL = "https://congtiepnhan.angiang.d06.example"
OFFICE = "cat@angiang.d06.example"  # the standing office: Công an tỉnh An Giang
PLANTED = {"AG.X.ANBIEN": "SAI_ANBIEN_7731", "AG.X.ANPHU": "SAI_ANPHU_8842"}
SENTENCE = (
    "Số hồ sơ tiếp nhận trực tuyến trong tháng (6.194) không được vượt quá tổng số hồ sơ tiếp nhận trong tháng (5.111)"
)
REGISTRY = load_registry()


TASKS = [
    OverdueTask("KH-TEST-01", "Số hóa sổ hộ tịch xã", "AG.X.ANBIEN", dt.date(2026, 2, 28), "behind", PERIOD, None),
    OverdueTask("KH-TEST-02", "Kết nối hệ thống một cửa", "AG.SNV", dt.date(2026, 1, 31), "in_progress", None, None),
]


def _plant(folder: Path) -> None:
    anbien = folder / "AG.X.ANBIEN_2026-03.csv"
    text = anbien.read_text(encoding="utf-8-sig")
    text = re.sub(
        r"AG\.X\.ANBIEN,2026-03,DVC_ONLINE_RECEIVED,DV12,[^\n]*",
        "AG.X.ANBIEN,2026-03,DVC_ONLINE_RECEIVED,DV12,6194,5111,,",
        text,
    )
    text += f"AG.X.ANBIEN,2026-03,{PLANTED['AG.X.ANBIEN']},,5,10,,\n"
    anbien.write_text(text, encoding="utf-8-sig")
    anphu = folder / "AG.X.ANPHU_2026-03.csv"
    anphu.write_text(
        anphu.read_text(encoding="utf-8-sig") + f"AG.X.ANPHU,2026-03,{PLANTED['AG.X.ANPHU']},,5,10,,\n",
        encoding="utf-8-sig",
    )


@pytest.fixture(scope="module")
def plan_tasks() -> Iterator[None]:
    """Overdue tasks chosen by the test, with lead units it knows (tests/test_plan_tasks.py checks
    which tasks ``overdue_tasks`` finds in the warehouse)."""
    from ingest.reporting import plan_tasks as module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "overdue_tasks", lambda conn, period, unit_code=None: list(TASKS))
        yield


@pytest.fixture(scope="module")
def run(warehouse_dsn: str, smtp_sink: SmtpSink, plan_tasks: None) -> Iterator[dict[str, Any]]:
    folder = inbox_dir() / PERIOD
    write_demo_inbox(inbox_dir(), PERIOD, provinces=["AG"])
    _plant(folder)
    with environment(D06_PORTAL_URL=PORTAL):
        ingest_period(PERIOD, run_id=RUN)
        build_models()
        report = write_report(PERIOD, run_id=RUN, out_dir=reports_dir() / PERIOD)
        before = set(smtp_sink.outbox.glob("*.eml"))
        result = deliver_report(PERIOD, run_id=RUN, report_path=report)
        emls = sorted(set(smtp_sink.outbox.glob("*.eml")) - before)
        yield {"report": report, "result": result, "emls": emls, "messages": [_read(p) for p in emls]}


def _read(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _text(msg: EmailMessage) -> str:
    """Every header and every text part, decoded (images left out)."""
    headers = "\n".join(f"{k}: {v}" for k, v in msg.items())
    parts = [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
    return headers + "\n" + "\n".join(parts)


def _html(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def _by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for m in messages:
        assert str(m["To"]) not in found, f"two messages to {m['To']}"
        found[str(m["To"])] = m
    return found


def _must_hear(dsn: str) -> set[str]:
    """Units with quarantined rows in their files, or open errors or warnings (the test's own SQL),
    or an overdue task they lead."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """select l.unit_code from raw.quarantine q join audit.load_ledger l using (file_id)
               where l.period = %(p)s and l.unit_code is not null
               union
               select unit_code from audit.violation
               where period = %(p)s and status in ('open', 'explained') and severity in ('error', 'warning')""",
            {"p": PERIOD},
        ).fetchall()
    return {r[0] for r in rows} | {t.lead_unit_code for t in TASKS if t.lead_unit_code}


def _files_of(dsn: str) -> dict[str, set[str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select unit_code, file_name from audit.load_ledger where unit_code is not null").fetchall()
    files: dict[str, set[str]] = {}
    for unit, name in rows:
        files.setdefault(unit, set()).add(name)
    return files


def test_each_unit_to_tell_gets_one_message_at_its_registry_address(run: dict[str, Any], warehouse_dsn: str) -> None:
    to = _by_recipient(run["messages"])
    expected = {REGISTRY.units[c].contact_email for c in _must_hear(warehouse_dsn)} | {OFFICE}
    assert set(to) == expected
    assert len(expected) > 10, "a realistic month: many units hear about their own rows"
    for address, msg in to.items():
        assert "Cc" not in msg and "Bcc" not in msg and str(msg["To"]) == address


def test_no_message_names_another_units_rows_files_or_address(run: dict[str, Any], warehouse_dsn: str) -> None:
    files = _files_of(warehouse_dsn)
    concerned = _must_hear(warehouse_dsn) | set(files)
    for msg in run["messages"]:
        recipient = str(msg["To"])
        own = {c for c in concerned if REGISTRY.units[c].contact_email == recipient}
        text = _text(msg)
        summary = recipient == OFFICE
        for code in concerned - own:
            unit = REGISTRY.units[code]
            assert unit.contact_email not in text, (recipient, code)
            assert not [f for f in files.get(code, ()) if f in text], (recipient, code)
            assert PLANTED.get(code, "\0") not in text, (recipient, code)
            if not summary:  # the summary counts per unit; a unit's message names no other unit
                assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text), (recipient, code)
                assert not re.search(rf"(?<!\w){re.escape(unit.name_vi)}(?!\w)", text), (recipient, code)


def test_a_units_message_lists_its_rows_with_the_rule_in_words(run: dict[str, Any]) -> None:
    to = _by_recipient(run["messages"])
    anbien = to[REGISTRY.units["AG.X.ANBIEN"].contact_email]
    html, text = _html(anbien), _text(anbien)
    assert SENTENCE in html and SENTENCE in text
    assert PLANTED["AG.X.ANBIEN"] in html, "its quarantined row, with the value it sent"
    assert "AG.X.ANBIEN_2026-03.csv" in html
    assert f'href="{PORTAL}"' in html and PORTAL in text
    assert "Nhiệm vụ quá hạn" in html and "KH-TEST-01" in html and "KH-TEST-02" not in html
    anphu = _html(to[REGISTRY.units["AG.X.ANPHU"].contact_email])
    assert PLANTED["AG.X.ANPHU"] in anphu and SENTENCE not in anphu
    snv = _html(to[REGISTRY.units["AG.SNV"].contact_email])
    assert "KH-TEST-02" in snv and "Kết nối hệ thống một cửa" in snv


def test_the_summary_counts_per_unit_and_lists_overdue_tasks(run: dict[str, Any], warehouse_dsn: str) -> None:
    summary = _by_recipient(run["messages"])[OFFICE]
    html = _html(summary)
    assert "Báo cáo chất lượng dữ liệu" in str(summary["Subject"]) and PERIOD in str(summary["Subject"])
    assert "Nhiệm vụ quá hạn" in html and "KH-TEST-01" in html and "KH-TEST-02" in html
    for code in _must_hear(warehouse_dsn) - {"AG.CAT"}:
        assert f"{REGISTRY.units[code].name_vi} ({code})" in html
    assert str(run["report"]) in html, "says where the full report is"
    assert SENTENCE not in html, "no row of a unit is listed"


def test_every_message_has_date_message_id_and_dedupe_key(run: dict[str, Any]) -> None:
    keys = set()
    for msg in run["messages"]:
        assert msg["Date"] and email.utils.parsedate_to_datetime(str(msg["Date"])).tzinfo is not None
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"]))
        key = str(msg["X-D06-Dedupe-Key"])
        assert key.startswith(f"d06/{PERIOD}/") and RUN not in key and str(msg["To"]) not in key
        keys.add(key)
    assert len(keys) == len(run["messages"])


def test_charts_are_inline_images_the_html_refers_to(run: dict[str, Any]) -> None:
    for msg in run["messages"]:
        assert msg.get_content_type() == "multipart/alternative"
        related = [p for p in msg.iter_parts() if p.get_content_type() == "multipart/related"]
        assert len(related) == 1, msg["To"]
        images = {
            str(p["Content-ID"]).strip("<>"): p.get_content() for p in msg.walk() if p.get_content_type() == "image/png"
        }
        referenced = set(re.findall(r'src="cid:([^"]+)"', _html(msg)))
        assert referenced and referenced == set(images), msg["To"]
        assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())


def _per_recipient(emls: list[Path]) -> Counter[str]:
    return Counter(str(_read(p)["To"]) for p in emls)


def test_the_send_step_run_again_sends_nothing_twice(run: dict[str, Any], smtp_sink: SmtpSink) -> None:
    before = set(smtp_sink.outbox.glob("*.eml"))
    with environment(D06_PORTAL_URL=PORTAL):
        send_step(PERIOD, run_id=RUN, report_path=str(run["report"]))
    assert set(smtp_sink.outbox.glob("*.eml")) == before
    assert set(_per_recipient(run["emls"]).values()) == {1}


def test_a_rerun_of_the_period_sends_nothing_that_was_sent(run: dict[str, Any], smtp_sink: SmtpSink) -> None:
    """Another run of the same period (a re-run, a backfill) finds the same things: no e-mail again."""
    before = set(smtp_sink.outbox.glob("*.eml"))
    with environment(D06_PORTAL_URL=PORTAL):
        for run_id in ("mail-rerun-1", "mail-rerun-2"):
            report = write_report(PERIOD, run_id=run_id, out_dir=reports_dir() / PERIOD)
            counts = send_step(PERIOD, run_id=run_id, report_path=str(report))
            assert counts["sent"] == 0 and counts["skipped"] == len(run["messages"]), counts
    assert set(smtp_sink.outbox.glob("*.eml")) == before


def _forget_sent(dsn: str) -> None:
    """As if no e-mail of the period had gone yet (the test sends them again to its own server)."""
    with psycopg.connect(dsn) as conn:
        conn.execute("delete from audit.mail_delivery where period = %s", (PERIOD,))


def test_two_runs_of_the_period_at_once_send_each_message_once(
    run: dict[str, Any], tmp_path: Path, warehouse_dsn: str
) -> None:
    import threading

    _forget_sent(warehouse_dsn)
    port = _free_port()
    server = Controller(_WriteEml(tmp_path), hostname="127.0.0.1", port=port)
    server.start()
    errors: list[BaseException] = []

    def send(run_id: str) -> None:
        try:
            send_step(PERIOD, run_id=run_id, report_path=str(run["report"]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        with environment(D06_SMTP_PORT=str(port), D06_PORTAL_URL=PORTAL):
            threads = [threading.Thread(target=send, args=(f"mail-twin-{i}",)) for i in (1, 2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=600)
    finally:
        server.stop()
    assert not errors, errors
    counts = _per_recipient(list(tmp_path.glob("*.eml")))
    assert set(counts) == {str(m["To"]) for m in run["messages"]}
    assert set(counts.values()) == {1}


class _FailingAfter(_WriteEml):
    """Accepts ``accept`` messages, then answers 451 (try later) until ``accept`` is raised."""

    def __init__(self, outbox: Path, accept: int) -> None:
        super().__init__(outbox)
        self.accept = accept
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.received >= self.accept:
            return "451 4.3.0 mailbox busy, try again later"
        self.received += 1
        return await super().handle_DATA(server, session, envelope)


def test_a_server_failing_midway_then_a_retry_delivers_each_message_once(
    run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_dsn: str
) -> None:
    _forget_sent(warehouse_dsn)
    monkeypatch.setattr(mailer, "RETRY_DELAYS", (0.01, 0.01))
    handler = _FailingAfter(tmp_path, accept=3)
    port = _free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with environment(D06_SMTP_PORT=str(port), D06_PORTAL_URL=PORTAL):
            with pytest.raises(ReportDeliveryError, match="451"):
                send_step(PERIOD, run_id="mail-retry", report_path=str(run["report"]))
            assert len(list(tmp_path.glob("*.eml"))) == 3
            handler.accept = 10_000  # the server is back: the task is retried
            send_step(PERIOD, run_id="mail-retry", report_path=str(run["report"]))
    finally:
        server.stop()
    emls = list(tmp_path.glob("*.eml"))
    counts = _per_recipient(emls)
    assert set(counts) == {str(m["To"]) for m in run["messages"]}
    assert set(counts.values()) == {1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sending_that_still_fails_fails_the_step_and_keeps_the_report(
    run: dict[str, Any], warehouse_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailer, "RETRY_DELAYS", (0.01, 0.01))
    _forget_sent(warehouse_dsn)
    port = _free_port()  # nothing listens there
    with environment(D06_SMTP_PORT=str(port)), pytest.raises(ReportDeliveryError, match="attempt 3 of 3"):
        send_step(PERIOD, run_id="mail-down", report_path=str(run["report"]))
    assert run["report"].exists()
    with psycopg.connect(warehouse_dsn) as conn:
        left = conn.execute("select count(*) from audit.mail_delivery where run_id = 'mail-down'")
        assert left.fetchone() == (0,), "a message the server never took stays claimed: another run would skip it"


def test_the_report_on_disk_embeds_its_charts_and_overdue_tasks(run: dict[str, Any]) -> None:
    import base64

    html = run["report"].read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) >= 2, "history and funnel plot at least"
    assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    assert not re.search(r'src="(?!data:)', html), "every image is in the file: nothing to fetch"
    overdue = html.split("<h2>Nhiệm vụ quá hạn</h2>", 1)[1].split("<h2>", 1)[0]
    assert "KH-TEST-01" in overdue and "Xã An Biên" in overdue and "28/02/2026" in overdue


def test_summary_recipients_are_configurable_and_each_gets_its_own(
    run: dict[str, Any], smtp_sink: SmtpSink, warehouse_dsn: str
) -> None:
    offices = ["vanphong@angiang.d06.example", "thuongtruc@angiang.d06.example"]
    _forget_sent(warehouse_dsn)
    before = set(smtp_sink.outbox.glob("*.eml"))
    with environment(D06_REPORT_TO=" , ".join(offices), D06_PORTAL_URL=PORTAL):
        send_step(PERIOD, run_id="mail-offices", report_path=str(run["report"]))
    messages = [_read(p) for p in set(smtp_sink.outbox.glob("*.eml")) - before]
    summaries = [m for m in messages if "Báo cáo chất lượng dữ liệu" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in summaries) == sorted(offices)
    for m in summaries:
        other = next(o for o in offices if o != str(m["To"]))
        assert other not in _text(m)
    units = {REGISTRY.units[c].contact_email for c in _must_hear(warehouse_dsn)}
    assert sorted(str(m["To"]) for m in messages) == sorted(units | set(offices)), "Công an tỉnh hears as any unit"


class _RefusingOne(_WriteEml):
    """Refuses one mailbox for good (550), accepts the others."""

    def __init__(self, outbox: Path, refused: str) -> None:
        super().__init__(outbox)
        self.refused = refused

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_mailbox_refused_for_good_does_not_stop_the_others(
    run: dict[str, Any], tmp_path: Path, warehouse_dsn: str
) -> None:
    _forget_sent(warehouse_dsn)
    refused = REGISTRY.units["AG.X.ANPHU"].contact_email
    port = _free_port()
    server = Controller(_RefusingOne(tmp_path, refused), hostname="127.0.0.1", port=port)
    server.start()
    try:
        with environment(D06_SMTP_PORT=str(port), D06_PORTAL_URL=PORTAL):
            for _ in range(2):  # the task, then its retry: the refused one fails the step each time
                with pytest.raises(ReportDeliveryError, match=r"1 e-mails were refused.*AG\.X\.ANPHU.*550"):
                    send_step(PERIOD, run_id="mail-refused", report_path=str(run["report"]))
    finally:
        server.stop()
    counts = _per_recipient(list(tmp_path.glob("*.eml")))
    assert set(counts) == {str(m["To"]) for m in run["messages"]} - {refused}
    assert set(counts.values()) == {1}
