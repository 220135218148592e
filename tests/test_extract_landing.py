"""Source extracts through the one landing path, against the real warehouse (formats.md §3, §4).

Every expected count is worked out by hand from the small files written here.  The BHXH
participants are fake, and every personal value is distinctive enough to be found if it leaked:
the last test searches the whole database, the logs and the CLI's output for them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import environment

from ingest.cli import main as d06
from ingest.extracts import detect_extract
from ingest.extracts.pseudonym import PseudonymKeyMissing, pseudonym_key, pseudonymise
from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.landing.replay import replay_period
from ingest.pipeline import prepare_warehouse
from ingest.registry import load_registry
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse]

CIVIL_HEADER = "extract_date,commune_code,record_type,records_total,records_scanned,records_entered,records_synced"
BHXH_HEADER = "extract_date,bhxh_code,personal_id,full_name,birth_date,commune_code,status,status_at"
PEOPLE = [
    # bhxh_code, personal_id, full_name, birth_date, status
    ("7912345611", "079186001111", "Nguyễn Thị Mười Một", "1986-04-12", "verified"),
    ("7912345612", "079190002222", "Trần Văn Hai Hai", "1990-11-03", "mismatch"),
    ("7912345613", "", "Lê Hoàng Ba Ba", "2001", "pending"),
    ("7912345614", "089075004444", "Phạm Quốc Bốn Bốn", "1975-01-30", "not_found"),
]
TWELVE_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
OTHER_KEY = "f" * 64


def secrets_in_clear() -> list[str]:
    """The codes, ID numbers, names and full birth dates of :data:`PEOPLE` (a bare year may be kept)."""
    return [v for person in PEOPLE for v in person[:4] if len(v) > 4]


def leaks(text: str) -> list[str]:
    return [v for v in secrets_in_clear() if v in text] + TWELVE_DIGITS.findall(text)


@pytest.fixture(scope="module")
def communes(warehouse_dsn: str) -> list[str]:
    prepare_warehouse()
    return sorted(code for code, u in load_registry().units.items() if u.kind == "commune")[:3]


@pytest.fixture(scope="module")
def logged() -> Iterator[list[str]]:
    """Every log message of the ``ingest`` package during this module, at every level."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(self.format(record))

    logger, handler = logging.getLogger("ingest"), Keep(logging.DEBUG)
    level, logger.level = logger.level, logging.DEBUG
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)
    logger.setLevel(level)


