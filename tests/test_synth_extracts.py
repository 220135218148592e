"""`d06 synth --extracts`: the source extracts it writes agree with the submissions it writes.

The oracle is the other side of the consistency: the submission files the same run wrote, read
back with the real adapters, and the extracts parsed here with the csv module, checked by rules
written for this test (formats.md §3 and §4, the registry's extract correspondence spelled out by
hand below).  Never the generator's own helpers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from ingest.cli import main
from ingest.landing.adapters import LandingContext, choose_adapter, read_all
from ingest.registry import load_registry
from ingest.submissions.model import SubmissionRow
from ingest.synth import FAULT_KINDS, parse_fault_kinds, synthesise

PROVINCE, PERIOD = "AG", "2026-03"
PERIODS = ("2026-02", "2026-03")

# formats.md §3 and §4, in order
HOTICH_COLUMNS = [
    "extract_date",
    "commune_code",
    "record_type",
    "records_total",
    "records_scanned",
    "records_entered",
    "records_synced",
]
RECORD_TYPES = {"khai_sinh", "ket_hon", "khai_tu", "nhan_cha_me_con", "thay_doi_ho_tich", "khac"}
BHXH_COLUMNS = [
    "extract_date",
    "bhxh_code",
    "personal_id",
    "full_name",
    "birth_date",
    "commune_code",
    "status",
    "status_at",
]
STATUSES = {"verified", "mismatch", "not_found", "pending"}

# the correspondence the registry declares (checked against it below): (indicator, figure) -> measure
CIVIL_REGISTRY = {
    ("HT_SCANNED", "numerator"): "records_scanned",
    ("HT_SCANNED", "denominator"): "records_total",
    ("HT_ENTERED", "numerator"): "records_entered",
    ("HT_ENTERED", "denominator"): "records_total",
    ("HT_SYNCED", "numerator"): "records_synced",
    ("HT_SYNCED", "denominator"): "records_entered",
}
BHXH = {("BHXH_VERIFIED", "numerator"): "verified", ("BHXH_VERIFIED", "denominator"): "participants"}


@dataclass
class Run:
    root: Path
    submitted: dict[tuple[str, str, str], SubmissionRow]
    """(period, unit, indicator) -> the unit's all-services (NA) row."""
    hotich: dict[str, list[tuple[dt.date, list[dict[str, str]]]]]
    """Period -> its civil-registry extracts (date, rows), oldest first."""
    bhxh: dict[str, Path]
    truth: list[dict[str, object]]
    result_rows: dict[str, int]


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _read(root: Path, result_rows: dict[str, int]) -> Run:
    ctx = LandingContext(load_registry(), dt.date(2026, 6, 1))
    submitted: dict[tuple[str, str, str], SubmissionRow] = {}
    hotich: dict[str, list[tuple[dt.date, list[dict[str, str]]]]] = defaultdict(list)
    bhxh: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.name == "received.csv":
                continue
            m = re.fullmatch(r"(hotich|bhxh)_([A-Z]+)_(\d{4}-\d{2}-\d{2})\.csv", path.name)
            if m:
                assert m[2] == PROVINCE
                day = dt.date.fromisoformat(m[3])
                assert f"{day:%Y-%m}" == folder.name, "an extract is dated in its month"
                if m[1] == "hotich":
                    columns, rows = _csv(path)
                    assert columns == HOTICH_COLUMNS
                    assert {r["extract_date"] for r in rows} == {m[3]}
                    hotich[folder.name].append((day, rows))
                else:
                    assert folder.name not in bhxh, "one BHXH extract a month"
                    bhxh[folder.name] = path
                continue
            with path.open("rb") as fp:
                parsed, problems, _ = read_all(choose_adapter(path.name, fp, ctx), fp, path.name)
            assert not problems, problems[:3]
            for r in parsed:
                if r.service_code == "NA":
                    submitted[(folder.name, r.unit_code, r.indicator_code)] = r
    truth = [json.loads(line) for line in (root / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines()]
    return Run(root, submitted, {p: sorted(x, key=lambda x: x[0]) for p, x in hotich.items()}, bhxh, truth, result_rows)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("clean_extracts")
    result = synthesise(root, province=PROVINCE, period=PERIOD, months=2, seed=3, extracts=True)
    return _read(root, dict(result.extract_rows))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("faulty_extracts")
    result = synthesise(
        root, province=PROVINCE, period=PERIOD, months=2, seed=4, faults="reconciliation_gap,extract_funnel_break"
    )
    return _read(root, dict(result.extract_rows))


def _communes(period: str) -> set[str]:
    y, m = map(int, period.split("-"))
    day = dt.date(y, m, 28)
    return {u.code for u in load_registry().reporting_units(day, PROVINCE) if u.kind == "commune"}


def _figure(row: SubmissionRow, figure: str) -> int:
    value = row.numerator if figure == "numerator" else row.denominator
    assert value is not None
    return int(value)


def _hotich_sums(rows: list[dict[str, str]]) -> dict[str, Counter[str]]:
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        for measure in HOTICH_COLUMNS[3:]:
            sums[r["commune_code"]][measure] += int(r[measure])
    return sums


def _bhxh_sums(path: Path) -> dict[str, Counter[str]]:
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            sums[r["commune_code"]]["participants"] += 1
            sums[r["commune_code"]][r["status"]] += 1
    return sums


def _disagreements(run: Run) -> set[tuple[str, str, str, str]]:
    """(period, unit, indicator, figure) whose submitted figure is not its extract's measure."""
    found: set[tuple[str, str, str, str]] = set()
    for period in PERIODS:
        _, latest = run.hotich[period][-1]  # the latest extract in the month wins
        sums = _hotich_sums(latest)
        for commune, measures in sums.items():
            for (code, figure), measure in CIVIL_REGISTRY.items():
                row = run.submitted.get((period, commune, code))
                if row is not None and _figure(row, figure) != measures[measure]:
                    found.add((period, commune, code, figure))
        people = _bhxh_sums(run.bhxh[period])
        total = Counter({"participants": 0, "verified": 0})
        for counts in people.values():
            total["participants"] += counts["participants"]
            total["verified"] += counts["verified"]
        for (code, figure), measure in BHXH.items():
            row = run.submitted.get((period, f"{PROVINCE}.BHXH", code))
            assert row is not None, "the BHXH department reports BHXH_VERIFIED"
            if _figure(row, figure) != total[measure]:
                found.add((period, f"{PROVINCE}.BHXH", code, figure))
    return found


# --- the tests -----------------------------------------------------------------------------------


def test_the_registry_declares_the_correspondence_spelled_out_here() -> None:
    reg = load_registry()
    for mapping, source in ((CIVIL_REGISTRY, "civil_registry"), (BHXH, "bhxh")):
        for (code, figure), measure in mapping.items():
            ext = reg.indicators[code].extract
            assert ext is not None and ext.source == source
            assert (ext.numerator if figure == "numerator" else ext.denominator) == measure
    assert reg.indicators["BHXH_VERIFIED"].reporters == {"BHXH": ("NA",)}, "a department reports it, not communes"


def test_extract_kinds_stay_out_of_all() -> None:
    assert parse_fault_kinds("all", 2) == list(FAULT_KINDS)
    assert "reconciliation_gap" in parse_fault_kinds("all,reconciliation_gap", 2)


def test_civil_registry_extracts_one_row_per_commune_and_record_type(clean: Run) -> None:
    for period in PERIODS:
        extracts = clean.hotich[period]
        assert len(extracts) == 2, "an earlier extract and the month-end one"
        for _, rows in extracts:
            keys = Counter((r["commune_code"], r["record_type"]) for r in rows)
            assert set(keys.values()) == {1}
            assert {t for _, t in keys} == RECORD_TYPES
            assert {c for c, _ in keys} == _communes(period)
            for r in rows:
                assert all(re.fullmatch(r"\d+", r[m]) for m in HOTICH_COLUMNS[3:])
    assert clean.result_rows["civil_registry"] == sum(len(rows) for p in PERIODS for _, rows in clean.hotich[p])


def test_commune_sums_over_record_types_are_what_each_commune_submitted(clean: Run) -> None:
    assert _disagreements(clean) == set()
    checked = {(p, u) for (p, u, code) in clean.submitted if code == "HT_SYNCED" and u.startswith(f"{PROVINCE}.X.")}
    assert len(checked) == 2 * len(_communes(PERIOD)), "every commune's figures were compared"


def test_funnel_holds_in_every_row_and_the_earlier_extract_is_smaller(clean: Run) -> None:
    for period in PERIODS:
        (early_day, early), (late_day, late) = clean.hotich[period]
        assert early_day < late_day
        for r in early + late:
            t, s, e, y = (int(r[m]) for m in HOTICH_COLUMNS[3:])
            assert t >= s >= e >= y >= 0, r
        later = {(r["commune_code"], r["record_type"]): r for r in late}
        for r in early:
            assert all(int(r[m]) <= int(later[(r["commune_code"], r["record_type"])][m]) for m in HOTICH_COLUMNS[3:])
    # cumulative stocks: no month-end row falls from one month to the next
    before = {(r["commune_code"], r["record_type"]): r for r in clean.hotich[PERIODS[0]][-1][1]}
    for r in clean.hotich[PERIODS[1]][-1][1]:
        old = before[(r["commune_code"], r["record_type"])]
        assert all(int(r[m]) >= int(old[m]) for m in HOTICH_COLUMNS[3:]), (old, r)


def test_bhxh_rows_are_well_formed(clean: Run) -> None:
    communes = _communes(PERIOD)
    for period in PERIODS:
        day = dt.date.fromisoformat(clean.bhxh[period].name[len("bhxh_AG_") : -len(".csv")])
        with clean.bhxh[period].open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            assert reader.fieldnames == BHXH_COLUMNS
            codes: set[str] = set()
            empty_ids = 0
            n = 0
            for r in reader:
                n += 1
                assert r["extract_date"] == day.isoformat()
                assert re.fullmatch(r"\d{10}", r["bhxh_code"]) and r["bhxh_code"] not in codes
                codes.add(r["bhxh_code"])
                empty_ids += r["personal_id"] == ""
                assert r["personal_id"] == "" or re.fullmatch(r"\d{12}", r["personal_id"])
                assert len(r["full_name"].split()) >= 3
                birth = r["birth_date"]
                assert re.fullmatch(r"\d{4}", birth) or dt.date.fromisoformat(birth) <= day
                if r["personal_id"] and len(birth) == 10:
                    assert r["personal_id"][4:6] == birth[2:4], "the id carries the birth year"
                assert r["commune_code"] in communes
                assert r["status"] in STATUSES
                assert dt.date.fromisoformat(r["status_at"]) <= day
            assert n > 10_000
            assert 0 < empty_ids < 0.1 * n, "a few participants have no personal id"
    assert clean.result_rows["bhxh"] == sum(
        sum(c["participants"] for c in _bhxh_sums(p).values()) for p in clean.bhxh.values()
    )


def test_bhxh_communes_sum_to_the_departments_figures(clean: Run) -> None:
    for period in PERIODS:
        people = _bhxh_sums(clean.bhxh[period])
        row = clean.submitted[(period, f"{PROVINCE}.BHXH", "BHXH_VERIFIED")]
        assert sum(c["verified"] for c in people.values()) == row.numerator
        assert sum(c["participants"] for c in people.values()) == row.denominator
        assert len(people) > 0.9 * len(_communes(period)), "participants live all over the province"


def test_participants_persist_and_some_statuses_change(clean: Run) -> None:
    def people(period: str) -> dict[str, dict[str, str]]:
        with clean.bhxh[period].open(encoding="utf-8", newline="") as f:
            return {r["bhxh_code"]: r for r in csv.DictReader(f)}

    first, second = people(PERIODS[0]), people(PERIODS[1])
    assert set(first) <= set(second), "nobody disappears; stocks grow"
    transitions: Counter[tuple[str, str]] = Counter()
    for code, before in first.items():
        after = second[code]
        for column in ("personal_id", "full_name", "birth_date", "commune_code"):
            assert after[column] == before[column], (code, column)
        if after["status"] != before["status"]:
            transitions[(before["status"], after["status"])] += 1
            assert after["status_at"] > before["status_at"] and after["status_at"][:7] == PERIODS[1]
        else:
            assert after["status_at"] == before["status_at"]
    assert transitions[("pending", "verified")] > 0
    assert transitions[("verified", "mismatch")] + transitions[("verified", "not_found")] > 0


def test_injected_reconciliation_gap_is_the_only_disagreement(faulty: Run) -> None:
    gaps = [f for f in faulty.truth if f["check"] == "reconciliation_gap"]
    assert len(gaps) == 1
    (gap,) = gaps
    assert gap["period"] == PERIOD and gap["service_code"] == "NA"
    values = gap["values"]
    assert isinstance(values, dict)
    assert _disagreements(faulty) == {(PERIOD, gap["unit_code"], gap["indicator_code"], values["figure"])}
    row = faulty.submitted[(PERIOD, str(gap["unit_code"]), str(gap["indicator_code"]))]
    reported = _figure(row, str(values["figure"]))
    assert reported == values["reported"] != values["extract"]
    tolerance = load_registry().indicators[str(gap["indicator_code"])].extract
    assert tolerance is not None
    off = abs(Decimal(reported - int(values["extract"]))) / Decimal(int(values["extract"])) * 100
    assert off > 4 * tolerance.tolerance_pct, "clearly beyond the tolerance"


def test_a_gap_on_the_bhxh_department(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other kind of unit a gap can fall on: steer the victim choice to the department."""
    import ingest.synth

    monkeypatch.setattr(
        ingest.synth._Injector,
        "_rank",
        lambda self, unit, communes_first=True: (unit.code in self.used, unit.code != f"{PROVINCE}.BHXH"),
    )
    synthesise(tmp_path, province=PROVINCE, period=PERIOD, months=2, seed=4, faults="reconciliation_gap")
    run = _read(tmp_path, {})
    ((gap),) = [f for f in run.truth if f["check"] == "reconciliation_gap"]
    assert (gap["unit_code"], gap["indicator_code"]) == (f"{PROVINCE}.BHXH", "BHXH_VERIFIED")
    values = gap["values"]
    assert isinstance(values, dict)
    assert _disagreements(run) == {(PERIOD, f"{PROVINCE}.BHXH", "BHXH_VERIFIED", values["figure"])}


def test_injected_extract_funnel_break_is_the_only_broken_row(faulty: Run) -> None:
    breaks = {
        (f["period"], f["unit_code"])
        for f in faulty.truth
        if f["check"] == "funnel_break" and f["indicator_code"] == "HT_SYNCED" and f["service_code"] == "NA"
    }
    assert len(breaks) == len(PERIODS), "one a month"
    found = set()
    for period in PERIODS:
        for _, rows in faulty.hotich[period]:
            for r in rows:
                t, s, e, y = (int(r[m]) for m in HOTICH_COLUMNS[3:])
                assert t >= s >= e
                if y > e:
                    found.add((period, r["commune_code"]))
    assert found == breaks
    # the broken commune's sums still equal what it reported: the break is inside the extract only
    assert all((p, u, "HT_SYNCED", "numerator") not in _disagreements(faulty) for p, u in breaks)


def test_cli_prints_counts_and_paths_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["synth", "--province", PROVINCE, "--period", PERIOD, "--out", str(tmp_path), "--bhxh-participants", "5000"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "5000 BHXH rows" in out
    (path,) = (tmp_path / PERIOD).glob("bhxh_*.csv")
    _, rows = _csv(path)
    assert len(rows) == 5000
    assert not re.search(r"\d{10}", out), "no social-insurance code or personal id"
    names = {r["full_name"] for r in rows}
    assert not any(name in out for name in names)


def _peak_rss_kb(out: Path, participants: int) -> tuple[int, int]:
    """(BHXH rows written, peak RSS in kB) of a fresh process synthesising two months.  VmHWM,
    unlike ru_maxrss, does not inherit the peak of the pytest process that forked it."""
    script = (
        "import re; from pathlib import Path; from ingest.synth import synthesise; "
        f"r = synthesise(Path({str(out)!r}), province='AG', period='2026-03', months=2, "
        f"bhxh_participants={participants}); "
        "hwm = re.search(r'VmHWM:\\s*(\\d+) kB', Path('/proc/self/status').read_text())[1]; "
        "print(r.extract_rows['bhxh'], hwm)"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    rows, peak = map(int, proc.stdout.split())
    return rows, peak


def test_a_large_bhxh_extract_streams_within_bounded_memory(tmp_path: Path) -> None:
    """300k participants a month: the peak RSS grows by a few MB over a 3k run (a status byte and
    a date a participant), where holding a month's rows (~15 MB of text) would take ~100 MB."""
    small_rows, small = _peak_rss_kb(tmp_path / "small", 3_000)
    rows, peak = _peak_rss_kb(tmp_path / "large", 300_000)
    assert small_rows >= 2 * 2_990 and rows >= 2 * 299_000
    assert peak - small < 25 * 1024, f"peak RSS {small / 1024:.0f} MB -> {peak / 1024:.0f} MB"
    assert peak < 200 * 1024
