"""Vietnamese words the narrative extractor and mapper recognise, and how they compare text.

Everything here is vocabulary of administrative reports in general (count units, cue words,
abbreviations), never wording of one particular report.

>>> match_key("Số hoá TTHC"), find_unit("tài khoản chỉ tiêu")
('số hóa thủ tục hành chính', ('tài khoản', 9))
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "COUNT_UNITS",
    "GOAL_CUES",
    "HAMLET_WORDS",
    "MULTIPLIERS",
    "PLACE_WORDS",
    "TARGET_WORDS",
    "find_unit",
    "match_key",
    "may_count_same_people",
    "normalise_unit",
    "tokens",
]

# Old-style and new-style tone placement ("hoá" / "hóa", "thuỷ" / "thủy") differ in Unicode
# even after NFC; matching folds both to one style.  Only open syllables differ: "hoạch",
# "khoản", "hoàn" are written the same way in both styles and are left alone.
_TONE_FOLD = {
    "oá": "óa",
    "oà": "òa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oé": "óe",
    "oè": "òe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uý": "úy",
    "uỳ": "ùy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}
_TONE_RE = re.compile("(?:" + "|".join(sorted(_TONE_FOLD, key=len, reverse=True)) + r")(?![^\W\d_])")

# Abbreviations expanded before matching (whole words only, case-insensitive).
_ABBREVIATIONS = {
    "tthc": "thủ tục hành chính",
    "dvc": "dịch vụ công",
    "dvctt": "dịch vụ công trực tuyến",
    "csdl": "cơ sở dữ liệu",
    "csdlqg": "cơ sở dữ liệu quốc gia",
    "dc": "dân cư",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "cccd": "căn cước công dân",
    "kcb": "khám chữa bệnh",
    "lltp": "lý lịch tư pháp",
    "đdđt": "định danh điện tử",
    "ubnd": "ủy ban nhân dân",
    "thcs": "trung học cơ sở",
    "thpt": "trung học phổ thông",
    "tk": "tài khoản",
}
_ABBR_RE = re.compile(r"(?<![\w])(" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w])")


def match_key(text: str) -> str:
    """Fold text for matching: NFC, lower case, one tone style, abbreviations spelt out."""
    s = unicodedata.normalize("NFC", text).lower()
    s = _TONE_RE.sub(lambda m: _TONE_FOLD[m.group(0)], s)
    s = _ABBR_RE.sub(lambda m: _ABBREVIATIONS[m.group(1)], s)
    return " ".join(s.split())


_WORD_RE = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Words of ``match_key(text)`` (letters and digits)."""
    return _WORD_RE.findall(match_key(text))


