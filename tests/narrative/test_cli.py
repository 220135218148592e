"""``d06 extract-narrative FILE [--json]``."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from ingest.narrative.cli import add_arguments, main, run
from ingest.narrative.extract import JSON_KEYS

from .conftest import SAMPLES, sample_lines
from .documents import make_docx


def test_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract-narrative", str(SAMPLES / "000_912342d7bb84c32c.txt"), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 9
    for rec in records:
        assert list(rec)[: len(JSON_KEYS)] == list(JSON_KEYS)
        assert 0.0 <= rec["confidence"] <= 1.0
    khai_tu = next(r for r in records if r["line_no"] == 52)
    assert (khai_tu["numerator"], khai_tu["denominator"], khai_tu["reported_rate_pct"]) == (1363, 1365, 100.0)
    assert (khai_tu["computed_rate_pct"], khai_tu["service_code"]) == (99.85, "DV13")


def test_human_table_with_header_and_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract-narrative", str(SAMPLES / "000_912342d7bb84c32c.txt")]) == 0
    out = capsys.readouterr().out
    assert "Sở Tư pháp (STP)" in out and "An Giang" in out and "2026-03" in out
    assert "1.363" in out and "99,85%" in out
    assert "[rate_mismatch]" in out and "[full_rate_but_incomplete]" in out


def test_docx_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bao_cao.docx"
    path.write_bytes(make_docx(sample_lines("002_67a72e19db5d95ba")))
    assert main(["extract-narrative", str(path), "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 7


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bao_cao.docx"
    bad.write_bytes(b"not a zip")
    err = io.StringIO()
    assert run(argparse.Namespace(file=bad, json=True), err=err) == 2
    assert "bao_cao.docx" in err.getvalue()
    missing = io.StringIO()
    assert run(argparse.Namespace(file=tmp_path / "none.txt", json=False), err=missing) == 2
    assert "none.txt" in missing.getvalue()


def test_can_be_wired_as_a_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="d06")
    sub = parser.add_subparsers(dest="command")
    add_arguments(sub.add_parser("extract-narrative"))
    args = parser.parse_args(["extract-narrative", "x.pdf", "--json"])
    assert (args.file, args.json) == (Path("x.pdf"), True)
    out = io.StringIO()
    args = parser.parse_args(["extract-narrative", str(SAMPLES / "synthetic_syt_ca_mau_2026_03.txt"), "--json"])
    assert run(args, out=out) == 0
    assert len(out.getvalue().splitlines()) == 8  # the hand-labelled statements of the sample
