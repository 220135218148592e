"""Find the statements of a narrative report that give a part of a whole, a count against a
total or a target, or a rate.

Text first goes through :mod:`ingest.narrative.paragraphs` (hard wraps, footnotes and
markdown undone).  Numbers are read the Vietnamese way (``1.584.959``, ``97,11%``) and also
plain (``2076``), zero-padded (``00/223``), glued to words (``1.584.959tài khoản``) or followed
by footnote marks (``100%¹``); a digit glued to the end of a word (``thiết yếu3``) is a
footnote mark, not a number.

A **statement** is one of:

``ratio``
    two counts written as a ratio: ``1363 hồ sơ trực tuyến/1365 hồ sơ tiếp nhận``,
    ``00/223``, ``950 tài khoản trên tổng số 1.000``, ``1.584.959tài khoản/1.030.000 tài khoản
    chỉ tiêu``, ``1.200 tài khoản so với chỉ tiêu 1.000``.  A slash is a ratio only when a count
    names a unit (``hồ sơ``, ``dữ liệu`` ... see :mod:`ingest.narrative.vocabulary`), carries a
    stated rate, follows ``đạt`` / ``tỷ lệ``, or is written with thousands separators; dates
    (``23/8/2025``, ``tháng 02/2026``, ``8/2025``), document numbers (``06/QĐ-TTg``,
    ``752/CAT-QLHC``, ``Đề án 06/CP``), ``220/380V``, ``24/24 giờ`` and map scales (``tỷ lệ
    1/500``) never are.
``part`` / ``breakdown`` / ``remainder``
    a whole stated in one clause and a part of it in another: ``Tổng số tiếp nhận: 2076 hồ
    sơ; trong đó: ...``, ``Tổng số dữ liệu cần số hóa, làm sạch: 11015; đã làm sạch ...:
    3968``, ``tổng số TTHC 222 hồ sơ: chi tiết ... cấp tỉnh là 157 hồ sơ, cấp xã là 65 hồ
    sơ``.  A whole is a count labelled ``tổng số`` / ``tổng cộng`` / ``chỉ tiêu`` / ``kế hoạch``,
    or followed by ``trong đó`` / ``gồm`` / ``chi tiết`` / ``cụ thể``, or by a bracket holding a
    count of its unit (``tiếp nhận 1.234 hồ sơ (trực tuyến: 1.100 hồ sơ)``).  Its parts are the
    later counts of the same paragraph, up to the next whole, in the same unit (or unit-less and
    written ``label: N``, or with a short label right under ``trong đó``).  After a full stop a
    part must open its sentence with ``Số ...`` or ``Trong đó``; a sibling such as ``Dừng xử
    lý/hủy: 03 hồ sơ`` is not a part.  A whole that ends its paragraph with ``trong đó:`` /
    ``gồm:`` also takes its parts from the bullet lines below it (``+ Trực tuyến: 1.100 hồ sơ``).
    A part labelled ``còn``, ``còn lại``, ``chưa`` is a ``remainder``; the parts of a whole
    opened by ``chi tiết`` / ``gồm`` / ``bao gồm`` / ``cụ thể`` are a ``breakdown`` and should add
    up to it.  A ratio inside a whole's clauses (``trong đó: 2076 hồ sơ trực tuyến/2076 hồ sơ
    tiếp nhận``) is that part, not a second statement.
``count_rate``
    a count followed by its own stated rate with no whole: ``trực tuyến 1.100 hồ sơ, đạt 88%``.
    When an earlier figure of the paragraph in the same unit gives that rate (within 0,6
    points) it is the denominator: ``Đã cấp 1.584.959 tài khoản; đã kích hoạt 1.203.442 tài
    khoản, đạt 75,93%``, and a table row ``Khai sinh | 120 | 118 | 98,3%``.  A whole written
    after the rate that gives it is the denominator too: ``đạt tỉ lệ 98,4% (tổng số 130.099 học
    sinh)``, ``đạt 103,2% chỉ tiêu được giao (1.014.100 tài khoản)``.  A count inside a ``Tỷ lệ
    ...`` measure (``Tỷ lệ hộ có ít nhất 01 thành viên ... đạt 62,5%``) carries no rate.
``rate``
    a percentage tied to a measure and attached to no count: ``nộp hồ sơ trực tuyến đạt tỷ lệ
    47,41%`` (measure before it), ``80% thủ tục hành chính áp dụng dịch vụ công trực tuyến toàn
    trình`` (measure after it).  Not statements: changes (``tăng 5%``, ``giảm 3% so với cùng
    kỳ``), money (``miễn 100% lệ phí``), and percentages naming no measure at all.

Counts that are never figures: years without a unit (``giai đoạn 2024 - 2025``), numbers after
``ngày / tháng / năm / quý / mức / lần / thứ / khoản / Điều / Mô hình`` or before ``tuổi / giờ /
ngày / tháng / năm / đồng / triệu / tỷ``, list markers (``(1)``, ``3.1.``), document numbers.
After ``ngày / tháng / năm`` a number followed by a count unit that cannot be a date is a
count (``lũy kế từ đầu năm 402/431 hồ sơ``), and ``tài khoản 612 người`` is no clause number.
``Trong 12 nhiệm vụ được giao, ...`` names a whole; a running total in brackets (``(lũy kế từ
đầu năm 58.903 hồ sơ)``) is not its part.

**Rules of issue 13** (each a named pass or helper below, each tested in
``tests/narrative/test_issue13_rules.py``):

* *the stated rate identifies the denominator*: of the candidate wholes (the part's whole, the
  earlier counts of the paragraph, then those of the earlier items of the section), the one whose
  quotient rounds to the rate as written wins (``còn lại 132.683 dữ liệu (chiếm tỷ lệ 8,07%)`` is
  of the 1.644.989 to digitise, not of the 1.597.452 scanned); a remainder with no whole of its
  own completes the ratio before it in its sentence (``142/145 cơ sở ...; còn 03 cơ sở``);
* *increments are no parts*: a count after ``tăng`` / ``giảm`` is dropped, and a bracketed change
  does not hide the ``trong đó`` after it;
* *thresholds and reductions are no results*: ``đạt dưới 30%``, ``cắt giảm 40% thời gian``;
* *a denominator stated once serves several rates* of its sentence when it gives each as written;
* *footnotes continue the statement their mark points to*: a footnote opening with ``Trong đó``,
  ``Còn`` ... takes as its whole the count the mark follows (for a ratio, its denominator);
* *news prose*: amounts with a multiplier (``hơn 1,85 triệu``), rates in a list of names after a
  ``tỷ lệ <X>`` (``Sở Tư pháp (98,6%), ...``), a base after the rate (``72,16% trên tổng số
  125.000 hồ sơ``) or the whole whose ``trong đó`` clause holds it, a rate later in the sentence
  naming the count's own measure (``..., qua đó nâng tỷ lệ xác thực lên 98,9%``), the predicate
  after a figure that opens its clause, and counting units such as ``địa phương``, ``sở, ngành``;
* *directions and proposals are targets*: sections headed ``PHƯƠNG HƯỚNG``, ``NHIỆM VỤ ... TỚI``,
  ``ĐỀ XUẤT, KIẾN NGHỊ`` (in capitals or as a numbered title), and sentences assigning work
  (``chủ trì, phối hợp``, ``thời gian tới``);
* *scope*: ``so với tháng trước`` marks the month; in a report of several months (``6 tháng đầu
  năm``) a flow is the period's sum; a footnote has the scope of its statement;
* *mapping*: a heading alone does not choose among several parts of one whole;
* *respectively-lists*: in ``đã cấp X tài khoản và kích hoạt Y tài khoản, lần lượt đạt A% và
  B% so với chỉ tiêu năm 2026 (N tài khoản)`` the k-th count carries the k-th rate, and the whole
  after the last rate is the denominator of each count it gives the rate of; a bare number
  listed with a count takes its unit (``là 880 và 760 hồ sơ``), parts of a whole stay its parts,
  and ratios pair the same way (``12/15 xã và 10/12 thị trấn lần lượt đạt 80% và 83,33%``);
* *a number's own unit word closes it*: ``trẻ em dưới 14 tuổi 21.930 hồ sơ`` - after ``14 tuổi``
  the 21.930 is a count (so a ``trong đó`` part after ``đạt 105% kế hoạch (40.000 hồ sơ)`` is
  of the count whose quotient gives its rate);
* *cases of people*: a remainder in ``trường hợp`` completes a ratio counted in ``người`` (or a
  unit of people) when the arithmetic confirms it (whole - part = remainder, or remainder over
  whole gives its stated rate); ``lượt`` never does;
* *footnote marks*: a mark glued to a unit (``96.428 hồ sơ¹, trong đó ...``) ends the unit;
* *a bracketed base*: ``chiếm x% số <population> (N ...)`` - N is the denominator when the count
  over it gives the rate as written;
* *places*: a list of names may be places (``thôn``, ``ấp``, ``tổ dân phố``, ``khu phố`` ... see
  ``PLACE_WORDS``), a place below the commune may be named by a number (``tổ dân phố 3``: no
  count), and the ``tỷ lệ`` measure of the list may qualify its population with a number
  (``người từ 14 tuổi trở lên``) and ends at ``theo thôn:`` / ``của các ấp:``.

**Stated rates** attach to the ratio or count they follow when only connecting words (``, đạt``,
``, tỷ lệ``, ``chiếm``, ``=``, ``(``) or words of the statement's own clause stand between
(``95/100 hồ sơ được kiểm tra đạt yêu cầu, tỷ lệ 96%``), or to the ratio that follows them in
brackets (``đạt tỷ lệ 98,5% (1.970/2.000 hồ sơ)``).  ``tiếp nhận 120 hồ sơ, tỷ lệ hồ sơ trực
tuyến đạt 95%`` names another measure: the rate is no rate of the 120, which is its base
(a bare rate with denominator 120).

**denominator_kind**: ``target`` when the denominator (or the words right after the stated
rate, or after a bare rate) is named ``chỉ tiêu``, ``kế hoạch``, ``mục tiêu``; for a bare rate
also when it is a goal - its sentence has a goal word before it (``phấn đấu``, ``đảm bảo``,
``tối thiểu``, ``duy trì``, ``đến hết năm`` ...) with no result word after it (``đã đạt``,
``đạt được``), or it stands in a plan (a ``KẾ HOẠCH`` document, a ``PHƯƠNG HƯỚNG, NHIỆM VỤ``
section) and its sentence has no result word.  Plan targets such as seed 003's ``Phấn đấu ...
80% thủ tục hành chính ...`` are therefore bare rates of kind ``target``, with null numerator
and denominator.  ``total`` for a bare rate followed by ``(trên) tổng số``.  ``other`` when
numerator and denominator are counted in different units (``sổ`` against ``dân số``) and for a
bare rate reported as a result (its denominator is not stated).  ``total`` otherwise.

**scope**: ``month`` when the statement, its sentence or its heading says ``trong tháng``,
``trong kỳ``, ``kỳ báo cáo`` or ``trong tháng M`` of the reported month (``hoàn thành trong
tháng 12/2025`` of another month is a deadline); ``cumulative`` when it says ``lũy kế``,
``tính đến``, ``đến ngày``, ``từ đầu năm``, ``đến nay``, ``đến hết``; otherwise the mapped
indicator decides (flow -> ``month``, stock -> ``cumulative``), then the other statements of
the same whole; else ``unknown``.

**line_no** is the line of the numerator (for a bare rate, of the percentage).

>>> lines = ["3.2. Đăng ký khai tử: Tổng số tiếp nhận: 1365 hồ sơ; trong đó:",
...          "1363 hồ sơ trực tuyến/1365 hồ sơ tiếp nhận, tỷ lệ 100%."]
>>> [(s.numerator, s.denominator, s.reported_rate_pct, s.service_code) for s in extract_statements(lines)]
[(1363, 1365, Decimal('100'), 'DV13')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any, Literal

from ingest.narrative.header import ReportHeader, detect_document_kind, read_header
from ingest.narrative.mapping import map_statement, match_service
from ingest.narrative.paragraphs import Paragraph, build_paragraphs, clean_line, is_heading, is_list_item
from ingest.narrative.readers import NarrativeError
from ingest.narrative.vocabulary import (
    GOAL_CUES,
    HAMLET_WORDS,
    MULTIPLIERS,
    PLACE_WORDS,
    TARGET_WORDS,
    UNIT_FAMILY,
    find_unit,
    first_unit_in,
    match_key,
    may_count_same_people,
    tokens,
)
from ingest.numbers import NumberFormatError, parse_count, parse_rate
from ingest.registry import NO_SERVICE, Registry, load_registry

__all__ = ["NarrativeError", "Statement", "extract_statements"]

DenominatorKind = Literal["total", "target", "other"]
Scope = Literal["month", "cumulative", "unknown"]
Relation = Literal["ratio", "part", "breakdown", "remainder", "count_rate", "rate"]

JSON_KEYS = (
    "line_no",
    "numerator",
    "denominator",
    "reported_rate_pct",
    "computed_rate_pct",
    "denominator_kind",
    "scope",
    "subject",
    "count_unit",
    "indicator_code",
    "service_code",
    "snippet",
)


@dataclass(frozen=True)
class Statement:
    """One figure of a narrative report: a part of a whole, a count against a target, or a rate."""

    line_no: int
    numerator: int | None
    denominator: int | None
    reported_rate_pct: Decimal | None
    computed_rate_pct: Decimal | None
    denominator_kind: DenominatorKind
    scope: Scope
    subject: str
    count_unit: str | None
    indicator_code: str | None
    service_code: str | None
    snippet: str
    confidence: float = 0.0
    """Confidence of the indicator mapping, 0-1 (see :mod:`ingest.narrative.mapping`)."""
    relation: Relation = "ratio"
    group_id: str | None = None
    """Statements that share a stated whole share this id (``L46:0``)."""
    group_total: int | None = None
    """The stated whole the statement sits under, when there is one."""
    denominator_label: str | None = None
    mapped_by_heading: bool = False
    """The indicator came from the section heading alone (see :mod:`ingest.narrative.mapping`)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``d06 extract-narrative --json`` (the required keys, then extras)."""
        out: dict[str, Any] = {}
        for key in JSON_KEYS:
            value = getattr(self, key)
            out[key] = float(value) if isinstance(value, Decimal) else value
        out["confidence"] = self.confidence
        out["relation"] = self.relation
        out["group_id"] = self.group_id
        out["group_total"] = self.group_total
        out["denominator_label"] = self.denominator_label
        return out


# --------------------------------------------------------------------------- patterns


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Vietnamese capitals ("[A-Z]" misses "Đ", "Ư", "Ố"...; "À-Ỹ" would also take lower case).
_UPPER = "".join(c for c in map(chr, range(0x41, 0x1EFA)) if c.isalpha() and c.isupper())

_NUM = r"\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,3}(?:,\d{3}){2,}(?!\d)|\d+"
_WORDS = r"(?:[ ]?[^\W\d_]+)"
_PCT = re.compile(r"(?<![\d.,])(?P<v>\d+(?:[.,]\d+)?)[ ]?%")
_COUNT = re.compile(rf"(?<![\w.,/\-–])(?P<v>{_NUM})(?![\d/])(?![.,]\d)(?![-–][^\W_])(?!\s?[-–]\s?\d+(?:[.,]\d+)?\s?%)")
_RATIO_SLASH = re.compile(
    rf"(?<![\w.,/\-–])(?P<a>{_NUM})(?!\d)(?![.,]\d)(?P<aw>{_WORDS}{{0,10}}?)[ ]?/[ ]?(?P<b>{_NUM})(?!\d)(?![.,]\d)"
)
_RATIO_WORDS = re.compile(
    rf"(?<![\w.,/\-–])(?P<a>{_NUM})(?![\d/])(?![.,]\d)(?P<aw>{_WORDS}{{0,8}}?)[ ,]*\(?[ ]*"
    r"(?P<conn>trên tổng số|trong tổng số|trên tổng|/ ?tổng số|so với chỉ tiêu|so với kế hoạch"
    r"|/ ?chỉ tiêu|/ ?kế hoạch|trên|chỉ tiêu|kế hoạch)"
    rf"(?P<bw>{_WORDS}{{0,4}}?)[ ]*:?[ ]*(?P<b>{_NUM})(?![\d/])(?![.,]\d)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(rf"[.!?…](?:[\"'”’)\]]|[⁰¹²³⁴⁵⁶⁷⁸⁹])*\s+(?=[{_UPPER}(\-–•+])")
_CLAUSE_END = re.compile(r"[;]\s*")
_RATE_WORD = r"(?:t[ỷỉýiy]\s?l[ệêeểẹ])"
_QUALIFIED_NUMBER = re.compile(
    r"(?<!\w)(?:mức|cấp độ|loại|hạng|nhóm|lớp)\s+\d+(?!\d)|(?<![\d.,])\d+\s*(?:tuổi|giờ|ngày|tháng)(?!\w)",
    re.IGNORECASE,
)
_GAP_WORDS = _wordset(
    "đạt tỷ tỉ tý ty lệ le lê lể là bằng chiếm tương ứng đương khoảng gần hơn trên xấp xỉ so với kế hoạch "
    "chỉ tiêu tổng số và hoàn thành được có trong đó đề ra giao"
)
_EXCLUDE_PREV = _wordset(
    "ngày tháng năm quý quí khoản điều mức lần thứ lớp chương mục lục đoạn đợt kỳ khóa khoá hình hạng tuổi "
    "trang tầng tổ đội"
)
_EXCLUDE_NEXT = re.compile(
    r"^\s?(?:tuổi|giờ|phút|ngày|tháng|năm|đồng|triệu|tỷ|tỉ|nghìn|ngàn|km|m|ha|kg|tấn|lần|giây|người/|°)"
    r"(?![^\W_⁰¹²³⁴⁵⁶⁷⁸⁹])",  # a footnote mark may follow: "dưới 14 tuổi¹"
    re.IGNORECASE,
)
# A clause opened by "Tỷ lệ ..." names a measure; a count inside it ("có ít nhất 01 thành viên")
# qualifies the measure and does not carry the rate.
_RATE_SUBJECT = re.compile(rf"^[\s\-–+•*]*{_RATE_WORD}(?!\w)[^:\d]*$", re.IGNORECASE)
_TIME_PREV = _wordset("ngày tháng năm quý quí số lúc khoản điều")
_WHOLE_WORD = re.compile(r"(?<!\w)(?:tổng số|tổng cộng|tổng)(?!\w)")
_TARGET_LABEL = re.compile(r"^(?:chỉ tiêu|kế hoạch|mục tiêu)(?!\w)")
_REMAINDER = re.compile(r"(?<!\w)(?:còn lại|còn phải|còn tồn|còn|chưa|tồn đọng)(?!\w)")
_OPENER = re.compile(
    r"^\s*[,;:.]?\s*\(?\s*(?P<w>trong đó|trong số (?:đó|này)|gồm|bao gồm|chi tiết|cụ thể|chia ra)(?!\w)", re.IGNORECASE
)
# The rest of the noun phrase may come first: "1.198.456 người tham gia BHXH, BHYT, trong đó ...".
_LATE_OPENER = re.compile(
    r"^(?:[^\d;.:()]|\d+\s?tuổi){0,80}?[,;:]\s*\(?\s*"  # "... cho trẻ em dưới 14 tuổi, trong đó"
    r"(?P<w>trong đó|trong số (?:đó|này)|gồm|bao gồm|chi tiết|cụ thể|chia ra)(?!\w)",
    re.IGNORECASE,
)
_EXHAUSTIVE = frozenset({"gồm", "bao gồm", "chi tiết", "cụ thể", "chia ra"})
_BREAKDOWN_HEAD = r"^\W*(?:trong đó|trong số (?:đó|này)|cụ thể|chi tiết|bao gồm|gồm)(?!\w)"
_OPENERS_TO_LIST = frozenset({"trong đó", "trong số đó", "gồm", "bao gồm", "chi tiết", "cụ thể", "chia ra"})
_CHANGE_BEFORE = re.compile(r"(?<!cắt )(?<!cắt)(?:tăng|giảm)(?:\s+(?:thêm|lên|xuống|còn|khoảng|gần|hơn|trên))?\s*$")
# "miễn 100% lệ phí", "lãi suất 5%": money, not a share of a count.
_MONEY_AFTER = re.compile(
    r"^[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:lệ phí|phí|giá|chi phí|kinh phí|mức thu|thuế suất|lãi suất|vốn|ngân sách)(?!\w)",
    re.IGNORECASE,
)
# A threshold ("có tỷ lệ ... đạt dưới 30%") bounds a group of units; a reduction ("cắt giảm 40% thời
# gian", "rút ngắn 50% thời gian") changes a duration or a cost.  Neither is a share of a count.
_THRESHOLD_BEFORE = re.compile(
    r"(?<!\w)(?:dưới|không quá|tối đa|thấp hơn|chưa đến|chưa tới|chưa đạt)\s*$", re.IGNORECASE
)
_REDUCTION_BEFORE = re.compile(
    r"(?<!\w)(?:cắt giảm|rút ngắn|tiết kiệm|giảm thiểu|giảm)(?:\s+(?:được|khoảng|gần|hơn|trên|tới|đến))?\s*$",
    re.IGNORECASE,
)
# "vượt 8,4% kế hoạch": the plan exceeded by a share (a result is "đạt 108,4% kế hoạch"; "hoàn
# thành vượt 105% kế hoạch" still states the result, so only a share below 100 is a change).
_EXCEED_BY = re.compile(r"(?<!\w)(?<!thành )(?<!và )vượt(?:\s+(?:mức|khoảng|gần|hơn|trên))?\s*$", re.IGNORECASE)
# "281 chợ có từ 50% số hộ kinh doanh trở lên chấp nhận ...": a lower bound in a count's measure.
# It qualifies a share of members ("từ 50% số hộ ... trở lên"); "nâng tỷ lệ ... lên từ 95% trở
# lên", "duy trì ... từ 98% trở lên" are a goal's level, not a bound.
_FROM_UP = re.compile(r"(?:(?<!\w)từ|^)\s*\d+(?:[.,]\d+)?\s?%(?=\s+số\s[^;%\d]{0,60}?trở lên)", re.IGNORECASE)
_DURATION_AFTER = re.compile(r"^[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:thời gian|thời hạn|chi phí|kinh phí)(?!\w)", re.IGNORECASE)
_CHANGE_AFTER = re.compile(r"^\s*so với\s+(?:cùng kỳ|tháng trước|năm trước|kỳ trước|cùng thời điểm|đầu năm)")
# "(tăng 118 hồ sơ so với tháng trước)": a month-on-month change makes its figure the month's.
_MONTH_MARKERS = re.compile(
    r"(?<!\w)(?:trong tháng(?!\s*\d)|tháng này|trong kỳ|kỳ báo cáo|tháng qua|phát sinh trong tháng|"
    r"so với tháng trước)(?!\w)"
)
_CUMULATIVE_MARKERS = re.compile(
    r"(?<!\w)(?:lũy kế|luỹ kế|tính đến|tính từ|từ đầu năm|đến nay|đến thời điểm|từ khi triển khai|đến hết|đến ngày|"
    r"từ trước đến nay)(?!\w)"
)
_ACHIEVED = re.compile(r"(?<!\w)(?:đã đạt|đạt được|hiện đạt|hiện nay đã|đến nay đã|lũy kế|luỹ kế|kết quả đạt)(?!\w)")
_GOAL_HEADING = re.compile(
    r"PHƯƠNG HƯỚNG|NHIỆM VỤ.*(?:TỚI|TIẾP THEO|TRỌNG TÂM|THÁNG \d)|KẾ HOẠCH|GIẢI PHÁP|ĐỀ XUẤT|KIẾN NGHỊ"
)
_RESULT_HEADING = re.compile(r"KẾT QUẢ|TÌNH HÌNH")
_LABEL_STOP = _wordset("đạt tỷ tỉ tý ty chiếm bằng tương theo trong so là và với tại của do vì nhưng nên để khi nhằm")
_LEAD_VERBS = re.compile(
    r"^(?:(?:tiếp tục|duy trì|thực hiện|triển khai|đẩy mạnh|qua đó|trong đó|trong số (?:đó|này)|đồng thời|"
    r"sau đó|hiện nay|đến nay|đã|được|chi tiết|cụ thể|bao gồm|gồm|và|với)(?!\w)\s*)+",
    re.IGNORECASE,
)
# "Sở Tư pháp đã ...", "UBND xã Mỹ Hòa ...": the reporting unit is not what is measured.
_AGENT = re.compile(
    r"^(?:Sở|Công an|UBND|Ủy ban nhân dân|Uỷ ban nhân dân|Phòng|Trung tâm|Bảo hiểm xã hội|Cục|Chi cục|Văn phòng)"
    rf"(?:\s+(?:tỉnh|thành phố|xã|phường|huyện|và|[{_UPPER}]\w*))+\s+"
)


# --------------------------------------------------------------------------- helpers


@dataclass
class _Pct:
    start: int
    end: int
    value: Decimal
    used: bool = False


@dataclass
class _Mention:
    start: int
    end: int  # end of number
    value: int
    unit: str | None
    unit_end: int
    label_before: str
    label_start: int
    label_after: str
    label_end: int
    colon_form: bool
    is_whole: bool = False
    opener: str | None = None
    is_remainder: bool = False
    whole_unit: str | None = None
    scope_end: int = 0
    line_no: int = 0
    inherited: bool = False
    """A whole of an earlier paragraph ("..., trong đó:") whose parts are in bullet lines."""


@dataclass
class _Ratio:
    start: int
    end: int
    a: int
    b: int
    a_start: int
    a_unit: str | None
    b_unit: str | None
    a_label: str
    b_label: str
    kind: DenominatorKind
    rate: _Pct | None = None
    group: _Mention | None = None
    b_clause: str = ""


@dataclass
class _Raw:
    """A statement before mapping."""

    anchor: int
    numerator: int | None
    denominator: int | None
    rate: Decimal | None
    kind: DenominatorKind
    relation: Relation
    label: str
    unit: str | None
    snippet_start: int
    snippet_end: int
    group: _Mention | None = None
    denominator_label: str | None = None
    goal: bool = False
    window: tuple[int, int] | None = None
    """For a bare rate: the stretch of text that belongs to it alone (for mapping)."""
    subject: str | None = None
    """What to show, when it differs from the label used for mapping."""
    mapping_sentence: str | None = None
    """The statement's own clause, without the label of the whole it belongs to."""
    trailing: bool = False
    """The denominator was written after the rate (``đạt 96,02% so với chỉ tiêu (250.000 ...)``)."""


