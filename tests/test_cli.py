"""The `d06` command as a data engineer uses it (no database needed here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from ingest.cli import main as d06
from ingest.registry import load_registry


def test_templates_for_every_reporting_unit_of_a_province(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert d06(["template", "--province", "AG", "--period", "2026-04", "-o", str(tmp_path)]) == 0
    expected = {u.code for u in load_registry().reporting_units(dt.date(2026, 4, 30), "AG")}
    written = {p.name.removesuffix("_2026-04.xlsx") for p in tmp_path.glob("*.xlsx")}
    assert written == expected
    sheet = openpyxl.load_workbook(tmp_path / "AG.STP_2026-04.xlsx")["du_lieu"]
    assert sheet["A1"].value == "ma_don_vi" and sheet["A2"].value == "AG.STP"


def test_template_refuses_an_unknown_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert d06(["template", "--unit", "XX.NOPE", "--period", "2026-04", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "unknown unit" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_a_malformed_period_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        d06(["summary", "--period", "03/2026x"])
    assert exc.value.code == 2
    assert "YYYY-MM" in capsys.readouterr().err


@pytest.mark.warehouse
def test_an_unexpected_error_is_one_line_not_a_traceback(
    warehouse_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fresh database has no marts yet: the summary cannot be read.
    assert d06(["summary", "--period", "2026-03"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("error: UndefinedTable:") and err.count("\n") == 1
