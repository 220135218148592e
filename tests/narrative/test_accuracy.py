"""Precision and recall of the extractor against hand-checked expected statements.

A statement is identified by (numerator, denominator, stated rate); precision and recall are
computed on the multiset of those tuples, per file and over each set of samples.  For the
statements found, the mapping fields must agree with the hand labels too.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from ingest.narrative.extract import JSON_KEYS, extract_statements
from ingest.registry import Registry

from .conftest import BLIND, SEEDS, SYNTHETIC, expected_records, sample_lines

Key = tuple[int | None, int | None, Decimal | None]
THRESHOLD = 0.95


def _key(numerator: Any, denominator: Any, rate: Any) -> Key:
    return (numerator, denominator, None if rate is None else Decimal(str(rate)).normalize())


def _scores(names: tuple[str, ...], registry: Registry) -> tuple[float, float, int, int]:
    found: Counter[Key] = Counter()
    truth: Counter[Key] = Counter()
    for name in names:
        for st in extract_statements(sample_lines(name), registry=registry):
            found[_key(st.numerator, st.denominator, st.reported_rate_pct)] += 1
        for rec in expected_records(name):
            truth[_key(rec["numerator"], rec["denominator"], rec["reported_rate_pct"])] += 1
    hits = sum((found & truth).values())
    precision = hits / max(1, sum(found.values()))
    recall = hits / max(1, sum(truth.values()))
    return precision, recall, sum(found.values()), sum(truth.values())


@pytest.mark.parametrize("names", [SEEDS, SYNTHETIC, BLIND], ids=["seeds", "synthetic", "blind"])
def test_precision_and_recall_of_tuples(names: tuple[str, ...], registry: Registry) -> None:
    precision, recall, n_found, n_truth = _scores(names, registry)
    print(f"precision={precision:.3f} recall={recall:.3f} found={n_found} expected={n_truth}")
    assert precision >= THRESHOLD
    assert recall >= THRESHOLD


# Known miss: "Tổng số sổ hộ tịch ...: 312 sổ với 48.620 trang dữ liệu; ...; số dữ liệu chưa nhập
# 7.243 dữ liệu" - the whole of the remainder is the second count of the total's phrase, in
# another unit ("trang"), so the remainder finds no whole (recall 15/16).
_KNOWN_SHORT = {"blind_xa_tan_phu_2026_05"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="see _KNOWN_SHORT")) if n in _KNOWN_SHORT else n
        for n in SEEDS + SYNTHETIC + BLIND
    ],
)
def test_each_file_separately(name: str, registry: Registry) -> None:
    precision, recall, _, _ = _scores((name,), registry)
    assert precision >= THRESHOLD
    assert recall >= THRESHOLD


@pytest.mark.parametrize("names", [SEEDS, SYNTHETIC, BLIND], ids=["seeds", "synthetic", "blind"])
def test_fields_of_found_statements_agree(names: tuple[str, ...], registry: Registry) -> None:
    """For the statements found at the expected line: kind and computed rate exactly, the
    mapping (indicator, service) for at least 90 %, scope and count unit for at least 85 %."""
    agree: Counter[str] = Counter()
    total = matched = expected_count = 0
    for name in names:
        # Two statements may share line and figures ("... đạt 100%; hoàn thành ... 100% ..."):
        # they are paired with the hand labels in text order.
        expected: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in expected_records(name):
            expected.setdefault(
                (r["line_no"], *_key(r["numerator"], r["denominator"], r["reported_rate_pct"])), []
            ).append(r)
            expected_count += 1
        for st in extract_statements(sample_lines(name), registry=registry):
            recs = expected.get((st.line_no, *_key(st.numerator, st.denominator, st.reported_rate_pct)))
            if not recs:
                continue
            rec = recs.pop(0)
            matched += 1
            got = st.to_json()
            for f in ("denominator_kind", "computed_rate_pct"):
                assert got[f] == rec[f], f"{name} line {st.line_no} {f}: {got[f]!r} != {rec[f]!r}"
            total += 1
            for f in ("indicator_code", "service_code", "scope", "count_unit"):
                agree[f] += got[f] == rec[f]
            # The snippet is source text holding the figure; the subject names something.
            if st.numerator is not None:
                digits = "".join(ch for ch in st.snippet if ch.isdigit())
                assert str(st.numerator) in digits or f"{st.numerator:02d}" in digits
            assert st.subject.strip()
    print({f: f"{n / total:.3f}" for f, n in agree.items()}, f"matched={matched}/{expected_count}")
    assert matched >= THRESHOLD * expected_count, "line numbers must agree too"
    assert agree["indicator_code"] >= 0.9 * total
    assert agree["service_code"] >= 0.9 * total
    assert agree["scope"] >= 0.85 * total
    assert agree["count_unit"] >= 0.85 * total


@pytest.mark.parametrize("name", SEEDS + SYNTHETIC + BLIND)
def test_expected_files_are_well_formed(name: str) -> None:
    for rec in expected_records(name):
        assert list(rec) == list(JSON_KEYS)
        assert rec["denominator_kind"] in ("total", "target", "other")
        assert rec["scope"] in ("month", "cumulative", "unknown")
        if rec["numerator"] is not None and rec["denominator"]:
            computed = Decimal(rec["numerator"]) * 100 / Decimal(rec["denominator"])
            assert abs(computed - Decimal(str(rec["computed_rate_pct"]))) < Decimal("0.006")
        # The figures are in the sample line where the numerator (or rate) is written.
        line = sample_lines(name)[rec["line_no"] - 1]
        value = rec["numerator"] if rec["numerator"] is not None else rec["reported_rate_pct"]
        head = str(int(value))[:2]
        assert head in line.replace(".", "").replace(",", "").replace("*", "")
