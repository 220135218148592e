"""Findings in words, in Vietnamese: numbers as officials write them and each rule as a sentence.

The sentence of a finding is built from the check's definition in the registry (``checks.yml``)
and the indicator's own numerator and denominator texts (``indicators.yml``): one pattern per
check code, none per indicator, so a new indicator needs no new wording.

>>> number_vi(1597452), number_vi(97.114)
('1.597.452', '97,11')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from ingest.registry import Indicator, Registry

VIETNAM = dt.timezone(dt.timedelta(hours=7))
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+([+-]\d{2}:\d{2}|Z)")


def number_vi(v: Any, decimals: int = 2) -> str:
    """``1597452`` -> ``1.597.452``; ``97.114`` -> ``97,11`` (at most ``decimals``, trailing zeros dropped)."""
    if v is None:
        return ""
    if isinstance(v, bool) or (not isinstance(v, int | float) and not hasattr(v, "as_integer_ratio")):
        return str(v)
    f = float(v)
    if f.is_integer():
        return f"{int(f):,}".replace(",", ".")
    text = f"{f:,.{decimals}f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,"))


def percent_vi(v: Any, decimals: int = 2) -> str:
    """A rate in percent: ``82.5`` -> ``82,5%``."""
    return "" if v is None else f"{number_vi(v, decimals)}%"


def when_vi(t: dt.datetime | None) -> str:
    """A time as officials read it, in Vietnam's time zone: ``08:30 ngày 10/04/2026``."""
    return "" if t is None else t.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y")


def date_vi(d: dt.date | None) -> str:
    return "" if d is None else d.strftime("%d/%m/%Y")


def month_vi(period: str) -> str:
    """``2026-03`` -> ``03/2026``."""
    return f"{period[5:7]}/{period[:4]}" if re.fullmatch(r"\d{4}-\d{2}", period or "") else str(period)


def value_vi(v: Any) -> str:
    """A finding's value: a number, an ISO time, or text as it is."""
    if isinstance(v, str) and _ISO_TIME.fullmatch(v):
        return when_vi(dt.datetime.fromisoformat(v))
    return number_vi(v) if isinstance(v, int | float) and not isinstance(v, bool) else "" if v is None else str(v)


def _lower_first(text: str) -> str:
    """``Tổng số hồ sơ`` -> ``tổng số hồ sơ``; an acronym (``CCCD …``, ``BHXH``) stays as it is."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _figure(indicator: Indicator | None, figure: str, *, first: bool = False) -> str:
    """The registry's words for an indicator's numerator or denominator."""
    if indicator is None:
        return "Tử số" if figure == "numerator" else "Mẫu số"
    text = indicator.numerator if figure == "numerator" else indicator.denominator
    return text if first else _lower_first(text)


def _step(registry: Registry, step: Any) -> str:
    """A funnel step (``HT_SCANNED`` or ``HT_SCANNED.denominator``) in the registry's words."""
    code, _, figure = str(step).partition(".")
    indicator = registry.indicators.get(code)
    return _figure(indicator, figure or "numerator") if indicator else str(step)


Phrase = Callable[[Registry, Indicator | None, Mapping[str, Any]], str]


