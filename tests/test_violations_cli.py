"""`d06 violations`: a period's findings in order, filtered, as a table or JSON lines; and
`explain` / `accept`, which record who, when and why, and refuse what the status does not allow.

The ledger rows are made here by hand (the quality gate is not run): period 2031-01 holds one
finding of five checks, 2031-02 one more that no listing of 2031-01 may show.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from ingest.cli import main as d06
from ingest.pipeline import prepare_warehouse
from ingest.quality.violations import ViolationCorrected, ViolationInputError, accept, explain
from ingest.registry import load_registry

pytestmark = pytest.mark.warehouse
PERIOD = "2031-01"
OTHER_PERIOD = "2031-02"
CHECKS = load_registry().checks


def insert(
    dsn: str,
    check: str,
    unit: str,
    indicator: str | None,
    service: str | None,
    values: dict[str, Any],
    *,
    status: str = "open",
    period: str = PERIOD,
) -> int:
    """One hand-made finding; returns its id."""
    with psycopg.connect(dsn) as conn:
        (vid,) = conn.execute(  # type: ignore[misc]
            """insert into audit.violation (check_code, severity, unit_code, indicator_code, service_code, period,
                                            "values", status, first_run_id, last_run_id)
               values (%s, %s, %s, %s, %s, %s, %s, %s, 'test-run', 'test-run') returning violation_id""",
            (check, CHECKS[check].severity, unit, indicator, service, period, Jsonb(values), status),
        ).fetchone()
    return int(vid)


@pytest.fixture(scope="module")
def ledger(warehouse_dsn: str) -> Iterator[dict[str, int]]:
    prepare_warehouse()
    ids = {
        "over_target": insert(warehouse_dsn, "over_target", "AG.CAT", "HT_SCANNED", "NA", {"numerator": 120}),
        "rate_mismatch": insert(
            warehouse_dsn, "rate_mismatch", "AG.STP", "HT_SCANNED", "NA", {"reported_rate": 97.5}, status="explained"
        ),
        "stock_decrease": insert(
            warehouse_dsn, "stock_decrease", "AG.CAT", "HT_SYNCED", "NA", {"numerator": 5}, status="corrected"
        ),
        "missing_submission": insert(warehouse_dsn, "missing_submission", "AG.SYT", None, None, {}),
        "numerator_exceeds_denominator": insert(
            warehouse_dsn,
            "numerator_exceeds_denominator",
            "AG.STP",
            "DVC_ONLINE_RESOLVED",
            "DV01",
            {"numerator": 900, "denominator": 856, "reported_rate": 105.14},
        ),
        "other_period": insert(warehouse_dsn, "over_target", "AG.CAT", "HT_SCANNED", "NA", {}, period=OTHER_PERIOD),
    }
    yield ids
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("delete from audit.violation where period in (%s, %s)", (PERIOD, OTHER_PERIOD))


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert d06(["violations", "--period", PERIOD, "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `d06 ARGS`, expect exit 2, and return its one-line error."""
    assert d06(list(args)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_a_period_is_listed_errors_first_then_in_catalogue_order(
    ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    checks = [v["check"] for v in listed(capsys)]
    assert checks == [
        "numerator_exceeds_denominator",  # errors, in the catalogue's order
        "stock_decrease",
        "rate_mismatch",  # warnings
        "missing_submission",
        "over_target",  # info
    ]
    assert [CHECKS[c].severity for c in checks] == ["error", "error", "warning", "warning", "info"]


def test_json_lines_carry_the_finding_and_its_values(
    ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    (v,) = listed(capsys, "--check", "numerator_exceeds_denominator")
    assert v["id"] == ledger["numerator_exceeds_denominator"]
    assert {k: v[k] for k in ("severity", "status", "unit_code", "indicator_code", "service_code", "period")} == {
        "severity": "error",
        "status": "open",
        "unit_code": "AG.STP",
        "indicator_code": "DVC_ONLINE_RESOLVED",
        "service_code": "DV01",
        "period": PERIOD,
    }
    assert v["values"] == {"numerator": 900, "denominator": 856, "reported_rate": 105.14}
    assert v["first_run_id"] == v["last_run_id"] == "test-run"
    assert v["status_by"] is None and v["status_comment"] is None and v["status_at"] is None
    assert dt.datetime.fromisoformat(v["first_seen_at"]).tzinfo is not None
    (submission,) = listed(capsys, "--check", "missing_submission")
    assert submission["indicator_code"] is None and submission["service_code"] is None


def test_filters_by_unit_status_check_and_severity(ledger: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert [v["check"] for v in listed(capsys, "--unit", "AG.STP")] == [
        "numerator_exceeds_denominator",
        "rate_mismatch",
    ]
    assert [v["check"] for v in listed(capsys, "--status", "corrected")] == ["stock_decrease"]
    assert [v["check"] for v in listed(capsys, "--unit", "AG.CAT", "--status", "open")] == ["over_target"]
    assert [v["id"] for v in listed(capsys, "--check", "over_target")] == [ledger["over_target"]], "one period only"
    assert {v["severity"] for v in listed(capsys, "--severity", "warning")} == {"warning"}
    assert listed(capsys, "--unit", "AG.NOBODY") == []


def test_the_table_names_each_check_in_vietnamese(ledger: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert d06(["violations", "--period", PERIOD, "--unit", "AG.STP"]) == 0
    out = capsys.readouterr()
    head, *rows = out.out.splitlines()
    assert head.split() == ["id", "severity", "status", "check", "unit", "indicator", "service", "values", "title_vi"]
    assert len(rows) == 2 and "2 violation(s)" in out.err
    assert rows[0].endswith(CHECKS["numerator_exceeds_denominator"].title_vi)
    assert "numerator=900, denominator=856, reported_rate=105.14" in rows[0]


def test_unknown_status_or_check_is_refused_with_the_valid_values(
    ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(capsys, "violations", "--period", PERIOD, "--status", "closed")
    assert "'closed'" in err and "open, explained, corrected, accepted" in err
    err = refused(capsys, "violations", "--period", PERIOD, "--check", "no_such_check")
    assert "'no_such_check'" in err and ", ".join(CHECKS) in err, "the valid codes come from the registry"
    refused(capsys, "violations", "--unit", "AG.STP")  # no period


def test_explain_records_who_when_and_why(
    warehouse_dsn: str, ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    vid = insert(warehouse_dsn, "count_jump", "AG.BHXH", "BHXH_VERIFIED", "NA", {"numerator": 10, "factor": 5})
    before = dt.datetime.now(dt.UTC)
    assert d06(["violations", "explain", str(vid), "--by", "phong.ktdl", "--comment", "Đã xác minh với đơn vị"]) == 0
    assert f"violation {vid}: explained by phong.ktdl" in capsys.readouterr().out
    (v,) = listed(capsys, "--check", "count_jump")
    assert (v["status"], v["status_by"], v["status_comment"]) == ("explained", "phong.ktdl", "Đã xác minh với đơn vị")
    assert before <= dt.datetime.fromisoformat(v["status_at"]) <= dt.datetime.now(dt.UTC)
    assert d06(["violations", "explain", str(vid), "--by", "b", "--comment", "Bổ sung"]) == 0, "explained again"
    capsys.readouterr()
    assert listed(capsys, "--check", "count_jump")[0]["status_comment"] == "Bổ sung"


def test_accept_after_explain_then_nothing_more(
    warehouse_dsn: str, ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    vid = insert(warehouse_dsn, "funnel_break", "AG.STP", "HT_ENTERED", "NA", {"upper_value": 1, "lower_value": 2})
    assert d06(["violations", "explain", str(vid), "--by", "a", "--comment", "đang xác minh"]) == 0
    assert d06(["violations", "accept", str(vid), "--by", "b", "--comment", "Số liệu đúng"]) == 0
    capsys.readouterr()
    (v,) = listed(capsys, "--check", "funnel_break")
    assert (v["status"], v["status_by"], v["status_comment"]) == ("accepted", "b", "Số liệu đúng")
    assert "accepted" in refused(capsys, "violations", "accept", str(vid), "--by", "c", "--comment", "lần nữa")
    assert "accepted" in refused(capsys, "violations", "explain", str(vid), "--by", "c", "--comment", "x")
    assert listed(capsys, "--check", "funnel_break")[0]["status_by"] == "b", "a refusal changes nothing"


def test_a_corrected_finding_cannot_be_explained_or_accepted(
    warehouse_dsn: str, ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    vid = ledger["stock_decrease"]
    for action in ("accept", "explain"):
        err = refused(capsys, "violations", action, str(vid), "--by", "a", "--comment", "đúng")
        assert "corrected" in err and "đã được sửa" in err
    with psycopg.connect(warehouse_dsn) as conn:
        with pytest.raises(ViolationCorrected):
            accept(conn, vid, "a", "đúng")
        assert conn.execute(
            "select status, status_by from audit.violation where violation_id = %s", (vid,)
        ).fetchone() == (
            "corrected",
            None,
        )


def test_who_and_why_are_required(
    warehouse_dsn: str, ledger: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    vid = ledger["over_target"]
    assert "--comment" in refused(capsys, "violations", "explain", str(vid), "--by", "a", "--comment", "  ")
    with psycopg.connect(warehouse_dsn) as conn, pytest.raises(ViolationInputError):
        explain(conn, vid, "", "lý do")
    with pytest.raises(SystemExit) as exc:
        d06(["violations", "accept", str(vid), "--by", "a"])
    assert exc.value.code == 2
    capsys.readouterr()
    assert listed(capsys, "--check", "over_target")[0]["status"] == "open"


def test_an_unknown_id_is_one_line_and_exit_2(ledger: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, "violations", "accept", "987654321", "--by", "a", "--comment", "đúng")
    assert "987654321" in err and "no violation" in err


def test_a_reader_that_stops_early_is_no_error(ledger: dict[str, int]) -> None:
    """`d06 violations --json | head -0`: the pipe is closed before the command writes; no error, exit 0."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "violations", "--period", PERIOD, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the interpreter has even started: its first write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait() == 0, err
    assert "error" not in err and "Traceback" not in err
