"""Find the statements of a narrative report that give a part of a whole, a count against a
total or a target, or a rate.

A **statement** is one of:

``ratio``
    two counts written as a ratio: ``1363 hồ sơ trực tuyến/1365 hồ sơ tiếp nhận``,
    ``00/223``, ``950 tài khoản trên tổng số 1.000``, ``1.584.959tài khoản/1.030.000 tài khoản
    chỉ tiêu``, ``1.200 tài khoản so với chỉ tiêu 1.000``.  A slash is a ratio only when the
    counts name a unit (``hồ sơ``, ``dữ liệu`` ...), carry a stated rate, or follow ``đạt`` /
    ``tỷ lệ``; dates (``23/8/2025``, ``tháng 02/2026``), document numbers (``06/QĐ-TTg``,
    ``752/CAT-QLHC``, ``Đề án 06/CP``) and values such as ``220/380V`` never are.
``part`` / ``breakdown`` / ``remainder``
    a whole stated in one clause and a part of it in another: ``Tổng số tiếp nhận: 2076 hồ
    sơ; trong đó: ...``, ``Tổng số dữ liệu cần số hóa, làm sạch: 11015; đã làm sạch ...:
    3968``, ``tổng số TTHC 222 hồ sơ: chi tiết ... cấp tỉnh là 157 hồ sơ, cấp xã là 65 hồ
    sơ``.  A whole is a count labelled ``tổng số`` / ``tổng cộng`` / ``chỉ tiêu`` / ``kế hoạch``
    or followed by ``trong đó`` / ``gồm`` / ``chi tiết`` / ``cụ thể``.  Its parts are the later
    counts of the same paragraph, until the next whole, that are in the same unit (or,
    unit-less, written ``label: N``); after a full stop a part must start with ``Số ...`` or
    ``Trong đó``.  A part labelled ``còn``, ``còn lại``, ``chưa`` is a ``remainder``; parts of a
    whole opened by ``chi tiết`` / ``gồm`` / ``bao gồm`` / ``cụ thể`` are a ``breakdown`` and are
    expected to add up to it.  A ratio inside a whole's clauses (``trong đó: 2076 hồ sơ trực
    tuyến/2076 hồ sơ tiếp nhận``) is the same statement, not a second one.
``count_rate``
    a count followed by its stated rate with no whole given: ``trực tuyến 1.100 hồ sơ, đạt
    88%``.  When an earlier count of the same sentence and unit gives that rate
    (``tiếp nhận 1.250 hồ sơ, trực tuyến 1.100 hồ sơ, đạt 88%``) it becomes the denominator.
``rate``
    a percentage tied to a measure and not attached to any count: ``nộp hồ sơ trực tuyến đạt
    tỷ lệ 47,41%``, ``80% thủ tục hành chính áp dụng dịch vụ công trực tuyến toàn trình``.
    Changes (``tăng 5%``, ``giảm 3% so với cùng kỳ``) are not statements.

**Stated rates** attach to the ratio or count they follow when only connecting words stand
between (``, đạt``, ``, tỷ lệ``, ``(``, words of the statement's own label such as ``hồ sơ
trực tuyến``), or to the ratio that follows them in brackets (``đạt 99% (99/100)``).

**denominator_kind**: ``target`` when the denominator (or the words after a bare rate) is named
``chỉ tiêu``, ``kế hoạch``, ``được giao``, ``mục tiêu``; for a bare rate also when it is a goal
- its sentence opens with a goal word (``phấn đấu``, ``đảm bảo``, ``tối thiểu``, ``đến hết
năm`` ...), or it stands in a plan (a ``KẾ HOẠCH`` document, a ``PHƯƠNG HƯỚNG, NHIỆM VỤ``
section) and the sentence does not say ``đã`` / ``đạt được``.  Plan targets such as seed 003's
``Phấn đấu ... 80% thủ tục hành chính ...`` are therefore bare rates with kind ``target``.
``other`` when numerator and denominator are counted in different units, and for a bare rate
reported as a result.  ``total`` otherwise.

**scope**: ``month`` when the sentence or its heading says ``trong tháng``, ``trong kỳ``,
``kỳ báo cáo``; ``cumulative`` when it says ``lũy kế``, ``tính đến``, ``từ đầu năm``, ``đến
nay``, ``đến hết``; otherwise the mapped indicator decides (flow -> ``month``, stock ->
``cumulative``), then the other statements of the same whole; else ``unknown``.

**line_no** is the line of the numerator (for a bare rate, of the percentage).

>>> lines = ["3.2. Đăng ký khai tử: Tổng số tiếp nhận: 1365 hồ sơ; trong đó: 1363 hồ sơ trực tuyến/1365 hồ sơ tiếp nhận, tỷ lệ 100%."]
>>> [(s.numerator, s.denominator, s.reported_rate_pct, s.service_code) for s in extract_statements(lines)]
[(1363, 1365, Decimal('100'), 'DV13')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from ingest.narrative.header import ReportHeader, detect_document_kind, read_header
from ingest.narrative.mapping import map_statement
from ingest.narrative.paragraphs import Paragraph, build_paragraphs, is_heading, is_list_item
from ingest.narrative.readers import NarrativeError
from ingest.narrative.vocabulary import GOAL_CUES, TARGET_WORDS, find_unit, first_unit_in, match_key
from ingest.numbers import NumberFormatError, parse_count, parse_rate
from ingest.registry import Registry, load_registry

__all__ = ["NarrativeError", "Statement", "extract_statements"]

DenominatorKind = Literal["total", "target", "other"]
Scope = Literal["month", "cumulative", "unknown"]
Relation = Literal["ratio", "part", "breakdown", "remainder", "count_rate", "rate"]

JSON_KEYS = (
    "line_no", "numerator", "denominator", "reported_rate_pct", "computed_rate_pct",
    "denominator_kind", "scope", "subject", "count_unit", "indicator_code", "service_code", "snippet",
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

_NUM = r"\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,3}(?:,\d{3}){2,}(?!\d)|\d+"
_WORDS = r"(?:[ ]?[^\W\d_]+)"
_PCT = re.compile(r"(?<![\d.,])(?P<v>\d+(?:[.,]\d+)?)[ ]?%")
_COUNT = re.compile(rf"(?<![\w.,/\-–])(?P<v>{_NUM})(?![\d/])(?![.,]\d)(?!-[^\W\d_])")
_RATIO_SLASH = re.compile(
    rf"(?<![\w.,/\-–])(?P<a>{_NUM})(?!\d)(?![.,]\d)(?P<aw>{_WORDS}{{0,6}}?)[ ]?/[ ]?(?P<b>{_NUM})(?!\d)(?![.,]\d)"
)
_RATIO_WORDS = re.compile(
    rf"(?<![\w.,/\-–])(?P<a>{_NUM})(?![\d/])(?![.,]\d)(?P<aw>{_WORDS}{{0,8}}?)[ ,]*\(?[ ]*"
    r"(?P<conn>trên tổng số|trong tổng số|trên tổng|/ ?tổng số|so với chỉ tiêu|so với kế hoạch"
    r"|/ ?chỉ tiêu|/ ?kế hoạch|trên|chỉ tiêu|kế hoạch)"
    rf"(?P<bw>{_WORDS}{{0,4}}?)[ ]*:?[ ]*(?P<b>{_NUM})(?![\d/])(?![.,]\d)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’)\]]|[⁰¹²³⁴⁵⁶⁷⁸⁹])*\s+(?=[A-ZĐÀ-Ỹ(\-–•+])")
_CLAUSE_END = re.compile(r"[;]\s*")
_RATE_WORD = r"(?:t[ỷỉýiy]\s?l[ệêeểẹ])"
_GAP_WORDS = frozenset(
    "đạt tỷ tỉ tý ty lệ le lê lể là bằng chiếm tương ứng đương khoảng gần hơn trên xấp xỉ so với "
    "kế hoạch chỉ tiêu tổng số và hoàn thành được có trong đó đề ra giao".split()
)
_EXCLUDE_PREV = frozenset(
    "ngày tháng năm quý quí khoản điều mức lần thứ lớp chương mục lục đoạn đợt kỳ khóa khoá hình "
    "hạng tuổi trang tầng tổ đội cấp_độ phụ_lục nghị_quyết".split()
)
_EXCLUDE_NEXT = re.compile(
    r"^\s?(?:tuổi|giờ|phút|ngày|tháng|năm|đồng|triệu|tỷ|tỉ|nghìn|ngàn|km|m|ha|kg|tấn|lần|giây|người/|°)(?!\w)",
    re.IGNORECASE,
)
_TIME_PREV = frozenset("ngày tháng năm quý quí số lúc khoản điều".split())
_WHOLE_WORD = re.compile(r"(?<!\w)(?:tổng số|tổng cộng|tổng)(?!\w)")
_TARGET_LABEL = re.compile(r"^(?:chỉ tiêu|kế hoạch|mục tiêu)(?!\w)")
_REMAINDER = re.compile(r"(?<!\w)(?:còn lại|còn phải|còn tồn|còn|chưa|tồn đọng)(?!\w)")
_OPENER = re.compile(
    r"^\s*[,;:.]?\s*\(?\s*(?P<w>trong đó|trong số đó|gồm|bao gồm|chi tiết|cụ thể|chia ra)(?!\w)", re.IGNORECASE
)
_EXHAUSTIVE = frozenset({"gồm", "bao gồm", "chi tiết", "cụ thể", "chia ra"})
_CHANGE_BEFORE = re.compile(r"(?<!cắt )(?<!cắt)(?:tăng|giảm)(?:\s+(?:thêm|lên|xuống|còn|khoảng|gần|hơn|trên))?\s*$")
_CHANGE_AFTER = re.compile(r"^\s*so với\s+(?:cùng kỳ|tháng trước|năm trước|kỳ trước|cùng thời điểm|đầu năm)")
_MONTH_MARKERS = re.compile(r"(?<!\w)(?:trong tháng|tháng này|trong kỳ|kỳ báo cáo|tháng qua)(?!\w)")
_CUMULATIVE_MARKERS = re.compile(
    r"(?<!\w)(?:lũy kế|luỹ kế|tính đến|tính từ|từ đầu năm|đến nay|đến thời điểm|từ khi triển khai|đến hết|"
    r"từ trước đến nay)(?!\w)"
)
_ACHIEVED = re.compile(r"(?<!\w)(?:đã|đạt được|kết quả|hiện nay|đến nay|lũy kế)(?!\w)")
_GOAL_HEADING = re.compile(r"PHƯƠNG HƯỚNG|NHIỆM VỤ.*(?:TỚI|TIẾP THEO|TRỌNG TÂM|THÁNG \d)|KẾ HOẠCH|GIẢI PHÁP")
_RESULT_HEADING = re.compile(r"KẾT QUẢ|TÌNH HÌNH")
_LABEL_STOP = frozenset("đạt tỷ tỉ tý ty chiếm bằng tương theo trong so là và với tại của".split())
_LEAD_VERBS = re.compile(
    r"^(?:(?:tiếp tục|duy trì|thực hiện|triển khai|đẩy mạnh|việc|kết quả|qua đó|trong đó|đồng thời|"
    r"sở|sau đó|hiện nay|đến nay|đã|được)\s+)+",
    re.IGNORECASE,
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
    label_after: str
    label_end: int
    colon_form: bool
    is_whole: bool = False
    opener: str | None = None
    is_remainder: bool = False
    whole_unit: str | None = None
    scope_end: int = 0


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
    extra_context: list[str] = field(default_factory=list)


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
    words = re.findall(r"[^\W\d_]+", text[max(0, pos - 40) : pos])
    return [w.lower() for w in words[-n:]]


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


def _label_before(text: str, pos: int) -> tuple[str, bool]:
    """The label written before a number (``Tổng số tiếp nhận`` in ``Tổng số tiếp nhận: 2076``)."""
    s = text[:pos].rstrip()
    colon = False
    m = re.search(r"(?:[:=]|(?<!\w)là|(?<!\w)có|(?<!\w)gồm)\s*$", s)
    if m:
        colon = True
        s = s[: m.start()].rstrip()
    cut = max(s.rfind(ch) for ch in ";:()")
    sent = _sentence_start(text, len(s))
    cut = max(cut + 1, sent)
    label = s[cut:].strip(" ,-–")
    # A label stops at the previous number: "... 2076 hồ sơ trực tuyến" is not "trực tuyến"'s label.
    nums = list(re.finditer(r"\d", label))
    if nums:
        label = label[nums[-1].end() :]
        label = re.sub(r"^[^\W\d_]*\s*", "", label, count=1) if label[:1].isalpha() else label
        label = label.strip(" ,-–")
    label = re.sub(r"^(?:\d+(?:\.\d+)*[.)]\s*|[-–+•]\s*|\(\d+\)\s*|[a-zđ]\)\s*)", "", label)
    return label[-160:].strip(), colon


def _gap_ok(gap: str, own_words: set[str]) -> bool:
    if re.search(r"[\d.;]", gap):
        return False
    words = re.findall(r"[^\W\d_]+", gap.lower())
    return all(w in _GAP_WORDS or w in own_words for w in words) and len(gap) <= 70


def _attach_after(text: str, pos: int, pcts: list[_Pct], own: str) -> _Pct | None:
    own_words = {w.lower() for w in re.findall(r"[^\W\d_]+", own)}
    for p in pcts:
        if p.start < pos:
            continue
        if p.used or not _gap_ok(text[pos : p.start], own_words):
            return None
        return p
    return None


def _attach_before(text: str, pos: int, pcts: list[_Pct]) -> _Pct | None:
    for p in reversed(pcts):
        if p.end > pos:
            continue
        gap = text[p.end : pos]
        if not p.used and re.fullmatch(r"\s*[(:\-–]\s*", gap):
            return p
        return None
    return None


def _kind_for(label: str) -> DenominatorKind:
    key = match_key(label)
    return "target" if any(w in key for w in TARGET_WORDS) else "total"


def _computed(num: int | None, den: int | None) -> Decimal | None:
    if num is None or not den:
        return None
    return (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _trim_subject(text: str, max_words: int = 14) -> str:
    s = text.strip(" ,;:-–()")
    s = _LEAD_VERBS.sub("", s).strip(" ,;:-–")
    words = s.split()
    if len(words) > max_words:
        words = words[-max_words:]
    return " ".join(words)


# --------------------------------------------------------------------------- paragraph scan


def _find_ratios(text: str, pcts: list[_Pct]) -> list[_Ratio]:
    found: list[_Ratio] = []
    candidates = [(m, "slash") for m in _RATIO_SLASH.finditer(text)] + [
        (m, "words") for m in _RATIO_WORDS.finditer(text)
    ]
    candidates.sort(key=lambda c: (c[0].start(), c[1] != "slash"))
    taken_until = -1
    for m, form in candidates:
        if m.start() < taken_until:
            continue
        a_txt, b_txt = m.group("a"), m.group("b")
        a, b = _count(a_txt), _count(b_txt)
        if a is None or b is None:
            continue
        aw = m.group("aw").strip()
        a_unit_found = find_unit(aw) if aw else None
        if aw and (a_unit_found is None or a_unit_found[1] < len(aw) and form == "slash" and False):
            continue
        if aw and a_unit_found is None:
            continue
        a_unit = a_unit_found[0] if a_unit_found else None
        a_label = aw[a_unit_found[1] :].strip() if a_unit_found else ""
        prev = _prev_words(text, m.start(), 1)
        if prev and prev[0] in _TIME_PREV and not (prev[0] == "số" and _prev_words(text, m.start(), 2)[0] == "tổng"):
            continue
        b_end = m.end("b")
        rest = text[b_end:]
        if rest.startswith("/") or re.match(r"-[^\W\d_]", rest):
            continue
        if form == "words":
            conn = m.group("conn").lower()
            bw = m.group("bw").strip().lower()
            if conn == "trên" and bw and not bw.startswith("tổng"):
                continue
            if re.search(r"(?<!tổng )(?<!\w)số$", bw) or re.search(r"(?<!\w)(?:năm|tháng|ngày|quý)(?!\w)", bw):
                continue
            if conn in ("chỉ tiêu", "kế hoạch") and not aw:
                continue
        b_unit_found = find_unit(rest)
        if rest[:1].isalpha() and b_unit_found is None:
            continue  # 220/380V, 06/CP
        b_unit = b_unit_found[0] if b_unit_found else None
        label_start = b_end + (b_unit_found[1] if b_unit_found else 0)
        b_label, end = _words_after(text, label_start)
        if b_unit is None and b_label and form == "slash":
            b_label = ""
            end = label_start
        # Month/year written as a ratio: "8/2025" without a unit.
        if a <= 12 and 1900 <= b <= 2100 and b_unit is None:
            continue
        own = " ".join(x for x in (aw, b_unit or "", b_label) if x)
        rate = _attach_after(text, end, pcts, own) or _attach_before(text, m.start(), pcts)
        cue = re.search(rf"(?:đạt|{_RATE_WORD}|là)\s*[:]?\s*$", text[max(0, m.start() - 20) : m.start()], re.IGNORECASE)
        if a_unit is None and b_unit is None and rate is None and not cue:
            continue
        kind: DenominatorKind
        conn_text = m.group("conn") if form == "words" else ""
        bw_text = m.group("bw") if form == "words" else ""
        if _kind_for(" ".join((conn_text, bw_text, b_label))) == "target":
            kind = "target"
        elif a_unit and b_unit and a_unit != b_unit:
            kind = "other"
        else:
            kind = "total"
        if rate is not None:
            rate.used = True
            end = max(end, rate.end) if rate.start > m.start() else end
        found.append(
            _Ratio(
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
            )
        )
        taken_until = b_end
    return found


def _find_mentions(text: str, blocked: list[tuple[int, int]]) -> list[_Mention]:
    mentions: list[_Mention] = []
    for m in _COUNT.finditer(text):
        start, end = m.start(), m.end()
        if any(s <= start < e for s, e in blocked):
            continue
        value = _count(m.group("v"))
        if value is None:
            continue
        if start > 0 and text[start - 1] == "(" and text[end : end + 1] == ")":
            continue  # (1) list marker
        if start == 0 and text[end : end + 1] in ".)":
            continue
        prev = _prev_words(text, start, 2)
        if prev and prev[-1] in _EXCLUDE_PREV and not (prev[-1] == "số" and len(prev) > 1 and prev[0] == "tổng"):
            continue
        if prev and prev[-1] == "số" and not (len(prev) > 1 and prev[0] == "tổng"):
            continue
        if _EXCLUDE_NEXT.match(text[end:]):
            continue
        unit_found = find_unit(text[end:])
        if text[end : end + 1].isalpha() and unit_found is None:
            continue  # 5G, 220V
        unit = unit_found[0] if unit_found else None
        unit_end = end + (unit_found[1] if unit_found else 0)
        label_after, label_end = _words_after(text, unit_end) if unit else ("", unit_end)
        label_before, colon = _label_before(text, start)
        mention = _Mention(
            start=start,
            end=end,
            value=value,
            unit=unit,
            unit_end=unit_end,
            label_before=label_before,
            label_after=label_after,
            label_end=label_end,
            colon_form=colon,
        )
        key = match_key(label_before)
        mention.is_remainder = bool(_REMAINDER.search(key)) or bool(_REMAINDER.search(match_key(label_after)))
        opener = _OPENER.match(text[label_end:])
        if opener:
            mention.opener = opener.group("w").lower()
        elif text[label_end:].lstrip().startswith("("):
            mention.opener = "("
        has_whole_word = bool(_WHOLE_WORD.search(key)) or bool(_TARGET_LABEL.match(key))
        mention.is_whole = (has_whole_word and not mention.is_remainder) or (
            mention.opener is not None and mention.opener != "("
        )
        mention.whole_unit = unit or first_unit_in(label_before)
        mentions.append(mention)
    return mentions


def _same_sentence(text: str, a: int, b: int) -> bool:
    return _SENTENCE_END.search(text, a, b) is None


def _scan_paragraph(text: str, goal: bool) -> list[_Raw]:
    pcts = [
        _Pct(m.start(), m.end(), r)
        for m in _PCT.finditer(text)
        if (r := _rate(m.group("v"))) is not None
    ]
    ratios = _find_ratios(text, pcts)
    blocked = [(r.a_start, r.end) for r in ratios] + [(p.start, p.end) for p in pcts]
    mentions = _find_mentions(text, blocked)

    # Wholes and their scopes.
    wholes = [w for w in mentions if w.is_whole]
    for i, w in enumerate(wholes):
        nxt = wholes[i + 1].start if i + 1 < len(wholes) else len(text)
        w.scope_end = nxt
    # "tiếp nhận 120 hồ sơ (trực tuyến 100 hồ sơ)": a bracket opens a whole only for its content.
    for mention in mentions:
        if mention.opener == "(" and not mention.is_whole:
            close = text.find(")", mention.label_end)
            inner = [
                x for x in mentions
                if mention.label_end < x.start < (close if close > 0 else len(text)) and x.unit
                and x.unit == mention.unit
            ]
            if inner and mention.unit:
                mention.is_whole = True
                mention.scope_end = close if close > 0 else len(text)

    raws: list[_Raw] = []

    def whole_for(pos: int) -> _Mention | None:
        best = None
        for w in mentions:
            if w.is_whole and w.label_end <= pos < w.scope_end:
                best = w
        return best

    # Ratios.
    for r in ratios:
        w = whole_for(r.a_start)
        if w is not None and (w.whole_unit is None or r.a_unit in (None, w.whole_unit)):
            r.group = w
        label = r.a_label and f"{r.a_unit or ''} {r.a_label}".strip() or ""
        if not label:
            before = text[_clause_start(text, r.a_start) : r.a_start]
            label = _trim_subject(re.sub(rf"(?:đạt|{_RATE_WORD}|là)\s*[:]?\s*$", "", before.strip(), flags=re.IGNORECASE))
        raws.append(
            _Raw(
                anchor=r.a_start,
                numerator=r.a,
                denominator=r.b,
                rate=r.rate.value if r.rate else None,
                kind=r.kind,
                relation="ratio",
                label=label,
                unit=r.a_unit or r.b_unit or first_unit_in(label),
                snippet_start=_clause_start(text, r.group.start if r.group else r.start),
                snippet_end=r.end,
                group=r.group,
                denominator_label=" ".join(x for x in (r.b_unit or "", r.b_label) if x) or None,
            )
        )

    # Parts of wholes, and counts with their own stated rate.
    for mnt in mentions:
        w = whole_for(mnt.start)
        part_of: _Mention | None = None
        if w is not None and w is not mnt and not mnt.is_whole and mnt.start > w.start:
            unit_ok = (
                (mnt.unit is not None and (w.whole_unit is None or mnt.unit == w.whole_unit))
                or (mnt.unit is None and mnt.colon_form
                    and (w.whole_unit is None or first_unit_in(mnt.label_before) in (None, w.whole_unit)))
            )
            if unit_ok and not _same_sentence(text, w.end, mnt.start):
                key = match_key(mnt.label_before)
                unit_ok = bool(re.match(r"^(?:số|trong đó|trong số đó)(?!\w)", key))
            if unit_ok:
                part_of = w
        own = " ".join(x for x in (mnt.unit or "", mnt.label_after, mnt.label_before) if x)
        rate = _attach_after(text, mnt.label_end, pcts, own)
        if rate is not None and (part_of is not None or not mnt.is_whole or True):
            rate.used = True
        if part_of is not None:
            relation: Relation = "remainder" if mnt.is_remainder else (
                "breakdown" if part_of.opener in _EXHAUSTIVE else "part"
            )
            label = " ".join(x for x in (mnt.label_before, mnt.unit if not mnt.label_before else "", mnt.label_after) if x)
            raws.append(
                _Raw(
                    anchor=mnt.start,
                    numerator=mnt.value,
                    denominator=part_of.value,
                    rate=rate.value if rate else None,
                    kind="target" if _TARGET_LABEL.match(match_key(part_of.label_before)) else _kind_for(part_of.label_before),
                    relation=relation,
                    label=_trim_subject(label),
                    unit=mnt.unit or part_of.whole_unit,
                    snippet_start=_clause_start(text, part_of.start),
                    snippet_end=rate.end if rate else mnt.label_end,
                    group=part_of,
                    denominator_label=_trim_subject(
                        " ".join(x for x in (part_of.label_before, part_of.unit or "") if x)
                    ),
                )
            )
        elif rate is not None:
            # A count with its own rate; an earlier count of the same sentence and unit that
            # gives this rate is its denominator.
            den: _Mention | None = None
            for prev in mentions:
                if prev.start >= mnt.start or not _same_sentence(text, prev.start, mnt.start):
                    continue
                if prev.value and prev.unit == mnt.unit and abs(
                    Decimal(mnt.value) * 100 / Decimal(prev.value) - rate.value
                ) <= Decimal("0.6"):
                    den = prev
            after = text[rate.end : rate.end + 30]
            kind: DenominatorKind = "target" if _kind_for(after[:20]) == "target" else "total"
            label = " ".join(x for x in (mnt.label_before, mnt.unit or "", mnt.label_after) if x)
            raws.append(
                _Raw(
                    anchor=mnt.start,
                    numerator=mnt.value,
                    denominator=den.value if den else None,
                    rate=rate.value,
                    kind=kind,
                    relation="count_rate",
                    label=_trim_subject(label),
                    unit=mnt.unit,
                    snippet_start=_clause_start(text, den.start if den else mnt.start),
                    snippet_end=rate.end,
                    denominator_label=_trim_subject(f"{den.label_before} {den.unit or ''}") if den else None,
                )
            )

    # Bare rates.
    for p in pcts:
        if p.used:
            continue
        before = text[_clause_start(text, p.start) : p.start]
        if _CHANGE_BEFORE.search(before.lower()) or _CHANGE_AFTER.match(text[p.end :].lower()):
            continue
        after_phrase, after_end = _rate_measure_after(text, p.end)
        sentence_before = text[_sentence_start(text, p.start) : p.start]
        label = _rate_measure_before(before)
        if not label:
            label = after_phrase
        if not label:
            continue
        after_key = match_key(text[p.end : p.end + 25])
        is_goal = _is_goal(sentence_before, goal)
        kind: DenominatorKind  # type: ignore[no-redef]
        if re.match(r"^\s*(?:chỉ tiêu|kế hoạch|kh|mục tiêu)(?!\w)", after_key):
            kind = "target"
        elif re.match(r"^\s*(?:trên\s+)?tổng(?:\s+số)?(?!\w)", after_key):
            kind = "total"
        else:
            kind = "target" if is_goal else "other"
        unit = first_unit_in(after_phrase, max_words=3) or first_unit_in(label)
        raws.append(
            _Raw(
                anchor=p.start,
                numerator=None,
                denominator=None,
                rate=p.value,
                kind=kind,
                relation="rate",
                label=_trim_subject(label),
                unit=unit,
                snippet_start=_clause_start(text, p.start),
                snippet_end=max(p.end, after_end if label == after_phrase else p.end),
                goal=is_goal,
            )
        )
    raws.sort(key=lambda r: r.anchor)
    return raws


def _rate_measure_before(before: str) -> str:
    """``nộp hồ sơ trực tuyến đạt tỷ lệ`` -> ``nộp hồ sơ trực tuyến``; ``tỷ lệ X đạt`` -> ``X``."""
    s = before.rstrip()
    s = re.sub(r"(?:\s*(?:từ|trên|dưới|khoảng|gần|hơn|tối thiểu|ít nhất|không dưới|xấp xỉ))+\s*$", "", s, flags=re.I)
    m = re.search(rf"{_RATE_WORD}\s+(?P<x>[^,;:()]*?)\s*(?:đạt|là|:|=)?\s*$", s, re.IGNORECASE)
    if m and m.group("x").strip() and not re.fullmatch(r"(?:đạt|là)", m.group("x").strip(), re.I):
        return m.group("x")
    m = re.search(rf"(?P<x>[^,;:()]*?)\s*(?:đạt|chiếm|bằng|hoàn thành)\s*(?:{_RATE_WORD})?\s*[:]?\s*$", s, re.IGNORECASE)
    if m and m.group("x").strip():
        return m.group("x")
    m = re.search(rf"(?P<x>[^,;:()]*?)\s*{_RATE_WORD}\s*(?:đạt|là|:|=)?\s*$", s, re.IGNORECASE)
    if m and m.group("x").strip():
        return m.group("x")
    return ""


def _rate_measure_after(text: str, pos: int) -> tuple[str, int]:
    """The noun phrase a percentage applies to: ``80% thủ tục hành chính áp dụng ...``."""
    m = re.match(r"[⁰¹²³⁴⁵⁶⁷⁸⁹\s]*(?P<x>[^\W\d_][^,;:.()\n]*)", text[pos:])
    if not m:
        return "", pos
    phrase = m.group("x")
    words = phrase.split()
    if not words or words[0].lower() in {"so", "và", "trong", "theo", "với", "là", "của"}:
        return "", pos
    words = words[:14]
    kept = " ".join(words)
    return kept, pos + m.start("x") + len(kept)


def _is_goal(sentence_before: str, goal_mode: bool) -> bool:
    key = match_key(sentence_before)
    cue_at = max((key.rfind(c) for c in GOAL_CUES), default=-1)
    if cue_at >= 0 and not _ACHIEVED.search(key[cue_at:]):
        return True
    return goal_mode and not _ACHIEVED.search(key)


# --------------------------------------------------------------------------- public API


def _heading_text(p: Paragraph) -> str | None:
    words = p.text.split()
    if is_heading(p.text) or (
        len(words) <= 20 and (is_list_item(p.text) or p.text.endswith(":")) and not re.search(r"\d[.,]?\d*\s*%", p.text)
        and not p.text.endswith(".")
    ):
        return p.text
    return None


def _labels_before(text: str, pos: int) -> list[str]:
    """``Label:`` phrases before ``pos``, nearest first (``3.1. Đăng ký khai sinh: ...``)."""
    out: list[str] = []
    for m in re.finditer(r"(?:^|[:;.(]\s*)(?P<l>[^:;.()]{2,140}?)\s*:", text[:pos]):
        label = re.sub(r"^(?:\d+(?:\.\d+)*[.)]?\s*|[-–+•*]\s*|\([\d\w]\)\s*)", "", m.group("l")).strip()
        if label:
            out.append(label)
    return list(reversed(out))


def _scope_of(*texts: str) -> Scope | None:
    for t in texts:
        key = match_key(t)
        month = _MONTH_MARKERS.search(key)
        cumul = _CUMULATIVE_MARKERS.search(key)
        if month and cumul:
            return "month" if month.start() > cumul.start() else "cumulative"
        if month:
            return "month"
        if cumul:
            return "cumulative"
    return None


def _snippet(text: str, start: int, end: int, limit: int = 320) -> str:
    end = max(end, start)
    # Finish the word the statement ends in.
    m = re.match(r"[^\s,;]*", text[end:])
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

    >>> s = next(extract_statements(["Đã cấp 1.584.959tài khoản/1.030.000 tài khoản chỉ tiêu, đạt 153,88%."]))
    >>> (s.numerator, s.denominator, s.reported_rate_pct, s.denominator_kind, s.indicator_code)
    (1584959, 1030000, Decimal('153.88'), 'target', 'VNEID_REGISTERED')
    """
    reg = registry if registry is not None else load_registry()
    head = header if header is not None else read_header(lines, reg)
    kind, _ = detect_document_kind(lines)
    goal_mode = kind in ("KẾ HOẠCH", "CHƯƠNG TRÌNH")
    paragraphs = build_paragraphs(lines)
    headings: list[str] = []
    statements: list[Statement] = []
    group_scopes: dict[str, list[Scope]] = {}
    for para in paragraphs:
        text = para.text
        if is_heading(text):
            if _RESULT_HEADING.search(text):
                goal_mode = False
            elif _GOAL_HEADING.search(text):
                goal_mode = True
        heading = _heading_text(para)
        raws = _scan_paragraph(text, goal_mode)
        group_ids: dict[int, str] = {}
        for raw in raws:
            group_id = None
            if raw.group is not None:
                gid = id(raw.group)
                if gid not in group_ids:
                    group_ids[gid] = f"L{para.line_at(raw.group.start)}:{len(group_ids)}"
                group_id = group_ids[gid]
            sent_start = _sentence_start(text, raw.anchor)
            sentence = text[sent_start : _sentence_end(text, raw.anchor)]
            snippet = _snippet(text, raw.snippet_start, raw.snippet_end)
            labels = _labels_before(text, raw.anchor)
            lead = labels[-1] if labels else ""
            surroundings = " ".join([*headings[-2:], text])
            mapping = map_statement(
                label=" ".join(x for x in (raw.label, raw.unit or "") if x),
                sentence=snippet if raw.relation != "rate" else sentence,
                surroundings=surroundings,
                count_unit=raw.unit,
                service_texts=[raw.label, *labels[:3], lead, *reversed(headings[-2:])],
                role=head.unit_role,
                registry=reg,
            )
            indicator = mapping.indicator_code if raw.relation != "remainder" else None
            service = mapping.service_code if indicator else None
            scope = _scope_of(snippet, sentence, *(headings[-1:]))
            if scope is None and indicator is not None:
                scope = "month" if reg.indicators[indicator].measure_type == "flow" else "cumulative"
            subject = raw.label or (raw.unit or "")
            if service and service != "NA" and indicator:
                svc_name = reg.services[service].name_vi
                if match_key(svc_name) not in match_key(subject):
                    subject = f"{lead or svc_name}: {subject}" if lead and len(lead) < 120 else f"{svc_name}: {subject}"
            statement = Statement(
                line_no=para.line_at(raw.anchor),
                numerator=raw.numerator,
                denominator=raw.denominator,
                reported_rate_pct=raw.rate,
                computed_rate_pct=_computed(raw.numerator, raw.denominator),
                denominator_kind=raw.kind,
                scope=scope or "unknown",
                subject=subject,
                count_unit=raw.unit,
                indicator_code=indicator,
                service_code=service,
                snippet=snippet,
                confidence=mapping.confidence if indicator else 0.0,
                relation=raw.relation,
                group_id=group_id,
                group_total=raw.group.value if raw.group is not None else None,
                denominator_label=raw.denominator_label,
            )
            if group_id is not None and scope is not None:
                group_scopes.setdefault(group_id, []).append(scope)
            statements.append(statement)
        if heading:
            headings.append(heading)
    for st in statements:
        if st.scope == "unknown" and st.group_id in group_scopes:
            scopes = group_scopes[st.group_id]
            st = Statement(**{**st.__dict__, "scope": scopes[0]})
        yield st
