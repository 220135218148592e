"""Who sent a narrative report, for which province and which month: read from the report itself.

* **Unit role**, first match wins: the sender block above the title (``SỞ TƯ PHÁP``,
  ``ỦY BAN NHÂN DÂN`` / ``TỈNH AN GIANG``; the most specific unit in it); the sender's code at
  the end of the document number (``Số: 12/BC-STP`` -> ``STP``); a sentence in which a unit
  reports (``Sở Tư pháp báo cáo ...``).  Unit names come from ``units.csv`` with the province
  left out (so ``Sở Tư pháp tỉnh An Giang`` also finds ``Sở Tư pháp`` of any province), plus
  the names departments had before the 2025 mergers.  People's committees give ``province``,
  ``district`` or ``commune``.
* **Period** (``YYYY-MM``): the first month named in the title (the line after ``BÁO CÁO``):
  ``tháng 3 năm 2026``, ``tháng 02/2026``; in ``tháng 02 và phương hướng ... tháng 03 năm
  2026`` the reported month is 02 and the year is the next one named.  A title about a quarter
  or half year (``6 tháng cuối năm 2025``) has no period.  Failing the title, the first
  sentence that reports on a month (``báo cáo ... tháng 02/2026``).  The issue date
  (``An Giang, ngày ... tháng 3 năm 2026``) is never used: it is when, not what.
* **Province**: the place of the issue date when it is a province (``An Giang, ngày ...``),
  else the first ``tỉnh X`` / ``thành phố X`` in the sender block, title and body.

>>> h = read_header(["Số: /BC-STP", "An Giang, ngày 5 tháng 4 năm 2026", "BÁO CÁO",
...                  "Kết quả thực hiện Đề án 06 tháng 3 năm 2026"], load_registry())
>>> (h.unit_role, h.province_name, h.period)
('STP', 'An Giang', '2026-03')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.narrative.paragraphs import build_paragraphs, clean_line, is_heading
from ingest.narrative.vocabulary import match_key
from ingest.registry import Registry, load_registry

__all__ = ["DOCUMENT_KINDS", "ReportHeader", "detect_document_kind", "read_header"]

DOCUMENT_KINDS = ("BÁO CÁO", "KẾ HOẠCH", "CHƯƠNG TRÌNH", "CÔNG VĂN", "TỜ TRÌNH", "THÔNG BÁO")

# Provinces and centrally-governed cities, current (2025) and former names.
PROVINCES = (
    "An Giang",
    "Bà Rịa - Vũng Tàu",
    "Bà Rịa-Vũng Tàu",
    "Bạc Liêu",
    "Bắc Giang",
    "Bắc Kạn",
    "Bắc Ninh",
    "Bến Tre",
    "Bình Dương",
    "Bình Định",
    "Bình Phước",
    "Bình Thuận",
    "Cà Mau",
    "Cao Bằng",
    "Cần Thơ",
    "Đà Nẵng",
    "Đắk Lắk",
    "Đắk Nông",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Giang",
    "Hà Nam",
    "Hà Nội",
    "Hà Tĩnh",
    "Hải Dương",
    "Hải Phòng",
    "Hậu Giang",
    "Hòa Bình",
    "Hồ Chí Minh",
    "Huế",
    "Hưng Yên",
    "Khánh Hòa",
    "Kiên Giang",
    "Kon Tum",
    "Lai Châu",
    "Lạng Sơn",
    "Lào Cai",
    "Lâm Đồng",
    "Long An",
    "Nam Định",
    "Nghệ An",
    "Ninh Bình",
    "Ninh Thuận",
    "Phú Thọ",
    "Phú Yên",
    "Quảng Bình",
    "Quảng Nam",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sóc Trăng",
    "Sơn La",
    "Tây Ninh",
    "Thái Bình",
    "Thái Nguyên",
    "Thanh Hóa",
    "Thừa Thiên Huế",
    "Tiền Giang",
    "Trà Vinh",
    "Tuyên Quang",
    "Vĩnh Long",
    "Vĩnh Phúc",
    "Yên Bái",
)
_PROVINCE_BY_KEY = {match_key(p): p for p in PROVINCES}

# Names departments had before the July 2025 mergers, and common short forms, by role.
_EXTRA_UNIT_NAMES = {
    "CAT": ["Công an tỉnh", "Công an thành phố"],
    "STP": ["Sở Tư pháp"],
    "SYT": ["Sở Y tế"],
    "SGDDT": ["Sở Giáo dục và Đào tạo", "Sở GD&ĐT", "Sở GDĐT"],
    "SKHCN": ["Sở Khoa học và Công nghệ", "Sở KH&CN", "Sở Thông tin và Truyền thông"],
    "STC": ["Sở Tài chính", "Sở Kế hoạch và Đầu tư"],
    "SNV": ["Sở Nội vụ", "Sở Lao động - Thương binh và Xã hội", "Sở Lao động-Thương binh và Xã hội"],
    "SNNMT": ["Sở Nông nghiệp và Môi trường", "Sở Tài nguyên và Môi trường", "Sở Nông nghiệp và Phát triển nông thôn"],
    "SXD": ["Sở Xây dựng", "Sở Giao thông vận tải"],
    "SCT": ["Sở Công Thương"],
    "VPUB": ["Văn phòng Ủy ban nhân dân tỉnh", "Văn phòng UBND tỉnh", "Văn phòng UBND"],
    "TTPVHCC": ["Trung tâm Phục vụ hành chính công"],
    "BHXH": ["Bảo hiểm xã hội tỉnh", "Bảo hiểm xã hội thành phố", "BHXH tỉnh"],
    "THUE": ["Thuế tỉnh", "Cục Thuế", "Thuế thành phố"],
}
# The sender code in a document number may be spelt differently from the role code.
_DOC_CODE_ALIASES = {
    "SGDĐT": "SGDDT",
    "SGD&ĐT": "SGDDT",
    "SKH&CN": "SKHCN",
    "VP": "VPUB",
    "VPUBND": "VPUB",
    "CA": "CAT",
    "CT": "THUE",
    "TTHCC": "TTPVHCC",
}
_COMMITTEE = re.compile(
    r"(?:ủy ban nhân dân|ubnd)\s+(?P<level>tỉnh|thành phố|huyện|thị xã|quận|xã|phường|thị trấn|đặc khu)",
)
_LEVEL_ROLE = {
    "tỉnh": "province",
    "thành phố": "province",
    "huyện": "district",
    "thị xã": "district",
    "quận": "district",
    "xã": "commune",
    "phường": "commune",
    "thị trấn": "commune",
    "đặc khu": "commune",
}
_DOC_NUMBER = re.compile(r"^Số\s*:?[^/]*/\s*(?P<kind>[A-ZĐ]{1,6})-(?P<code>[A-ZĐ&]+)", re.IGNORECASE)
_MONTH = re.compile(
    r"(?<!\w)tháng\s+(?P<m>\d{1,2})(?:\s*/\s*(?P<y>\d{4})|(?:\s*năm\s+(?P<y2>\d{4})))?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:năm|/)\s*(\d{4})")
_DATE_PLACE = re.compile(r"^(?P<place>[^\d,]{2,40}),\s*ngày\b", re.IGNORECASE)
_DATE_COMMA = re.compile(r",\s*ngày\b", re.IGNORECASE)
_TINH_X = re.compile(r"(?<!\w)(?:tỉnh|thành phố|TỈNH|THÀNH PHỐ|Tỉnh|Thành phố)(?!\w)")
_REPORTS = re.compile(r"(?P<who>[^.;:,]{3,80}?)\s+(?:xin\s+)?báo cáo(?!\w)(?!\s+(?:định kỳ|về việc))")
_TITLE_STOP = re.compile(r"^(?:Kính gửi|Thực hiện|Căn cứ|I\.|1\.)", re.IGNORECASE)


@dataclass(frozen=True)
class ReportHeader:
    """What the report says about itself."""

    unit_role: str | None
    """``STP``, ``CAT``, ... or ``province`` / ``district`` / ``commune``; ``None`` if unknown."""
    province_name: str | None
    period: str | None
    """``YYYY-MM`` of the month reported on."""
    title_line: str | None
    unit_name: str | None = None
    """The sender as written, e.g. ``Sở Tư pháp``."""
    document_kind: str | None = None
    """``BÁO CÁO``, ``KẾ HOẠCH`` ..."""


def detect_document_kind(lines: Sequence[str]) -> tuple[str | None, int | None]:
    """The document kind line (``BÁO CÁO``, ``KẾ HOẠCH`` ...) near the top, and its 0-based index."""
    seen = 0
    for i, raw in enumerate(lines):
        text = clean_line(raw)
        if not text:
            continue
        seen += 1
        if seen > 40:
            break
        upper = text.upper().rstrip(":. ")
        for kind in DOCUMENT_KINDS:
            if upper == kind or (upper.startswith(kind + " ") and is_heading(text) and len(upper) < 160):
                return kind, i
    return None, None


def _unit_patterns(registry: Registry) -> list[tuple[str, str, str]]:
    """(match_key of a unit name without province, role, display name), longest first."""
    out: dict[str, tuple[str, str]] = {}
    provinces = [
        match_key(u.name_vi.removeprefix("Tỉnh ").replace(" (cũ)", ""))
        for u in registry.units.values()
        if u.kind == "province"
    ]
    for unit in registry.units.values():
        if unit.kind != "department":
            continue
        name = match_key(unit.name_vi.replace(" (cũ)", ""))
        for p in provinces:
            name = name.replace(" " + p, "")
        name = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
        generic = re.sub(r"\s+(tỉnh|thành phố)$", "", name)
        if generic and generic not in out:
            shown = re.sub(r"\s+(tỉnh|thành phố)\s.*$", "", unit.name_vi.replace(" (cũ)", ""))
            out[generic] = (unit.role, shown)
    for role, names in _EXTRA_UNIT_NAMES.items():
        for n in names:
            out.setdefault(match_key(n), (role, n))
    # Bare words like "thuế tỉnh" or "công an" must keep their qualifier to avoid false hits.
    return sorted(((k, r, n) for k, (r, n) in out.items() if len(k) >= 6), key=lambda t: -len(t[0]))


def _role_in(text: str, patterns: list[tuple[str, str, str]]) -> tuple[str, str, int] | None:
    """The first unit named in ``text``: (role, name as matched, end offset in the folded text)."""
    key = match_key(text)
    best: tuple[int, str, str, int] | None = None
    for pkey, role, name in patterns:
        m = re.search(r"(?<!\w)" + re.escape(pkey) + r"(?!\w)", key)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), role, name, m.end())
    m = _COMMITTEE.search(key)
    if m and (best is None or m.start() < best[0]):
        best = (m.start(), _LEVEL_ROLE[m.group("level")], "Ủy ban nhân dân " + m.group("level"), m.end())
    return None if best is None else (best[1], best[2], best[3])


def _only_place_after(who: str, unit_end: int) -> bool:
    """True when nothing but a place name follows the unit: ``Sở Tư pháp (tỉnh An Giang)``."""
    rest_key = match_key(who)[unit_end:]
    words = who.split()[len(who.split()) - len(rest_key.split()) :] if rest_key.strip() else []
    if words and words[0].lower() in ("tỉnh", "thành"):
        words = words[2:] if words[0].lower() == "thành" else words[1:]
    return len(words) <= 4 and all(w[:1].isupper() for w in words)


def _sender_from_block(block: Sequence[str], patterns: list[tuple[str, str, str]]) -> tuple[str, str] | None:
    # The sender block: "UBND TỈNH AN GIANG" / "SỞ TƯ PHÁP".  The last unit named is the most
    # specific (the parent comes first); a committee line may wrap ("ỦY BAN NHÂN DÂN" / "TỈNH X").
    found: tuple[str, str] | None = None
    for i, line in enumerate(block):
        hit = _role_in(line, patterns) or _role_in(" ".join(block[i : i + 2]), patterns)
        if hit:
            found = (hit[0], hit[1])
    return found


def _find_province(texts: Sequence[str]) -> str | None:
    """The first ``tỉnh X`` / ``thành phố X`` whose X is capitalised (a known province if possible)."""
    for text in texts:
        for m in _TINH_X.finditer(text):
            words: list[str] = []
            for w in text[m.end() :].split()[:4]:
                w = w.strip(',.;:()“”"')
                if not w or not (w[0].isupper() or w == "-"):
                    break
                words.append(w)
            if not words:
                continue
            key = match_key(" ".join(words))
            for pkey, name in sorted(_PROVINCE_BY_KEY.items(), key=lambda kv: -len(kv[0])):
                if key == pkey or key.startswith(pkey + " "):
                    return name
            return " ".join(w.capitalize() if w.isupper() else w for w in words[:2])
    return None


def _place_before_date(text: str) -> str | None:
    """The province named right before ``, ngày`` inside a line: the letterhead's two columns on
    one line, as a PDF's text gives them (``Số: 15/BC-STP An Giang, ngày 6 tháng 4 năm 2026``).

    >>> _place_before_date("Số: 15/BC-STP An Giang, ngày 6 tháng 4 năm 2026")
    'An Giang'
    """
    m = _DATE_COMMA.search(text)
    if m is None:
        return None
    words = text[: m.start()].split()
    for n in range(min(5, len(words)), 0, -1):
        found = _PROVINCE_BY_KEY.get(match_key(" ".join(words[-n:])))
        if found:
            return found
    return None


def _period(text: str) -> str | None:
    m = _MONTH.search(text)
    if not m:
        return None
    month = int(m.group("m"))
    if not 1 <= month <= 12:
        return None
    year = m.group("y") or m.group("y2")
    if year is None:
        y = _YEAR.search(text, m.end())
        if y is None:
            return None
        year = y.group(1)
    return f"{int(year):04d}-{month:02d}"


def read_header(lines: Sequence[str], registry: Registry | None = None) -> ReportHeader:
    """Read sender role, province, reported month and title from the top of a report.

    >>> read_header(["BÁO CÁO", "Kết quả tháng 02 và phương hướng tháng 03 năm 2026"]).period
    '2026-02'
    """
    reg = registry if registry is not None else load_registry()
    patterns = _unit_patterns(reg)
    cleaned = [clean_line(x) for x in lines]
    kind, kind_at = detect_document_kind(cleaned)
    top = kind_at if kind_at is not None else min(len(cleaned), 12)
    block = [t for t in cleaned[:top] if t]
    title = _title(cleaned, kind, kind_at)
    body = [t for t in cleaned if t]
    hit = _sender(block, body, patterns, reg)
    return ReportHeader(
        unit_role=hit[0] if hit else None,
        province_name=_province(block, body, title, lines),
        period=_reported_period(title, kind, body),
        title_line=title,
        unit_name=hit[1] if hit else None,
        document_kind=kind,
    )


def _title(cleaned: list[str], kind: str | None, kind_at: int | None) -> str | None:
    """The title: the rest of the document kind's line and the lines after it, up to a stop."""
    if kind_at is None or kind is None:
        return None
    # "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06 THÁNG 3 NĂM 2026": the title shares the kind's line.
    parts: list[str] = []
    rest = cleaned[kind_at][len(kind) :].strip(" :.-")
    if rest:
        parts.append(rest)
    for t in cleaned[kind_at + 1 : kind_at + 12]:
        if not t:
            continue
        if parts and (
            _TITLE_STOP.match(t)
            or len(t) > 200
            or len(parts) >= 3
            or t.endswith(":")
            or re.search(r"(?:năm|/)\s*\d{4}\s*$", parts[-1])
        ):
            break
        parts.append(t)
        if t.endswith((".", ";", ":")):
            break
    return " ".join(parts) or None