def _write(path: Path, lines: list[str], *, delimiter: str = ",", bom: bool = False) -> Path:
    text = "\n".join(line.replace(",", delimiter) for line in lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def _bhxh(path: Path, day: str, commune: str, extra: list[str] = (), **kw: Any) -> Path:  # type: ignore[assignment]
    rows = [f"{day},{c},{p},{n},{b},{commune},{s},{day}" for c, p, n, b, s in PEOPLE]
    return _write(path, [BHXH_HEADER, *rows, *extra], **kw)


def _land(*paths: Path, batch: str = "t") -> list[Any]:
    ctx = LandingContext(load_registry(), dt.date(2026, 11, 30), None)
    with connect() as conn:
        return land_paths(conn, list(paths), batch_id=batch, ctx=ctx)


def _ledger(file_id: int) -> tuple[Any, ...]:
    with connect() as conn:
        row = conn.execute(
            "select source_kind, status, period, unit_code, rows_read, rows_loaded, rows_quarantined, error_code,"
            " error_en, archive_path from audit.load_ledger where file_id = %s",
            (file_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def _quarantine(file_id: int) -> list[tuple[Any, ...]]:
    with connect() as conn:
        return conn.execute(
            "select row_no, column_name, raw_value, reason_code, reason_vi, reason_en, raw_row::text"
            " from raw.quarantine where file_id = %s order by row_no",
            (file_id,),
        ).fetchall()


def test_an_extract_is_recognised_by_its_header() -> None:
    assert detect_extract(CIVIL_HEADER.encode() + b"\n2026-03-31,X") == "civil_registry"
    assert detect_extract(b"\xef\xbb\xbf " + BHXH_HEADER.upper().replace(",", " ; ").encode()) == "bhxh"
    assert detect_extract(b"unit_code,period,indicator_code,service_code,numerator\n") is None
    assert detect_extract(b"") is None


def test_a_civil_registry_extract_loads_and_its_bad_rows_are_quarantined(
    communes: list[str], tmp_path: Path, logged: list[str]
) -> None:
    a, b = communes[:2]
    path = _write(
        tmp_path / "ho_tich_2026-03-31.csv",
        [
            CIVIL_HEADER,
            f"2026-03-31,{a},khai_sinh,1000,900,800,700",
            f"2026-03-31,{b},ket_hon,50,50,40,30",
            f"2026-03-31,{a},khai_sinhh,10,9,8,7",  # row 4: not a record type
            f"2026-03-31,{b},khai_tu,10,-5,8,7",  # row 5: negative
            "2026-03-31,XX.NOWHERE,khac,10,9,8,7",  # row 6: unknown commune
        ],
    )
    (o,) = _land(path)
    assert (o.status, o.source_kind, o.rows_read, o.rows_loaded, o.rows_quarantined) == (
        "loaded",
        "civil_registry",
        5,
        2,
        3,
    )
    assert _ledger(o.file_id)[:7] == ("civil_registry", "loaded", "2026-03", None, 5, 2, 3)
    with connect() as conn:
        rows = conn.execute(
            "select row_no, extract_date, commune_code, record_type, records_total, records_synced"
            " from raw.civil_registry_count where file_id = %s order by row_no",
            (o.file_id,),
        ).fetchall()
    assert rows == [
        (2, dt.date(2026, 3, 31), a, "khai_sinh", 1000, 700),
        (3, dt.date(2026, 3, 31), b, "ket_hon", 50, 30),
    ]
    q = [(r[0], r[1], r[2], r[3]) for r in _quarantine(o.file_id)]
    assert q == [
        (4, "record_type", "khai_sinhh", "unknown_record_type"),
        (5, "records_scanned", "-5", "negative_number"),
        (6, "commune_code", "XX.NOWHERE", "unknown_commune"),
    ]
    assert _land(path)[0].status == "duplicate"


def test_a_bhxh_extract_loads_pseudonymised_whatever_its_header_style(communes: list[str], tmp_path: Path) -> None:
    day = "2026-03-28"
    extra = [
        f"{day},79123,079186001111,Nguyễn Thị Mười Một,1986-04-12,{communes[0]},verified,{day}",  # row 6: code
        f"{day},7912345615,07918600111,Trần Văn Hai Hai,1990-11-03,{communes[0]},verified,{day}",  # row 7: ID
        f"{day},7912345616,079190002222,Lê Hoàng Ba Ba,1990-11-03,{communes[0]},da_xac_thuc,{day}",  # 8: status
        f"{day},7912345617,089075004444,Phạm Quốc Bốn Bốn,30/01/1975,{communes[0]},verified,{day}",  # 9: born
        f"{day},7912345618,,Lê Hoàng Ba Ba,Lê Hoàng Ba Ba,1975,{communes[0]},verified,{day}",  # 10: fields
    ]
    path = _bhxh(tmp_path / "BHXH.csv", day, communes[1], extra, delimiter=";", bom=True)
    path.write_bytes(path.read_bytes().replace(b"extract_date;bhxh_code", b" Extract_Date ; BHXH_Code "))
    (o,) = _land(path)
    assert (o.status, o.source_kind, o.period, o.rows_read, o.rows_loaded, o.rows_quarantined) == (
        "loaded",
        "bhxh",
        "2026-03",
        9,
        4,
        5,
    )
    key = pseudonym_key()
    with connect() as conn:
        rows = conn.execute(
            "select participant_key, person_key, birth_year, commune_code, status, status_at"
            " from raw.bhxh_verification where file_id = %s order by row_no",
            (o.file_id,),
        ).fetchall()
    assert rows == [
        (pseudonymise(c, key), pseudonymise(p, key) if p else None, int(b[:4]), communes[1], s, dt.date(2026, 3, 28))
        for c, p, _, b, s in PEOPLE
    ]
    q = _quarantine(o.file_id)
    assert [(r[0], r[1], r[3]) for r in q] == [
        (6, "bhxh_code", "invalid_bhxh_code"),
        (7, "personal_id", "invalid_personal_id"),
        (8, "status", "unknown_status"),
        (9, "birth_date", "invalid_birth_date"),
        (10, None, "wrong_field_count"),
    ]
    assert q[0][2] == pseudonymise("79123", key)  # the bad code, keyed: never in the clear
    assert pseudonymise("7912345615", key) in q[1][6] and q[2][2] == "da_xac_thuc"
    assert all(not leaks(" ".join(map(str, r))) for r in q)
    assert all(r[4] and r[5] for r in q)  # Vietnamese and English reasons


def test_a_bhxh_extract_without_a_pseudonym_key_is_refused_then_lands_once_the_key_is_set(
    communes: list[str], tmp_path: Path
) -> None:
    path = _bhxh(tmp_path / "bhxh_no_key.csv", "2026-02-27", communes[0])
    with environment(D06_PSEUDONYM_KEY=""), pytest.raises(PseudonymKeyMissing, match="D06_PSEUDONYM_KEY"):
        pseudonym_key()
    with environment(D06_PSEUDONYM_KEY=""):
        (o,) = _land(path)
    assert (o.status, o.rows_read) == ("rejected", 0)
    kind, status, period, _, _, _, _, code, error_en, _ = _ledger(o.file_id)
    assert (kind, status, period, code) == ("bhxh", "rejected", "2026-02", "pseudonym_key_missing")
    assert "D06_PSEUDONYM_KEY" in error_en
    (again,) = _land(path)
    assert (again.status, again.rows_loaded) == ("loaded", 4)


def test_the_same_person_gets_the_same_key_across_files_and_another_key_changes_every_digest(
    communes: list[str], tmp_path: Path
) -> None:
    first = _bhxh(tmp_path / "bhxh_jan.csv", "2026-01-30", communes[0])
    second = _bhxh(tmp_path / "bhxh_jan_b.csv", "2026-01-31", communes[1])
    rekeyed = _bhxh(tmp_path / "bhxh_jan_c.csv", "2026-01-29", communes[2])
    ids = [o.file_id for o in _land(first, second)]
    with environment(D06_PSEUDONYM_KEY=OTHER_KEY):
        ids.append(_land(rekeyed)[0].file_id)
    with connect() as conn:
        keys = [
            [
                r[0]
                for r in conn.execute(
                    "select participant_key from raw.bhxh_verification where file_id = %s order by row_no", (i,)
                )
            ]
            for i in ids
        ]
    assert keys[0] == keys[1] and len(set(keys[0])) == 4
    assert not set(keys[0]) & set(keys[2])
    assert keys[2][0] == pseudonymise(PEOPLE[0][0], OTHER_KEY.encode())


def test_the_archive_keeps_a_bhxh_file_encrypted_and_replay_decrypts_it(communes: list[str], tmp_path: Path) -> None:
    path = _bhxh(tmp_path / "bhxh_nov.csv", "2025-11-30", communes[0])
    (o,) = _land(path)
    archived = Path(_ledger(o.file_id)[-1])
    assert archived.name.endswith(".fernet")
    sealed = archived.read_bytes()
    for value in secrets_in_clear():
        assert value.encode() not in sealed
    assert b"full_name" not in sealed
    with connect() as conn:
        outcomes = replay_period(conn, "2025-11")
    assert [(x.file_id, x.status, x.rows_loaded) for x in outcomes] == [(o.file_id, "loaded", 4)]
    with connect() as conn:
        (n,) = conn.execute("select count(*) from raw.bhxh_verification where file_id = %s", (o.file_id,)).fetchone()  # type: ignore[misc]
    assert n == 4


def test_without_an_archive_key_a_bhxh_file_is_neither_archived_nor_loaded(communes: list[str], tmp_path: Path) -> None:
    path = _bhxh(tmp_path / "bhxh_no_archive_key.csv", "2025-10-31", communes[0])
    with environment(D06_ARCHIVE_KEY=""):
        (o,) = _land(path)
    _, status, _, _, _, _, _, code, error_en, archive = _ledger(o.file_id)
    assert (status, code) == ("rejected", "archive_key_missing") and "D06_ARCHIVE_KEY" in error_en
    assert not Path(archive).exists()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_300000_row_bhxh_extract_loads_with_no_cap_and_flat_memory(communes: list[str], tmp_path: Path) -> None:
    rows = 300_000
    path = tmp_path / "bhxh_big.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write(BHXH_HEADER + "\n")
        for i in range(rows):
            pid = "" if i % 9 == 0 else f"0{10**10 + i}"
            f.write(
                f"2025-09-30,{7000000000 + i},{pid},Người Thử {i},1980-01-01,{communes[i % 3]},verified,2025-09-30\n"
            )
    before = _rss_mb()
    started = time.perf_counter()
    (o,) = _land(path)
    secs = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    print(f"300k-row BHXH extract: {rows / secs:,.0f} rows/s, peak RSS growth {growth:.0f} MB")
    assert (o.status, o.rows_read, o.rows_loaded) == ("loaded", rows, rows)
    assert growth < 150


def test_no_personal_value_is_anywhere_in_the_database_logs_or_output(
    communes: list[str],
    tmp_path: Path,
    logged: list[str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _bhxh(
        tmp_path / "bhxh_cli.csv", "2025-08-31", communes[0], [f"2025-08-31,791234561,,X,1990,{communes[0]},verified,"]
    )
    with caplog.at_level(logging.DEBUG):
        assert d06(["ingest", str(path)]) == 0
    output = capsys.readouterr()
    found = leaks(output.out + output.err) + leaks(caplog.text) + leaks("\n".join(logged))
    with psycopg.connect(pytest.importorskip("os").environ["WAREHOUSE_DSN"]) as conn:
        columns = conn.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               where table_schema not in ('pg_catalog', 'information_schema')
                 and data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
                 and (table_schema, table_name) in (select table_schema, table_name from information_schema.tables
                                                    where table_type = 'BASE TABLE')"""
        ).fetchall()
        assert columns
        for schema, table, column in columns:
            query = psycopg.sql.SQL("select {}::text from {} where {} is not null").format(
                psycopg.sql.Identifier(column), psycopg.sql.Identifier(schema, table), psycopg.sql.Identifier(column)
            )
            for (value,) in conn.execute(query):
                found += [f"{schema}.{table}.{column}: {leak}" for leak in leaks(value)]
    assert found == []
