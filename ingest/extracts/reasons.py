"""Reason codes for what a source extract can get wrong, in Vietnamese and English.

Worded like the submissions' catalogue (:mod:`ingest.submissions.reasons`), and stored alike in
the ledger and ``raw.quarantine``.  No text ever holds a personal value: a BHXH row's problem
names its row and column, never what the cell held.

>>> ExtractReason.UNKNOWN_STATUS.texts()[1]
'Status is not one of verified, mismatch, not_found, pending'
"""

from __future__ import annotations

from ingest.submissions.model import SubmissionError
from ingest.submissions.reasons import BilingualReason


class ExtractReason(BilingualReason):
    """What a source extract can get wrong."""

    # --- the file as a whole (ExtractError) ----------------------------------------------------
    EMPTY_FILE = ("empty_file", "Tệp rỗng, không có dữ liệu", "The file is empty")
    NO_DATA_ROWS = (
        "no_data_rows",
        "Tệp trích xuất chỉ có dòng tiêu đề, không có dòng dữ liệu nào",
        "The extract has a header but no data rows",
    )
    MISSING_COLUMN = ("missing_column", "Thiếu cột bắt buộc: {missing}", "Required columns missing: {missing}")
    DUPLICATE_COLUMN = (
        "duplicate_column",
        "Cột “{column}” xuất hiện nhiều lần trong dòng tiêu đề",
        "Column “{column}” appears more than once in the header",
    )
    UNDECODABLE_TEXT = (
        "undecodable_text",
        "Tệp trích xuất không phải văn bản UTF-8 (dòng {row}); hãy xuất lại dưới dạng CSV UTF-8",
        "The extract is not UTF-8 text (row {row}): export it again as CSV UTF-8",
    )
    MALFORMED_CSV = (
        "malformed_csv",
        "Tệp CSV sai cấu trúc ở dòng {row} (dấu ngoặc kép không đóng hoặc một ô quá dài)",
        "Malformed CSV at row {row} (an unclosed quote or an oversized cell)",
    )
    PSEUDONYM_KEY_MISSING = (
        "pseudonym_key_missing",
        "Chưa cấu hình khóa bí danh hóa (biến môi trường D06_PSEUDONYM_KEY hoặc kết nối Airflow d06_pseudonym): "
        "tệp BHXH chứa dữ liệu cá nhân nên không được nạp; hãy đặt khóa rồi gửi lại tệp",
        "No pseudonymisation key (environment variable D06_PSEUDONYM_KEY or the Airflow connection "
        "d06_pseudonym): a BHXH extract holds personal data and is not loaded without it; set the key "
        "and send the file again",
    )
    ARCHIVE_KEY_MISSING = (
        "archive_key_missing",
        "Chưa cấu hình khóa mã hóa kho lưu trữ (biến môi trường D06_ARCHIVE_KEY): tệp BHXH chứa dữ liệu "
        "cá nhân nên không được lưu trữ hay nạp khi chưa mã hóa được; hãy đặt khóa rồi gửi lại tệp",
        "No archive encryption key (environment variable D06_ARCHIVE_KEY): a BHXH extract holds personal "
        "data and is neither archived nor loaded unencrypted; set the key and send the file again",
    )

    # --- one row (RowProblem) -----------------------------------------------------------------
    WRONG_FIELD_COUNT = (
        "wrong_field_count",
        "Dòng có {found} ô, tiêu đề có {expected} cột",
        "The row has {found} fields; the header has {expected} columns",
    )
    MISSING_VALUE = (
        "missing_value",
        "Thiếu giá trị bắt buộc ở cột “{column}”",
        "Required value missing in column “{column}”",
    )
    INVALID_DATE = (
        "invalid_date",
        "Ngày ở cột “{column}” không hợp lệ; hãy ghi theo dạng YYYY-MM-DD (ví dụ 2026-03-28)",
        "Invalid date in column “{column}”: write YYYY-MM-DD (e.g. 2026-03-28)",
    )
    INVALID_BIRTH_DATE = (
        "invalid_birth_date",
        "Ngày sinh không hợp lệ; hãy ghi theo dạng YYYY-MM-DD hoặc YYYY",
        "Invalid birth date: write YYYY-MM-DD or YYYY",
    )
    UNKNOWN_COMMUNE = (
        "unknown_commune",
        "Mã xã/phường không có trong danh mục đơn vị",
        "Commune code not in the unit registry",
    )
    UNKNOWN_RECORD_TYPE = (
        "unknown_record_type",
        "Loại hồ sơ hộ tịch không hợp lệ (khai_sinh, ket_hon, khai_tu, nhan_cha_me_con, thay_doi_ho_tich, khac)",
        "Record type is not one of khai_sinh, ket_hon, khai_tu, nhan_cha_me_con, thay_doi_ho_tich, khac",
    )
    NOT_A_WHOLE_NUMBER = (
        "not_a_whole_number",
        "Giá trị ở cột “{column}” phải là số nguyên không âm (ví dụ 2076)",
        "Column “{column}” must hold a non-negative whole number (e.g. 2076)",
    )
    NEGATIVE_NUMBER = (
        "negative_number",
        "Giá trị ở cột “{column}” không được là số âm",
        "Column “{column}” must not be negative",
    )
    NUMBER_TOO_LARGE = (
        "number_too_large",
        "Giá trị ở cột “{column}” quá lớn (tối đa 18 chữ số)",
        "Column “{column}” holds a number that is too large (at most 18 digits)",
    )
    UNKNOWN_STATUS = (
        "unknown_status",
        "Trạng thái xác thực không hợp lệ (verified, mismatch, not_found, pending)",
        "Status is not one of verified, mismatch, not_found, pending",
    )
    INVALID_BHXH_CODE = (
        "invalid_bhxh_code",
        "Mã số BHXH phải gồm đúng 10 chữ số",
        "The BHXH code must be exactly 10 digits",
    )
    INVALID_PERSONAL_ID = (
        "invalid_personal_id",
        "Số định danh cá nhân phải để trống hoặc gồm đúng 12 chữ số",
        "The personal ID number must be empty or exactly 12 digits",
    )


class ExtractError(SubmissionError):
    """A whole extract cannot be loaded (a missing column, no key, malformed CSV ...).

    A :class:`SubmissionError`, so that the landing path records it as a rejected file alike;
    it carries the file, and the row and column where known, never a cell's value."""


def extract_error(
    reason: ExtractReason, file: str, *, row: int | None = None, column: str | None = None, **values: object
) -> ExtractError:
    """An :class:`ExtractError` worded from the catalogue, to raise."""
    vi, en = reason.texts(column=column, row=row, **values)
    return ExtractError(file, reason.code, vi, en, row=row, column=column)


CONFIG_ERRORS = frozenset({ExtractReason.PSEUDONYM_KEY_MISSING.code, ExtractReason.ARCHIVE_KEY_MISSING.code})
"""Refusals that are the warehouse's configuration, not the file's fault: the same bytes sent
again once the key is set are landed, not recorded as a duplicate."""