def _count(text: str) -> int | None:
    try:
        return parse_count(text.replace(",", "."))
    except NumberFormatError:
        return None


def _rate(text: str) -> Decimal | None:
    try:
        return parse_rate(text)
    except NumberFormatError:
        return None


def _prev_words(text: str, pos: int, n: int = 2) -> list[str]:
    """The words right before ``pos`` separated from it by spaces only (``tháng 3``, ``năm 2025``);
    a colon or comma in between (``trong tháng: 1.245``) cuts them off."""
    m = re.search(rf"((?:[^\W\d_]+[ ]+){{1,{n}}})$", text[max(0, pos - 60) : pos])
    return [w.lower() for w in m.group(1).split()] if m else []


def _words_after(text: str, pos: int, limit: int = 6) -> tuple[str, int]:
    """Letters-only words right after ``pos`` (a label such as ``hồ sơ tiếp nhận``), and their end."""
    end = pos
    words: list[str] = []
    for m in re.finditer(r"\s*([^\W\d_]+)", text[pos:]):
        if m.start() != end - pos or len(words) >= limit:
            break
        w = m.group(1)
        if w.lower() in _LABEL_STOP:
            break
        words.append(w)
        end = pos + m.end()
    return " ".join(words), end


def _clause_start(text: str, pos: int) -> int:
    """Start of the clause holding ``pos``: after the last ``;`` or sentence end before it."""
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    for m in _CLAUSE_END.finditer(text, start, pos):
        start = m.end()
    return start


def _sentence_start(text: str, pos: int) -> int:
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    return start


def _sentence_end(text: str, pos: int) -> int:
    m = _SENTENCE_END.search(text, pos)
    return m.start() + 1 if m else len(text)


def _label_before(text: str, pos: int) -> tuple[str, bool, int]:
    """The label written before a number, whether it ends in ``:``/``là``, and where it starts.

    ``Tổng số tiếp nhận: 2076`` -> ``("Tổng số tiếp nhận", True, 0)``.  The label stops at
    ``; : ( )``, at the sentence start and after the previous number (and its unit).
    """
    s = text[:pos].rstrip()
    colon = False
    m = re.search(r"(?:[:=]|(?<!\w)là|(?<!\w)có|(?<!\w)gồm)\s*$", s)
    if m:
        colon = True
        s = s[: m.start()].rstrip()
    start = max(max(s.rfind(ch) for ch in ";:()") + 1, _sentence_start(text, len(s)))
    for num in reversed(list(re.finditer(r"\d[\d.,]*\s?%?", s[start:]))):
        after = start + num.end()
        unit = find_unit(s[after:])
        if unit or num.group(0).rstrip().endswith("%"):
            start = after + (unit[1] if unit else 0)
            # "1.250 hồ sơ dịch vụ công ..., trong đó trực tuyến 1.100": the label is after the comma.
            comma = s.rfind(",", start)
            start = comma + 1 if comma >= 0 else start
            break
    while start < len(s) and s[start] in " ,-–⁰¹²³⁴⁵⁶⁷⁸⁹":
        start += 1
    label = s[start:]
    marker = re.match(r"(?:\d+(?:\.\d+)*[.)]\s*|[-–+•]\s*|\(\d+\)\s*|[a-zđ]\)\s*)", label)
    if marker:
        start += marker.end()
        label = label[marker.end() :]
    return label.strip(), colon, start


def _gap_ok(gap: str, own_words: set[str]) -> bool:
    gap = _QUALIFIED_NUMBER.sub(" ", gap)  # "tài khoản định danh điện tử mức 2, đạt ..."
    gap = _FROM_UP.sub(" ", gap)  # "... có từ 50% số hộ kinh doanh trở lên ..., chiếm ..."
    gap = _CHANGE_ASIDE.sub(" ", gap)  # "3.126.580 người (tăng 41.270 người so với tháng trước), đạt ..."
    gap = re.sub(r"\([^()\d%;]*\)", " ", gap)  # "... người (cán bộ, giáo viên, học sinh), đạt ..."
    if re.search(r"[\d.;]", gap):
        return False
    words = re.findall(r"[^\W\d_]+", gap.lower())
    return all(w in _GAP_WORDS or w in own_words for w in words) and len(gap) <= 120


def _attach_after(text: str, pos: int, pcts: list[_Pct], own: str) -> _Pct | None:
    own_words = {w.lower() for w in re.findall(r"[^\W\d_]+", own)}
    # The label may stop at the word of a qualified number: "tài khoản định danh điện tử mức| 2, đạt".
    qualifier = re.search(r"(?<!\w)(?:mức|cấp độ|loại|hạng|nhóm|lớp)\s*$", text[max(0, pos - 12) : pos], re.IGNORECASE)
    lead = qualifier.group(0) if qualifier else ""
    for p in pcts:
        if p.start < pos:
            continue
        if p.used or not _gap_ok(lead + text[pos : p.start], own_words):
            return None
        return p
    return None


_CONSEQUENCE = re.compile(
    rf"(?P<own>(?:[^;%\d]|\d(?![\d.,]*\s?%))*?),\s*(?:qua đó|từ đó|nhờ đó|góp phần)?\s*(?:nâng|đưa)\s+{_RATE_WORD}\s+"
    r"(?P<x>[^;%\d,]{1,60}?)\s+(?:lên|đạt)(?:\s+mức)?\s*$",
    re.IGNORECASE,
)


_FUNCTION_WORDS = frozenset(tokens("bằng của các những được có trên qua với và cho về"))


def _attach_consequence(text: str, pos: int, pcts: list[_Pct], label: str = "") -> _Pct | None:
    """A rate stated later in the count's sentence as its consequence: "2.318.640 người ... được
    xác thực thông tin ..., qua đó nâng tỷ lệ xác thực lên 98,9%".  The rate must name the
    count's own measure (every word of ``tỷ lệ <X>`` but :data:`_FUNCTION_WORDS` is in the
    count's clause, whose own numbers - "trong 9 tháng" - do not matter)."""
    nxt = next((p for p in pcts if p.start >= pos), None)
    if nxt is None or nxt.used or not _same_sentence(text, pos, nxt.start):
        return None
    m = _CONSEQUENCE.fullmatch(text, pos, nxt.start)
    if m is None:
        return None
    own = set(tokens(f"{label} {m.group('own')}"))
    return nxt if set(tokens(m.group("x"))) - _FUNCTION_WORDS <= own else None


def _attach_before(text: str, pos: int, pcts: list[_Pct]) -> _Pct | None:
    for p in reversed(pcts):
        if p.end > pos:
            continue
        gap = text[p.end : pos]
        if not p.used and re.fullmatch(r"\s*[(:\-–]\s*", gap):
            return p
        return None
    return None


def _bracketed_after_rate(text: str, pos: int, pcts: list[_Pct]) -> _Pct | None:
    """The rate a bracket explains: in "lần lượt đạt 97,74% (2.806 yêu cầu) và 97,42% (1.019
    yêu cầu)" the figure in the bracket right after a rate is that rate's, not the next one's.
    A change ("tăng 5% (60 hồ sơ)") explains nothing."""
    p = next((p for p in reversed(pcts) if p.end <= pos), None)
    if p is None or p.used or not re.fullmatch(r"\s*\(\s*", text[p.end : pos]):
        return None
    before = text[max(0, p.start - 30) : p.start].lower()
    return None if _CHANGE_BEFORE.search(before) or _EXCEED_BY.search(before) else p


def _attach_exact_later(text: str, pos: int, pcts: list[_Pct], a: int, b: int) -> _Pct | None:
    """The next rate of a ratio's sentence, past a long measure, when the ratio gives it exactly:
    "Có 134/141 cơ sở khám bệnh, chữa bệnh (bệnh viện, ...) đã kết nối, gửi dữ liệu ..., đạt
    95,04%".  No other figure may stand between."""
    p = next((p for p in pcts if p.start >= pos), None)
    gap = re.sub(r"(?<!\w)(?:tháng|năm|quý|quí)\s+\d+(?:/\d+)?", " ", text[pos : p.start] if p else "")
    if p is None or p.used or re.search(r"[\d;%]", gap) or not _same_sentence(text, pos, p.start):
        return None
    return p if _gives(a, b, p.value) == 0 else None


def _attach_measured_before(text: str, pos: int, pcts: list[_Pct], a: int, b: int) -> _Pct | None:
    """A rate written before its measure, whose bracket then holds the ratio: "100% trạm y tế xã
    (48/48 trạm) đã kết nối ...".  The ratio must give the rate as written."""
    p = next((p for p in reversed(pcts) if p.end <= pos), None)
    if p is None or p.used or _gives(a, b, p.value) != 0:
        return None
    return p if re.fullmatch(r"\s+[^\W\d_][^;:.()%]{0,120}?\(\s*", text[p.end : pos]) else None


# "theo Kế hoạch số 112/KH-CAT": a plan document is cited, no quota is named.
_PLAN_DOCUMENT = re.compile(r"(?<!\w)(?:kế hoạch|kh)(?:\s+phối hợp)?\s+(?:số\s*)?\d+\s*/\s*[^\s,;.)]*")


