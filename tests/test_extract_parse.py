"""The extract parsers' fast path (blocks split by ``str.split``) reads every file exactly as the
csv module does: the same records, problems, row numbers and refusals, whatever the quoting,
line endings, blank rows and block boundaries.  Pure: no warehouse."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.extracts import parse
from ingest.extracts.pseudonym import keyed_digest, pseudonymise
from ingest.extracts.reasons import ExtractError

COMMUNES = frozenset({"AG.X01", "AG.X02"})
KEY = b"a-test-key-of-at-least-32-characters"
CIVIL = "extract_date,commune_code,record_type,records_total,records_scanned,records_entered,records_synced"
BHXH = "extract_date,bhxh_code,personal_id,full_name,birth_date,commune_code,status,status_at"
CIVIL_ROWS = [
    "2026-03-31,AG.X01,khai_sinh,1000,900,800,700",
    "2026-03-31,AG.X02,ket_hon, 50 ,50,40,30",  # spaces: the slow path strips and loads it
    "2026-03-31,AG.X01,khai_sinhh,10,9,8,7",
    "2026-03-31,AG.X02,khai_tu,10,-5,8,7",
    "2026-02-30,AG.X01,khac,10,9,8,7",
    "2026-03-31,AG.X01,khac,1234567890123456789,9,8,7",
    "2026-03-31,AG.X01,khac,١٢,9,8,7",  # Arabic-Indic digits are digits, not ASCII ones
    "2026-03-31,AG.X01,khac,10,9,8",
    "",
    "2026-03-31,AG.X01,khac,10,9,8,7\x00",
]
BHXH_ROWS = [
    "2026-03-28,7912345611,079186001111,Nguyễn Thị Mười Một,1986-04-12,AG.X01,verified,2026-03-28",
    "2026-03-28,7912345612,,Lê Hoàng Ba Ba,2001,AG.X02,pending,",
    "2026-03-28,79123,079186001111,Trần Văn Hai,1986-04-12,AG.X01,verified,2026-03-28",
    "2026-03-28,7912345613,07918600111,Trần Văn Hai,1990-11-03,AG.X01,verified,2026-03-28",
    "2026-03-28,7912345614,079190002222,Lê Ba,30/01/1975,AG.X01,verified,2026-03-28",
    "2026-03-28,7912345615,079190002222,Lê Ba,1975,AG.X01,da_xac_thuc,2026-03-28",
    "2026-03-28,791234561٥,,Lê Ba,1975,AG.X01,verified,",
    "2026-03-28,7912345616,,Lê Ba,Lê Ba,1975,AG.X01,verified,",
    " 2026-03-28 ,7912345617,,Lê Ba,1975,AG.X02,mismatch,",
]


def _read(kind: str, data: bytes) -> list[Any]:
    """Every record and problem of ``data``, or the refusal's (code, row)."""
    fp = io.BytesIO(data)
    try:
        if kind == "bhxh":
            return list(parse.parse_bhxh(fp, name="f.csv", communes=COMMUNES, key=KEY))
        return list(parse.parse_civil_registry(fp, name="f.csv", communes=COMMUNES))
    except ExtractError as exc:
        return [("refused", exc.reason_code, exc.row)]


def _both(kind: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """What the fast path reads, and what csv alone reads, in blocks of every size from tiny up."""
    results = []
    for chars in (7, 64, 1 << 20):
        monkeypatch.setattr(parse, "_READ_CHARS", chars)
        results.append(_read(kind, data))
    assert results[0] == results[1] == results[2]
    with monkeypatch.context() as m:
        m.setattr(parse, "_split", lambda block, delimiter: None)
        reference = _read(kind, data)
    return results[0], reference


def _files(header: str, rows: list[str]) -> Iterator[tuple[str, bytes]]:
    body = "\n".join([header, *rows])
    yield "plain", (body + "\n").encode()
    yield "no final newline", body.encode()
    yield "crlf and bom", b"\xef\xbb\xbf" + (body.replace("\n", "\r\n") + "\r\n").encode()
    yield "lone cr", (body.replace("\n", "\r") + "\r").encode()
    yield "semicolons", (body.replace(",", ";") + "\n").encode()
    yield "quoted", ("\n".join([header, *(f'"{r}"'.replace(",", '","') for r in rows)]) + "\n").encode()
    yield "a quoted newline", (body + '\n2026-03-31,"AG.\nX01",khac,1,1,1,1\n' + "\n".join(rows) + "\n").encode()
    yield "a stray quote", (body + '\n2026-03-31,AG.X01,kh"ac,1,1,1,1\n').encode()
    yield "malformed", (body + '\n2026-03-31,"AG.X01"x,khac,1,1,1,1\n' + "\n".join(rows)).encode()
    yield "unclosed quote", (body + '\n2026-03-31,"AG.X01,khac,1,1,1,1\n').encode()
    yield "blank only", (header + "\n\n\r\n").encode()


@pytest.mark.parametrize("kind", ["civil_registry", "bhxh"])
def test_the_fast_path_reads_every_file_as_csv_does(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    header, rows = (BHXH, BHXH_ROWS) if kind == "bhxh" else (CIVIL, CIVIL_ROWS)
    for label, data in _files(header, rows):
        fast, reference = _both(kind, data, monkeypatch)
        assert fast == reference, label


def test_the_records_and_problems_are_those_of_the_rows() -> None:
    items = _read("civil_registry", ("\n".join([CIVIL, *CIVIL_ROWS]) + "\n").encode())
    assert [(type(i).__name__, i[0] if isinstance(i, tuple) else i.row_no) for i in items][:3] == [
        ("CivilRegistryCount", 2),
        ("CivilRegistryCount", 3),
        ("RowProblem", 4),
    ]
    assert items[1].records_total == 50
    codes = [i.reason_code for i in items if not isinstance(i, tuple)]
    assert codes == [
        "unknown_record_type",
        "negative_number",
        "invalid_date",
        "number_too_large",
        "not_a_whole_number",
        "wrong_field_count",
        "not_a_whole_number",
    ]
    people = _read("bhxh", ("\n".join([BHXH, *BHXH_ROWS]) + "\n").encode())
    assert people[0].participant_key == pseudonymise("7912345611", KEY)
    assert people[0].person_key == pseudonymise("079186001111", KEY) and people[1].person_key is None
    assert [p.row_no for p in people if isinstance(p, tuple)] == [2, 3, 10]


def test_a_file_with_only_blank_rows_or_a_bad_encoding_is_refused_with_its_row() -> None:
    assert _read("civil_registry", (CIVIL + "\n\n\n").encode()) == [("refused", "no_data_rows", None)]
    good = 30_000 * (CIVIL_ROWS[0] + "\n")  # ~1.4 MB: the bad byte is in the second block
    bad = (CIVIL + "\n" + good).encode() + b"2026-03-31,AG.X\xff01,khac,1,1,1,1\n"
    ((refused, code, row),) = _read("civil_registry", bad)
    assert (refused, code) == ("refused", "undecodable_text") and 2 < row <= 30_002  # the first row of its block


def test_the_keyed_pads_give_hmac_sha256_for_every_key_length() -> None:
    for key in (b"k" * 32, b"k" * 64, b"k" * 65, os.urandom(200)):
        digest = keyed_digest(key)
        for value in ("7912345601", "", "Nguyễn", "0" * 300):
            expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            assert digest(value) == pseudonymise(value, key) == expected