def _sender(
    block: list[str], body: list[str], patterns: list[tuple[str, str, str]], reg: Registry
) -> tuple[str, str] | None:
    """(role, name) of the sender: the letterhead, else the document number's code, else
    "<unit> báo cáo" in the text."""
    sender_block = [
        t
        for t in block
        if not t.upper().startswith(("CỘNG HÒA", "CỘNG HOÀ", "ĐỘC LẬP"))
        and not _DATE_PLACE.match(t)
        and not t.lower().startswith("số")
    ]
    hit = _sender_from_block(sender_block, patterns)
    if hit is None:
        hit = _sender_from_number(block, patterns, reg)
    if hit is None:
        # "Sở Tư pháp (tỉnh An Giang) báo cáo ...": the unit must end right before "báo cáo".
        for t in body:
            for m in _REPORTS.finditer(t):
                found = _role_in(m.group("who"), patterns)
                if found and _only_place_after(m.group("who"), found[2]):
                    return found[0], found[1]
    return hit


def _sender_from_number(
    block: list[str], patterns: list[tuple[str, str, str]], reg: Registry
) -> tuple[str, str] | None:
    """The sender from the code of the document number ("Số: 40/BC-STP")."""
    for t in block:
        m = _DOC_NUMBER.match(t)
        if m:
            code = m.group("code").upper()
            code = _DOC_CODE_ALIASES.get(code, code).replace("Đ", "D")
            if code in {u.role for u in reg.units.values()}:
                names = [n for _k, r, n in patterns if r == code and not n.isupper()]
                return code, names[-1] if names else code
            return None
    return None