def _bound_or_reduction(text: str, p: _Pct) -> bool:
    """Whether a percentage is a threshold or a reduction rather than a share (see the patterns)."""
    before = text[max(0, p.start - 40) : p.start]
    return bool(
        _THRESHOLD_BEFORE.search(before)
        or _REDUCTION_BEFORE.search(before)
        or _DURATION_AFTER.match(text[p.end :])
        or (p.value < 100 and _EXCEED_BY.search(before))
        or any(
            m.end() == p.end and m.group(0).lstrip().lower().startswith("từ")
            for m in _FROM_UP.finditer(text, max(0, p.start - 6))
            if m.start() < p.start
        )
        or _criterion_of_a_count(text, p)
    )


def _criterion_of_a_count(text: str, p: _Pct) -> bool:
    """ "04/08 sở, ngành ... đạt tỷ lệ hồ sơ trực tuyến từ 95% trở lên": the rate is the criterion
    the counted units meet (a count stands before it in its clause), not a result; "Duy trì tỷ lệ
    ... từ 98% trở lên" (no count) is a goal's level."""
    if not re.match(r"\s*trở lên", text[p.end :]) or not re.search(
        r"(?<!\w)từ\s*$", text[max(0, p.start - 8) : p.start]
    ):
        return False
    count = r"(?<![/\d.,])(?<!năm )(?<!mức )\d[\d.]*(?:/\d[\d.]*)?\s+(?!tháng|năm|ngày)[^\W\d_]"
    clause = text[_clause_start(text, p.start) : p.start]
    # "Các bản khác đều có tỷ lệ ... từ 80% trở lên": a group that meets it.
    return re.search(count, clause) is not None or re.search(r"(?<!\w)đều\s+(?:có|đạt)(?!\w)", clause) is not None


def _kind_for(label: str) -> DenominatorKind:
    key = _PLAN_DOCUMENT.sub(" ", match_key(label))
    return "target" if any(w in key for w in TARGET_WORDS) else "total"