# What one is counted in.  Key: how it is written (match_key form); value: the unit reported in
# ``count_unit``.  Longer phrases win, so "thủ tục hành chính" beats "thủ tục".
COUNT_UNITS: dict[str, str] = {
    "hồ sơ": "hồ sơ",
    "dữ liệu": "dữ liệu",
    "bản ghi": "dữ liệu",
    "tài khoản": "tài khoản",
    "lượt": "lượt",
    "trường hợp": "trường hợp",
    "cơ sở": "cơ sở",
    "thủ tục hành chính": "thủ tục",
    "thủ tục": "thủ tục",
    "dịch vụ công trực tuyến": "dịch vụ",
    "dịch vụ công": "dịch vụ",
    "dịch vụ": "dịch vụ",
    "người dân": "người",
    "công dân": "người",
    "người nộp thuế": "người nộp thuế",
    "người tham gia": "người",
    "người": "người",
    "dân số": "người",
    "nhân khẩu": "người",
    "học sinh": "học sinh",
    "sinh viên": "sinh viên",
    "giáo viên": "giáo viên",
    "cán bộ": "cán bộ",
    "công chức": "công chức",
    "viên chức": "viên chức",
    "trẻ em": "trẻ em",
    "trẻ": "trẻ em",
    "khách hàng": "khách hàng",
    "cửa hàng": "cửa hàng",
    "chợ": "chợ",
    "yêu cầu": "yêu cầu",
    "người lao động": "người",
    "người hưởng": "người",
    "hóa đơn": "hóa đơn",
    "quyết định": "quyết định",
    "giấy chứng sinh": "giấy",
    "giấy báo tử": "giấy",
    "giấy khám sức khỏe": "giấy",
    "giấy": "giấy",
    "tổ dân phố": "tổ dân phố",
    "khu dân cư": "khu dân cư",
    "xóm": "xóm",
    "buôn": "buôn",
    "khóm": "khóm",
    "làng": "làng",
    "thí sinh": "thí sinh",
    "học viên": "học viên",
    "thẻ": "thẻ",
    "nhiệm vụ": "nhiệm vụ",
    "mô hình": "mô hình",
    "đối tượng": "đối tượng",
    "giao dịch": "giao dịch",
    "hộ gia đình": "hộ",
    "hộ kinh doanh": "hộ",
    "hộ": "hộ",
    "doanh nghiệp": "doanh nghiệp",
    "hợp tác xã": "hợp tác xã",
    "tổ chức": "tổ chức",
    "đơn vị": "đơn vị",
    "cơ quan": "cơ quan",
    "xã": "xã",
    "phường": "phường",
    "đặc khu": "xã",
    "thôn": "thôn",
    "ấp": "ấp",
    "khu phố": "khu phố",
    "điểm": "điểm",
    "văn bản": "văn bản",
    "thuê bao": "thuê bao",
    "giấy tờ": "giấy tờ",
    "giấy phép": "giấy phép",
    "phương tiện": "phương tiện",
    "bệnh nhân": "người",
    "người bệnh": "người",
    "phiếu": "phiếu",
    "chỉ tiêu": "chỉ tiêu",
    "tiêu chí": "tiêu chí",
    "camera": "camera",
    "thiết bị": "thiết bị",
    "tin": "tin",
    "bài": "bài",
    "lớp": "lớp",
    "kết quả": "kết quả",
    "chữ ký số": "chữ ký số",
    "mẫu": "mẫu",
    "sổ": "sổ",
    "trang": "trang",
    "trang tài liệu": "trang",
    "bản": "bản",
    "tài liệu": "tài liệu",
    "hộ chiếu": "hộ chiếu",
    "biển số": "biển số",
    "con dấu": "con dấu",
    "tờ khai": "tờ khai",
    "cuộc gọi": "cuộc gọi",
    "tin nhắn": "tin nhắn",
    "trường học": "trường",
    "trường": "trường",
    "bệnh viện": "cơ sở",
    "trạm y tế": "cơ sở",
    "nhà thuốc": "cơ sở",
    "phòng khám": "cơ sở",
    "trung tâm y tế": "cơ sở",
    "xe": "xe",
    "phương tiện giao thông": "phương tiện",
    "thửa đất": "thửa",
    "thửa": "thửa",
    "giấy chứng nhận": "giấy chứng nhận",
    "chứng thư số": "chứng thư số",
    "ứng dụng": "ứng dụng",
    "nhóm": "nhóm",
    "mã số thuế": "mã số thuế",
    "mã số": "mã số",
    "cơ sở dữ liệu": "cơ sở dữ liệu",
    "hệ thống": "hệ thống",
    "cán bộ, công chức": "cán bộ",
    # Administrative bodies counted as such in province summaries ("29/30 địa phương", "18/19 sở,
    # ngành"): each is one unit of its own kind.
    "địa phương": "địa phương",
    "sở, ban, ngành": "sở, ngành",
    "sở, ngành": "sở, ngành",
    "bộ, ngành": "bộ, ngành",
    "bộ, ngành trung ương": "bộ, ngành",
}

# Multipliers written after a decimal count in news prose ("hơn 1,85 triệu tài khoản").
MULTIPLIERS: dict[str, int] = {"triệu": 1_000_000, "nghìn": 1_000, "ngàn": 1_000}

# Units that count people under another name: compatible with ``người`` when mapping.
UNIT_FAMILY = {
    "đối tượng": "người",
    "học sinh": "người",
    "sinh viên": "người",
    "giáo viên": "người",
    "cán bộ": "người",
    "công chức": "người",
    "viên chức": "người",
    "trẻ em": "người",
    "thí sinh": "người",
    "mã số thuế": "người nộp thuế",  # one tax code per taxpayer
    "học viên": "người",
    "xã": "đơn vị",
    "phường": "đơn vị",
}


# A case ("19.588 trường hợp còn lại") of a count of people is one of those people: the two units
# may name one population.  Not "lượt" - a visit or a use may repeat for one person.
_CASES_OF_PEOPLE = frozenset({"trường hợp"})


