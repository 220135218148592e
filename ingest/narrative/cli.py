"""``d06 extract-narrative FILE [--json]``: the statements and findings of one narrative report.

Without ``--json`` it prints the report header, a table of statements and the consistency
findings; with ``--json`` one JSON object per statement per line (see
:meth:`ingest.narrative.extract.Statement.to_json`).  Exit codes: 0 done, 2 unreadable file.

>>> main(["extract-narrative", "tests/narrative/samples/000_912342d7bb84c32c.txt", "--json"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from ingest.narrative.extract import Statement
from ingest.narrative.findings import Finding, consistency_findings, format_count, format_rate
from ingest.narrative.header import ReportHeader, read_header
from ingest.narrative.readers import NarrativeError, read_document
from ingest.narrative.submission import document_statements
from ingest.registry import load_registry

__all__ = ["COMMAND", "add_arguments", "main", "run"]

COMMAND = "extract-narrative"
HELP = "Trích các số liệu tỷ lệ, thành phần/tổng số từ báo cáo văn bản (.txt, .docx, .pdf)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``extract-narrative`` to a (sub)parser.

    >>> p = argparse.ArgumentParser(); add_arguments(p); p.parse_args(["bc.docx", "--json"]).json
    True
    """
    parser.add_argument("file", type=Path, metavar="FILE", help="báo cáo .txt, .docx hoặc .pdf")
    parser.add_argument("--json", action="store_true", help="one JSON object per statement per line")


def _cell(value: object, width: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_table(head: ReportHeader, statements: list[Statement], findings: list[Finding], out: TextIO) -> None:
    print(
        f"Đơn vị: {head.unit_name or '?'} ({head.unit_role or '?'})  Tỉnh: {head.province_name or '?'}  "
        f"Kỳ báo cáo: {head.period or '?'}",
        file=out,
    )
    if head.title_line:
        print(f"Trích yếu: {head.title_line}", file=out)
    print(file=out)
    cols = [
        ("Dòng", 5),
        ("Tử số", 11),
        ("Mẫu số", 11),
        ("Báo cáo", 8),
        ("Tính lại", 8),
        ("Loại", 6),
        ("Phạm vi", 10),
        ("Chỉ tiêu", 22),
        ("DV", 4),
        ("Nội dung", 60),
    ]
    print("  ".join(name.ljust(w) for name, w in cols), file=out)
    for st in statements:
        values = [
            st.line_no,
            None if st.numerator is None else format_count(st.numerator),
            None if st.denominator is None else format_count(st.denominator),
            None if st.reported_rate_pct is None else format_rate(st.reported_rate_pct),
            None if st.computed_rate_pct is None else format_rate(st.computed_rate_pct),
            st.denominator_kind,
            st.scope,
            st.indicator_code,
            st.service_code,
            st.subject,
        ]
        print("  ".join(_cell(v, w).ljust(w) for v, (_n, w) in zip(values, cols, strict=True)).rstrip(), file=out)
    print(file=out)
    if findings:
        print(f"Phát hiện không nhất quán ({len(findings)}):", file=out)
        for f in findings:
            print(f"  dòng {f.line_no} [{f.code}] {f.message_vi}", file=out)
    else:
        print("Không phát hiện số liệu không nhất quán.", file=out)


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``extract-narrative`` with parsed arguments; return the exit code.

    >>> run(argparse.Namespace(file=Path("missing.txt"), json=True))  # doctest: +SKIP
    2
    """
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    path = Path(args.file)
    try:
        with path.open("rb") as fp:
            document = read_document(fp, name=path.name)
    except OSError as exc:
        print(f"{path.name}: không mở được tệp ({exc.strerror or exc})", file=stderr)
        return 2
    except NarrativeError as exc:
        print(str(exc), file=stderr)
        return 2
    registry = load_registry()
    head = read_header(document.lines, registry)
    statements, _unchecked_ocr = document_statements(document, head, registry)
    if args.json:
        for st in statements:
            print(json.dumps(st.to_json(), ensure_ascii=False), file=stdout)
    else:
        _print_table(head, statements, consistency_findings(statements), stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``main(["extract-narrative", "bc.docx", "--json"])``.

    >>> main(["extract-narrative", "--help"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(prog="d06")
    sub = parser.add_subparsers(dest="command", required=True)
    add_arguments(sub.add_parser(COMMAND, help=HELP, description=HELP))
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BrokenPipeError:  # `d06 extract-narrative bc.pdf --json | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