def _computed(num: int | None, den: int | None) -> Decimal | None:
    if num is None or not den:
        return None
    return (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _trim_subject(text: str, max_words: int = 18, *, keep_head: bool = False) -> str:
    """A short subject: no leading verbs, connectors or reporting unit, no trailing purpose
    clause (``để khai thác sử dụng``), at most ``max_words`` words.

    When the text is still too long its end is kept (the words next to the figure name what is
    counted), cut after a comma if one is near, never inside a capitalised name.
    """
    s = text.strip(" ,;:-–()")
    s = _AGENT.sub("", s)
    for _ in range(3):
        s = _LEAD_VERBS.sub("", s).strip(" ,;:-–")
    s = re.sub(r"\s+(?:để|nhằm)\s+[^,;]*$", "", s)
    s = re.sub(r"(?:\s+(?:với|của|và|về|cho|tại|theo|trong|bởi|là|được|đã))+$", "", s)
    words = s.split()
    if keep_head:
        return _balance(" ".join(words[:max_words]).strip(" ,;:"))
    if len(words) > max_words:
        cut = len(words) - max_words
        for i in range(cut, min(cut + 5, len(words) - 3)):
            if words[i - 1].endswith(","):
                cut = i
                break
        else:
            while cut > 0 and words[cut][:1].isupper() and words[cut - 1][:1].isupper():
                cut -= 1
        words = words[cut:]
    return _balance(" ".join(words).strip(" ,;:"))


def _balance(text: str) -> str:
    """Close a bracket left open by trimming."""
    return text + ")" * max(0, text.count("(") - text.count(")"))


# --------------------------------------------------------------------------- paragraph scan


_DATE_WORDS = frozenset({"ngày", "tháng", "năm", "quý", "quí"})


def _date_like(word: str, a: int, b: int | None) -> bool:
    """Whether ``a`` (or ``a/b``) after ``ngày / tháng / năm / quý`` can be a date or period."""
    if word == "ngày":
        return a <= 31 and (b is None or b <= 12)
    if word == "tháng":
        return a <= 12 and (b is None or b <= 12 or 1900 <= b <= 2100)
    if word == "năm":
        return 1900 <= a <= 2100 or a <= 99 or (b is not None and (1900 <= b <= 2100 or b <= 99))
    return a <= 4  # quý


def _after_time_word(text: str, start: int, a: int, b: int, unit_follows: bool) -> bool:
    """A ratio written after ``ngày / tháng / năm / số / khoản / Điều`` is a date or a reference
    (``tháng 02/2026``, ``số 12/KH``) - unless it counts something that cannot be a date:
    ``lũy kế từ đầu năm 402/431 hồ sơ``, ``qua tài khoản 612/655 người``."""
    prev = _prev_words(text, start, 2)
    if not prev or prev[-1] not in _TIME_PREV:
        return False
    last = prev[-1]
    if prev[-2:] in (["tổng", "số"], ["tài", "khoản"]):
        return False
    return not (last in _DATE_WORDS and unit_follows and not _date_like(last, a, b))


def _ratio_candidates(text: str) -> list[tuple[re.Match[str], str]]:
    """Every slash ratio ("142/145") and worded ratio of a text with its form ("slash" or
    "words"), in text order, a slash ratio before a worded one at the same place."""
    candidates = [(m, "slash") for m in _RATIO_SLASH.finditer(text)] + [
        (m, "words") for m in _RATIO_WORDS.finditer(text)
    ]
    candidates.sort(key=lambda c: (c[0].start(), c[1] != "slash"))
    return candidates


def _numerator_words(aw: str) -> tuple[str | None, str] | None:
    """The unit and label of the words after a ratio's numerator (None, "" when there are none);
    None when the words name no count unit ("12 Nghị quyết/14 Quyết định")."""
    a_unit_found = find_unit(aw) if aw else None
    if aw and a_unit_found is None:
        return None
    a_unit = a_unit_found[0] if a_unit_found else None
    a_label = aw[a_unit_found[1] :].strip() if a_unit_found else ""
    return a_unit, a_label


def _worded_ratio_rejected(m: re.Match[str]) -> bool:
    """Whether a worded ratio counts nothing: "trên" before a denominator that is no "tổng ...",
    a denominator named "số ..." or by a time word, or a quota connective ("chỉ tiêu", "kế
    hoạch") with no words after the numerator."""
    conn = m.group("conn").lower()
    bw = m.group("bw").strip().lower()
    if conn == "trên" and bw and not bw.startswith("tổng"):
        return True
    if re.search(r"(?<!tổng )(?<!\w)số$", bw) or re.search(r"(?<!\w)(?:năm|tháng|ngày|quý)(?!\w)", bw):
        return True
    return conn in ("chỉ tiêu", "kế hoạch") and not m.group("aw").strip()


def _denominator_words(text: str, b_end: int, form: str) -> tuple[str | None, str, int, int] | None:
    """The unit and the words after a ratio's denominator: (unit, label, where the label starts,
    where it ends); a slash ratio with no unit has no label.  None when letters glued to the
    number name no unit ("220/380V", "06/CP")."""
    rest = text[b_end:]
    b_unit_found = find_unit(rest)
    if rest[:1].isalpha() and b_unit_found is None:
        return None
    b_unit = b_unit_found[0] if b_unit_found else None
    label_start = b_end + (b_unit_found[1] if b_unit_found else 0)
    b_label, end = _words_after(text, label_start)
    if b_unit is None and b_label and form == "slash":
        b_label = ""
        end = label_start
    return b_unit, b_label, label_start, end


def _date_or_scale(text: str, start: int, a: int, b: int, b_unit: str | None) -> bool:
    """Whether a ratio with no unit is a month and year ("8/2025") or a map scale ("tỷ lệ 1/500")."""
    if a <= 12 and 1900 <= b <= 2100 and b_unit is None:
        return True
    return a == 1 and b >= 100 and b_unit is None and bool(re.search(rf"{_RATE_WORD}\s*$", text[:start], re.I))


def _ratio_kind(
    text: str,
    m: re.Match[str],
    form: str,
    b_label: str,
    b_clause: str,
    rate: _Pct | None,
    units: tuple[str | None, str | None],
) -> DenominatorKind:
    """What a ratio's denominator is: a quota, named with the denominator ("1.030.000 tài khoản
    chỉ tiêu", "9.000 hồ sơ theo kế hoạch tháng") or right after the rate ("đạt 100% kế
    hoạch"); "other" when numerator and denominator are in different units; else a total."""
    a_unit, b_unit = units
    conn_text = m.group("conn") if form == "words" else ""
    bw_text = m.group("bw") if form == "words" else ""
    own_clause = b_clause.split(",", 1)[0]
    after_rate = text[rate.end : rate.end + 20] if rate is not None and rate.start > m.start() else ""
    if _kind_for(" ".join((conn_text, bw_text, b_label, own_clause))) == "target" or re.match(
        r"^[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:chỉ tiêu|kế hoạch|KH|mục tiêu)(?!\w)", after_rate
    ):
        return "target"
    if a_unit and b_unit and a_unit != b_unit:
        return "other"
    return "total"


def _read_ratio(text: str, m: re.Match[str], form: str, pcts: list[_Pct], listed: bool = False) -> _Ratio | None:
    """One candidate ratio with its units, labels, stated rate (marked used) and kind; None when
    it is a date, a reference, a code or a scale, or nothing marks it as a count (no unit, no
    rate, no "đạt" / "tỷ lệ" before it, no grouped digits, not ``listed`` after a ratio as in
    "lần lượt là 183/186, 74/74 và 48/52 hồ sơ")."""
    a_txt, b_txt = m.group("a"), m.group("b")
    a, b = _count(a_txt), _count(b_txt)
    if a is None or b is None:
        return None
    aw = m.group("aw").strip()
    numerator = _numerator_words(aw)
    if numerator is None:
        return None
    a_unit, a_label = numerator
    b_end = m.end("b")
    rest = text[b_end:]
    if _after_time_word(text, m.start(), a, b, find_unit(rest) is not None):
        return None
    if rest.startswith("/") or re.match(r"-[^\W\d_]", rest):
        return None
    if form == "words" and _worded_ratio_rejected(m):
        return None
    denominator = _denominator_words(text, b_end, form)
    if denominator is None:
        return None
    b_unit, b_label, label_start, end = denominator
    if _date_or_scale(text, m.start(), a, b, b_unit):
        return None
    # The denominator's clause runs to the next ";", "." or bracket ("14/15 xã, phường kết nối ...").
    b_clause = re.split(r"[;.()]|\.\s", text[label_start : label_start + 120], maxsplit=1)[0]
    own = " ".join(x for x in (aw, b_unit or "", b_label, b_clause) if x)
    rate = (
        _bracketed_after_rate(text, m.start(), pcts)
        or _attach_after(text, end, pcts, own)
        or _attach_before(text, m.start(), pcts)
        or _attach_measured_before(text, m.start(), pcts, a, b)
        or _attach_exact_later(text, end, pcts, a, b)
    )
    cue = re.search(rf"(?:đạt|{_RATE_WORD}|là)\s*[:]?\s*$", text[max(0, m.start() - 20) : m.start()], re.IGNORECASE)
    grouped = bool(re.search(r"\d[.,]\d{3}", a_txt + " " + b_txt))  # 1.234/1.300: never a date or a code
    if a_unit is None and b_unit is None and rate is None and not (cue or grouped or listed):
        return None
    kind = _ratio_kind(text, m, form, b_label, b_clause, rate, (a_unit, b_unit))
    if rate is not None:
        rate.used = True
        end = max(end, rate.end) if rate.start > m.start() else end
    bw_text = m.group("bw") if form == "words" else ""
    return _Ratio(
        start=min(m.start(), rate.start) if rate is not None else m.start(),
        end=end,
        a=a,
        b=b,
        a_start=m.start(),
        a_unit=a_unit,
        b_unit=b_unit,
        a_label=a_label,
        b_label=" ".join(x for x in (bw_text.strip(), b_label) if x),
        kind=kind,
        rate=rate,
        b_clause=b_clause.rstrip(),
    )


def _find_ratios(text: str, pcts: list[_Pct]) -> list[_Ratio]:
    """The ratios of a paragraph ("142/145 cơ sở", "142 trên tổng số 145 cơ sở"), each with the
    stated rate it takes from ``pcts``; a candidate that starts before the end of the last
    ratio's denominator is skipped."""
    found: list[_Ratio] = []
    taken_until = -1
    for m, form in _ratio_candidates(text):
        if m.start() < taken_until:
            continue
        listed = bool(found) and _LIST_JOINT.fullmatch(text[taken_until : m.start()]) is not None
        ratio = _read_ratio(text, m, form, pcts, listed)
        if ratio is not None:
            found.append(ratio)
            taken_until = m.end("b")
    return found


# An increment is a change, not a part: "cho 12.340 trường hợp (tăng 410 trường hợp so với tháng
# trước)".  The count after "tăng" / "giảm" is no figure, and its bracket does not open a whole.
_CHANGE_COUNT_BEFORE = re.compile(
    r"(?<!\w)(?<!báo )(?:tăng|giảm|nhiều hơn|ít hơn)(?:\s+(?:thêm|lên|xuống|khoảng|gần|hơn|trên))?\s*$",
    re.IGNORECASE,
)
_OUT_OF = re.compile(r"(?<!\w)trong\s+(?:tổng\s+)?(?:số\s+)?(?:(?:hơn|gần|khoảng|trên|xấp xỉ)\s+)?$", re.IGNORECASE)
_CHANGE_ASIDE = re.compile(r"\(\s*(?:tăng|giảm)[^()]*\)", re.IGNORECASE)


# "hơn 1,85 triệu tài khoản", "gần 96 nghìn hồ sơ": a count written with a multiplier.
_MULTIPLIED = re.compile(
    r"(?<![\w.,/])(?P<v>\d{1,3}(?:,\d{1,3})?)\s?(?P<x>" + "|".join(MULTIPLIERS) + r")(?!\w)",
    re.IGNORECASE,
)
# "X ..., đạt 92,5% chỉ tiêu được giao; trong đó ...": the opener may follow the count's own rate
# (and a bracket: "đạt 114,03% kế hoạch tháng (6.000 hồ sơ); trong đó", "1.231 hồ sơ (95,72%), trong đó").
_OPENER_AFTER_RATE = re.compile(
    r"(?:[^\d;.:()]|\d+(?:[.,]\d+)?\s?%|(?<=mức )\d|\([^();]*\))*?[,;]\s*(?P<w>trong đó|trong số (?:đó|này))(?!\w)",
    re.IGNORECASE,
)


def _closes_number(text: str, start: int) -> bool:
    """Whether the word right before ``start`` is the unit of an earlier number ("trẻ em dưới 14
    tuổi 21.930 hồ sơ", "sau 3 tháng 1.200 hồ sơ"): it then closes that number's phrase and does
    not qualify the next one."""
    return bool(re.search(r"\d\s?[^\W\d_]+\s+$", text[max(0, start - 30) : start]))


_PLACE = "|".join(re.escape(w) for w in sorted(PLACE_WORDS, key=len, reverse=True))
_HAMLET = "|".join(re.escape(w) for w in sorted(HAMLET_WORDS, key=len, reverse=True))
# "tổ dân phố 3", "phường Hà Giang 1": a number that ends a place's name.
_NAMED_BY_NUMBER = rf"(?<!\w)(?:(?i:{_HAMLET})\s+(?i:số\s+)?|(?i:{_PLACE})\s+(?:[{_UPPER}][^\W\d_]*\s+){{1,3}})"
_PLACE_BEFORE = re.compile(rf"{_NAMED_BY_NUMBER}$")


def _place_number(text: str, start: int, written: str, unit_follows: bool) -> bool:
    """Whether a number names a place ("tổ dân phố 3 (88%)", "khu phố 2"): a short plain number
    right after a word naming a place below the commune (``HAMLET_WORDS``) with no count unit
    after it."""
    return not unit_follows and len(written) <= 3 and bool(_PLACE_BEFORE.search(text[max(0, start - 20) : start]))


def _multiplied_count(text: str, m: re.Match[str]) -> bool:
    """Whether a multiplied amount is a count: its unit follows ("hơn 1,85 triệu tài khoản"), or
    it ends its clause and its clause names the unit before it ("Số hồ sơ được số hóa ... đạt 1,79
    triệu, chiếm ...").  "5 triệu đồng" is money."""
    if find_unit(text[m.end() :]) is not None:
        return True
    return bool(re.match(r"\s*(?:[,;.)]|$)", text[m.end() :])) and (
        first_unit_in(text[_clause_start(text, m.start()) : m.start()]) is not None
    )


def _count_candidates(text: str, blocked: list[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
    """(start, end, value) of the numbers that may be counts, in text order: plain numbers not
    excluded by the words around them (see the module docstring), and multiplied amounts."""
    found: list[tuple[int, int, int]] = []
    for m in _COUNT.finditer(text):
        start, end = m.start(), m.end()
        value = _count(m.group("v"))
        if value is None or any(s <= start < e for s, e in blocked):
            continue
        if start > 0 and text[start - 1] == "(" and text[end : end + 1] == ")":
            continue  # (1) list marker
        if start == 0 and text[end : end + 1] in ".)":
            continue
        prev = _prev_words(text, start, 2)
        last = prev[-1] if prev else ""
        unit_found = find_unit(text[end:])
        if prev[-2:] == ["tài", "khoản"] or (
            unit_found is not None
            and ((last in _DATE_WORDS and not _date_like(last, value, None)) or _closes_number(text, start))
        ):
            pass  # "qua tài khoản 612 người", "lũy kế từ đầu năm 402 hồ sơ", "dưới 14 tuổi 21.930 hồ sơ"
        elif last in _EXCLUDE_PREV or (last == "số" and prev[0] not in ("tổng", "trong")):
            continue  # "tháng 3", "mức 2", "số 12/KH" - but "tổng số 45 văn bản", "trong số 364 chợ" are counts
        if _EXCLUDE_NEXT.match(text[end:]) or _place_number(text, start, m.group("v"), unit_found is not None):
            continue
        if text[end : end + 1].isalpha() and unit_found is None:
            continue  # 5G, 220V
        if unit_found is None and 1900 <= value <= 2100 and re.fullmatch(r"\d{4}", m.group("v")):
            continue  # a year: "giai đoạn 2024 - 2025"
        found.append((start, end, value))
    for m in _MULTIPLIED.finditer(text):
        if not _multiplied_count(text, m) or any(s <= m.start() < e for s, e in blocked):
            continue
        amount = Decimal(m.group("v").replace(",", ".")) * MULTIPLIERS[m.group("x").lower()]
        found.append((m.start(), m.end(), int(amount)))
    found.sort()
    return iter(found)


def _find_mentions(text: str, blocked: list[tuple[int, int]]) -> list[_Mention]:
    mentions: list[_Mention] = []
    # Openers are read past a bracketed change: "1.406 hồ sơ (tăng 118 hồ sơ ...), trong đó ...".
    plain = _CHANGE_ASIDE.sub(lambda a: " " * len(a.group(0)), text)
    for start, end, value in _count_candidates(text, blocked):
        if _CHANGE_COUNT_BEFORE.search(text[max(0, start - 30) : start]):
            continue
        mentions.append(_build_mention(text, plain, start, end, value))
    return mentions


def _build_mention(text: str, plain: str, start: int, end: int, value: int) -> _Mention:
    """A count with its unit, its labels, and whether it is a whole (and opened by what).  A
    multiplied amount that ends its clause counts the unit its clause names before it ("Số tài
    khoản đã kích hoạt là gần 571 nghìn, ...")."""
    unit_found = find_unit(text[end:])
    unit = unit_found[0] if unit_found else None
    if unit is None and _MULTIPLIED.fullmatch(text, start, end):
        unit = first_unit_in(text[_clause_start(text, start) : start])
    unit_end = end + (unit_found[1] if unit_found else 0)
    label_after, label_end = _words_after(text, unit_end) if unit else ("", unit_end)
    label_before, colon, label_start = _label_before(text, start)
    mention = _Mention(
        start=start,
        end=end,
        value=value,
        unit=unit,
        unit_end=unit_end,
        label_before=label_before,
        label_start=label_start,
        label_after=label_after,
        label_end=label_end,
        colon_form=colon,
    )
    key = match_key(label_before)
    mention.is_remainder = bool(_REMAINDER.search(key)) or bool(_REMAINDER.search(match_key(label_after)))
    rest = plain[label_end:]
    opener = (
        _OPENER.match(rest)
        or _LATE_OPENER.match(rest)
        or (unit and _OPENER_AFTER_RATE.match(plain[: label_end + 200], label_end))
    )
    if opener:
        mention.opener = re.sub(r"(?<=trong số )này$", "đó", opener.group("w").lower())
    elif rest.lstrip().startswith("("):
        mention.opener = "("
    # "Trong 12 nhiệm vụ được giao, đã hoàn thành 9 ...", "Trong số gần 1,35 triệu hồ sơ ..., có
    # 92,4% ...": "out of N" names a whole.
    out_of = unit is not None and bool(_OUT_OF.search(text[max(0, start - 40) : start]))
    if out_of and mention.opener is None:
        mention.opener = "trong số"
    has_whole_word = bool(_WHOLE_WORD.search(key)) or bool(_TARGET_LABEL.match(key)) or out_of
    mention.is_whole = (has_whole_word and not mention.is_remainder) or (
        mention.opener is not None and mention.opener != "("
    )
    mention.whole_unit = unit or first_unit_in(label_before)
    return mention


def _same_sentence(text: str, a: int, b: int) -> bool:
    return _SENTENCE_END.search(text, a, b) is None


def _ratio_label(text: str, r: _Ratio) -> tuple[str, int]:
    """What a ratio counts (the words after its numerator, else before it) and where that starts."""
    # "Đã chuyển dữ liệu ..., đạt tỷ lệ 100% (812.450/812.450)": the label is before the rate.
    at = r.rate.start if r.rate is not None and r.rate.start < r.a_start else r.a_start
    before, colon, _start = _label_before(text, at)
    if r.a_unit:
        # "đã trả 8.398 thẻ căn cước trên tổng số ...": the verb before the number matters too;
        # "Thu nhận hồ sơ cấp thẻ căn cước: 8.742 hồ sơ/9.000": the label before the colon names it.
        if colon:
            parts = [x for x in re.split(r",\s*", before) if x.strip()]
            before = parts[-1] if parts and len(parts[-1].split()) >= 3 else before
        lead = _LEAD_VERBS.sub("", before if colon else " ".join(before.split()[-4:])).strip()
        unit = r.a_unit if first_unit_in(lead) != r.a_unit or r.a_label else ""
        rest = " ".join(x for x in (unit, r.a_label) if x)
        if colon and lead and rest:
            return f"{lead}: {rest}", r.a_start
        return " ".join(x for x in (lead, rest) if x), r.a_start
    before = re.sub(rf"(?:(?:đạt|{_RATE_WORD}|là|được)\s*)+$", "", before.strip(), flags=re.IGNORECASE)
    # Keep the last comma-separated part: "..., Sở Tư pháp đã chuyển dữ liệu ... sử dụng".
    parts = [x for x in re.split(r",\s*", before) if x.strip()]
    tail = parts[-1] if parts else ""
    if len(tail.split()) < 3 and len(parts) > 1:
        tail = f"{parts[-2]}, {tail}"
    at = text.rfind(tail, 0, at) if tail else -1
    if r.b_unit and (r.b_label or len(tail.split()) < 3):
        # "tiếp nhận 00/223 hồ sơ trực tuyến", "Có 1.234/1.250 cán bộ, công chức ... có tài khoản ...":
        # what is counted is named after the denominator.
        named = f"{r.b_unit} {r.b_label}" if r.b_label else f"{r.b_unit}{r.b_clause}"
        # A short verb before the ratio says what was done: "Đã scan 1.597.452/1.644.989 dữ liệu".
        verb = tail if re.search(r"[^\W\d_]", _LEAD_VERBS.sub("", tail)) else ""
        if verb and len(tail.split()) < 3:
            # After a verb the whole clause of the denominator says what was done with the items:
            # "Đã chuyển 1.512.306/1.512.306 dữ liệu đã nhập liệu vào Cơ sở dữ liệu hộ tịch ...".
            named = f"{r.b_unit}{r.b_clause.split(',')[0]}"
        tail = f"{tail} ({named})" if len(tail.split()) >= 3 else " ".join(x for x in (verb, named) if x)
    return tail or (r.a_unit or ""), at if at >= 0 else r.a_start


def _mention_label(m: _Mention) -> str:
    """``trực tuyến 1.100 hồ sơ`` -> ``hồ sơ trực tuyến``; ``Số hồ sơ có số hóa ...: 88`` as is."""
    before = _LEAD_VERBS.sub("", m.label_before).strip()
    if m.unit and not m.colon_form and before and first_unit_in(before) is None and len(before.split()) <= 4:
        if before[:1].isupper() and before[1:2].islower():
            before = before[0].lower() + before[1:]  # it only opened the sentence
        return " ".join(x for x in (m.unit, before, m.label_after) if x)
    if m.unit and not before:
        return " ".join(x for x in (m.unit, m.label_after) if x)
    return " ".join(x for x in (m.label_before, m.label_after) if x)


# The whole written after the rate of a count: "đạt tỉ lệ 98,4% (tổng số 130.099 học sinh)",
# "đạt 103,2% chỉ tiêu được giao (1.014.100 tài khoản)", "đạt 95% so với chỉ tiêu 1.000".
# The period of a quota is no number of it: "so với chỉ tiêu năm 2026 (1.480.300 tài khoản)".
# "... trên tổng số hơn 2,8 triệu lượt", "chỉ tiêu (1,1 triệu tài khoản)": a base may be
# multiplied (and approximate).
_AMOUNT_CORE = (
    r"(?:(?P<mv>\d{1,3}(?:,\d{1,3})?)\s?(?P<mx>" + "|".join(MULTIPLIERS) + rf")(?!\w)|(?P<n>{_NUM})(?![\d/])(?![.,]\d))"
)
_AMOUNT = rf"(?:(?:hơn|gần|khoảng|trên|xấp xỉ)\s+)?{_AMOUNT_CORE}"
_PERIOD_NUMBER = r"(?:(?<=năm )|(?<=quý )|(?<=tháng ))[\dIVX]+(?:/\d{2,4})?(?![\d/])"
_TRAILING_WHOLE = re.compile(
    rf"[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?P<kw>(?:so với |trên |trong )?(?:tổng số|tổng|chỉ tiêu|kế hoạch|mục tiêu))?"
    rf"(?P<w>(?:[^\d;.()%]|{_PERIOD_NUMBER}){{0,30}}?)\(?\s*"
    rf"(?P<kw2>(?:trên )?(?:tổng số|tổng|chỉ tiêu|kế hoạch|mục tiêu))?"
    rf"[^\d;.()%]{{0,20}}?:?\s*(?<!năm )(?<!quý )(?<!tháng )(?<!/)(?P<amount>{_AMOUNT_CORE})",
    re.IGNORECASE,
)


def _trailing_denominator(
    text: str, rate: _Pct, value: int, unit: str | None = None, after: int | None = None
) -> tuple[int, int, str, DenominatorKind] | None:
    """The whole named right after a count's stated rate, when it gives that rate (within 0,6
    points) and is introduced by ``tổng số`` / ``chỉ tiêu`` / ``kế hoạch`` or a bracket, or
    counts in a bracket the population of ``chiếm x% số ...`` (see :func:`_bracketed_base`): its
    value, where its mention ends, its label and its kind.  ``after``: where the whole is looked
    for when it follows a later rate (a respectively-list, see :func:`_respective_raws`)."""
    m = _TRAILING_WHOLE.match(text, rate.end if after is None else after)
    if m is None or not (m.group("kw") or m.group("kw2")):
        return _bracketed_base(text, rate, value, unit) if after is None else None
    if not m.group("kw2") and "(" not in text[m.start() : m.start("amount")] and m.group("w").strip():
        return None  # "đạt 95% kế hoạch năm 2026": words, then an unrelated number
    den = _amount(m)
    if not den or abs(Decimal(value) * 100 / Decimal(den) - rate.value) > Decimal("0.6"):
        return None
    label = " ".join(x for x in (m.group("kw"), m.group("w"), m.group("kw2")) if x and x.strip())
    close = text.find(")", m.end())
    end = close + 1 if "(" in text[m.start() : m.start("amount")] and 0 <= close < m.end() + 40 else m.end()
    return _trailing_result(text, m.end(), den, end, label, unit)


# "38.716 giao dịch, chiếm 61,92% số hồ sơ có yêu cầu nghĩa vụ tài chính (62.526 hồ sơ)": the
# population after "chiếm x% số ..." is counted in the bracket that closes it.
_SHARE_OF = re.compile(rf"(?:chiếm|bằng|đạt)\s*(?:{_RATE_WORD}\s*)?:?\s*$", re.IGNORECASE)
_BRACKETED_BASE = re.compile(
    rf"[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?P<w>(?:tổng\s+)?số\s+(?:[^\d;.()%]|\d+\s?tuổi){{1,100}}?)\s*\("
    r"\s*(?:(?:là|gồm|tổng số|tổng)\s*:?\s*)?"
    rf"(?P<n>{_NUM})(?![\d/])(?![.,]\d)[^();%\d]{{0,40}}\)",
    re.IGNORECASE,
)


def _bracketed_base(
    text: str, rate: _Pct, value: int, unit: str | None
) -> tuple[int, int, str, DenominatorKind] | None:
    """The base of a share written as "chiếm x% số <population> (N ...)": N, when the count
    over it gives the rate as written."""
    if not _SHARE_OF.search(text[max(0, rate.start - 20) : rate.start]):
        return None
    m = _BRACKETED_BASE.match(text, rate.end)
    den = _count(m.group("n")) if m else None
    if m is None or not den or _gives(value, den, rate.value) != 0:
        return None
    return _trailing_result(text, m.end("n"), den, m.end(), m.group("w"), unit)


def _trailing_result(
    text: str, den_end: int, den: int, end: int, label: str, unit: str | None
) -> tuple[int, int, str, DenominatorKind]:
    """A whole written after a rate, with its kind (see :func:`_trailing_denominator`)."""
    kind = _kind_for(label)
    # "1.046.210 tài khoản, đạt 96,3% trên tổng số 1.086.400 công dân": counted in another unit.
    den_unit = find_unit(text[den_end:])
    if kind == "total" and unit is not None and den_unit is not None and _family(den_unit[0]) != _family(unit):
        kind = "other"
    return den, end, " ".join(label.split()), kind


def _family(unit: str) -> str:
    return UNIT_FAMILY.get(unit, unit)


def _with_lead(text: str, anchor: int, start: int, end: int) -> str | None:
    """The text of a statement with the ``Label:`` that opens its clause, when the statement
    starts after it (``- THPT: đã xác thực 128.017 học sinh, đạt ...``); else None."""
    clause_start = _clause_start(text, anchor)
    lead = re.match(r"[\s\-–+•*]*([^:;\d]{1,60}):\s", text[clause_start:start])
    if lead is None:
        return None
    return f"{lead.group(1)}: {text[start:end]}"


_Figure = tuple[int, int, str | None, int, str]
"""A count that may be a denominator: (where, value, unit, where its label starts, its label)."""


@dataclass
class _Section:
    """Counts of the earlier paragraphs of the current section (reset at each heading): a rate
    stated in a later list item may be a share of a whole named in an earlier one."""

    figures: list[tuple[int, str | None, str]]
    marks: dict[str, _Mention]
    ratio_terms: list[tuple[int, str | None, str]]
    """The numerators and denominators of the ratios of the earlier paragraphs: a remainder may
    complete one ("2.391.457/2.846.120 thửa đất" / "còn lại là 454.663 thửa")."""
    named: list[tuple[int, str | None, str]]
    """The counts of every earlier section, for a rate that names its whole: "chiếm 69,74% tổng
    số người tham gia BHXH, BHYT" of "tổng số người tham gia BHXH, BHYT ... là 772.415 người"."""
    """The count each footnote mark of the body points to (``3.402 hồ sơ²``, ``đạt 95,42%¹``
    after ``2.874/3.012 hồ sơ``: its whole)."""


_MARK = re.compile(r"(?<=[^\W_]|[%.)])([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
# A footnote that continues its statement: its parts ("² Trong đó 2.987 hồ sơ ...") and remainders
# ("¹ Còn 138 hồ sơ chưa số hóa ...") are parts of the count the mark points to.
_FOOTNOTE_PART = re.compile(
    r"^[⁰¹²³⁴⁵⁶⁷⁸⁹]+\s*(?:số\s[^\d;.]{0,60}?(?:còn lại|chưa)"
    r"|trong đó|trong số|còn lại|còn|chưa|gồm|bao gồm|cụ thể|chi tiết)"
    r"(?!\w)",
    re.IGNORECASE,
)


def _record_marks(
    text: str,
    mentions: Sequence[_Mention],
    ratios: Sequence[_Ratio],
    section: _Section,
    line_at: Callable[[int], int] | None,
) -> None:
    """Remember, for each footnote mark in a body paragraph, the nearest count before it (for a
    ratio, its denominator) as a whole its footnote may continue."""
    for m in _MARK.finditer(text):
        if m.start() == 0:
            continue
        near: tuple[int, int, str | None, str] | None = None  # end, value, unit, label
        for x in mentions:
            if x.end <= m.start() and (near is None or x.end > near[0]):
                near = (x.end, x.value, x.unit, x.label_before)
        for q in ratios:
            if q.end <= m.start() and (near is None or q.end > near[0]):
                near = (q.end, q.b, q.b_unit or q.a_unit, q.a_label or (q.a_unit or ""))
        if near is None:
            continue
        section.marks[m.group(1)] = _Mention(
            start=-1, end=-1, value=near[1], unit=near[2], unit_end=0, label_before=near[3], label_start=0,
            label_after="", label_end=0, colon_form=False, is_whole=True, opener="trong đó",
            whole_unit=near[2], inherited=True, line_no=line_at(m.start()) if line_at else 0,
        )  # fmt: skip


def _footnote_whole(text: str, section: _Section) -> _Mention | None:
    """The whole a footnote continues, when its mark was seen and the footnote opens with a part
    cue, or lists counts in the whole's unit that add up to it, and nothing else ("trễ hạn 06 hồ
    sơ¹" / "¹ Lĩnh vực đất đai 04 hồ sơ, lĩnh vực chứng thực 02 hồ sơ")."""
    mark = re.match(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", text)
    whole = section.marks.get(mark.group(0)) if mark else None
    if whole is None or _FOOTNOTE_PART.match(text):
        return whole
    if re.search(r"%|\d/\d", text):
        return None  # a footnote with rates or ratios of its own states figures of its own
    listed = [v for _, end, v in _count_candidates(text, []) if (find_unit(text[end:]) or ("",))[0] == whole.unit]
    return whole if len(listed) >= 2 and sum(listed) == whole.value else None


def _gives(value: int, den: int, rate: Decimal) -> Decimal | None:
    """How far ``value / den`` is from the stated rate: 0 when it rounds to it as written."""
    if not den:
        return None
    exact = Decimal(value) * 100 / Decimal(den)
    exponent = rate.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) == rate:
        return Decimal(0)
    return abs(exact - rate)


def _best_denominator(
    value: int, unit: str | None, rate: Decimal, figures: Sequence[_Figure], before: int
) -> _Figure | None:
    """The stated rate identifies the denominator: of the earlier figures in the same unit, the one
    whose quotient rounds to the rate as written, else the closest within 0,6 points; the nearest
    one wins a tie.  ``before`` bounds the figures by position."""
    best: tuple[Decimal, int] | None = None
    chosen: _Figure | None = None
    for fig in figures:
        f_start, f_value, f_unit, _, _ = fig
        if f_start >= before or f_unit != unit:
            continue
        gap = _gives(value, f_value, rate)
        if gap is None or gap > Decimal("0.6"):
            continue
        if best is None or (gap, -f_start) <= best:
            best, chosen = (gap, -f_start), fig
    return chosen


def _share_trailing_wholes(text: str, raws: Sequence[_Raw]) -> None:
    """A denominator stated once may serve several rates of its sentence: "đã cấp 303.250 tài
    khoản, đạt tỷ lệ 121,30% và kích hoạt 240.050 tài khoản, đạt 96,02% so với chỉ tiêu được
    giao (250.000 tài khoản)".  An earlier count of the sentence with a rate and no denominator
    takes the whole written after a later rate when it gives its own rate as written."""
    for r in raws:
        if r.relation != "count_rate" or r.denominator is not None or r.rate is None or r.numerator is None:
            continue
        for t in raws:
            if (
                t.trailing
                and t.anchor > r.anchor
                and t.denominator is not None
                and _same_sentence(text, r.anchor, t.anchor)
                and _gives(r.numerator, t.denominator, r.rate) == 0
            ):
                r.denominator, r.kind, r.denominator_label = t.denominator, t.kind, t.denominator_label
                break


def _bare_rates(text: str, pcts: Sequence[_Pct], goal: bool, whole_for: Callable[[int], _Mention | None]) -> list[_Raw]:
    """The percentages left once counts and ratios took theirs: bare rates of a named measure
    (changes, money and percentages naming no measure are dropped), with their kind and, when
    it is written, their base."""
    found: list[_Raw] = []
    for p in pcts:
        if p.used:
            continue
        clause_start = _clause_start(text, p.start)
        before = text[clause_start : p.start]
        if (
            _CHANGE_BEFORE.search(before.lower())
            or _CHANGE_AFTER.match(text[p.end :].lower())
            or _MONEY_AFTER.match(text[p.end :])
        ):
            continue
        label, label_from_after, phrase_end = _rate_measure(text, p.start, p.end, before)
        item: tuple[str, int] | None = None
        if not label:
            label, item = _list_measure(text, p)
        if not label:
            continue
        sentence_before = text[_sentence_start(text, p.start) : p.start]
        is_goal = _is_goal(sentence_before, goal)
        kind = _bare_rate_kind(text, p, label, is_goal)
        unit = first_unit_in(_DETERMINERS.sub("", label.strip()), max_words=2)
        # The clause of this rate alone: from the previous rate (or clause start) to the next.
        prev_end = max([q.end for q in pcts if q.end <= p.start] + [clause_start])
        nxt = min([q.start for q in pcts if q.start > p.end] + [_sentence_end(text, p.end)])
        window_start = prev_end  # "Hoàn thành nhập liệu 100% dữ liệu ...": the verb before it counts
        base, base_unit = _rate_base(text, p, whole_for(p.start), unit or first_unit_in(label))
        if base is not None:
            unit = unit or base_unit
            kind = "target" if kind == "target" else "total"
        found.append(
            _Raw(
                anchor=p.start,
                numerator=None,
                denominator=base,
                rate=p.value,
                kind=kind,
                relation="rate",
                label=_trim_subject(label, keep_head=label_from_after),
                unit=unit,
                snippet_start=prev_end
                if not label_from_after
                else max(prev_end, max(text.rfind(ch, 0, p.start) for ch in ",;:") + 1),
                snippet_end=phrase_end if label_from_after else p.end,
                goal=is_goal,
                window=(window_start, nxt),
            )
        )
        if item is not None:  # "thôn Hiệp An (92,4%)": the rate of the named place
            found[-1].subject = f"{found[-1].label} của {item[0]}"
            found[-1].snippet_start = item[1]
    return found


def _bare_rate_kind(text: str, p: _Pct, label: str, is_goal: bool) -> DenominatorKind:
    """A bare rate's kind: a target named after it, a total named after it or in its measure,
    else a target for a goal and "other" for a result (its denominator is not stated)."""
    after_key = match_key(text[p.end : p.end + 25])
    if re.match(r"^[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:chỉ tiêu|kế hoạch|kh|mục tiêu)(?!\w)", after_key):
        return "target"
    if re.match(r"^[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:trên\s+)?tổng(?:\s+số)?(?!\w)", after_key) or re.search(
        r"(?<!\w)(?:trên|so với|trong) tổng số(?!\w)", match_key(label)
    ):
        return "total"
    return "target" if is_goal else "other"


def _ratio_remainder(text: str, mnt: _Mention, ratios: Sequence[_Ratio], label: str) -> _Raw | None:
    """A remainder with no stated whole completes the ratio before it in its sentence: "142/145
    cơ sở, đạt 97,93%; còn 03 cơ sở chưa triển khai", "đã nhập liệu 41.377/48.620 dữ liệu, đạt
    85,1%; số dữ liệu chưa nhập 7.243 dữ liệu".  Its whole is that ratio's denominator (the
    nearest such ratio counted in the remainder's unit; one it completes exactly wins).  A ratio
    of people takes a remainder of cases when it completes it exactly: "xác thực 1.842/1.861
    người ..., 19 trường hợp còn lại" (see :func:`may_count_same_people`)."""
    best: _Ratio | None = None
    for q in ratios:
        if q.end > mnt.start or not _same_sentence(text, q.a_start, mnt.start):
            continue
        q_unit = q.b_unit or q.a_unit
        cases = may_count_same_people(q_unit, mnt.unit) or mnt.unit == "trường hợp"  # a case of anything
        synonym = cases and q.a + mnt.value == q.b
        if (q_unit != mnt.unit and not synonym) or q.a + mnt.value > q.b:
            continue
        if best is None or q.a + mnt.value == q.b or best.a + mnt.value != best.b:
            best = q
    if best is None:
        return None
    return _Raw(
        anchor=mnt.start,
        numerator=mnt.value,
        denominator=best.b,
        rate=None,
        kind=best.kind,
        relation="remainder",
        label=_trim_subject(label) or (mnt.unit or ""),
        unit=mnt.unit,
        snippet_start=mnt.label_start,
        snippet_end=mnt.label_end,
        denominator_label=" ".join(x for x in (best.b_unit or "", best.b_label) if x) or None,
    )


def _other_completed_whole(mnt: _Mention, whole: _Mention, label: str, figures: Sequence[_Figure]) -> _Raw | None:
    """A remainder of another whole than the one around it, when that one does not add up and
    the other does: "Trong tổng số 1.286 hồ sơ tiếp nhận, đã giải quyết 1.231 hồ sơ (95,72%), trong
    đó trước và đúng hạn 1.229 hồ sơ; còn lại 55 hồ sơ ..." (1.286 - 1.231 = 55; 1.231 - 1.229 is
    not)."""
    between = [f for f in figures if whole.start < f[0] < mnt.start and _family(f[2] or "") == _family(mnt.unit or "")]
    if sum(f[1] for f in between) + mnt.value == whole.value or any(f[1] + mnt.value == whole.value for f in between):
        return None
    other = _completing_remainder(mnt, label, [f for f in reversed(figures) if f[0] < mnt.start])
    return other if other is not None and other.denominator != whole.value else None


def _completing_remainder(mnt: _Mention, label: str, figures: Sequence[_Figure]) -> _Raw | None:
    """A remainder the figures before it complete exactly: a whole in its unit and a part of it
    whose difference is the remainder ("Tổng số dữ liệu cần số hóa 2.318.476 ...; đã nhập liệu
    2.187.562 ...; số dữ liệu chưa nhập liệu còn lại: 130.914 dữ liệu").  ``figures``: nearest
    first, this paragraph's before the earlier ones'; the first whole that fits wins."""
    if mnt.unit is None:
        return None
    for whole in figures:
        if whole[2] is None or _family(whole[2]) != _family(mnt.unit) or whole[1] <= mnt.value:
            continue
        if any(part[1] + mnt.value == whole[1] for part in figures if part is not whole):
            return _Raw(
                anchor=mnt.start,
                numerator=mnt.value,
                denominator=whole[1],
                rate=None,
                kind="total",
                relation="remainder",
                label=_trim_subject(label) or mnt.unit,
                unit=mnt.unit,
                snippet_start=mnt.label_start,
                snippet_end=mnt.label_end,
                denominator_label=_trim_subject(whole[4]) or None,
            )
    return None


def _predicate_after(text: str, pos: int) -> str:
    """The rest of a figure's clause when it is a verb phrase with no other figure in it: news
    prose puts the figure first and says what it counts after it ("157/162 cơ sở khám chữa bệnh
    (96,9%) đã triển khai tra cứu ...", "794 thủ tục được cung cấp dịch vụ công ... toàn trình")."""
    m = re.match(r"[\s)]*([^;.()\d%]*)", text[pos:])
    rest = m.group(1) if m else ""
    rest = re.split(r",\s", rest, maxsplit=1)[0] if re.match(r"\s*(?:đã|được|đang)\s", rest) else rest
    if not re.match(r"(?:\S+\s+){0,6}?(?:đã|được|đang)\s", rest.strip() + " "):
        return ""
    return rest.strip(" ,")


def _with_predicate(label: str, r: _Ratio, predicate: str) -> str:
    """A ratio's label with the predicate after it: what is counted (its unit and the words
    after the denominator), then what was done ("cơ sở khám chữa bệnh đã triển khai ...")."""
    if not predicate:
        return label
    counted = " ".join(x for x in (r.b_unit or r.a_unit or "", r.b_label) if x)
    return f"{counted or label} {predicate}"


def _clause_rest(text: str, pos: int) -> str:
    """The words that finish a part's clause after its label was cut short (``794 thủ tục được
    cung cấp dịch vụ công | trực tuyến toàn trình;``), when no other figure stands in them."""
    m = re.match(r"[^;.,()\d%]*", text[pos:])
    return m.group(0).strip() if m else ""


def _whole_that_gives(
    whole: _Mention, part: _Mention, rate: Decimal, figures: Sequence[_Figure], earlier: Sequence[_Figure]
) -> _Mention | None:
    """Keep the whole of a part that carries a stated rate unless another count gives that rate
    as written and the whole does not: "trong đó: đăng ký khai sinh 214 hồ sơ, trực tuyến 209 hồ
    sơ (đạt 97,66%)" is 209 of 214, not of the whole above it.  None: the part is a count with
    its own rate (its denominator is then found among the figures)."""
    if _gives(part.value, whole.value, rate) == 0:
        return whole
    fig = _best_denominator(part.value, part.unit, rate, figures, part.start)
    if fig is not None and fig[1] != whole.value and _gives(part.value, fig[1], rate) == 0:
        return None
    fig = _best_denominator(part.value, part.unit, rate, [f for f in earlier if f[0] == -1], 0)
    if fig is not None and _gives(part.value, fig[1], rate) == 0:
        return None
    return whole


def _find_pcts(text: str) -> tuple[list[_Pct], list[_Pct]]:
    """Every percentage of a paragraph, and those of them that are no threshold or reduction
    (the rates a ratio or a count may carry)."""
    all_pcts: list[_Pct] = []
    for m in _PCT.finditer(text):
        value = _rate(m.group("v"))
        if value is not None:
            all_pcts.append(_Pct(m.start(), m.end(), value))
    return all_pcts, [p for p in all_pcts if not _bound_or_reduction(text, p)]


def _scope_wholes(text: str, mentions: Sequence[_Mention]) -> list[_Mention]:
    """Set how far each whole reaches, and return the wholes its words open.

    A whole reaches to the next whole or the end of the paragraph.  A bracket opens a whole
    only for its content: "tiếp nhận 120 hồ sơ (trực tuyến 100 hồ sơ)"; such a whole is not
    in the returned list.
    """
    wholes = [x for x in mentions if x.is_whole]
    for i, whole in enumerate(wholes):
        whole.scope_end = wholes[i + 1].start if i + 1 < len(wholes) else len(text)
    for mention in mentions:
        if mention.opener == "(" and not mention.is_whole and mention.unit:
            close = text.find(")", mention.label_end)
            close = close if close > 0 else len(text)
            if any(mention.label_end < x.start < close and x.unit == mention.unit for x in mentions):
                mention.is_whole = True
                mention.scope_end = close
    return wholes


def _whole_at(mentions: Sequence[_Mention], inherited: _Mention | None, pos: int) -> _Mention | None:
    """The whole whose scope holds ``pos`` (the last such), else the whole left open by an earlier
    paragraph (``inherited``, maybe None)."""
    best = None
    for w in mentions:
        if w.is_whole and w.label_end <= pos < w.scope_end:
            best = w
    return best if best is not None else inherited


def _group_ratio(text: str, r: _Ratio, around: _Mention | None) -> None:
    """Make a ratio a part of the whole around it when their units agree and the whole is an
    earlier paragraph's, in the ratio's sentence, or continued by the ratio's label ("số ...",
    "trong đó ...")."""
    if (
        around is not None
        and (around.whole_unit is None or r.a_unit in (None, around.whole_unit))
        and (
            around.inherited
            or _same_sentence(text, around.end, r.a_start)
            or re.match(r"^(?:số|trong đó|trong số (?:đó|này))(?!\w)", match_key(_label_before(text, r.a_start)[0]))
        )
    ):
        r.group = around


def _ratio_raw(text: str, r: _Ratio) -> _Raw:
    """The raw statement of a ratio ("142/145 cơ sở, đạt 97,93%"), with the whole it is a part
    of, if any."""
    label, label_at = _ratio_label(text, r)
    in_whole = r.group is not None and not r.group.inherited
    return _Raw(
        anchor=r.a_start,
        numerator=r.a,
        denominator=r.b,
        rate=r.rate.value if r.rate else None,
        kind=r.kind,
        relation="ratio",
        label=_trim_subject(_with_predicate(label, r, _predicate_after(text, r.end))),
        unit=r.a_unit or r.b_unit or first_unit_in(label),
        snippet_start=r.group.label_start if r.group is not None and in_whole else min(r.start, label_at),
        snippet_end=r.end,
        group=r.group,
        denominator_label=" ".join(x for x in (r.b_unit or "", r.b_label) if x) or None,
        mapping_sentence=text[r.group.label_end : r.end] if r.group is not None and in_whole else None,
    )


def _denominator_figures(
    text: str, mentions: Sequence[_Mention], ratios: Sequence[_Ratio], section: _Section | None
) -> tuple[list[_Figure], list[_Figure]]:
    """Figures that may be denominators: this paragraph's counts and ratio numerators and
    denominators (in text order), and those of the earlier paragraphs of the section (accepted
    only when they give the rate as written)."""
    figures: list[_Figure] = [(x.start, x.value, x.unit, x.label_start, _mention_label(x)) for x in mentions]
    figures += [(q.a_start, q.a, q.a_unit or q.b_unit, q.start, _ratio_label(text, q)[0]) for q in ratios]
    figures += [(q.a_start, q.b, q.b_unit or q.a_unit, q.start, _ratio_label(text, q)[0]) for q in ratios]
    figures.sort()
    earlier: list[_Figure] = [(-1, v, u, 0, lab) for v, u, lab in (section.figures if section else [])]
    earlier += [(-2, v, u, 0, lab) for v, u, lab in (section.named if section else [])]
    earlier += [(-3, v, u, 0, lab) for v, u, lab in (section.ratio_terms if section else [])]
    return figures, earlier


def _part_unit_fits(text: str, mnt: _Mention, w: _Mention) -> bool:
    """Whether a count reads as a part of the whole ``w`` around it: in the whole's unit or its
    family (``người`` / ``đối tượng``), in a unit the whole's label names after its opener (or,
    with no unit, as "label: N" or a short label right under "trong đó"), and after a full stop
    only as "Số hồ sơ ...: N" / "Trong đó ..."."""
    sentence_head = match_key(text[_sentence_start(text, mnt.start) : mnt.start])
    opened = w.opener not in (None, "(") or bool(re.match(_BREAKDOWN_HEAD, sentence_head))
    if mnt.unit is not None:
        unit_ok = (
            w.whole_unit is None
            or _family(mnt.unit) == _family(w.whole_unit)
            or (opened and _names_unit(w.label_before, mnt.unit))
        )
    else:
        # "label: N", or a short label right under "trong đó" ("trong đó: trực tuyến 1.100").
        unit_ok = first_unit_in(mnt.label_before) in (None, w.whole_unit) and (
            mnt.colon_form or (opened and not w.inherited and len(mnt.label_before.split()) <= 4)
        )
    if unit_ok and not w.inherited and not _same_sentence(text, w.end, mnt.start):
        # After a full stop only "Số hồ sơ ...: N" / "Trong đó ..." continues a whole.
        unit_ok = bool(
            re.match(r"^(?:số)(?!\w)", match_key(mnt.label_before)) or re.match(_BREAKDOWN_HEAD, sentence_head)
        )
    return unit_ok


_QUOTA_BEFORE = re.compile(
    r"\d\s?%\s*(?:so với\s+)?(?:chỉ tiêu|kế hoạch|mục tiêu|tổng số)[^()%\d;]{0,40}\(\s*$", re.IGNORECASE
)


def _names_unit(label: str, unit: str) -> bool:
    """Whether a whole's label names what a count in another unit counts: "cấp tài khoản định danh
    điện tử mức 2 cho hơn 3,27 triệu công dân, ...; trong đó hơn 2,9 triệu tài khoản ..." (one
    account per citizen)."""
    return re.search(rf"(?<!\w){re.escape(match_key(unit))}(?!\w)", match_key(label)) is not None


def _part_of(text: str, mnt: _Mention, w: _Mention | None) -> _Mention | None:
    """The whole a count is a part of: the whole ``w`` around it, when the count comes after it
    (or ``w`` is an earlier paragraph's), fits it, and is no running total of a month's figure
    ("thu nhận 12.486 hồ sơ (lũy kế từ đầu năm 58.903 hồ sơ)")."""
    if w is None or w is mnt or mnt.is_whole or not (w.inherited or mnt.start > w.start):
        return None
    if _QUOTA_BEFORE.search(text[max(0, mnt.start - 60) : mnt.start]):
        return None  # "đạt 114,03% kế hoạch tháng (6.000 hồ sơ)": the quota, no part
    if _part_unit_fits(text, mnt, w) and not (
        _CUMULATIVE_MARKERS.search(match_key(mnt.label_before))
        and not _CUMULATIVE_MARKERS.search(match_key(w.label_before))
    ):
        return w
    return None


def _own_rate(text: str, mnt: _Mention, pcts: list[_Pct], whole: int | None = None) -> _Pct | None:
    """The stated rate a count carries (after it, or as its consequence), marked used; None when
    the count is inside the rate's measure ("Tỷ lệ hộ gia đình có ít nhất 01 thành viên ... đạt
    62,5%": 01 is in the measure), and for a whole "out of" which a share is given ("Trong số
    1.200 hồ sơ, có 92% ...")."""
    if mnt.opener == "trong số":
        return None
    clause_after = re.split(r"[,;.()]", text[mnt.unit_end : mnt.unit_end + 80], maxsplit=1)[0]
    own = " ".join(x for x in (mnt.unit or "", mnt.label_after, mnt.label_before, clause_after) if x)
    rate = (
        _bracketed_after_rate(text, mnt.start, pcts)
        or _attach_after(text, mnt.label_end, pcts, own)
        or _attach_consequence(text, mnt.label_end, pcts, mnt.label_after)
        or _attach_confirmed(text, mnt, pcts, whole)
    )
    if rate is not None and (
        _RATE_SUBJECT.match(text[_clause_start(text, mnt.start) : mnt.start])
        or _WITH_RATE.search(text, mnt.end, rate.start)
        or _share_of_count_before(text, rate) is not None
        or _AFTER_OPENER.search(text, mnt.end, rate.start)
        or _events_base(text, rate) == (mnt.value, mnt.unit)
    ):
        rate = None  # "Tỷ lệ ... 01 thành viên ... đạt", "N lượt ..., với tỷ lệ thành công x%"
    if rate is not None:
        rate.used = True
    return rate


_NAMED_BASE = re.compile(r"[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:tổng\s+)?số\s+(?P<x>[^;.()%\d,]{2,80})", re.IGNORECASE)


def _base_named_after(text: str, rate: _Pct) -> str | None:
    """The population a rate names right after it, up to the next comma: "đạt 99,31% tổng số hồ
    sơ phát sinh" -> "hồ sơ phát sinh"; None when it names none."""
    m = _NAMED_BASE.match(text, rate.end)
    return m.group("x").strip() if m else None


def _attach_confirmed(text: str, mnt: _Mention, pcts: list[_Pct], whole_value: int | None) -> _Pct | None:
    """The next rate of the count's sentence, past words that are not all the count's own, when
    the whole named after it gives it exactly ("9.416 hộ, cá nhân kinh doanh đăng ký sử dụng hóa
    đơn điện tử ..., đạt 104,62% chỉ tiêu năm (9.000 hộ)") or is named in the count's unit
    ("42.816 hồ sơ giao dịch điện tử về thu, cấp sổ BHXH, thẻ BHYT, đạt 99,31% tổng số hồ sơ phát
    sinh"), or when the whole the count is a part of (``whole_value``) gives it exactly.  No other
    figure may stand between."""
    p = next((p for p in pcts if p.start >= mnt.label_end), None)
    if p is None or p.used or re.search(r"[\d;%]", text[mnt.label_end : p.start]):
        return None
    if not _same_sentence(text, mnt.start, p.start):
        return None
    named = _base_named_after(text, p)
    if named is not None and mnt.unit is not None and _family((find_unit(named) or ("",))[0]) == _family(mnt.unit):
        return p
    if whole_value is not None and _gives(mnt.value, whole_value, p.value) == 0:
        return p  # the whole the count is a part of gives it
    whole = _trailing_denominator(text, p, mnt.value, mnt.unit)
    return p if whole is not None and _gives(mnt.value, whole[0], p.value) == 0 else None


def _part_mapping_sentence(text: str, mnt: _Mention, part_of: _Mention, rate: _Pct | None) -> str:
    """The part's own clause, for mapping: a total names the population (its words, and those of
    sibling parts, may belong to another indicator: "Tổng số hồ sơ đã giải quyết ..., trong đó
    đúng hạn ..."); a target names the measure itself ("Chỉ tiêu cấp tài khoản định danh ...:
    ...; đã cấp: ...")."""
    start = (
        part_of.label_start
        if not part_of.inherited and _kind_for(part_of.label_before) == "target"
        else mnt.label_start
    )
    sentence = text[start : (rate.end if rate else mnt.label_end)]
    return sentence + (" " + _clause_rest(text, mnt.label_end) if rate is None else "")


def _part_raw(text: str, mnt: _Mention, part_of: _Mention, rate: _Pct | None, label: str) -> _Raw:
    """The raw statement of a part of a whole: a remainder, a breakdown (of an exhaustive
    opener) or a part, with its whole's label added to a short subject."""
    relation: Relation = "remainder" if mnt.is_remainder else ("breakdown" if part_of.opener in _EXHAUSTIVE else "part")
    whole_label = _trim_subject(part_of.label_before or part_of.unit or "")
    own_label = _trim_subject(label) or (mnt.unit or "")
    subject = own_label
    if len(subject.split()) < 3 and whole_label:
        subject = f"{subject} (trong {whole_label})" if subject else whole_label
    return _Raw(
        anchor=mnt.start,
        numerator=mnt.value,
        denominator=part_of.value,
        rate=rate.value if rate else None,
        kind=_kind_for(part_of.label_before),
        relation=relation,
        label=own_label,
        subject=subject,
        unit=mnt.unit or part_of.whole_unit,
        snippet_start=mnt.label_start if part_of.inherited else part_of.label_start,
        snippet_end=rate.end if rate else mnt.label_end,
        group=part_of,
        denominator_label=whole_label or None,
        mapping_sentence=_part_mapping_sentence(text, mnt, part_of, rate),
    )


def _count_rate_denominator(
    text: str, mnt: _Mention, rate: _Pct, figures: Sequence[_Figure], earlier: Sequence[_Figure]
) -> tuple[int, int, str] | None:
    """The denominator of a count with its own rate: an earlier count of the same paragraph and
    unit that gives the rate, else an earlier paragraph's count only when it gives the rate as
    written, else a count of the sentence in another unit that gives it as written.  (value,
    where its label starts, its label), or None."""
    fig = _best_denominator(mnt.value, mnt.unit, rate.value, figures, mnt.start)
    if fig is None or _gives(mnt.value, fig[1], rate.value):
        in_section = [f for f in earlier if f[0] == -1]
        fig = _best_denominator(mnt.value, mnt.unit, rate.value, in_section, 0) or fig
        if fig is not None and fig[0] < 0 and _gives(mnt.value, fig[1], rate.value):
            fig = None  # an earlier paragraph's count only when it gives the rate as written
    if fig is not None and _gives(mnt.value, fig[1], rate.value) and not _base_named_as(text, rate, fig[4]):
        fig = None  # "chiếm 97,4% số hồ sơ đã giải quyết" is no share of the dossiers received
    if fig is None and mnt.is_remainder:
        fig = _people_denominator(mnt, rate.value, figures)
    if fig is None:
        fig = (
            _exact_denominator(text, mnt, rate, figures)
            or _named_earlier_denominator(mnt, rate, [f for f in earlier if f[0] == -1])
            or _named_whole_denominator(text, rate, mnt.value, earlier)
        )
    if fig is None:
        return None
    return (fig[1], fig[3] if fig[0] >= 0 else mnt.label_start, fig[4])


def _base_named_as(text: str, rate: _Pct, label: str) -> bool:
    """Whether a figure's label may be the base a rate names after it ("97,4% số hồ sơ đã giải
    quyết": every content word but the unit in the label); True when the rate names none."""
    after = _base_named_after(text, rate)
    if after is None:
        return True
    named = find_unit(after)
    words = set(tokens(after[named[1] :] if named else after)) - _FUNCTION_WORDS
    return words <= set(tokens(label))


def _exact_denominator(text: str, mnt: _Mention, rate: _Pct, figures: Sequence[_Figure]) -> _Figure | None:
    """An earlier count of the same sentence in another unit that gives the rate exactly as
    written: "Nhận 1.956 hồ sơ ..., đã cấp thẻ BHYT cho 1.942 trẻ (99,28%)" (the nearest wins);
    never for a rate of a target ("đạt 94% kế hoạch")."""
    if _TARGET_LABEL.match(match_key(text[rate.end : rate.end + 20]).lstrip(" )")):
        return None
    for fig in reversed(figures):
        before = fig[0] < mnt.start and fig[1] != mnt.value and _same_sentence(text, fig[0], mnt.start)
        if before and _gives(mnt.value, fig[1], rate.value) == 0:
            return fig
    return None


def _named_earlier_denominator(mnt: _Mention, rate: _Pct, earlier: Sequence[_Figure]) -> _Figure | None:
    """An earlier paragraph's count in another unit whose label names the count's unit and that
    gives a rate written with decimals exactly: "thu nhận hồ sơ cấp tài khoản ... cho 31.208 công
    dân" / "27.936 tài khoản, chiếm 89,52% số tài khoản đã cấp" (the latest wins)."""
    if mnt.unit is None or rate.value == rate.value.to_integral_value():
        return None
    for fig in reversed(earlier):
        if fig[2] != mnt.unit and _names_unit(fig[4], mnt.unit) and _gives(mnt.value, fig[1], rate.value) == 0:
            return fig
    return None


def _named_whole_denominator(text: str, rate: _Pct, value: int, earlier: Sequence[_Figure]) -> _Figure | None:
    """A whole of an earlier section that the words after a rate written with decimals name, and
    that gives it exactly: "538.716 người, chiếm 69,74% tổng số người tham gia BHXH, BHYT" of
    "tổng số người tham gia BHXH, BHYT trên địa bàn tỉnh là 772.415 người" (every content word
    of the name is in the whole's label)."""
    after = _base_named_after(text, rate)
    if after is None or rate.value == rate.value.to_integral_value():
        return None
    words = set(tokens(after)) - _FUNCTION_WORDS
    for fig in reversed(earlier):
        if fig[0] == -2 and _gives(value, fig[1], rate.value) == 0 and words <= set(tokens(fig[4])):
            return fig
    return None


def _people_denominator(mnt: _Mention, rate: Decimal, figures: Sequence[_Figure]) -> _Figure | None:
    """A remainder of cases whose rate an earlier count of people gives as written: "xác thực
    1.842 người ...; còn lại 19 trường hợp (1,02%)"."""
    same = [(f[0], f[1], mnt.unit, f[3], f[4]) for f in figures if may_count_same_people(f[2], mnt.unit)]
    fig = _best_denominator(mnt.value, mnt.unit, rate, same, mnt.start)
    return fig if fig is not None and _gives(mnt.value, fig[1], rate) == 0 else None


def _count_rate_kind(text: str, mnt: _Mention, rate: _Pct, den: tuple[int, int, str] | None) -> DenominatorKind:
    """What a count's rate is of: a target when one is named after the rate or in the count's
    label, "other" for a share of people of what is not people ("đã tạo lập 2.846.901 sổ, đạt
    85,9% dân số") when no denominator was found, else a total."""
    after = match_key(text[rate.end : rate.end + 25])
    kind: DenominatorKind = (
        "target"
        if re.match(r"^\s*(?:chỉ tiêu|kế hoạch|kh|mục tiêu)(?!\w)", after)
        else ("target" if _kind_for(mnt.label_before) == "target" else "total")
    )
    named_after = find_unit(re.sub(r"^[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:tổng\s+)?(?:số\s+)?", "", text[rate.end : rate.end + 30]))
    if (
        den is None
        and mnt.unit is not None
        and named_after is not None
        and UNIT_FAMILY.get(named_after[0], named_after[0]) == "người"
        and UNIT_FAMILY.get(mnt.unit, mnt.unit) != "người"
    ):
        kind = "other"
    return kind


def _count_rate_raw(
    text: str, mnt: _Mention, rate: _Pct, label: str, figures: Sequence[_Figure], earlier: Sequence[_Figure]
) -> _Raw:
    """The raw statement of a count with its own rate, its denominator an earlier count that
    gives the rate or the whole named right after the rate."""
    den = _count_rate_denominator(text, mnt, rate, figures, earlier)
    kind = _count_rate_kind(text, mnt, rate, den)
    trailing = _trailing_denominator(text, rate, mnt.value, mnt.unit) if den is None else None
    snippet_end = rate.end
    if trailing is not None:
        den = (trailing[0], mnt.label_start, trailing[2])
        snippet_end = trailing[1]
        kind = trailing[3] if trailing[3] != "total" else kind
    return _Raw(
        anchor=mnt.start,
        numerator=mnt.value,
        denominator=den[0] if den else None,
        rate=rate.value,
        kind=kind,
        relation="remainder" if mnt.is_remainder else "count_rate",
        label=_trim_subject(label) or (mnt.unit or ""),
        unit=mnt.unit or first_unit_in(mnt.label_before),
        snippet_start=den[1] if den else mnt.label_start,
        snippet_end=snippet_end,
        denominator_label=_trim_subject(den[2]) if den else None,
        mapping_sentence=_with_lead(text, mnt.start, den[1] if den else mnt.label_start, snippet_end),
        trailing=trailing is not None,
    )


# "đã cấp X tài khoản ... và kích hoạt Y tài khoản, lần lượt đạt A% và B% so với chỉ tiêu (N ...)".
_RESPECTIVELY = re.compile(
    rf"(?<!\w)(?:lần lượt|tương ứng)(?:\s+(?:là|đạt|chiếm|bằng|tương ứng|với|{_RATE_WORD}))*\s*:?\s*(?=\d)",
    re.IGNORECASE,
)
_LIST_JOINT = re.compile(r"\s*(?:,\s*và|,|;|và)\s*")


def _rates_in_a_row(text: str, pcts: Sequence[_Pct], at: int, free: Sequence[_Pct] = ()) -> list[_Pct]:
    """The rates written one after another from ``at`` ("A%, B% và C%"), none used unless in
    ``free``."""
    row: list[_Pct] = []
    for p in pcts:
        if p.start < at:
            continue
        gap = text[row[-1].end if row else at : p.start]
        if (p.used and p not in free) or not (gap.strip() == "" if not row else _LIST_JOINT.fullmatch(gap)):
            break
        row.append(p)
    return row


def _respective_ratios(text: str, ratios: Sequence[_Ratio], pcts: Sequence[_Pct]) -> None:
    """Respectively-lists of ratios: "12/15 xã và 10/12 thị trấn lần lượt đạt 80% và 83,33%" -
    the k-th ratio of the clause before "lần lượt" takes the k-th rate (the last ratio took the
    first rate as its own when the ratios were read)."""
    for m in _RESPECTIVELY.finditer(text):
        start = _clause_start(text, m.start())
        listed = [r for r in ratios if start <= r.a_start < m.start()]
        rates = _rates_in_a_row(text, pcts, m.end(), [r.rate for r in listed if r.rate is not None])
        listed = listed[-len(rates) :]
        if len(rates) < 2 or len(listed) < len(rates):
            continue
        if any(r.rate is not None and r.rate not in rates for r in listed) or any(
            listed[0].a_start < p.start < m.start() for p in pcts
        ):
            continue  # a ratio with its own rate ("12/15 xã (80%)") is no member of the list
        for r, rate in zip(listed, rates, strict=True):
            r.rate = rate
            rate.used = True


def _respective_raws(
    text: str,
    mentions: Sequence[_Mention],
    pcts: list[_Pct],
    others: Sequence[tuple[int, int]],
    denominators: tuple[Sequence[_Figure], Sequence[_Figure]],
    whole_for: Callable[[int], _Mention | None],
) -> tuple[list[_Raw], set[int]]:
    """Respectively-lists: the k-th of the counts of the clause before "lần lượt (đạt) A%, B% ..."
    carries the k-th rate; a whole written after the last rate ("so với chỉ tiêu năm 2026
    (1.480.300 tài khoản)") is the denominator of each count it gives the rate of (see
    :func:`_trailing_denominator`), else a count's denominator is found as for any count with a
    rate (``denominators``: the figures of the paragraph and of the section), and a count under
    a whole that gives its rate is its part ("trong đó 2.000 ... và 1.000 ..., lần lượt chiếm
    66,67% và 33,33%").  No rate and no
    other figure (``others``: the spans of the ratios and rates) may stand among the counts.
    Returns the statements and where the counts they took start."""
    raws: list[_Raw] = []
    taken: set[int] = set()
    for m in _RESPECTIVELY.finditer(text):
        rates = _rates_in_a_row(text, pcts, m.end())
        start = _clause_start(text, m.start())
        counts = _listed_counts(text, [x for x in mentions if start <= x.start < m.start() and x.start not in taken])
        counts = counts[-len(rates) :]
        if (
            len(rates) < 2
            or len(counts) < len(rates)
            or any(counts[0].start < a < m.start() for a in [p.start for p in pcts] + [o[0] for o in others])
        ):
            continue
        for mnt, rate in zip(counts, rates, strict=True):
            rate.used = True
            taken.add(mnt.start)
            whole = _part_of(text, mnt, whole_for(mnt.start))
            if whole is not None and _gives(mnt.value, whole.value, rate.value) == 0:
                raws.append(_part_raw(text, mnt, whole, rate, _mention_label(mnt)))
                continue
            raw = _count_rate_raw(text, mnt, rate, _mention_label(mnt), *denominators)
            shared = _trailing_denominator(text, rate, mnt.value, mnt.unit, after=rates[-1].end)
            if shared is not None:
                raw.denominator, raw.kind, raw.denominator_label = shared[0], shared[3], shared[2]
                raw.trailing = True
            elif raw.denominator is None:  # "..., lần lượt đạt 80% và 72% kế hoạch": the quota of each
                raw.kind = _count_rate_kind(text, mnt, rates[-1], None)
            raws.append(raw)
    return raws, taken


def _listed_counts(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """The counts of a list, each with a unit: a bare number takes the unit of the count it is
    listed with ("là 900 và 450 hồ sơ"); the list stops at a bare number that is not listed."""
    out: list[_Mention] = []
    for x in reversed(mentions):
        if x.unit is None:
            if not out or not _LIST_JOINT.fullmatch(text[x.end : out[-1].start]):
                break
            x = replace(x, unit=out[-1].unit, whole_unit=out[-1].unit)
        out.append(x)
    return out[::-1]


def _mention_raw(
    text: str,
    mnt: _Mention,
    around: _Mention | None,
    pcts: list[_Pct],
    ratios: Sequence[_Ratio],
    figures: Sequence[_Figure],
    earlier: Sequence[_Figure],
) -> _Raw | None:
    """The raw statement of one count: a part of the whole ``around`` it, a count that carries
    its own stated rate, or a remainder completing a ratio; None when it is none of these."""
    part_of = _part_of(text, mnt, around)
    rate = _own_rate(text, mnt, pcts, part_of.value if part_of is not None else None)
    label = _mention_label(mnt)
    if part_of is not None and rate is not None:
        part_of = _whole_that_gives(part_of, mnt, rate.value, figures, earlier)
        if part_of is not None and _gives(mnt.value, part_of.value, rate.value):
            part_of = part_of if _base_named_as(text, rate, _mention_label(part_of)) else None
    if part_of is not None and rate is None and mnt.is_remainder:
        other = _other_completed_whole(mnt, part_of, label, figures)
        if other is not None:
            return other
    if part_of is not None:
        return _part_raw(text, mnt, part_of, rate, label)
    if rate is not None:
        return _count_rate_raw(text, mnt, rate, label, figures, earlier)
    if mnt.is_remainder:
        return _ratio_remainder(text, mnt, ratios, label) or _completing_remainder(
            mnt,
            label,
            [f for f in reversed(figures) if f[0] < mnt.start] + [f for f in reversed(earlier) if f[0] in (-1, -3)],
        )
    # "tiếp nhận 1.384 hồ sơ; đã giải quyết 1.375 hồ sơ, đạt 99,35%; 09 hồ sơ bị từ chối": with no
    # cue, only a whole and a part of the same sentence that it completes exactly make it a part.
    same = [f for f in reversed(figures) if f[0] < mnt.start and _same_sentence(text, f[0], mnt.start)]
    return None if mnt.is_whole else _completing_remainder(mnt, label, same)


def _mark_share_bases(text: str, mentions: Sequence[_Mention], pcts: Sequence[_Pct]) -> None:
    """A count whose share follows it ("cho 964 người, 100% qua tài khoản cá nhân") is a whole of
    its own, not a part of the whole before it."""
    for p in pcts:
        share_of = _share_of_count_before(text, p)
        for x in mentions:
            if share_of is not None and x.value == share_of[0] and x.end <= p.start < x.end + 60:
                x.is_whole = True


def _still_open_whole(text: str, wholes: Sequence[_Mention], inherited: _Mention | None) -> _Mention | None:
    """A whole that ends its paragraph with "trong đó:" / "gồm:" stays open for the bullets
    below (as an inherited whole); else the whole inherited from above stays open."""
    still_open = inherited
    for w in wholes:
        tail = text[w.label_end :]
        if w.opener in _OPENERS_TO_LIST and re.fullmatch(rf"[\s,;:(]*{w.opener}\s*:?\s*", tail, re.IGNORECASE):
            still_open = replace(w, inherited=True)
            still_open.scope_end = 0
            still_open.label_start = 0
    return still_open


def _scan_paragraph(
    text: str,
    goal: bool,
    inherited: _Mention | None = None,
    line_at: Callable[[int], int] | None = None,
    section: _Section | None = None,
) -> tuple[list[_Raw], _Mention | None]:
    """The raw statements of one paragraph, and a whole left open for the bullet lines after it.

    ``inherited`` is such an open whole of an earlier paragraph (``Tổng số ...: 1.250 hồ sơ,
    trong đó:`` / ``+ Trực tuyến: 1.100 hồ sơ``).  The passes: rates, ratios and counts are
    found; wholes get their scopes; ratios, then counts (parts, counts with a rate, remainders),
    then the rates left over become raw statements.
    """
    all_pcts, pcts = _find_pcts(text)
    ratios = _find_ratios(text, pcts)
    blocked = [(ratio.a_start, ratio.end) for ratio in ratios] + [(p.start, p.end) for p in all_pcts]
    mentions = _find_mentions(text, blocked)
    _mark_share_bases(text, mentions, pcts)
    wholes = _scope_wholes(text, mentions)
    if line_at is not None:
        for mention in mentions:
            mention.line_no = line_at(mention.start)
    whole_for = partial(_whole_at, mentions, inherited)

    raws: list[_Raw] = []
    _respective_ratios(text, ratios, pcts)
    for r in ratios:
        _group_ratio(text, r, whole_for(r.a_start))
        raws.append(_ratio_raw(text, r))
    figures, earlier = _denominator_figures(text, mentions, ratios, section)
    respective, taken = _respective_raws(text, mentions, pcts, blocked, (figures, earlier), whole_for)
    raws.extend(respective)
    for mnt in mentions:
        if mnt.start in taken:
            continue
        raw = _mention_raw(text, mnt, whole_for(mnt.start), pcts, ratios, figures, earlier)
        if raw is not None:
            raws.append(raw)
    raws.extend(_bare_rates(text, pcts, goal, whole_for))

    raws.sort(key=lambda r: r.anchor)
    _share_trailing_wholes(text, raws)
    if section is not None:
        section.figures.extend((x.value, x.unit, _mention_label(x)) for x in mentions)
        terms = ((v, q.b_unit or q.a_unit, _ratio_label(text, q)[0]) for q in ratios for v in (q.a, q.b))
        section.ratio_terms.extend(terms)
        _record_marks(text, mentions, ratios, section, line_at)
    return raws, _still_open_whole(text, wholes, inherited)


# "tiếp nhận trực tuyến 72,16% trên tổng số 125.000 hồ sơ": the base follows the rate.
_BASE_AFTER = re.compile(rf"[\s⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:(?:trên|trong)\s+)?tổng(?:\s+số)?\s+{_AMOUNT}", re.IGNORECASE)


# "đã thực hiện hơn 5,4 triệu lượt tra cứu ..., với tỷ lệ thành công 98,7%": the count is the
# base of the rate of its own events.
# "chi trợ cấp thất nghiệp cho 964 người, 100% qua tài khoản cá nhân": a share of the count
# before it, the measure after the rate.
_COUNT_BEFORE_SHARE = re.compile(rf"{_AMOUNT}\s+(?P<u>[^\W\d_][^,;%\d()]{{0,30}}?)\s*,\s*$", re.IGNORECASE)
_NOT_A_MEASURE = re.compile(
    r"^\s*(?:so với|chỉ tiêu|kế hoạch|mục tiêu|tổng|số|dân số|của|trên|tăng|giảm|và|hoặc)(?!\w)", re.IGNORECASE
)


def _share_of_count_before(text: str, p: _Pct) -> tuple[int, str] | None:
    """(count, unit) when a rate with no verb before it follows a count and a comma and is
    followed by its own measure: "cho 964 người, 100% qua tài khoản cá nhân"."""
    m = _COUNT_BEFORE_SHARE.search(text, max(0, p.start - 60), p.start)
    named = find_unit(m.group("u")) if m is not None else None
    after = text[p.end : p.end + 30]
    if m is None or named is None or not re.match(r"\s+[^\W\d_]", after) or _NOT_A_MEASURE.match(after):
        return None
    value = _amount(m)
    return (value, named[0]) if value else None


_COUNT_THEN_MEASURE = re.compile(
    rf"{_AMOUNT}\s+(?P<u>[^\W\d_][^;%\d()]{{0,60}}?)\s*[;,]\s*{_RATE_WORD}\s[^;%\d()]{{2,80}}?$", re.IGNORECASE
)


def _count_before_measure(text: str, p: _Pct, unit: str | None) -> tuple[int, str] | None:
    """(count, unit) when the rate's ``tỷ lệ <measure>`` follows, in the same sentence, a count
    of the measure's unit: "tiếp nhận hơn 4,1 triệu hồ sơ ...; tỷ lệ hồ sơ nộp trực tuyến đạt
    91,8%" - the share is of that count."""
    m = _COUNT_THEN_MEASURE.search(text, _sentence_start(text, p.start), p.start)
    named = find_unit(m.group("u")) if m is not None else None
    if m is None or named is None or unit is None or named[0] != unit:
        return None
    value = _amount(m)
    return (value, named[0]) if value else None


_WITH_RATE = re.compile(rf",\s*với\s+{_RATE_WORD}\s+[^;%\d,]{{1,40}}?\s*(?:đạt|là)?\s*:?\s*$", re.IGNORECASE)
_BASE_WITH_RATE = re.compile(rf"{_AMOUNT}(?=[^;%\d]{{1,160}}?{_WITH_RATE.pattern})", re.IGNORECASE)


# "3.104.862 lượt tra cứu, tỷ lệ tra cứu thành công bình quân đạt 98,52%": a rate of the count's
# own events, qualified ("thành công"), whose base the count is.
_QUALIFIED_RATE = re.compile(
    rf"{_AMOUNT}(?P<rest>[^;%\d]{{1,160}}?),\s*{_RATE_WORD}\s+(?P<x>[^;%\d,]{{2,60}}?)\s*(?:đạt|là)?\s*:?\s*$",
    re.IGNORECASE,
)


def _qualifies_its_events(rest: str, measure: str) -> bool:
    """Whether ``tỷ lệ <measure>`` names the events of a count (``rest``: the words after the
    count) and qualifies them: they share a word, and the measure has words the count has not
    ("lượt tra cứu" / "tra cứu thành công"; not "tài khoản" / "kích hoạt")."""
    own = set(tokens(rest))
    words = set(tokens(measure)) - _FUNCTION_WORDS
    return bool(words & own) and not words <= own


def _events_base(text: str, p: _Pct) -> tuple[int, str | None] | None:
    """(count, unit) of a count whose qualified events the rate measures (see _QUALIFIED_RATE)."""
    m = _QUALIFIED_RATE.search(text, _sentence_start(text, p.start), p.start)
    if m is None or not _qualifies_its_events(m.group("rest"), m.group("x")):
        return None
    value = _amount(m)
    named = find_unit(m.group("rest"))
    return (value, named[0] if named else None) if value else None


def _amount(m: re.Match[str]) -> int | None:
    """The value of an :data:`_AMOUNT` match: a plain count, or a multiplied one."""
    if m.group("mv"):
        return int(Decimal(m.group("mv").replace(",", ".")) * MULTIPLIERS[m.group("mx").lower()])
    return _count(m.group("n"))


def _rate_base(text: str, p: _Pct, whole: _Mention | None, unit: str | None) -> tuple[int | None, str | None]:
    """The stated base of a bare rate, the first of: a count written right after it (``72,16%
    trên tổng số 125.000 hồ sơ``); a count right before it whose share it gives (``cho 964 người,
    100% qua tài khoản``); the whole whose ``trong đó`` clause the rate stands in, counted in the
    same unit (``tiếp nhận hơn 1,2 triệu hồ sơ ..., trong đó hồ sơ trực tuyến chiếm 86,4%``); a
    count of the measure's unit before ``tỷ lệ <measure>`` (``tiếp nhận hơn 4,1 triệu hồ sơ ...;
    tỷ lệ hồ sơ nộp trực tuyến đạt 91,8%``); a count whose events the rate qualifies (``hơn 5,4
    triệu lượt tra cứu ..., với tỷ lệ thành công 98,7%``)."""
    m = _BASE_AFTER.match(text, p.end)
    if m is not None:
        named = find_unit(text[m.end() :])
        return _amount(m), named[0] if named else None
    share_of = _share_of_count_before(text, p)
    if share_of is not None:
        return share_of
    if (
        whole is not None
        and not whole.inherited
        and whole.opener in ("trong đó", "trong số đó", "trong số")
        and (unit == whole.whole_unit or (unit is None and _right_after_opener(text, p)))
        and whole.whole_unit is not None
        and _same_sentence(text, whole.end, p.start)
    ):
        return whole.value, whole.whole_unit
    base = _count_before_measure(text, p, unit) or _events_base(text, p)
    if base is not None:
        return base
    m = _BASE_WITH_RATE.search(text, _sentence_start(text, p.start), p.start)
    named = find_unit(text[m.end() :]) if m is not None else None
    if m is not None and named is not None:
        return _amount(m), named[0]
    return None, None


_AFTER_OPENER = re.compile(r"(?<!\w)trong (?:đó|số đó)\s*[:,]?\s*(?:khoảng|gần|hơn|trên)?\s*$", re.IGNORECASE)


def _right_after_opener(text: str, p: _Pct) -> bool:
    """ "… hơn 2,36 triệu hồ sơ …, trong đó 91,8% được nộp trực tuyến": the share opens the clause."""
    return _AFTER_OPENER.search(text, 0, p.start) is not None


_MEASURE_STOP = re.compile(
    r"\s(?:trên địa bàn|trong năm|trong tháng|đến năm|đến hết|so với|trong thời gian)(?!\w)",
    re.IGNORECASE,
)
_TIME_LEAD = re.compile(
    r"^\s*(?:(?:trong |đến |tính đến |hết )?(?:năm|tháng|quý|quí|ngày)\s+[\dIVX/]+[\s,]*)+", re.IGNORECASE
)
_DETERMINERS = re.compile(r"^(?:(?:các|những|toàn bộ|tất cả|mọi|số)\s+)+", re.IGNORECASE)


def _rate_measure(text: str, start: int, end: int, before: str) -> tuple[str, bool, int]:
    """What a bare percentage measures, whether it was read after the number, and where it ends.

    Order: ``tỷ lệ <X> (đạt) N%``; then the noun phrase after the number (``80% thủ tục hành
    chính ...``, ``hoàn thành 100% việc xác thực ...``); then ``<X> đạt (tỷ lệ) N%``.
    """
    s = re.sub(r"\d+(?:[.,]\d+)?\s?%?\s?[-–]\s*$", "", before.rstrip())  # "từ 70-80%"
    s = re.sub(
        r"(?:\s*(?:từ|trên|dưới|khoảng|gần|hơn|tối thiểu|ít nhất|không dưới|xấp xỉ))+\s*$",
        "",
        s,
        flags=re.IGNORECASE,
    )
    m = re.search(rf"{_RATE_WORD}\s+(?P<x>[^;:()]*?)\s*(?:đạt|là|:|=)?\s*$", s, re.IGNORECASE)
    if m and m.group("x").strip() and not re.fullmatch(r"(?:đạt|là)", m.group("x").strip(), re.IGNORECASE):
        return m.group("x"), False, end
    after, after_end = _rate_measure_after(text, end)
    if after and not re.match(r"(?:chỉ tiêu|kế hoạch|KH|mục tiêu|so với|tổng số)(?!\w)", after, re.IGNORECASE):
        return after, True, after_end
    m = re.search(
        rf"(?P<x>[^,;:()]*?)\s*(?:đạt|chiếm|bằng|hoàn thành)\s*(?:{_RATE_WORD})?\s*[:]?\s*$", s, re.IGNORECASE
    )
    if m and _TIME_LEAD.sub("", m.group("x")).strip():
        return _TIME_LEAD.sub("", m.group("x")), False, end
    m = re.search(rf"(?P<x>[^,;:()]*?)\s*{_RATE_WORD}\s*(?:đạt|là|:|=)?\s*$", s, re.IGNORECASE)
    if m and _TIME_LEAD.sub("", m.group("x")).strip():
        return _TIME_LEAD.sub("", m.group("x")), False, end
    # "Năm 2025 hoàn thành 100% chỉ tiêu": only the quota is named; "năm 2026 đạt 25%": only a time.
    if after:
        return after, True, after_end
    m = re.search(r"(?P<x>[^,;:()]*?)\s*(?:đạt|chiếm|bằng|hoàn thành)\s*$", s, re.IGNORECASE)
    return (m.group("x"), False, end) if m and m.group("x").strip() else ("", False, end)


# A list item of names with their rates and no verb: "Sở Tư pháp (98,6%)", "phường Ninh Kiều 94,5%",
# "thôn Hiệp An (92,4%)"; a place below the commune may be named by its number: "tổ dân phố 3".
_NAMED_ITEM = re.compile(
    r"(?:^|[,:;]|\)\s(?=và\s)|(?<=\slà\s)|(?<=\sthuộc về\s))\s*(?:và\s+)?"
    r"(?P<name>[^,:;()\d%]{2,120}?(?:\s\d{1,3})?)\s*\(?\s*$"
)
_NUMBERED_PLACE = re.compile(rf"{_NAMED_BY_NUMBER}\d{{1,3}}$")
# "cao nhất là phường A (98,7%), thấp nhất là xã B (81,6%)": the name follows the ranking words.
_RANKED = re.compile(
    r"^(?:.*?\s)?(?:(?:ở mức\s+)?(?:cao|thấp)(?:\s+nhất)?|dẫn đầu)(?:\s+(?:là|thuộc về|gồm|có|như|ở|tại))?\s+"
    r"|^.*?\snhư\s+|^(?:.*?\s)?(?:là|thuộc về)\s+"
)
_MEASURE_NUMBER = (
    rf"\d+\s?(?:tuổi|tháng|năm)(?!\w)|(?:(?<=nhất )|(?<=thiểu )|(?<=mức )|(?<=cấp độ ))\d+(?![\d%])|{_PERIOD_NUMBER}"
    r"|(?<=tại )\d+(?=\s[^\W\d_])"  # "... tại 21 bệnh viện, trung tâm y tế công lập"
)
# The measure may qualify its population with a number ("người từ 14 tuổi trở lên", "hộ có ít nhất
# 01 thành viên"); it ends where the list's places are named: "... của các địa phương:", "... theo
# thôn:", "... tại các ấp:".
_LIST_MEASURE = re.compile(
    rf"(?<!\w){_RATE_WORD}\s+(?P<x>(?:[^:;()\d%]|{_MEASURE_NUMBER})+?)"
    rf"(?=\s*(?::|,|\s(?:của các|dẫn đầu|gồm|tiếp tục|là|như|ở mức|cao|thấp)(?!\w)"
    r"|\s(?:đạt|là)\s+\d+(?:[.,]\d+)?\s?%\s*[,;]\s*(?:trong đó|cao nhất|thấp nhất|dẫn đầu)"
    rf"|\s(?:theo|của|tại|ở)\s+(?:các\s+|từng\s+|mỗi\s+)?(?:{_PLACE})\s*(?::|,|$)))",
    re.IGNORECASE,
)


def _list_measure(text: str, p: _Pct) -> tuple[str, tuple[str, int] | None]:
    """The measure of a rate in a list of names (``Tỷ lệ kích hoạt tài khoản ... của các địa
    phương: phường Đông Hà (89,2%), phường Quảng Trị (86,5%) ...``, ``... theo thôn: thôn Hiệp
    An (92,4%) ...``): the ``tỷ lệ <X>`` that opens the sentence of the list, when the rate follows
    a short name and ends its item; with the name and where it starts."""
    start = _sentence_start(text, p.start)
    item = _NAMED_ITEM.search(text, start, p.start)
    if item is None:
        return "", None
    ranked = _RANKED.match(item.group("name"))
    name_start = item.start("name") + (ranked.end() if ranked else 0)
    name = text[name_start : item.end("name")].strip()
    # A name after another item of the list may be a long one (a service's full name).
    after_item = re.search(r"%\s*\)?\s*[,;]\s*(?:và\s+)?$", text[max(0, name_start - 12) : name_start])
    longest = 24 if after_item else 12 if ranked else 8
    if len(name.split()) > longest or (name[-1:].isdigit() and not _NUMBERED_PLACE.search(name)):
        return "", None
    if not re.match(r"\)|\s*(?:[,;.…]|và\s|$)", text[p.end :]):
        return "", None  # "xóm Đồng Lạc (78,9%) do ...": a bracketed rate ends its item
    measures = list(_LIST_MEASURE.finditer(text, start, name_start))
    if not measures:
        return "", None
    return measures[-1].group("x").strip(), (name, name_start)


def _rate_measure_after(text: str, pos: int) -> tuple[str, int]:
    """The noun phrase a percentage applies to: ``80% thủ tục hành chính áp dụng ...``.

    It runs to the next ``; . : ( )``, digit or ``%``; a comma continues it while it is still
    short (``80% các cơ quan, doanh nghiệp chấp nhận ...``).
    """
    m = re.match(r"[⁰¹²³⁴⁵⁶⁷⁸⁹\s]*", text[pos:])
    i = pos + (m.end() if m else 0)
    if i >= len(text) or not text[i].isalpha():
        return "", pos
    begin = i
    words = 0
    end = i
    while i < len(text) and words < 20:
        w = re.match(r"[^\W\d_][\w/&\-]*", text[i:])
        if not w or re.search(r"\d", w.group(0)):
            break
        words += 1
        i += w.end()
        end = i
        sep = re.match(r"\s*,\s*|\s+", text[i:])
        if not sep:
            break
        if "," in sep.group(0) and words >= 8:
            break
        i += sep.end()
    phrase = text[begin:end]
    first = phrase.split()[0].lower() if phrase.split() else ""
    if first in {"so", "và", "trong", "theo", "với", "là", "của", "tăng", "giảm"}:
        return "", pos
    stop = _MEASURE_STOP.search(phrase)
    if stop:
        phrase = phrase[: stop.start()]
    phrase = re.sub(r"(?:[\s,]+(?:với|của|và|về|cho|tại|theo|trong|bởi|là|được))+$", "", phrase).rstrip(" ,")
    return phrase, begin + len(phrase)


def _is_goal(sentence_before: str, goal_mode: bool) -> bool:
    # "có ít nhất 01 thành viên": the cue qualifies a count inside the measure, not the rate.
    key = re.sub(r"(?:ít nhất|tối thiểu)\s+\d+(?![\d.,]*\s?%)", " ", match_key(sentence_before))
    cue_at = max((key.rfind(c) for c in GOAL_CUES), default=-1)
    if cue_at >= 0 and not _ACHIEVED.search(key[cue_at:]):
        return True
    return goal_mode and not _ACHIEVED.search(key)


# --------------------------------------------------------------------------- public API


def _heading_text(p: Paragraph) -> str | None:
    words = p.text.split()
    if is_heading(p.text) or (
        len(words) <= 20
        and (is_list_item(p.text) or p.text.endswith(":"))
        and "%" not in p.text
        and not p.text.endswith(".")
    ):
        return p.text
    return None


def _opens_section(text: str) -> bool:
    """A heading (capitals) or a short numbered title (``2. Giải quyết thủ tục hành chính``)."""
    undated = re.sub(r"(?<!\w)(?:tháng|năm|quý|quí)\s+[\dIVX/]+", "", text, flags=re.IGNORECASE)
    return is_heading(text) or bool(
        re.match(r"^(?:\d+(?:\.\d+)*\.|[IVXLC]{1,5}\.)\s\D*$", undated)
        and len(text.split()) <= 20
        and "%" not in text
        and not text.endswith(".")
    )


def _labels_before(text: str, pos: int) -> list[str]:
    """``Label:`` phrases before ``pos``, nearest first (``3.1. Đăng ký khai sinh: ...``)."""
    out: list[str] = []
    for m in re.finditer(r"(?:^|(?<=[:;.]))\s*(?P<l>[^:;.]{2,160}?)\s*:", text[:pos]):
        label = re.sub(r"^(?:\d+(?:\.\d+)*[.)]?\s*|[-–+•*]\s*|\([\d\w]\)\s*)", "", m.group("l")).strip()
        if label:
            out.append(label)
    return list(reversed(out))


def _scope_of(period: str | None, *texts: str) -> Scope | None:
    """``month`` / ``cumulative`` from the words of the first text that has any (see module doc).

    ``trong tháng 3`` counts as the month only when 3 is the reported month; otherwise it is a
    deadline (``hoàn thành trong tháng 12/2025``).
    """
    month_no = int(period[5:]) if period else None
    for t in texts:
        key = match_key(t)
        month = _MONTH_MARKERS.search(key)
        if month is None and month_no is not None:
            month = re.search(rf"(?<!\w)(?:trong |kết quả )?tháng 0?{month_no}(?!\d)(?!\s*/\s*\d{{1,2}}/)", key)
            if month and not re.match(r"(?:trong|kết quả)", month.group(0)):
                month = None
        cumul = _CUMULATIVE_MARKERS.search(key)
        if month and cumul:
            return "month" if month.start() > cumul.start() else "cumulative"
        if month:
            return "month"
        if cumul:
            return "cumulative"
    return None


def _snippet(text: str, start: int, end: int, limit: int = 320) -> str:
    """The source text of a statement, finished to the end of its last word, at most ``limit``."""
    start = max(0, min(start, end))
    m = re.match(r"[^\s,;()]*", text[end:])
    end += m.end() if m else 0
    if end - start > limit:
        start = end - limit
        sp = text.find(" ", start)
        start = sp + 1 if 0 <= sp < end else start
    return text[start:end].strip(" ,;")


def extract_statements(
    lines: Sequence[str],
    *,
    registry: Registry | None = None,
    header: ReportHeader | None = None,
) -> Iterator[Statement]:
    """Yield every ratio, part of a whole, count against a target and rate of a report.

    >>> line = "Tài khoản định danh điện tử: 1.584.959tài khoản/1.030.000 tài khoản chỉ tiêu, đạt 153,88%."
    >>> s = next(extract_statements([line]))
    >>> (s.numerator, s.denominator, s.reported_rate_pct, s.denominator_kind, s.indicator_code)
    (1584959, 1030000, Decimal('153.88'), 'target', 'VNEID_REGISTERED')
    """
    reg = registry if registry is not None else load_registry()
    head = header if header is not None else read_header(lines, reg)
    kind, _ = detect_document_kind(lines)
    goal_mode = kind in ("KẾ HOẠCH", "CHƯƠNG TRÌNH")
    multi_month = _covers_several_months(lines)
    headings: list[str] = []
    statements: list[Statement] = []
    group_scopes: dict[str, Scope] = {}
    open_whole: _Mention | None = None
    section = _Section(figures=[], marks={}, named=[], ratio_terms=[])
    for para in build_paragraphs(lines):
        text = para.text
        if is_heading(text) or re.match(r"^[IVXLC]{1,5}[.)]\s", text) or _opens_section(text):
            if _RESULT_HEADING.search(text.upper()):
                goal_mode = False
            elif _GOAL_HEADING.search(text.upper()):
                goal_mode = True
        if _opens_section(text):
            named = section.named + section.figures
            section = _Section(figures=[], marks=section.marks, named=named, ratio_terms=[])

        inherited = open_whole if open_whole is not None and is_list_item(text) else None
        if para.is_footnote:
            inherited = _footnote_whole(text, section)
        raws, open_whole = _scan_paragraph(text, goal_mode, inherited, para.line_at, section)
        if para.is_footnote:
            open_whole = None
        for raw in raws:
            statement = _finish(raw, para, head, reg, headings, multi_month)
            if statement.group_id is not None and statement.scope != "unknown":
                group_scopes.setdefault(statement.group_id, statement.scope)
            statements.append(statement)
        heading = _heading_text(para)
        if heading:
            headings.append(heading)
    yield from _settle_scopes(_one_heading_part(statements), group_scopes)


def _settle_scopes(statements: list[Statement], group_scopes: dict[str, Scope]) -> Iterator[Statement]:
    """Give a statement of unknown scope the scope of what it belongs to: the statement its
    footnote mark points to, the other statements of its whole, the ratio it completes."""
    scope_of_whole: dict[int | None, Scope] = {}
    scope_of_line: dict[int, Scope] = {}
    for st in statements:
        if st.scope != "unknown":
            scope_of_line.setdefault(st.line_no, st.scope)
    for st in statements:
        # A footnote continues the statement its mark points to, and has its scope.
        footnote_of = re.fullmatch(r"L(\d+):-1", st.group_id or "")
        if st.scope == "unknown" and footnote_of and int(footnote_of.group(1)) in scope_of_line:
            st = replace(st, scope=scope_of_line[int(footnote_of.group(1))])
        if st.scope == "unknown" and st.group_id in group_scopes:
            st = replace(st, scope=group_scopes[st.group_id])
        # A remainder of a ratio has the scope of the ratio it completes.
        if st.scope == "unknown" and st.relation == "remainder":
            st = replace(st, scope=scope_of_whole.get(st.denominator, "unknown"))
        if st.scope != "unknown" and st.denominator is not None:
            scope_of_whole[st.denominator] = st.scope
        yield st


# "6 tháng đầu năm 2026", "Quý II/2026", "năm 2025" in a title: a report of several months.
_SEVERAL_MONTHS = re.compile(
    r"(?<!\w)(?:\d+ tháng đầu năm|\d+ tháng năm|(?:quý|quí) [ivx\d]+|(?<!tháng \d )(?<!tháng \d\d )năm \d{4}$)"
)


def _covers_several_months(lines: Sequence[str]) -> bool:
    """Whether the title (the first lines holding text) names a period of several months."""
    title = [clean_line(x) for x in lines if clean_line(x)][:3]
    return any(_SEVERAL_MONTHS.search(match_key(x)) for x in title)


def _one_heading_part(statements: list[Statement]) -> list[Statement]:
    """A heading names one measure: it cannot tell which of several parts of one whole is its
    numerator ("Dịch vụ công trực tuyến" over "trong đó: đăng ký thường trú 3.118 hồ sơ, đăng ký
    tạm trú 2.507 hồ sơ ...").  When two or more parts of a whole got the same indicator from the
    heading alone, none of them keeps it."""
    shared: dict[tuple[str, str], int] = {}
    for st in statements:
        if st.mapped_by_heading and st.group_id is not None and st.indicator_code is not None:
            key = (st.group_id, st.indicator_code)
            shared[key] = shared.get(key, 0) + 1
    return [
        replace(st, indicator_code=None, service_code=None, confidence=0.0, mapped_by_heading=False)
        if st.group_id is not None and shared.get((st.group_id, st.indicator_code or ""), 0) > 1
        else st
        for st in statements
    ]


def _statement_scope(raw: _Raw, text: str, snippet: str, period: str | None, headings: list[str]) -> Scope | None:
    """The scope the words say: the snippet's, else the sentence's up to the end of the
    statement's own clause - a marker that opens the sentence covers it ("Lũy kế đến ngày ...,
    đã cấp ...; đã kích hoạt ..."), one in a later clause does not ("... 81 hồ sơ trực tuyến,
    đạt 94,19%; lũy kế từ đầu năm 402/431 ...") - else the last heading's."""
    sentence_end = _sentence_end(text, raw.anchor)
    clause_end = text.find(";", max(raw.anchor, raw.snippet_end))
    full_sentence = text[
        _sentence_start(text, raw.anchor) : clause_end if 0 <= clause_end < sentence_end else sentence_end
    ]
    return _scope_of(period, snippet, full_sentence, *(headings[-1:]))


def _own_text(raw: _Raw, text: str, snippet: str) -> str:
    """The text that speaks about this statement alone (the middle tier of the mapping): its
    mapping sentence, else its window, else its snippet."""
    if raw.mapping_sentence is not None:
        return raw.mapping_sentence
    if raw.window is not None:
        return text[raw.window[0] : raw.window[1]]
    return snippet


def _final_scope(
    raw: _Raw,
    text: str,
    snippet: str,
    head: ReportHeader,
    headings: list[str],
    indicator: str | None,
    reg: Registry,
    multi_month: bool,
) -> Scope | None:
    """The scope the statement's text states; else, for a mapped indicator, the one its measure
    type implies: a flow is the month's in a monthly report, the period's sum in a report of
    several months; a stock is cumulative."""
    scope = _statement_scope(raw, text, snippet, head.period, headings)
    if scope is None and indicator is not None:
        flow_scope: Scope = "cumulative" if multi_month else "month"
        scope = flow_scope if reg.indicators[indicator].measure_type == "flow" else "cumulative"
    return scope


def _subject_with_service(subject: str, service: str | None, lead: str, reg: Registry) -> str:
    """A subject prefixed with its service when it does not name it: the paragraph's lead label
    when that is short and names the same service, else the service's name."""
    if service and service != NO_SERVICE:
        svc_name = reg.services[service].name_vi
        if match_key(svc_name) not in match_key(subject):
            named = lead if lead and len(lead) < 140 and match_service([lead], reg)[0] == service else svc_name
            subject = f"{named}: {subject}"
    return subject


_AROUND = 800


def _finish(
    raw: _Raw,
    para: Paragraph,
    head: ReportHeader,
    reg: Registry,
    headings: list[str],
    multi_month: bool = False,
) -> Statement:
    """Map a raw statement to the registry and give it its final shape."""
    text = para.text
    group_id = None
    if raw.group is not None:
        group_id = f"L{raw.group.line_no}:{raw.group.start}"
    snippet = _snippet(text, raw.snippet_start, raw.snippet_end)
    labels = _labels_before(text, raw.anchor)
    lead = labels[-1] if labels else ""
    mapping = map_statement(
        label=" ".join(x for x in (raw.label, raw.unit or "") if x),
        sentence=_own_text(raw, text, snippet),
        heading=headings[-1] if headings else "",
        # The paragraph around the statement: a window, so that a paragraph of many thousand
        # characters costs each statement the same (mapping scans what it is given).
        surroundings=" ".join([*headings[-2:], text[max(0, raw.anchor - _AROUND) : raw.anchor + _AROUND]]),
        count_unit=raw.unit,
        # The denominator names the population, hence the service ("đăng ký khai sinh 214 hồ sơ,
        # trực tuyến 209 hồ sơ (đạt 97,66%)").
        service_texts=[raw.label, *labels[:3], lead, raw.denominator_label or "", *reversed(headings[-2:])],
        role=head.unit_role,
        registry=reg,
    )
    indicator = mapping.indicator_code if raw.relation != "remainder" else None
    service = mapping.service_code if indicator else None
    unit = raw.unit
    if unit is None and indicator is not None and raw.relation == "rate":
        unit = reg.indicators[indicator].count_unit
    scope = _final_scope(raw, text, snippet, head, headings, indicator, reg, multi_month)
    subject = _subject_with_service(raw.subject or raw.label or (unit or ""), service, lead, reg)
    return Statement(
        line_no=para.line_at(raw.anchor),
        numerator=raw.numerator,
        denominator=raw.denominator,
        reported_rate_pct=raw.rate,
        computed_rate_pct=_computed(raw.numerator, raw.denominator),
        denominator_kind=raw.kind,
        scope=scope or "unknown",
        subject=subject,
        count_unit=unit,
        indicator_code=indicator,
        service_code=service,
        snippet=snippet,
        confidence=mapping.confidence if indicator else 0.0,
        relation=raw.relation,
        group_id=group_id,
        group_total=raw.group.value if raw.group is not None else None,
        denominator_label=raw.denominator_label,
        mapped_by_heading=mapping.by_heading and indicator is not None,
    )
