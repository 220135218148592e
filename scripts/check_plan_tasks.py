#!/usr/bin/env python3
"""Validate the plan-task registry (``ingest/registry/plan_tasks.csv``).

The file lists the numbered tasks of a provincial Đề án 06 plan (for now An
Giang's "Kế hoạch ... 6 tháng cuối năm 2025", plan code ``KH-AG-2025H2``),
one row per task, each with its lead and coordinating units, deadline and the
status stated in the plan. Python 3.11 standard library only. Checks:

* UTF-8 without BOM, LF line endings, exact header, NFC-normalised text;
* ``task_id`` unique and equal to ``<plan_code>-<section key>-<task_no:02>``;
  ``task_no`` and ``source_line`` positive integers; ``title_vi`` non-empty
  and at most 200 characters; ``lead_text`` or ``lead_unit_code`` present
  (a missing lead is a warning: the plan does not always name one);
* every code in ``lead_unit_code`` and ``coordinating_unit_codes`` (both are
  ``;``-separated; co-leads are listed in the order written) exists in
  ``units.csv`` and is a current unit (empty ``valid_to``); no code is both
  lead and coordinator of the same task;
* ``deadline`` empty or an ISO date; ``status_as_of`` an ISO date;
  ``recurring`` is ``true``/``false``; ``status`` in the allowed set;
* consistency, as warnings only: recurring with a deadline, one-off without a
  deadline (unless done), ``status=recurring`` on a non-recurring task,
  ``in_progress`` past its deadline, ``overdue`` with no deadline.

With ``--seed PATH`` it also checks that each ``source_line`` of the plan text
starts with ``(task_no)`` (tasks numbered in the plan) or with the title.

Prints counts by status and by lead unit. Exits 1 when any check fails.

Usage: python scripts/check_plan_tasks.py [--tasks PATH] [--units PATH] [--seed PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASKS_CSV = REPO / "ingest" / "registry" / "plan_tasks.csv"
UNITS_CSV = REPO / "ingest" / "registry" / "units.csv"

COLUMNS = [
    "task_id", "plan_code", "section", "task_no", "title_vi",
    "lead_unit_code", "lead_text", "coordinating_unit_codes", "coordinating_text",
    "deadline", "deadline_text", "recurring", "status", "status_as_of", "source_line",
]
STATUSES = ("done", "in_progress", "overdue", "not_started", "recurring")
BOOLS = ("true", "false")
TITLE_MAX = 200
SECTION_KEY_RE = re.compile(r"^\d{2}(\.\d{2})*$")
CODE_RE = re.compile(r"^[A-Z0-9_.]+$")


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def fail(self, msg: str) -> None:
        self.errors.append(msg)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)


def read_csv(
    path: Path, columns: list[str], chk: Checker, *, require_lf: bool = True
) -> list[dict[str, str]]:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        chk.fail(f"{path.name}: starts with a UTF-8 BOM")
        raw = raw[3:]
    if require_lf and b"\r" in raw:
        chk.fail(f"{path.name}: contains CR characters (line endings must be LF)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        chk.fail(f"{path.name}: not valid UTF-8 ({exc})")
        return []
    if require_lf and text and not text.endswith("\n"):
        chk.fail(f"{path.name}: last line does not end with LF")
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        if reader.fieldnames != columns:
            chk.fail(f"{path.name}: header {reader.fieldnames} != {columns}")
            return []
        rows = []
        for row in reader:
            lineno = reader.line_num
            if None in row or any(v is None for v in row.values()):
                chk.fail(f"{path.name}:{lineno}: wrong number of fields")
                continue
            row["_line"] = str(lineno)
            rows.append(row)
    except csv.Error as exc:
        chk.fail(f"{path.name}: CSV syntax error ({exc})")
        return []
    return rows


def load_units(path: Path, chk: Checker) -> dict[str, dict[str, str]]:
    rows = read_csv(
        path,
        ["unit_code", "unit_name", "unit_kind", "parent_code", "province_code",
         "gso_code", "valid_from", "valid_to", "contact_email"],
        chk,
        require_lf=False,  # units.csv is maintained with CRLF line endings
    )
    return {r["unit_code"]: r for r in rows}


def parse_iso(value: str, where: str, field: str, chk: Checker) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        chk.fail(f"{where}: {field} {value!r} is not an ISO date (YYYY-MM-DD)")
        return None


def parse_pos_int(value: str, where: str, field: str, chk: Checker) -> int | None:
    if not re.fullmatch(r"[1-9]\d*", value):
        chk.fail(f"{where}: {field} {value!r} is not a positive integer")
        return None
    return int(value)


def split_codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(";")] if value.strip() else []


def check_codes(
    codes: list[str], field: str, where: str, units: dict[str, dict[str, str]], chk: Checker
) -> None:
    if len(codes) != len(set(codes)):
        chk.fail(f"{where}: {field} lists a code twice ({';'.join(codes)})")
    for code in codes:
        if not CODE_RE.fullmatch(code):
            chk.fail(f"{where}: {field} code {code!r} is malformed")
        elif code not in units:
            chk.fail(f"{where}: {field} code {code} is not in units.csv")
        elif units[code]["valid_to"]:
            chk.fail(f"{where}: {field} code {code} is not a current unit (valid_to {units[code]['valid_to']})")


def check_tasks(
    rows: list[dict[str, str]], units: dict[str, dict[str, str]], chk: Checker, fname: str
) -> None:
    seen: dict[str, str] = {}
    for row in rows:
        tid = row["task_id"]
        where = f"{fname}:{row['_line']} ({tid})"
        for col in COLUMNS:
            if row[col] != unicodedata.normalize("NFC", row[col]):
                chk.fail(f"{where}: {col} is not NFC-normalised")
            if row[col] != row[col].strip() or "\n" in row[col]:
                chk.fail(f"{where}: {col} has leading/trailing whitespace or a line break")

        if tid in seen:
            chk.fail(f"{where}: duplicate task_id (first on line {seen[tid]})")
        else:
            seen[tid] = row["_line"]
        if not row["plan_code"]:
            chk.fail(f"{where}: empty plan_code")
        task_no = parse_pos_int(row["task_no"], where, "task_no", chk)
        parse_pos_int(row["source_line"], where, "source_line", chk)
        prefix = row["plan_code"] + "-"
        if not tid.startswith(prefix):
            chk.fail(f"{where}: task_id does not start with plan_code {row['plan_code']}")
        else:
            key, _, no = tid[len(prefix):].rpartition("-")
            if not SECTION_KEY_RE.fullmatch(key):
                chk.fail(f"{where}: task_id section key {key!r} is not like 02 or 03.01")
            if task_no is not None and no != f"{task_no:02d}":
                chk.fail(f"{where}: task_id ends in {no!r}, task_no is {task_no}")
        if not row["section"]:
            chk.fail(f"{where}: empty section")

        title = row["title_vi"]
        if not title:
            chk.fail(f"{where}: empty title_vi")
        elif len(title) > TITLE_MAX:
            chk.fail(f"{where}: title_vi has {len(title)} characters (max {TITLE_MAX})")

        lead = split_codes(row["lead_unit_code"])
        coord = split_codes(row["coordinating_unit_codes"])
        check_codes(lead, "lead_unit_code", where, units, chk)
        check_codes(coord, "coordinating_unit_codes", where, units, chk)
        both = set(lead) & set(coord)
        if both:
            chk.fail(f"{where}: {', '.join(sorted(both))} is both lead and coordinator")
        if not lead and not row["lead_text"]:
            chk.warn(f"{where}: no lead named (lead_unit_code and lead_text empty)")
        if coord and not row["coordinating_text"]:
            chk.fail(f"{where}: coordinating_unit_codes set but coordinating_text empty")

        deadline = parse_iso(row["deadline"], where, "deadline", chk) if row["deadline"] else None
        as_of = parse_iso(row["status_as_of"], where, "status_as_of", chk)
        recurring = row["recurring"]
        status = row["status"]
        if recurring not in BOOLS:
            chk.fail(f"{where}: recurring {recurring!r} not in {BOOLS}")
        if status not in STATUSES:
            chk.fail(f"{where}: status {status!r} not in {STATUSES}")
        if row["deadline"] and not row["deadline_text"]:
            chk.fail(f"{where}: deadline set but deadline_text empty")

        # consistency: warnings only
        if recurring == "true" and row["deadline"]:
            chk.warn(f"{where}: recurring task has a deadline ({row['deadline']})")
        if recurring == "false" and not row["deadline"] and status != "done":
            chk.warn(f"{where}: one-off task without a deadline (status {status})")
        if status == "recurring" and recurring != "true":
            chk.warn(f"{where}: status recurring but recurring={recurring}")
        if status == "overdue" and not row["deadline"]:
            chk.warn(f"{where}: overdue without a deadline")
        if status == "in_progress" and deadline and as_of and deadline < as_of:
            chk.warn(f"{where}: in_progress but deadline {deadline} is before status_as_of {as_of}")


def check_seed(rows: list[dict[str, str]], seed: Path, chk: Checker, fname: str) -> None:
    lines = seed.read_text(encoding="utf-8").split("\n")
    for row in rows:
        where = f"{fname}:{row['_line']} ({row['task_id']})"
        try:
            n = int(row["source_line"])
            line = unicodedata.normalize("NFC", lines[n - 1]).strip()
        except (ValueError, IndexError):
            chk.fail(f"{where}: source_line {row['source_line']!r} is outside {seed.name}")
            continue
        numbered = line.startswith(f"({row['task_no']})")
        starts_title = bool(line) and row["title_vi"].startswith(line.split(" ")[0])
        if not (numbered or starts_title):
            chk.fail(f"{where}: {seed.name}:{n} does not start the task: {line[:60]!r}")


def report(rows: list[dict[str, str]], units: dict[str, dict[str, str]]) -> None:
    plans = Counter(r["plan_code"] for r in rows)
    print(f"tasks: {len(rows)}   plans: {', '.join(f'{p} ({n})' for p, n in sorted(plans.items()))}")
    print(f"status as of: {', '.join(sorted({r['status_as_of'] for r in rows}))}")
    by_status = Counter(r["status"] for r in rows)
    print("by status:")
    for s in STATUSES:
        print(f"  {s:<12}{by_status[s]:>4}")
    by_section = Counter(r["section"] for r in rows)
    print("by section:")
    for sec in dict.fromkeys(r["section"] for r in rows):
        print(f"  {sec:<50}{by_section[sec]:>4}")
    print("by lead unit (each co-lead counted once):")
    by_lead: Counter[str] = Counter()
    no_code: Counter[str] = Counter()
    for r in rows:
        codes = split_codes(r["lead_unit_code"])
        if not codes:
            no_code[r["lead_text"] or "(no lead named)"] += 1
        for c in codes:
            by_lead[c] += 1
    for code, n in sorted(by_lead.items(), key=lambda kv: (-kv[1], kv[0])):
        name = units.get(code, {}).get("unit_name", "")
        print(f"  {code:<14}{n:>4}  {name}")
    print(f"  {'(no code)':<14}{sum(no_code.values()):>4}  group or unit not in the registry:")
    for text, n in sorted(no_code.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {'':<14}{n:>4}    {text}")
    co_led = sum(1 for r in rows if len(split_codes(r["lead_unit_code"])) > 1)
    print(f"tasks with several lead units: {co_led}")
    print(f"recurring: {sum(r['recurring'] == 'true' for r in rows)}   "
          f"with a deadline: {sum(bool(r['deadline']) for r in rows)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=Path, default=TASKS_CSV)
    ap.add_argument("--units", type=Path, default=UNITS_CSV)
    ap.add_argument("--seed", type=Path, help="plan text the tasks were taken from (checks source_line)")
    args = ap.parse_args(argv)

    chk = Checker()
    units = load_units(args.units, chk)
    rows = read_csv(args.tasks, COLUMNS, chk)
    check_tasks(rows, units, chk, args.tasks.name)
    if args.seed:
        check_seed(rows, args.seed, chk, args.tasks.name)
    report(rows, units)

    if chk.warnings:
        print(f"\nwarnings: {len(chk.warnings)}")
        for msg in chk.warnings:
            print(f"  - {msg}")
    if chk.errors:
        print(f"\nFAILED: {len(chk.errors)} problem(s)", file=sys.stderr)
        for msg in chk.errors:
            print(f"  - {msg}", file=sys.stderr)
        return 1
    print("\nOK: plan tasks pass all checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
