"""Rebuild logical paragraphs from the lines of a report.

Reports reach us with hard line wraps (a PDF, or a ``.txt`` saved from one, where every line is
followed by a blank line), with footnotes in the middle of a sentence that continues after
them, and with markdown emphasis left over from conversion.  Statements must be found in the
sentence as written, so lines are joined back into paragraphs first.  Each paragraph keeps a
map from its character offsets to the 1-based line numbers of the source.

Rules (in this order):

* blank lines and page numbers (a line that is only 1-3 digits) never end a paragraph;
* a line starting with a superscript digit (``¹ Như: ...``) is a footnote: it forms its own
  paragraph and does not interrupt the paragraph it sits in; an unfinished footnote goes on
  to the next line when that line follows it directly (a PDF), while after a blank line the
  interrupted body paragraph resumes (a ``.txt`` saved from Word);
* a heading (all capitals) is a paragraph of its own;
* a line that ends with ``. ; : ! ?`` (footnote marks and closing quotes ignored) ends its
  paragraph, unless the next line starts in lower case (a sentence never does), or starts with
  a digit after ``:`` or ``;`` (``Tổng số tiếp nhận:`` / ``2076 hồ sơ``);
* otherwise the next line continues the paragraph, unless it opens a list item
  (``-``, ``+``, ``•``, ``1.``, ``3.1.``, ``(2)``, ``a)``, ``II.``) or is a heading, or the
  line so far is short (under 60 characters) and the next one starts with a capital: that is
  a heading or title (``2. Về dữ liệu`` / ``Tiếp tục ...``), not a wrapped line;
* a line ending in a hyphen glued to a word (``27/KH-``) continues without a space.

>>> [p.text for p in build_paragraphs(["Phấn đấu đến hết năm 2025, 80% thủ tục", "", "toàn trình."])]
['Phấn đấu đến hết năm 2025, 80% thủ tục toàn trình.']
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Paragraph", "build_paragraphs", "clean_line", "is_heading"]

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FOOTNOTE_START = re.compile(rf"^[{SUPERSCRIPT_DIGITS}]+")
_PAGE_NUMBER = re.compile(r"^(?:-\s*)?\d{1,3}(?:\s*-)?$|^(?:Trang|trang)\s+\d+(?:\s*/\s*\d+)?$")
_TERMINAL = re.compile(rf"[.;:!?…](?:[\"'”’»)\]]|[{SUPERSCRIPT_DIGITS}])*$")
_LIST_MARKER = re.compile(
    r"^(?:[-–—+•●▪◦○]\s*(?=\S)"  # dash and bullet items
    r"|\(?\d{1,2}(?:\.\d{1,2})*[.)]\s"  # 1.  3.1.  2)  (2)
    r"|\(\d{1,2}\)"  # (1)Text
    r"|[a-zđ]\)\s"  # a) b)
    r"|[IVXLC]{1,5}[.)]\s"  # I.  II)
    r")"
)
_SHORT_LINE = 60
_OPEN_END = re.compile(rf"[:;][{SUPERSCRIPT_DIGITS}]*$")
_MARKDOWN = re.compile(r"\*+|(?<!\w)__|__(?!\w)")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def clean_line(line: str) -> str:
    """NFC, no markdown emphasis, no zero-width characters, single spaces, trimmed."""
    s = unicodedata.normalize("NFC", line)
    s = _ZERO_WIDTH.sub("", s)
    s = _MARKDOWN.sub("", s)
    s = s.replace("\u00a0", " ").replace("\u202f", " ").replace("\t", " ")
    return " ".join(s.split())


def is_heading(text: str) -> bool:
    """An all-capitals line such as ``BÁO CÁO`` or ``II. KẾT QUẢ THỰC HIỆN``."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def is_list_item(text: str) -> bool:
    return bool(_LIST_MARKER.match(text))


@dataclass
class Paragraph:
    """A logical paragraph: its text and which source line each part of it came from."""

    text: str = ""
    starts: list[int] = field(default_factory=list)
    """Offsets in ``text`` where a new source line begins (sorted)."""
    line_nos: list[int] = field(default_factory=list)
    """The 1-based source line of the text from ``starts[i]`` on."""
    is_footnote: bool = False
    ended: bool = False
    """The last line ended a sentence; only a line starting in lower case may continue it."""
    closed: bool = False

    @property
    def first_line(self) -> int:
        return self.line_nos[0]

    def line_at(self, offset: int) -> int:
        """The 1-based source line of the character at ``offset``."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.line_nos[max(i, 0)]

    def append(self, text: str, line_no: int) -> None:
        # "27/KH-" + "BCĐ ngày ..." is one word broken by the wrap: no space.
        if self.text and not re.search(r"[^\W\d_]-$", self.text):
            self.text += " "
        self.starts.append(len(self.text))
        self.line_nos.append(line_no)
        self.text += text


def _continues(main: Paragraph, text: str) -> bool:
    if is_list_item(text) or is_heading(text):
        return False
    if main.ended:
        # "... không cần thiết:" / "chuyển trạng thái ..."; "Tổng số tiếp nhận:" / "2076 hồ sơ"
        return text[:1].islower() or (text[:1].isdigit() and bool(_OPEN_END.search(main.text)))
    if re.search(r"[^\W\d_]-$", main.text):
        return True
    last_line = main.text[main.starts[-1] :]
    # A short unpunctuated line followed by a capitalised one is a heading or a title, not a
    # wrapped line ("2. Về dữ liệu" / "Tiếp tục làm sạch ...").
    return not (len(last_line) < _SHORT_LINE and text[:1].isupper())


def build_paragraphs(lines: Sequence[str]) -> list[Paragraph]:
    """Join the lines of a report into logical paragraphs (see the module docstring)."""
    done: list[Paragraph] = []
    main: Paragraph | None = None
    foot: Paragraph | None = None

    def close(p: Paragraph | None) -> None:
        if p is not None and p.text and not p.closed:
            p.closed = True
            done.append(p)

    for line_no, raw in enumerate(lines, start=1):
        text = clean_line(raw)
        if not text or _PAGE_NUMBER.match(text):
            continue
        if _FOOTNOTE_START.match(text):
            close(foot)
            foot = Paragraph(is_footnote=True)
            foot.append(text, line_no)
            if _TERMINAL.search(text):
                close(foot)
                foot = None
            continue
        # An unfinished footnote continues on the very next line (a PDF wraps it at the foot of
        # the page), or after a blank line when no body paragraph is waiting for its end.
        if (
            foot is not None
            and not foot.closed
            and (line_no == foot.line_nos[-1] + 1 or main is None or main.closed or main.ended)
            and not is_list_item(text)
            and not is_heading(text)
        ):
            foot.append(text, line_no)
            if _TERMINAL.search(text):
                close(foot)
                foot = None
            continue
        if foot is not None:
            close(foot)
            foot = None
        if main is not None and not main.closed and _continues(main, text):
            main.append(text, line_no)
        else:
            close(main)
            main = Paragraph()
            main.append(text, line_no)
        main.ended = bool(_TERMINAL.search(text))
        if is_heading(text):
            close(main)
    close(foot)
    close(main)
    done.sort(key=lambda p: p.first_line)
    return done
