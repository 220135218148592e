"""Reason codes for everything a monthly submission can get wrong, in Vietnamese and English.

The parser, the loader and the quality report all word problems from this one catalogue, so an
official reads the same sentence wherever the problem shows up.  Texts may hold ``{placeholders}``
that :meth:`Reason.texts` fills in; a placeholder a text does not use is ignored.

>>> Reason.UNKNOWN_UNIT.texts()[0]
'Mã đơn vị không có trong danh mục đơn vị'
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from ingest.submissions.model import FileNotice, RowProblem, SubmissionError

__all__ = ["REASONS", "BilingualReason", "Reason", "file_notice", "row_problem", "submission_error"]


class BilingualReason(Enum):
    """A catalogue of problems (an Enum without members, for catalogues to extend): each its
    stable ``code``, the Vietnamese text ``vi`` and the English text ``en``."""

    code: str
    vi: str
    en: str

    def __init__(self, code: str, vi: str, en: str) -> None:
        self.code = code
        self.vi = vi
        self.en = en

    def texts(self, **values: object) -> tuple[str, str]:
        """The Vietnamese and English texts with their placeholders filled in."""
        return self.vi.format(**values), self.en.format(**values)


class Reason(BilingualReason):
    """What a submission can get wrong."""

    # --- the file as a whole (SubmissionError) -------------------------------------------------
    EMPTY_FILE = (
        "empty_file",
        "Tệp rỗng, không có dữ liệu",
        "The file is empty",
    )
    NO_DATA_ROWS = (
        "no_data_rows",
        "Tệp chỉ có dòng tiêu đề, không có dòng số liệu nào",
        "The file has a header but no data rows",
    )
    UNSUPPORTED_FORMAT = (
        "unsupported_format",
        "Không hỗ trợ định dạng tệp “{extension}”; hãy nộp tệp .xlsx, .csv, .json (mẫu báo cáo) "
        "hoặc .docx, .pdf, .txt (báo cáo văn bản)",
        "Unsupported file format “{extension}”: submit .xlsx, .csv, .json (the template) "
        "or .docx, .pdf, .txt (a written report)",
    )
    CONTENT_MISMATCH = (
        "content_mismatch",
        "Nội dung tệp không khớp với phần mở rộng “{extension}” (nội dung thực tế: {detected})",
        "The file content does not match its extension “{extension}” (it contains {detected})",
    )
    PROTECTED_OR_LEGACY_EXCEL = (
        "protected_or_legacy_excel",
        "Tệp Excel được đặt mật khẩu hoặc ở định dạng .xls cũ; hãy gỡ mật khẩu và lưu lại dưới dạng .xlsx",
        "The Excel file is password-protected or in the old .xls format: remove the password and save it as .xlsx",
    )
    UNDECODABLE_TEXT = (
        "undecodable_text",
        "Không đọc được bảng mã ký tự của tệp; hãy lưu lại tệp dưới dạng CSV UTF-8",
        "The text encoding of the file cannot be read: save it as CSV UTF-8",
    )
    MALFORMED_CSV = (
        "malformed_csv",
        "Tệp CSV sai cấu trúc (dấu ngoặc kép không đóng hoặc một ô quá dài)",
        "Malformed CSV (an unclosed quote or an oversized cell)",
    )
    FILE_TOO_LARGE = (
        "file_too_large",
        "Tệp quá lớn (vượt quá {limit_mb} MB)",
        "The file is larger than {limit_mb} MB",
    )
    ARCHIVE_TOO_LARGE = (
        "archive_too_large",
        "Tệp Excel khi giải nén vượt quá {limit_mb} MB; tệp có thể bị hỏng hoặc không an toàn",
        "The Excel file expands to more than {limit_mb} MB; it may be corrupt or malicious",
    )
    ARCHIVE_RATIO = (
        "archive_ratio",
        "Thành phần “{member}” của tệp Excel có tỷ lệ nén bất thường ({ratio}:1); tệp có thể không an toàn",
        "Member “{member}” of the Excel file has an abnormal compression ratio ({ratio}:1); the file may be malicious",
    )
    ARCHIVE_PART_TOO_LARGE = (
        "archive_part_too_large",
        "Thành phần “{member}” của tệp Excel khi giải nén vượt quá {limit_mb} MB (quá nhiều chữ hoặc định dạng); "
        "tệp có thể không an toàn",
        "Member “{member}” of the Excel file expands to more than {limit_mb} MB (too much text or formatting); "
        "the file may be malicious",
    )
    ARCHIVE_MEMBERS = (
        "archive_members",
        "Tệp Excel có quá nhiều thành phần (tối đa {limit}); tệp có thể bị hỏng hoặc không an toàn",
        "The Excel file has too many members (the limit is {limit}); it may be corrupt or malicious",
    )
    INVALID_XLSX = (
        "invalid_xlsx",
        "Không mở được tệp Excel, có thể tệp đã bị hỏng; hãy mở tệp bằng Excel và lưu lại",
        "The Excel file cannot be opened and may be corrupt: open and save it again in Excel",
    )
    WRONG_SHEET = (
        "wrong_sheet",
        "Không có trang tính “du_lieu” và trang tính đầu tiên thiếu cột bắt buộc ({missing_vi}); "
        "các trang tính trong tệp: {sheets}",
        "No sheet named “du_lieu”, and the first sheet lacks required columns ({missing}); sheets found: {sheets}",
    )
    MISSING_COLUMN = (
        "missing_column",
        "Thiếu cột bắt buộc: {missing_vi}",
        "Required columns missing: {missing}",
    )
    DUPLICATE_COLUMN = (
        "duplicate_column",
        "Cột “{column_vi}” xuất hiện nhiều lần trong dòng tiêu đề",
        "Column “{column}” appears more than once in the header",
    )
    TOO_MANY_ROWS = (
        "too_many_rows",
        "Tệp có quá nhiều dòng (tối đa {limit} dòng)",
        "The file has too many rows (the limit is {limit})",
    )
    INVALID_JSON = (
        "invalid_json",
        "Tệp JSON sai cú pháp (dòng {line}, cột {col})",
        "Invalid JSON (line {line}, column {col})",
    )
    JSON_TOO_DEEP = (
        "json_too_deep",
        "Tệp JSON lồng nhau quá sâu (quá {limit} cấp); mỗi dòng số liệu phải là một đối tượng phẳng",
        "The JSON file is nested too deeply (more than {limit} levels): each row must be a flat object",
    )
    IMPLAUSIBLE_ENCODING = (
        "implausible_encoding",
        "Tệp không phải UTF-8 và khi đọc theo bảng mã Windows-1258 cho ra ký tự không phải tiếng Việt (“{sample}”); "
        "hãy lưu lại tệp dưới dạng CSV UTF-8",
        "The file is not UTF-8, and read as Windows-1258 it gives characters that are not Vietnamese (“{sample}”): "
        "save it as CSV UTF-8",
    )
    JSON_NOT_LIST = (
        "json_not_list",
        "Tệp JSON phải là một danh sách các đối tượng có cùng các khóa",
        "The JSON file must be a list of objects with the same keys",
    )

    # --- one row (RowProblem) -----------------------------------------------------------------
    FORMULA_WITHOUT_VALUE = (
        "formula_without_value",
        "Ô chứa công thức nhưng chưa có giá trị tính sẵn: hãy mở tệp bằng Excel và lưu lại",
        "formula without a cached value: open and save the file in Excel",
    )
    MISSING_VALUE = (
        "missing_value",
        "Thiếu giá trị bắt buộc ở cột “{column_vi}”",
        "Required value missing in column “{column}”",
    )
    INVALID_PERIOD = (
        "invalid_period",
        "Kỳ báo cáo không hợp lệ; hãy ghi theo dạng YYYY-MM (ví dụ 2026-03) hoặc MM/YYYY (ví dụ 03/2026)",
        "Malformed period: write YYYY-MM (e.g. 2026-03) or MM/YYYY (e.g. 03/2026)",
    )
    FUTURE_PERIOD = (
        "future_period",
        "Kỳ báo cáo {period} chưa kết thúc nên chưa thể báo cáo",
        "Period {period} is in the future: the month has not ended yet",
    )
    PERIOD_MISMATCH = (
        "period_mismatch",
        "Kỳ báo cáo {period} khác với kỳ của lần nộp này ({expected})",
        "Period {period} differs from the period of this submission ({expected})",
    )
    UNKNOWN_UNIT = (
        "unknown_unit",
        "Mã đơn vị không có trong danh mục đơn vị",
        "Unit code not in the unit registry",
    )
    UNIT_NOT_VALID_IN_PERIOD = (
        "unit_not_valid_in_period",
        "Đơn vị {unit} không có hiệu lực trong kỳ báo cáo {period} (thời gian hiệu lực: {valid})",
        "Unit {unit} is not valid in period {period} (valid {valid})",
    )
    UNKNOWN_INDICATOR = (
        "unknown_indicator",
        "Mã chỉ tiêu không có trong danh mục chỉ tiêu",
        "Indicator code not in the indicator registry",
    )
    UNKNOWN_SERVICE = (
        "unknown_service",
        "Mã dịch vụ không có trong danh mục dịch vụ công thiết yếu",
        "Service code not in the registry of essential public services",
    )
    UNEXPECTED_SERVICE = (
        "unexpected_service",
        "Chỉ tiêu {indicator} không chia theo dịch vụ; hãy để trống mã dịch vụ hoặc ghi NA",
        "Indicator {indicator} has no service dimension: leave the service code empty or write NA",
    )
    NOT_A_WHOLE_NUMBER = (
        "not_a_whole_number",
        "Giá trị ở cột “{column_vi}” phải là số nguyên không âm (ví dụ 2076 hoặc 2.076)",
        "Column “{column}” must hold a non-negative whole number (e.g. 2076 or 2.076)",
    )
    NEGATIVE_NUMBER = (
        "negative_number",
        "Giá trị ở cột “{column_vi}” không được là số âm",
        "Column “{column}” must not be negative",
    )
    DATE_NOT_A_NUMBER = (
        "date_not_a_number",
        "Ô ở cột “{column_vi}” chứa ngày tháng, không phải số lượng; hãy định dạng ô là số",
        "Column “{column}” holds a date, not a count: format the cell as a number",
    )
    INVALID_RATE = (
        "invalid_rate",
        "Không đọc được tỷ lệ; hãy ghi theo dạng 82,52 hoặc 82,52%",
        "Unreadable rate: write it as 82,52 or 82,52%",
    )
    NUMBER_TOO_LARGE = (
        "number_too_large",
        "Giá trị ở cột “{column_vi}” quá lớn (tối đa {limit_vi})",
        "Column “{column}” holds a number that is too large (the limit is {limit})",
    )
    RATE_TOO_LARGE = (
        "rate_too_large",
        "Tỷ lệ ở cột “{column_vi}” quá lớn (tối đa {limit_vi}%)",
        "The rate in column “{column}” is too large (the limit is {limit}%)",
    )
    RATE_OUT_OF_RANGE = (
        "rate_out_of_range",
        "Tỷ lệ {rate}% nằm ngoài khoảng từ 0% đến 100%",
        "Rate {rate}% is outside 0–100%",
    )
    DUPLICATE_ROW = (
        "duplicate_row",
        "Trùng với dòng {first_row} (cùng đơn vị, kỳ báo cáo, chỉ tiêu và dịch vụ)",
        "Duplicate of row {first_row} (same unit, period, indicator and service)",
    )

    # --- soft flags: the row loads, the report shows them (SubmissionRow.flags) ----------------
    NUMERATOR_ABOVE_DENOMINATOR = (
        "numerator_above_denominator",
        "Tử số lớn hơn mẫu số",
        "Numerator above denominator",
    )
    RATE_MISMATCH = (
        "rate_mismatch",
        "Tỷ lệ ghi trong báo cáo lệch hơn 0,05 điểm phần trăm so với tỷ lệ tính từ tử số và mẫu số",
        "The reported rate differs from 100 × numerator / denominator by more than 0.05 percentage points",
    )

    # --- notices: the file loads, its unit hears about them (FileNotice) ------------------------
    UNKNOWN_COLUMN = (
        "unknown_column",
        "Cột “{label}” không có trong mẫu báo cáo nên đã bị bỏ qua{hint_vi}",
        "Column “{label}” is not in the submission contract and was ignored{hint}",
    )
    ENCODING_DETECTED = (
        "encoding_detected",
        "Tệp được đọc theo bảng mã {encoding} (không phải UTF-8); nên lưu tệp dưới dạng UTF-8",
        "The file was read as {encoding} (not UTF-8); saving it as UTF-8 is preferred",
    )


REASONS: Mapping[str, Reason] = {r.code: r for r in Reason}
"""Reason by code, for the loader and the report that read codes back from the database."""


def row_problem(
    reason: Reason,
    row_no: int,
    *,
    column: str | None,
    raw_value: str | None,
    raw_row: dict[str, str | None],
    **values: object,
) -> RowProblem:
    """A :class:`RowProblem` worded from the catalogue (``column`` fills ``{column}`` too)."""
    vi, en = reason.texts(column=column, **values)
    return RowProblem(row_no, column, raw_value, reason.code, vi, en, raw_row)


def submission_error(
    reason: Reason,
    file: str,
    *,
    row: int | None = None,
    column: str | None = None,
    **values: object,
) -> SubmissionError:
    """A :class:`SubmissionError` worded from the catalogue, to raise."""
    vi, en = reason.texts(column=column, **values)
    return SubmissionError(file, reason.code, vi, en, row=row, column=column)


def file_notice(
    reason: Reason, *, column: str | None = None, severity: str = "warning", **values: object
) -> FileNotice:
    """A :class:`FileNotice` worded from the catalogue (``column`` fills ``{column}`` too)."""
    vi, en = reason.texts(column=column, **values)
    return FileNotice(reason.code, vi, en, column=column, severity=severity)
