#!/usr/bin/env python3
"""Validate the reporting-unit registry and its 2025 succession table.

Reads ``ingest/registry/units.csv`` and ``ingest/registry/unit_succession.csv``
(Python 3.11 standard library only) and checks:

* both files: UTF-8 without BOM, exact header;
* units: unique ``unit_code`` matching ``^[A-Z0-9_.]+$``, known ``unit_kind``,
  ISO dates with ``valid_from <= valid_to`` (empty ``valid_to`` = still valid),
  parent exists and the parent's validity covers the child's,
  ``province_code`` names a province, unique well-formed ``contact_email``
  on the reserved ``.example`` TLD;
* succession: predecessor and successor exist, shares in (0, 1] summing to
  1.0 (within 1e-9) per predecessor, no duplicate pair, predecessor ends the
  day before ``effective_date`` and the successor is valid on it;
* every unit whose validity ends 2025-06-30 has at least one successor.

Prints counts per province and kind. Exits 1 when any check fails.

Usage: python scripts/check_unit_registry.py [--units PATH] [--succession PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UNITS_CSV = REPO / "ingest" / "registry" / "units.csv"
SUCCESSION_CSV = REPO / "ingest" / "registry" / "unit_succession.csv"

UNIT_COLUMNS = [
    "unit_code", "unit_name", "unit_kind", "parent_code", "province_code",
    "gso_code", "valid_from", "valid_to", "contact_email",
]
SUCCESSION_COLUMNS = ["predecessor_code", "successor_code", "effective_date", "share"]
KINDS = ("province", "department", "district", "commune")
CODE_RE = re.compile(r"^[A-Z0-9_.]+$")
EMAIL_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.example$")
MERGER_END = dt.date(2025, 6, 30)
OPEN_END = dt.date.max
SHARE_TOLERANCE = 1e-9


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, msg: str) -> None:
        self.errors.append(msg)


def read_csv(path: Path, columns: list[str], chk: Checker) -> list[dict[str, str]]:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        chk.fail(f"{path.name}: starts with a UTF-8 BOM")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        chk.fail(f"{path.name}: not valid UTF-8 ({exc})")
        return []
    reader = csv.DictReader(text.splitlines(keepends=True))
    if reader.fieldnames != columns:
        chk.fail(f"{path.name}: header {reader.fieldnames} != {columns}")
        return []
    rows = []
    for lineno, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            chk.fail(f"{path.name}:{lineno}: wrong number of fields")
            continue
        row["_line"] = str(lineno)
        rows.append(row)
    return rows


def parse_date(value: str, where: str, chk: Checker, *, allow_empty: bool = False) -> dt.date | None:
    if value == "":
        if allow_empty:
            return OPEN_END
        chk.fail(f"{where}: empty date")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        chk.fail(f"{where}: bad date {value!r}")
        return None


def check_units(rows: list[dict[str, str]], chk: Checker, fname: str = "units.csv") -> dict[str, dict]:
    units: dict[str, dict] = {}
    emails: dict[str, str] = {}
    for row in rows:
        code = row["unit_code"]
        where = f"{fname}:{row['_line']} ({code})"
        if not CODE_RE.fullmatch(code):
            chk.fail(f"{where}: unit_code does not match {CODE_RE.pattern}")
        if code in units:
            chk.fail(f"{where}: duplicate unit_code")
            continue
        if not row["unit_name"].strip():
            chk.fail(f"{where}: empty unit_name")
        if row["unit_kind"] not in KINDS:
            chk.fail(f"{where}: unit_kind {row['unit_kind']!r} not in {KINDS}")
        vf = parse_date(row["valid_from"], where, chk)
        vt = parse_date(row["valid_to"], where, chk, allow_empty=True)
        if vf and vt and vf > vt:
            chk.fail(f"{where}: valid_from {vf} > valid_to {vt}")
        email = row["contact_email"]
        if not EMAIL_RE.fullmatch(email):
            chk.fail(f"{where}: contact_email {email!r} is not a lowercase address on the .example TLD")
        elif email in emails:
            chk.fail(f"{where}: contact_email {email} also used by {emails[email]}")
        else:
            emails[email] = code
        if row["unit_kind"] == "province":
            if not re.fullmatch(r"\d{2}", row["gso_code"]):
                chk.fail(f"{where}: province gso_code {row['gso_code']!r} is not two digits")
        elif row["gso_code"] and not row["gso_code"].isdigit():
            chk.fail(f"{where}: gso_code {row['gso_code']!r} is not numeric")
        units[code] = {**row, "_from": vf, "_to": vt}

    for code, u in units.items():
        where = f"{fname}:{u['_line']} ({code})"
        parent = u["parent_code"]
        if u["unit_kind"] == "province":
            if parent:
                chk.fail(f"{where}: a province must not have a parent")
            if u["province_code"] != code:
                chk.fail(f"{where}: province_code of a province must be its own code")
            continue
        if not parent:
            chk.fail(f"{where}: missing parent_code")
        elif parent not in units:
            chk.fail(f"{where}: parent {parent} does not exist")
        elif parent == code:
            chk.fail(f"{where}: unit is its own parent")
        else:
            p = units[parent]
            if None not in (u["_from"], u["_to"], p["_from"], p["_to"]) and not (
                p["_from"] <= u["_from"] and u["_to"] <= p["_to"]
            ):
                chk.fail(
                    f"{where}: validity {u['valid_from']}..{u['valid_to'] or 'open'} not covered by "
                    f"parent {parent} ({p['valid_from']}..{p['valid_to'] or 'open'})"
                )
        prov = units.get(u["province_code"])
        if prov is None or prov["unit_kind"] != "province":
            chk.fail(f"{where}: province_code {u['province_code']!r} is not a province")
        else:
            # walking up the parent chain must reach the same province
            seen, cur = set(), code
            while cur in units and units[cur]["unit_kind"] != "province" and cur not in seen:
                seen.add(cur)
                cur = units[cur]["parent_code"]
            if cur != u["province_code"]:
                chk.fail(f"{where}: parent chain ends at {cur!r}, not province_code {u['province_code']}")
    return units


def check_succession(
    rows: list[dict[str, str]],
    units: dict[str, dict],
    chk: Checker,
    fname: str = "unit_succession.csv",
    units_fname: str = "units.csv",
) -> dict[str, float]:
    shares: dict[str, list[float]] = defaultdict(list)
    pairs: set[tuple[str, str]] = set()
    for row in rows:
        pred, succ = row["predecessor_code"], row["successor_code"]
        where = f"{fname}:{row['_line']} ({pred} -> {succ})"
        if (pred, succ) in pairs:
            chk.fail(f"{where}: duplicate predecessor/successor pair")
        pairs.add((pred, succ))
        eff = parse_date(row["effective_date"], where, chk)
        try:
            share = float(row["share"])
        except ValueError:
            chk.fail(f"{where}: share {row['share']!r} is not a number")
            continue
        if not (0.0 < share <= 1.0) or math.isnan(share):
            chk.fail(f"{where}: share {share} not in (0, 1]")
        shares[pred].append(share)
        if pred == succ:
            chk.fail(f"{where}: unit succeeds itself")
        p, s = units.get(pred), units.get(succ)
        if p is None:
            chk.fail(f"{where}: predecessor not in {units_fname}")
        if s is None:
            chk.fail(f"{where}: successor not in {units_fname}")
        if eff is None or p is None or s is None:
            continue
        if p["_to"] != eff - dt.timedelta(days=1):
            chk.fail(f"{where}: predecessor valid_to {p['valid_to'] or 'open'} is not the day before {eff}")
        if s["_from"] is None or s["_to"] is None or not (s["_from"] <= eff <= s["_to"]):
            chk.fail(f"{where}: successor is not valid on {eff}")
        if s["_to"] != OPEN_END:
            chk.fail(f"{where}: successor is not a current unit (valid_to {s['valid_to']})")
    totals: dict[str, float] = {}
    for pred, values in shares.items():
        total = math.fsum(values)
        totals[pred] = total
        if abs(total - 1.0) > SHARE_TOLERANCE:
            chk.fail(f"{fname}: shares of {pred} sum to {total!r}, not 1.0")
    for code, u in units.items():
        if u["_to"] == MERGER_END and code not in shares:
            chk.fail(f"{units_fname}:{u['_line']} ({code}): ends {MERGER_END} but has no successor")
    return totals


def report(units: dict[str, dict], succession_rows: list[dict[str, str]], totals: dict[str, float]) -> None:
    counts: Counter[tuple[str, str]] = Counter((u["province_code"], u["unit_kind"]) for u in units.values())
    provinces = sorted(
        {u["province_code"] for u in units.values()},
        key=lambda c: (units[c]["_to"] != OPEN_END if c in units else True, c),
    )
    print(f"units: {len(units)}   succession rows: {len(succession_rows)}   predecessors: {len(totals)}")
    header = f"{'province':<10}{'status':<9}" + "".join(f"{k:>12}" for k in KINDS) + f"{'total':>8}"
    print(header)
    print("-" * len(header))
    for pc in provinces:
        status = "current" if units.get(pc, {}).get("_to") == OPEN_END else "former"
        row = [counts[(pc, k)] for k in KINDS]
        print(f"{pc:<10}{status:<9}" + "".join(f"{n:>12}" for n in row) + f"{sum(row):>8}")
    split = sorted(p for p in totals if sum(1 for r in succession_rows if r["predecessor_code"] == p) > 1)
    print(f"predecessors split between several successors: {len(split)} ({', '.join(split)})")
    for pc in ("AG", "DT"):
        if pc not in units:
            continue
        cur = [u for u in units.values() if u["province_code"] == pc and u["_to"] == OPEN_END]
        by_kind = Counter(u["unit_kind"] for u in cur)
        reporting = by_kind["department"] + by_kind["commune"]
        print(
            f"current {pc} units: {len(cur)} (province {by_kind['province']}, departments "
            f"{by_kind['department']}, communes {by_kind['commune']}; reporting units {reporting})"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=Path, default=UNITS_CSV)
    ap.add_argument("--succession", type=Path, default=SUCCESSION_CSV)
    args = ap.parse_args(argv)

    chk = Checker()
    unit_rows = read_csv(args.units, UNIT_COLUMNS, chk)
    succession_rows = read_csv(args.succession, SUCCESSION_COLUMNS, chk)
    units = check_units(unit_rows, chk, args.units.name)
    totals = check_succession(succession_rows, units, chk, args.succession.name, args.units.name)
    report(units, succession_rows, totals)

    if chk.errors:
        print(f"\nFAILED: {len(chk.errors)} problem(s)", file=sys.stderr)
        for msg in chk.errors:
            print(f"  - {msg}", file=sys.stderr)
        return 1
    print("OK: unit registry and succession table pass all checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
