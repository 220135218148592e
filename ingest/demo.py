"""Write a demo inbox: one monthly submission per reporting unit of a demo province.

The data are synthetic but shaped like real reports: stocks grow month on month, flows vary,
most units report on time, a few are late or silent, and a few rows carry the mistakes that
units really make (text in a number cell, an unknown code, a numerator above its denominator),
so that the demo shows the quality gate at work.  When each file was received is listed in the
folder's receipt manifest (``received.csv``), as a mail gateway would write it.

>>> write_demo_inbox(Path(".warehouse/inbox"), "2026-03")
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import json
import random
from pathlib import Path

import openpyxl

from ingest.landing.receipt import write_manifest
from ingest.registry import Indicator, Registry, Unit, load_registry
from ingest.submissions.periods import report_deadline

HEADERS_VI = ["ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "ma_dich_vu", "tu_so", "mau_so", "ty_le", "ghi_chu"]


def _rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:16], 16))


def _months_since(period: str, origin: str = "2024-01") -> int:
    y, m = map(int, period.split("-"))
    oy, om = map(int, origin.split("-"))
    return (y - oy) * 12 + (m - om)


def _vn(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.2f}".replace(".", ",")


def _value(unit: Unit, ind: Indicator, service: str, period: str) -> tuple[int, int]:
    """A deterministic (numerator, denominator) for a unit, indicator, service and month."""
    base = _rng(unit.code, ind.code, service)
    size = {"commune": 1, "department": 20}.get(unit.kind, 5)
    if ind.measure_type == "stock":
        whole = int(base.uniform(800, 6000) * size)
        progress = min(1.0, base.uniform(0.45, 0.7) + 0.02 * _months_since(period))
        if ind.denominator_kind == "target":
            progress *= base.uniform(0.9, 1.6)
        return int(whole * progress), whole
    month = _rng(unit.code, ind.code, service, period)
    # A unit's monthly volume is steady, within a fifth or so either way (a count that jumps
    # five-fold is a finding of the quality gate, not the demo's weather).
    whole = int(base.uniform(20, 400) * month.uniform(0.8, 1.25) * size)
    share = min(1.0, base.uniform(0.6, 0.95) + month.uniform(-0.05, 0.05))
    if ind.denominator_kind == "target":
        share *= month.uniform(0.8, 1.3)
    return int(whole * share), whole


def _funnel_values(registry: Registry, unit: Unit, period: str) -> dict[tuple[str, str], tuple[int, int]]:
    """Every expected (indicator, service) value, with the registry's funnels holding: each step
    is a steady share (per unit and step) of the step before it, so stocks still only grow."""
    values = {
        (ind.code, service): _value(unit, ind, service, period) for ind, service in registry.expected_rows(unit.code)
    }
    for funnel in registry.funnels:
        for upper, lower in funnel.pairs():
            for (code, service), (num, den) in list(values.items()):
                above = values.get((upper.indicator_code, service))
                if code != lower.indicator_code or above is None:
                    continue
                bound = above[0] if upper.figure == "numerator" else above[1]
                share = _rng(unit.code, code, service, "funnel").uniform(0.8, 0.99)
                if lower.figure == "numerator":
                    values[(code, service)] = (min(num, int(bound * share)), den)
                else:
                    values[(code, service)] = (num, min(den, int(bound * share)))
    return values


def demo_rows(registry: Registry, unit: Unit, period: str) -> list[list[str]]:
    rows = []
    values = _funnel_values(registry, unit, period)
    for ind, service in registry.expected_rows(unit.code):
        num, den = values[(ind.code, service)]
        rate = _pct(num, den) + "%" if den else ""
        rows.append([unit.code, period, ind.code, service, _vn(num), _vn(den), rate, ""])
    return rows


def _narrative_report(registry: Registry, unit: Unit, period: str) -> list[str]:
    """A monthly report in prose, the way a Sở Tư pháp writes it (compare shared/seeds/000_*)."""
    y, m = map(int, period.split("-"))
    province = registry.units[unit.province_code].name_vi.removeprefix("Tỉnh ").removesuffix(" (cũ)")
    synced, total = _value(unit, registry.indicators["HT_SYNCED"], "NA", period)
    cleaned, to_clean = _value(unit, registry.indicators["HN_CLEANED"], "NA", period)
    shared = cleaned - cleaned // 25
    lines = [
        "SỞ TƯ PHÁP",
        "Số: /BC-STP",
        f"{province}, ngày 05 tháng {m % 12 + 1} năm {y + (m == 12)}",
        "BÁO CÁO",
        f"Về kết quả triển khai, thực hiện Đề án 06 tháng {m} năm {y}",
        f"Thực hiện Công văn số 752/CAT-QLHC ngày 23/8/2025 của Công an tỉnh {province} về việc báo cáo định kỳ "
        "kết quả triển khai Đề án 06/CP trên địa bàn tỉnh, Sở Tư pháp báo cáo kết quả thực hiện như sau:",
        "1. Về dữ liệu",
        "- Sở Tư pháp đã số hóa và đã chuyển dữ liệu hộ tịch số hóa vào Cơ sở dữ liệu hộ tịch điện tử toàn quốc "
        f"để khai thác sử dụng {_vn(synced)}/{_vn(total)} dữ liệu, đạt tỷ lệ {_pct(synced, total)}%.",
        "- Tiếp tục làm sạch dữ liệu hôn nhân, kết quả: Tổng số dữ liệu cần số hóa, làm sạch: "
        f"{to_clean}; đã làm sạch dữ liệu và số hóa: {cleaned}; dữ liệu đã đồng bộ, chia sẻ với Cơ sở dữ liệu "
        f"quốc gia về dân cư: {shared}; tổng số còn phải thực hiện: {to_clean - cleaned}.",
        "2. Kết quả thực hiện 25 dịch vụ công thiết yếu thuộc Đề án 06/CP",
    ]
    indicator = registry.indicators["DVC_ONLINE_RECEIVED"]
    for i, service in enumerate(indicator.services_for(unit.role), 1):
        num, den = _value(unit, indicator, service, period)
        stated = "100" if i == 2 else _pct(num, den)  # units round up, too: a finding for the report
        lines.append(
            f"2.{i}. {registry.services[service].name_vi}: Tổng số tiếp nhận: {den} hồ sơ; trong đó: "
            f"{num} hồ sơ trực tuyến/{den} hồ sơ tiếp nhận, tỷ lệ {stated}% hồ sơ trực tuyến."
        )
    lines += [f"Sở Tư pháp báo cáo kết quả triển khai, thực hiện Đề án 06 tháng {m} năm {y}./."]
    return lines


def _write_docx(path: Path, lines: list[str]) -> None:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))


def _plant_mistakes(rows: list[list[str]], rng: random.Random) -> None:
    """Mistakes real units make; each one ends in quarantine or in a failed check, never lost."""
    kind = rng.choice(["text", "unknown_indicator", "above_denominator"])
    row = rows[rng.randrange(len(rows))]
    if kind == "text":
        row[4] = "chưa có số liệu"
    elif kind == "unknown_indicator":
        row[2] = "DVC_TRUC_TUYEN"
    else:
        den = int(row[5].replace(".", "") or 0)
        row[4] = _vn(den + 7)
        row[6] = ""


def _write(path: Path, rows: list[list[str]], fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADERS_VI)
            w.writerows(rows)
    elif fmt == "json":
        path.write_text(
            json.dumps([dict(zip(HEADERS_VI, r, strict=True)) for r in rows], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "du_lieu"
        ws.append(HEADERS_VI)
        for r in rows:
            ws.append(r)
        wb.save(path)


def write_demo_inbox(
    inbox: Path, period: str, provinces: list[str] | None = None, registry: Registry | None = None
) -> int:
    """Write the period's demo submissions under ``inbox/<period>/``, with their receipt times
    in ``received.csv``; return the number of files.

    Re-running writes byte-identical files, so a second load changes nothing.
    """
    registry = registry or load_registry()
    y, m = map(int, period.split("-"))
    period_end = dt.date(y, m, calendar.monthrange(y, m)[1])
    provinces = provinces or [u.code for u in registry.units.values() if u.kind == "province" and u.valid_to is None]
    scope = set().union(*(_provinces_of(registry, p, period_end) for p in provinces))
    units = [u for u in registry.reporting_units(period_end) if u.province_code in scope]
    target = inbox / period
    received: dict[str, dt.datetime] = {}
    for unit in sorted(units, key=lambda u: u.code):
        sent = _write_submission(registry, unit, period, target)
        if sent is not None:
            received[sent[0].name] = sent[1]
    write_manifest(target, received)
    return len(received)


def _write_submission(registry: Registry, unit: Unit, period: str, target: Path) -> tuple[Path, dt.datetime] | None:
    """Write one unit's submission unless it is already there; return it and when it was received
    (None: the unit is silent this month)."""
    deadline = report_deadline(period)
    rng = _rng("demo", unit.code, period)
    fate = rng.random()
    if fate < 0.05:
        return None  # silent: no submission this month
    if unit.role == "STP" and unit.valid_to is None:
        # Sở Tư pháp still sends a Word report: its figures are extracted, not retyped.
        path = target / f"{unit.code}_{period}_bao_cao.docx"
        if not path.exists():
            _write_docx(path, _narrative_report(registry, unit, period))
        return path, deadline - dt.timedelta(days=2)
    rows = demo_rows(registry, unit, period)
    if rng.random() < 0.12:
        _plant_mistakes(rows, rng)
    fmt = "xlsx" if unit.kind == "department" and rng.random() < 0.5 else ("json" if fate > 0.93 else "csv")
    path = target / f"{unit.code}_{period}.{fmt}"
    if not path.exists():  # already written: keep the bytes (and so the sha256) of the first run
        _write(path, rows, fmt)
    late = fate > 0.88
    sent = (
        deadline + dt.timedelta(days=rng.randint(1, 9))
        if late
        else deadline - dt.timedelta(days=rng.randint(0, 8), hours=rng.randint(0, 8))
    )
    return path, sent


def _provinces_of(registry: Registry, province: str, day: dt.date) -> set[str]:
    """The province itself on ``day``, or, before the merger, the former provinces it absorbed."""
    if registry.units[province].valid_on(day):
        return {province}
    return {
        s.predecessor_code
        for s in registry.successions
        if s.successor_code == province and registry.units[s.predecessor_code].kind == "province"
    }