def _exceeds(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return (
        f"{_figure(i, 'numerator', first=True)} ({number_vi(v.get('numerator'))}) không được vượt quá "
        f"{_figure(i, 'denominator')} ({number_vi(v.get('denominator'))})"
    )


def _over_target(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return (
        f"{_figure(i, 'numerator', first=True)} ({number_vi(v.get('numerator'))}) vượt "
        f"{_figure(i, 'denominator')} ({number_vi(v.get('denominator'))}), đạt {percent_vi(v.get('rate'))}"
    )


def _mismatch(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return (
        f"Tỷ lệ ghi {percent_vi(v.get('reported_rate'))} không khớp với {_figure(i, 'numerator')} "
        f"({number_vi(v.get('numerator'))}) ÷ {_figure(i, 'denominator')} ({number_vi(v.get('denominator'))}) "
        f"= {percent_vi(v.get('computed_rate'))}"
    )


def _false_full(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return (
        f"Ghi đạt 100% nhưng {_figure(i, 'numerator')} ({number_vi(v.get('numerator'))}) còn nhỏ hơn "
        f"{_figure(i, 'denominator')} ({number_vi(v.get('denominator'))}); tỷ lệ thực tế "
        f"{percent_vi(v.get('computed_rate'))}"
    )


def _month_change(verb: str) -> Phrase:
    def phrase(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
        parts: list[str] = []
        for figure in ("numerator", "denominator"):
            now, before = v.get(figure), v.get(f"previous_{figure}")
            if now is not None and before is not None and now != before:
                parts.append(
                    f"{_figure(i, figure, first=not parts)} ({number_vi(now)}) {verb} "
                    f"tháng {month_vi(str(v.get('previous_period') or ''))} ({number_vi(before)})"
                )
        return "; ".join(parts)

    return phrase


def _funnel(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    lower = _step(r, v.get("lower_step"))
    return (
        f"{lower[:1].upper()}{lower[1:]} ({number_vi(v.get('lower_value'))}) không được vượt quá "
        f"{_step(r, v.get('upper_step'))} ({number_vi(v.get('upper_value'))})"
    )


def _parts(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    said = [
        f"Tổng {_figure(i, figure)} của các dịch vụ ({number_vi(v[f'{figure}_parts'])}) không được vượt quá "
        f"dòng tổng ({number_vi(v[f'{figure}_total'])})"
        for figure in ("numerator", "denominator")
        if v.get(f"{figure}_parts") is not None and v.get(f"{figure}_total") is not None
    ]
    return "; ".join(said)


def _outlier(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return (
        f"Tỷ lệ {percent_vi(v.get('rate'))} ({number_vi(v.get('numerator'))}/{number_vi(v.get('denominator'))}) "
        f"nằm ngoài giới hạn kiểm soát của {number_vi(v.get('units'))} đơn vị cùng loại "
        f"(tỷ lệ chung {percent_vi(v.get('pooled_rate'))})"
    )


def _missing_row(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return f"Biểu mẫu thiếu dòng chỉ tiêu «{i.name_vi if i else ''}»"


def _missing_submission(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return f"Chưa nhận được báo cáo tháng; hạn nộp {value_vi(v.get('deadline'))}"


def _late(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    return f"Báo cáo nhận lúc {value_vi(v.get('received_at'))}, sau hạn {value_vi(v.get('deadline'))}"


def _reconciliation(r: Registry, i: Indicator | None, v: Mapping[str, Any]) -> str:
    said = [
        f"{_figure(i, figure, first=True)} báo cáo ({number_vi(v[f'reported_{figure}'])}) lệch với dữ liệu "
        f"hệ thống nguồn ({number_vi(v[f'extract_{figure}'])}) quá {percent_vi(v.get('tolerance_pct'))}"
        for figure in ("numerator", "denominator")
        if v.get(f"reported_{figure}") is not None and v.get(f"extract_{figure}") is not None
    ]
    return "; ".join(said)


PHRASES: dict[str, Phrase] = {
    "numerator_exceeds_denominator": _exceeds,
    "over_target": _over_target,
    "rate_mismatch": _mismatch,
    "false_full_rate": _false_full,
    "stock_decrease": _month_change("giảm so với"),
    "count_jump": _month_change("thay đổi đột biến so với"),
    "funnel_break": _funnel,
    "parts_exceed_total": _parts,
    "rate_outlier": _outlier,
    "missing_row": _missing_row,
    "missing_submission": _missing_submission,
    "late_submission": _late,
    "reconciliation_gap": _reconciliation,
}
"""One sentence pattern per check code of the catalogue (``checks.yml``); a code without one
reads as the check's title and its values."""


def finding_sentence(registry: Registry, check_code: str, indicator_code: str | None, values: Mapping[str, Any]) -> str:
    """The rule a finding breaks, in Vietnamese, with its figures:
    ``Số hồ sơ tiếp nhận trực tuyến trong tháng (5.111) không được vượt quá tổng số hồ sơ … (6.194)``."""
    indicator = registry.indicators.get(indicator_code or "")
    phrase = PHRASES.get(check_code)
    try:
        text = phrase(registry, indicator, values) if phrase else ""
    except (KeyError, TypeError, ValueError):  # values of an older shape: fall back to the title
        text = ""
    if text and "()" not in text:  # every figure the pattern names was there
        return text
    check = registry.checks.get(check_code)
    title = check.title_vi if check else check_code
    shown = "; ".join(f"{k} {value_vi(x)}" for k, x in values.items())
    return f"{title}: {shown}" if shown else title