def _reported_period(title: str | None, kind: str | None, body: list[str]) -> str | None:
    """The month reported on: the title's, else the first "báo cáo … tháng N" of the text (not for
    a plan, nor when the title names a quarter, several months or a year)."""
    period = _period(title) if title else None
    span_title = bool(title and re.search(r"quý|quí|\d\s+tháng|năm\s+\d{4}\s*$", title, re.IGNORECASE))
    if period is None and kind != "KẾ HOẠCH" and not span_title:
        for t in body:
            m = re.search(r"báo cáo[^.]{0,160}?tháng\s+\d", t, re.IGNORECASE)
            if m:
                period = _period(t[m.start() :])
                if period:
                    break
    return period


def _province(block: list[str], body: list[str], title: str | None, lines: Sequence[str]) -> str | None:
    """The province: the place of the date line, else the place before ", ngày", else any
    province named in the letterhead, title or text."""
    for t in block + body[:5]:
        m = _DATE_PLACE.match(t)
        if m:
            province = _PROVINCE_BY_KEY.get(match_key(m.group("place").strip()))
            if province:
                return province
    province = next(filter(None, (_place_before_date(t) for t in block)), None)
    if province is None:
        # Paragraphs, not lines: "tỉnh Vĩnh" / "Long" may be wrapped.
        paragraphs = [p.text for p in build_paragraphs(lines)]
        province = _find_province([" ".join(block)] + ([title] if title else []) + paragraphs)
    return province