def may_count_same_people(unit: str | None, other: str | None) -> bool:
    """Whether two count units may count the same people under different names: ``người`` (and
    its family: ``công dân``, ``học sinh`` ...) and ``trường hợp``.  Only arithmetic can confirm
    it; the caller must check that the counts add up or give the stated rate.

    >>> may_count_same_people("người", "trường hợp"), may_count_same_people("người", "lượt")
    (True, False)
    """
    if unit is None or other is None:
        return False
    kinds = {"người" if UNIT_FAMILY.get(u, u) == "người" or u in _CASES_OF_PEOPLE else u for u in (unit, other)}
    return kinds == {"người"}


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFC", text).lower()
    return _TONE_RE.sub(lambda m: _TONE_FOLD[m.group(0)], s)


# Written as it appears (before abbreviation expansion): TTHC, DVC ... are units too.
_UNIT_ABBR = {"tthc": "thủ tục", "dvc": "dịch vụ", "dvctt": "dịch vụ", "tk": "tài khoản"}
_UNIT_BY_FOLDED = {_fold(k): v for k, v in COUNT_UNITS.items()} | _UNIT_ABBR
# A unit ends at a non-letter; a footnote mark glued to it ("hồ sơ¹") is no letter although
# Python counts superscript digits as word characters.
_UNIT_RE = re.compile(
    r"(?P<unit>"
    + "|".join(re.escape(u) for u in sorted(_UNIT_BY_FOLDED, key=len, reverse=True))
    + r")(?![^\W\d_⁰¹²³⁴⁵⁶⁷⁸⁹])"
)


def find_unit(text: str) -> tuple[str, int] | None:
    """The count unit that ``text`` starts with (after optional spaces), and where it ends.

    The text is the raw report text right after a number, so it may be glued
    (``"tài khoản/1.030.000"``).  Returns ``(unit, end_offset_in_text)`` or ``None``.
    """
    stripped = text.lstrip(" \u00a0")
    lead = len(text) - len(stripped)
    m = _UNIT_RE.match(_fold(stripped))
    if not m:
        return None
    return _UNIT_BY_FOLDED[m.group("unit")], lead + m.end()


def first_unit_in(text: str, max_words: int | None = None) -> str | None:
    """The first count unit named anywhere in ``text`` (optionally within its first words)."""
    words = text.split()
    if max_words is not None:
        words = words[:max_words]
    for i in range(len(words)):
        found = find_unit(" ".join(words[i:]))
        if found:
            return found[0]
    return None


def normalise_unit(unit: str | None) -> str | None:
    """The ``count_unit`` spelling of a unit written in the registry or in a report."""
    if unit is None:
        return None
    found = find_unit(unit)
    return found[0] if found else _fold(unit).strip()


# Words that open the name of a place below the commune; such a place is often named by a number
# ("tổ dân phố 3", "khu phố 2", "ấp 4").
HAMLET_WORDS = (
    "tổ dân phố",
    "khu phố",
    "khu dân cư",
    "thôn",
    "ấp",
    "bản",
    "buôn",
    "xóm",
    "khóm",
    "làng",
    "sóc",
)
# Words that open the name of a place: the items of a list of places ("thôn Hiệp An (92,4%), tổ
# dân phố 3 (88%)") and the "theo thôn" / "của các ấp" that ends the measure of such a list.
PLACE_WORDS = (
    *HAMLET_WORDS,
    "xã",
    "phường",
    "đặc khu",
    "thị trấn",
    "thị xã",
    "huyện",
    "quận",
    "địa phương",
    "đơn vị",
)

# A denominator named with one of these is a quota that may be exceeded.
TARGET_WORDS = ("chỉ tiêu", "kế hoạch", "mục tiêu", "kh giao", "so với kh")

# Words that make a percentage a goal rather than a result when they open its sentence.
GOAL_CUES = (
    "phấn đấu",
    "đảm bảo",
    "bảo đảm",
    "tối thiểu",
    "ít nhất",
    "hướng tới",
    "mục tiêu",
    "chỉ tiêu",
    "yêu cầu",
    "cần đạt",
    "phải đạt",
    "dự kiến",
    "duy trì",
    "đến hết",
    "hết năm",
    "hết tháng",
    "trước ngày",
    "đến năm",
    "kế hoạch đề ra",
    "nhằm đạt",
    # Assigned work and the period ahead: "chủ trì, phối hợp ... triển khai 100% ...",
    # "Thời gian tới, ...", "Trong 6 tháng tới, ...".
    "chủ trì, phối hợp",
    "thời gian tới",
    "tháng tới",
    "năm tới",
)
