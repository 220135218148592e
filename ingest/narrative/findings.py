"""Consistency checks on the statements of one report, worded for the officials who wrote it.

Codes (English, stable) and what they mean:

``rate_mismatch``
    the stated rate differs from numerator / denominator by more than 0.05 percentage points
    (``1363 hồ sơ trực tuyến/1365 hồ sơ tiếp nhận, tỷ lệ 100%``: 99,85 %).
``full_rate_but_incomplete``
    the report says 100 % while the numerator is below the denominator.
``part_exceeds_total``
    a part (or the numerator of a ratio against a total) is larger than its total.  Not
    raised against a target (``chỉ tiêu``), which may be exceeded.
``rate_above_100``
    a rate of a part of a total, stated without its counts, above 100 %.
``ratio_total_mismatch``
    a ratio written under a stated whole uses another denominator (``Tổng số tiếp nhận: 1365
    hồ sơ; trong đó: 1363/1360 hồ sơ``).
``parts_sum_mismatch``
    the parts of an exhaustive breakdown (``chi tiết``, ``gồm``, ``bao gồm``, ``cụ thể``) do
    not add up to the whole (``tổng số TTHC 222: cấp tỉnh 157, cấp xã 65`` adds up).
``remainder_mismatch``
    a remainder (``còn phải thực hiện``, ``chưa``) plus no stated done part gives the whole
    (``11015`` = ``3968`` cleaned + ``7047`` remaining adds up).

>>> from ingest.narrative.extract import extract_statements
>>> found = consistency_findings(extract_statements(["Khai tử: 1363 hồ sơ trực tuyến/1365 hồ sơ, tỷ lệ 100%."]))
>>> [f.code for f in found]
['rate_mismatch', 'full_rate_but_incomplete']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ingest.narrative.extract import Statement

__all__ = ["RATE_TOLERANCE_PP", "Finding", "consistency_findings", "format_count", "format_rate"]

RATE_TOLERANCE_PP = Decimal("0.05")


@dataclass(frozen=True)
class Finding:
    """One inconsistency: an English code, the line, and messages for officials and for logs."""

    code: str
    line_no: int
    message_vi: str
    message_en: str
    snippet: str


def format_count(n: int) -> str:
    """``1365`` -> ``1.365`` (the way officials write counts)."""
    return f"{n:,}".replace(",", ".")


def format_rate(r: Decimal) -> str:
    """``Decimal('99.853')`` -> ``99,85%``; whole rates lose their decimals (``100%``)."""
    q = r.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{q:f}".rstrip("0").rstrip(".") if "." in f"{q:f}" else f"{q:f}"
    return text.replace(".", ",") + "%"


def _exact(st: Statement) -> Decimal | None:
    if st.numerator is None or not st.denominator:
        return None
    return Decimal(st.numerator) * 100 / Decimal(st.denominator)


def _unit(st: Statement) -> str:
    return f" {st.count_unit}" if st.count_unit else ""


def _statement_findings(st: Statement) -> list[Finding]:
    out: list[Finding] = []
    exact = _exact(st)
    num, den, unit = st.numerator, st.denominator, _unit(st)
    if exact is not None and st.reported_rate_pct is not None and num is not None and den is not None:
        if abs(exact - st.reported_rate_pct) > RATE_TOLERANCE_PP:
            out.append(
                Finding(
                    "rate_mismatch",
                    st.line_no,
                    f"Tỷ lệ báo cáo {format_rate(st.reported_rate_pct)} không khớp với số liệu "
                    f"{format_count(num)}/{format_count(den)}{unit}: tỷ lệ đúng là {format_rate(exact)}.",
                    f"Stated rate {st.reported_rate_pct}% does not match {num}/{den} = {exact:.2f}%.",
                    st.snippet,
                )
            )
        if st.reported_rate_pct == 100 and num < den:
            out.append(
                Finding(
                    "full_rate_but_incomplete",
                    st.line_no,
                    f"Báo cáo tỷ lệ 100% nhưng số liệu là {format_count(num)}/{format_count(den)}{unit} "
                    f"(thiếu {format_count(den - num)}{unit} so với tổng số).",
                    f"Reported as 100% but only {num} of {den}.",
                    st.snippet,
                )
            )
    if num is not None and den is not None and st.denominator_kind == "total" and num > den:
        out.append(
            Finding(
                "part_exceeds_total",
                st.line_no,
                f"Số liệu thành phần {format_count(num)}{unit} lớn hơn tổng số {format_count(den)}{unit}.",
                f"Part {num} exceeds its total {den}.",
                st.snippet,
            )
        )
    if (
        exact is None
        and st.reported_rate_pct is not None
        and st.reported_rate_pct > 100
        and st.denominator_kind == "total"
    ):
        out.append(
            Finding(
                "rate_above_100",
                st.line_no,
                f"Tỷ lệ {format_rate(st.reported_rate_pct)} vượt 100% đối với một phần của tổng số.",
                f"Rate {st.reported_rate_pct}% of a part of a total exceeds 100%.",
                st.snippet,
            )
        )
    if st.relation == "ratio" and st.group_total is not None and den is not None and den != st.group_total:
        out.append(
            Finding(
                "ratio_total_mismatch",
                st.line_no,
                f"Mẫu số {format_count(den)}{unit} khác với tổng số đã báo cáo {format_count(st.group_total)}{unit}.",
                f"Denominator {den} differs from the stated total {st.group_total}.",
                st.snippet,
            )
        )
    return out


def _group_findings(members: list[Statement]) -> list[Finding]:
    out: list[Finding] = []
    total = members[0].group_total
    if total is None:
        return out
    first = members[0]
    unit = _unit(first)
    breakdown = [m for m in members if m.relation == "breakdown" and m.numerator is not None]
    if len(breakdown) >= 2:
        parts = [m.numerator for m in breakdown if m.numerator is not None]
        if sum(parts) != total:
            shown = " + ".join(format_count(p) for p in parts)
            out.append(
                Finding(
                    "parts_sum_mismatch",
                    breakdown[-1].line_no,
                    f"Tổng các số liệu chi tiết ({shown} = {format_count(sum(parts))}{unit}) không bằng "
                    f"tổng số đã báo cáo ({format_count(total)}{unit}).",
                    f"Parts add up to {sum(parts)}, not to the stated total {total}.",
                    breakdown[-1].snippet,
                )
            )
    remainders = [m for m in members if m.relation == "remainder" and m.numerator is not None]
    done = [m for m in members if m.relation in ("part", "breakdown", "ratio") and m.numerator is not None]
    for rem in remainders:
        assert rem.numerator is not None
        if done and not any(d.numerator is not None and d.numerator + rem.numerator == total for d in done):
            candidates = ", ".join(format_count(d.numerator) for d in done if d.numerator is not None)
            out.append(
                Finding(
                    "remainder_mismatch",
                    rem.line_no,
                    f"Số còn lại {format_count(rem.numerator)}{unit} cộng với số đã thực hiện "
                    f"({candidates}) không bằng tổng số {format_count(total)}{unit}.",
                    f"Remainder {rem.numerator} plus no stated done part ({candidates}) equals the total {total}.",
                    rem.snippet,
                )
            )
    return out


def consistency_findings(statements: Iterable[Statement]) -> list[Finding]:
    """Check the statements of one report against themselves; return findings in line order.

    >>> consistency_findings([])
    []
    """
    items = list(statements)
    out: list[Finding] = []
    groups: dict[str, list[Statement]] = defaultdict(list)
    for st in items:
        out.extend(_statement_findings(st))
        if st.group_id is not None:
            groups[st.group_id].append(st)
    for members in groups.values():
        out.extend(_group_findings(members))
    out.sort(key=lambda f: f.line_no)
    return out
