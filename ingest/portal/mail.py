"""The sign-in e-mail: a one-time link to the unit's registered address, sent with the report mailer.

>>> send_link(unit, "https://nopbaocao.example/dang-nhap/lien-ket?t=…", minutes=15)
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path

from ingest.registry import Unit
from ingest.reporting.mailer import send_report

SUBJECT = "Liên kết đăng nhập Cổng nộp báo cáo Đề án 06"


def link_text(unit: Unit, link: str, minutes: int) -> str:
    return (
        f"Kính gửi {unit.name_vi} ({unit.code}),\n\n"
        f"Để đăng nhập Cổng nộp báo cáo Đề án 06, vui lòng mở liên kết sau trong vòng {minutes} phút:\n\n"
        f"{link}\n\n"
        "Liên kết chỉ dùng được một lần. Nếu quý đơn vị không yêu cầu đăng nhập, vui lòng bỏ qua thư này.\n\n"
        "Văn phòng thường trực Đề án 06"
    )


def link_html(unit: Unit, link: str, minutes: int) -> str:
    return (
        '<!doctype html><html lang="vi"><meta charset="utf-8"><body>'
        f"<p>Kính gửi {escape(unit.name_vi)} ({escape(unit.code)}),</p>"
        f"<p>Để đăng nhập Cổng nộp báo cáo Đề án 06, vui lòng mở liên kết sau trong vòng {minutes} phút:</p>"
        f'<p><a href="{escape(link)}">{escape(link)}</a></p>'
        "<p>Liên kết chỉ dùng được một lần. Nếu quý đơn vị không yêu cầu đăng nhập, vui lòng bỏ qua thư này.</p>"
        "<p>Văn phòng thường trực Đề án 06</p></body></html>"
    )


def send_link(unit: Unit, link: str, *, minutes: int) -> str:
    """E-mail ``link`` to ``unit``'s registered address; returns the Message-ID.  Raises the
    mailer's ``ReportDeliveryError`` when the server cannot be reached (tried once: the person
    is waiting for the page)."""
    with tempfile.TemporaryDirectory(prefix="d06-portal-mail-") as folder:
        body = Path(folder) / "lien_ket.html"
        body.write_text(link_html(unit, link, minutes), encoding="utf-8")
        return send_report(
            subject=SUBJECT,
            report_path=body,
            text=link_text(unit, link, minutes),
            to=[unit.contact_email],
            retry_delays=(),
        )
