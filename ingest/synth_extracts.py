"""The source extracts of a synthesised province (formats.md §3, §4), consistent with what its
units report: ``d06 synth --extracts``.

The registry says which extract measure each reported figure corresponds to
(``Indicator.extract``: ``HT_SCANNED`` is ``records_scanned`` over ``records_total`` summed over
record types, ``BHXH_VERIFIED`` is ``verified`` over ``participants`` of the department's
province).  The extracts are made from the *clean* figures, before any fault is injected: a
source system's export is the truth a unit's report is reconciled with.

* **Civil registry** (``hotich_<PROVINCE>_<YYYY-MM-DD>.csv``): each commune's reported stocks
  (total ≥ scanned ≥ entered ≥ synced) are split over the six record types so that the sums are
  exactly the reported figures, every row keeps the funnel, and no row falls from one month to the
  next (each month's growth is shared out within each row's room, :func:`apportion`).  A month
  has two extracts: one mid-month with smaller counts, and the month-end one, which wins.
* **BHXH** (``bhxh_<PROVINCE>_<YYYY-MM-DD>.csv``): one row per participant, streamed.  Each
  BHXH-reporting department has a population whose identities (code, name, birth date, commune)
  are replayed from one seeded stream every month, so the same people persist with the same codes;
  their statuses live in one byte each (and the last change's day in two), so 1.6 million
  participants take a few MB.  Every month, some verified participants turn ``mismatch`` or
  ``not_found`` and enough others are verified for the count of verified to be exactly the
  department's reported figure, summed over its province's communes.

>>> plan = ExtractPlan.build(registry, "AG", months, seed=0, weights=sizes)
>>> plan.write(Path("/tmp/inbox/2026-03"), "2026-03")  # doctest: +SKIP
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ingest.demo import _rng
from ingest.extracts.formats import BHXH_COLUMNS, CIVIL_REGISTRY_COLUMNS, RECORD_TYPE_ORDER, STATUS_ORDER
from ingest.registry import Registry, Unit
from ingest.registry.catalog import EXTRACT_MEASURES

__all__ = [
    "BHXH_COLUMNS",
    "BHXH_STATUSES",
    "HOTICH_COLUMNS",
    "RECORD_TYPES",
    "ExtractPlan",
    "apportion",
    "correspondences",
]

RECORD_TYPES = RECORD_TYPE_ORDER
HOTICH_COLUMNS = CIVIL_REGISTRY_COLUMNS
HOTICH_MEASURES = EXTRACT_MEASURES["civil_registry"]
BHXH_STATUSES = STATUS_ORDER
_VERIFIED, _MISMATCH, _NOT_FOUND, _PENDING = range(4)
_RECORD_SHARES = (0.42, 0.16, 0.2, 0.03, 0.07, 0.12)
"""Typical shares of the historical civil-registry books by record type."""
_EPOCH = dt.date(2000, 1, 1)
_CHUNK = 8192


class _Row(Protocol):
    """What this module needs of a submission row (``ingest.synth.SynthRow``)."""

    unit_code: str
    indicator_code: str
    service_code: str
    numerator: int
    denominator: int | None

    def restate(self) -> None: ...


def correspondences(registry: Registry, source: str) -> dict[str, list[tuple[str, str]]]:
    """Extract measure -> the (indicator, figure) pairs that report it, numerators first."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for figure in ("numerator", "denominator"):
        for ind in registry.indicators.values():
            ext = ind.extract
            if ext is None or ext.source != source:
                continue
            measure = ext.numerator if figure == "numerator" else ext.denominator
            if measure:
                out[measure].append((ind.code, figure))
    return dict(out)


def _get(row: _Row, figure: str) -> int:
    return row.numerator if figure == "numerator" else row.denominator or 0


def _set(row: _Row, figure: str, value: int) -> None:
    if figure == "numerator":
        row.numerator = value
    else:
        row.denominator = value
    row.restate()


def align_reported(registry: Registry, rows: Mapping[str, Sequence[_Row]]) -> None:
    """Make the figures that report one extract measure equal within each unit's rows (the first
    numerator wins: ``HT_SYNCED``'s denominator *is* ``HT_ENTERED``'s numerator, records_entered).

    A department that sends its communes' sums stays their sum: equal figures sum equally."""
    for source in ("civil_registry", "bhxh"):
        measures = correspondences(registry, source)
        for unit_rows in rows.values():
            index = {(r.indicator_code, r.service_code): r for r in unit_rows}
            for figures in measures.values():
                present = [(index[(code, "NA")], figure) for code, figure in figures if (code, "NA") in index]
                if len(present) < 2:
                    continue
                value = _get(*present[0])
                for row, figure in present[1:]:
                    if _get(row, figure) != value:
                        _set(row, figure, value)


def measures_of(registry: Registry, source: str, unit_rows: Sequence[_Row]) -> dict[str, int]:
    """A unit's reported figures as extract measures (the first figure of each measure)."""
    index = {(r.indicator_code, r.service_code): r for r in unit_rows}
    out: dict[str, int] = {}
    for measure, figures in correspondences(registry, source).items():
        for code, figure in figures:
            if (code, "NA") in index:
                out[measure] = _get(index[(code, "NA")], figure)
                break
    return out


def apportion(amount: int, weights: Sequence[float], caps: Sequence[int]) -> list[int]:
    """Share ``amount`` out in proportion to ``weights``, no share above its cap (largest
    remainders; what a capped share cannot take goes to the others).

    >>> apportion(10, [1, 1, 2], [100, 1, 100])
    [3, 1, 6]
    """
    n = len(weights)
    if amount < 0 or amount > sum(caps):
        raise ValueError(f"cannot share {amount} within caps {list(caps)}")
    alloc = [0] * n
    open_ = [k for k in range(n) if caps[k] > 0]
    while amount and open_:
        wsum = sum(weights[k] for k in open_) or float(len(open_))
        exact = {k: amount * (weights[k] or (wsum / len(open_))) / wsum for k in open_}
        for k in open_:
            take = min(caps[k] - alloc[k], math.floor(exact[k]))
            alloc[k] += take
            amount -= take
        for k in sorted(open_, key=lambda k: (exact[k] - math.floor(exact[k]), weights[k]), reverse=True):
            if not amount:
                break
            if alloc[k] < caps[k]:
                alloc[k] += 1
                amount -= 1
        open_ = [k for k in open_ if alloc[k] < caps[k]]
    return alloc


def split_funnel(
    values: Sequence[int], weights: Sequence[float], previous: Sequence[Sequence[int]] | None
) -> list[list[int]]:
    """Rows (one per record type) of ``[total, scanned, entered, synced]`` summing to ``values``,
    each row a funnel, each row at least its ``previous`` month's row (when the sums grew)."""
    n = len(weights)
    if previous is None or any(
        v < sum(p[j] for p in previous) for j, v in enumerate(values)
    ):  # a first month, or figures that fell: start again
        previous = [[0] * len(values) for _ in range(n)]
    rows = [list(p) for p in previous]
    for j, value in enumerate(values):
        grow = value - sum(r[j] for r in rows)
        caps = [grow] * n if j == 0 else [rows[k][j - 1] - rows[k][j] for k in range(n)]
        for k, extra in enumerate(apportion(grow, weights, caps)):
            rows[k][j] += extra
    return rows


# --- the plan: every month's extract figures, made before faults are injected ------------------


@dataclass
class _Population:
    """One BHXH department's participants: identities replayed from a seed, statuses in bytes."""

    department: str
    prefix: str
    seed: str
    status: bytearray = field(default_factory=bytearray)
    changed_on: array = field(default_factory=lambda: array("H"))
    """Days since 2000-01-01 of each participant's last status change."""


@dataclass
class ExtractPlan:
    """The figures of a province's extracts for each month, and the faults made in them."""

    registry: Registry
    province: str
    seed: str
    hotich: dict[str, dict[str, list[list[int]]]]
    """Period -> commune -> one ``[total, scanned, entered, synced]`` per record type (month end)."""
    hotich_early: dict[str, dict[str, list[list[int]]]]
    """Period -> the mid-month extract's rows (smaller: the month-end one wins)."""
    bhxh: dict[str, dict[str, tuple[int, int]]]
    """Period -> BHXH department -> (participants, verified)."""
    communes: dict[str, list[tuple[str, float]]]
    """Period -> (commune, weight) per commune of the scope, for the participants' residence."""
    provinces: dict[str, str]
    """Unit -> its province (for each department's communes)."""
    gso: dict[str, str]
    populations: dict[str, _Population] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        registry: Registry,
        province: str,
        months: Sequence[tuple[str, Sequence[Unit], Mapping[str, Sequence[_Row]]]],
        *,
        seed: int,
        weights: Callable[[Unit], float],
        bhxh_participants: int | None = None,
    ) -> ExtractPlan:
        """From each month's clean rows (``(period, units, unit -> rows)``).  ``bhxh_participants``
        scales the BHXH departments' figures (in every month) so that the last month has that many
        participants: the caller then writes those figures back into the submissions."""
        hotich: dict[str, dict[str, list[list[int]]]] = {}
        early: dict[str, dict[str, list[list[int]]]] = {}
        bhxh: dict[str, dict[str, tuple[int, int]]] = {}
        communes: dict[str, list[tuple[str, float]]] = {}
        before: dict[str, list[list[int]]] = {}
        provinces: dict[str, str] = {}
        gso: dict[str, str] = {}
        for period, units, rows in months:
            hotich[period], early[period], bhxh[period] = {}, {}, {}
            communes[period] = [(u.code, weights(u)) for u in units if u.kind == "commune"]
            for u in units:
                provinces[u.code] = u.province_code
                if registry.units[u.province_code].gso_code:
                    gso[u.province_code] = str(registry.units[u.province_code].gso_code)
            for unit in units:
                unit_rows = rows.get(unit.code, [])
                if unit.kind == "commune":
                    m = measures_of(registry, "civil_registry", unit_rows)
                    if not all(k in m for k in HOTICH_MEASURES):
                        continue
                    values = [m[k] for k in HOTICH_MEASURES]
                    shares = _record_weights(str(seed), unit.code)
                    cur = split_funnel(values, shares, before.get(unit.code))
                    prev = before.get(unit.code)
                    if prev is None:
                        mid = [[math.floor(v * 0.97) for v in row] for row in cur]
                    else:
                        mid = [
                            [(a + b) // 2 for a, b in zip(p, c, strict=True)] for p, c in zip(prev, cur, strict=True)
                        ]
                    hotich[period][unit.code], early[period][unit.code] = cur, mid
                    before[unit.code] = cur
                elif unit.kind == "department":
                    m = measures_of(registry, "bhxh", unit_rows)
                    if "participants" in m and "verified" in m:
                        bhxh[period][unit.code] = (m["participants"], m["verified"])
        if bhxh_participants is not None and months:
            last = bhxh[months[-1][0]]
            total = sum(p for p, _ in last.values())
            if not total:
                raise ValueError("no BHXH department reports participants: --bhxh-participants has nothing to scale")
            factor = bhxh_participants / total
            for period in bhxh:
                bhxh[period] = {
                    d: (math.floor(p * factor), math.floor(v * factor)) for d, (p, v) in bhxh[period].items()
                }
            # the floors may leave the last month a few short of the number asked for
            short = bhxh_participants - sum(p for p, _ in bhxh[months[-1][0]].values())
            first = sorted(bhxh[months[-1][0]])[0]
            p, v = bhxh[months[-1][0]][first]
            bhxh[months[-1][0]][first] = (p + short, v)
        return cls(registry, province, str(seed), hotich, early, bhxh, communes, provinces, gso)

    def extract_date(self, period: str, early: bool = False) -> dt.date:
        y, m = map(int, period.split("-"))
        return dt.date(y, m, 15 if early else calendar.monthrange(y, m)[1])

    def write(self, folder: Path, period: str) -> tuple[list[Path], dict[str, int]]:
        """Write the month's extracts into ``folder``; return the files and row counts by kind.
        Months must be written in order (the BHXH statuses evolve from one month to the next)."""
        folder.mkdir(parents=True, exist_ok=True)
        for old in (*folder.glob(f"hotich_{self.province}_*.csv"), *folder.glob(f"bhxh_{self.province}_*.csv")):
            old.unlink()
        files: list[Path] = []
        counts = {"civil_registry": 0, "bhxh": 0}
        for early, rows in ((True, self.hotich_early[period]), (False, self.hotich[period])):
            day = self.extract_date(period, early)
            path = folder / f"hotich_{self.province}_{day.isoformat()}.csv"
            counts["civil_registry"] += _write_hotich(path, day, rows)
            files.append(path)
        if self.bhxh[period]:
            day = self.extract_date(period)
            path = folder / f"bhxh_{self.province}_{day.isoformat()}.csv"
            with path.open("w", encoding="utf-8", newline="") as f:
                f.write(",".join(BHXH_COLUMNS) + "\n")
                for department, (participants, verified) in sorted(self.bhxh[period].items()):
                    population = self._population(department)
                    _advance(population, participants, verified, day, period)
                    counts["bhxh"] += _write_participants(f, population, self._residences(department, period), day)
            files.append(path)
        return files, counts

    def _population(self, department: str) -> _Population:
        if department not in self.populations:
            province = self.provinces[department]
            prefix = (self.gso.get(province) or f"{_rng(self.seed, 'prefix', province).randrange(1, 99):02d}")[-2:]
            self.populations[department] = _Population(department, prefix.zfill(2), self.seed)
        return self.populations[department]

    def _residences(self, department: str, period: str) -> list[str]:
        """4096 commune codes, each commune as often as its weight: a participant's commune is
        one entry, drawn with 12 random bits."""
        province = self.provinces[department]
        mine = [(c, w) for c, w in self.communes[period] if self.provinces[c] == province]
        if not mine:
            raise ValueError(f"{department}: no commune of {province} in {period} for its participants to live in")
        slots = apportion(4096 - len(mine), [w for _, w in mine], [4096] * len(mine))
        table = [c for (c, _), n in zip(mine, slots, strict=True) for _ in range(n + 1)]
        return table


def _record_weights(seed: str, commune: str) -> list[float]:
    r = _rng(seed, "record_types", commune)
    return [s * math.exp(r.gauss(0, 0.2)) for s in _RECORD_SHARES]


def _write_hotich(path: Path, day: dt.date, rows: Mapping[str, list[list[int]]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HOTICH_COLUMNS) + "\n")
        for commune in sorted(rows):
            for record_type, values in zip(RECORD_TYPES, rows[commune], strict=True):
                f.write(f"{day.isoformat()},{commune},{record_type},{','.join(map(str, values))}\n")
                n += 1
    return n


# --- BHXH participants -------------------------------------------------------------------------

_FAMILY = (
    ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Huỳnh", 50), ("Hoàng", 20), ("Phan", 45),
    ("Võ", 40), ("Vũ", 15), ("Đặng", 20), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13), ("Ngô", 13), ("Dương", 10),
    ("Lý", 8), ("Trương", 10), ("Đinh", 6), ("Lâm", 8), ("Châu", 6), ("Thái", 5), ("Tô", 4), ("Danh", 6),
    ("Thạch", 5), ("Kiều", 3), ("Quách", 3), ("Mai", 4), ("Cao", 4), ("Lưu", 4), ("La", 3),
)  # fmt: skip
_MIDDLE_M = (
    "Văn", "Văn", "Văn", "Hữu", "Minh", "Quốc", "Thanh", "Đức", "Công", "Hoàng", "Tấn", "Thành", "Ngọc", "Trọng", "Gia",
    "Chí",
)  # fmt: skip
_MIDDLE_F = (
    "Thị", "Thị", "Thị", "Ngọc", "Thanh", "Thu", "Kim", "Mỹ", "Hồng", "Bích", "Diễm", "Phương", "Minh", "Huyền", "Như",
    "Khánh",
)  # fmt: skip
_GIVEN_M = (
    "An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hòa", "Hùng", "Huy", "Khang", "Khoa", "Kiên", "Lâm",
    "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân", "Phát", "Phong", "Phúc", "Quang", "Sơn", "Tài", "Tâm", "Thắng",
    "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Tùng", "Vinh", "Vũ", "Bảo", "Đông", "Hậu", "Lợi", "Tú",
)  # fmt: skip
_GIVEN_F = (
    "Anh", "Châu", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Huyền", "Lan", "Linh",
    "Loan", "Mai", "My", "Nga", "Ngân", "Nhi", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thủy", "Trang", "Trinh",
    "Tuyết", "Uyên", "Vân", "Vy", "Xuân", "Yến", "Hân", "Thư", "Ngọc", "Diệu",
)  # fmt: skip
_OTHER_BIRTH_PROVINCES = ("079", "092", "087", "094", "080", "086", "001", "038", "046", "052")


def _table(items: Sequence[tuple[str, int]], size: int) -> list[str]:
    slots = apportion(size - len(items), [w for _, w in items], [size] * len(items))
    return [name for (name, _), n in zip(items, slots, strict=True) for _ in range(n + 1)]


class _Names:
    """Lookup tables indexed by random bits (built once)."""

    _built: _Names | None = None

    def __init__(self) -> None:
        self.family = [f + " " for f in _table(_FAMILY, 1024)]
        uniform = lambda xs: [(x, 1) for x in xs]  # noqa: E731
        self.male = [f"{m} {g}" for m in _table(uniform(_MIDDLE_M), 64) for g in _table(uniform(_GIVEN_M), 256)]
        self.female = [f"{m} {g}" for m in _table(uniform(_MIDDLE_F), 64) for g in _table(uniform(_GIVEN_F), 256)]
        # birth years: children and working ages (BHYT covers everyone), 1940-2025
        ages = [(str(y), 3 if 1965 <= y <= 2005 else 2 if y > 2005 else 1) for y in range(1940, 2026)]
        self.years = [int(y) for y in _table(ages, 128)]
        days = [dt.date(2001, 1, 1) + dt.timedelta(days=d) for d in range(365)]
        self.month_days = [days[(d * 365) // 512].strftime("%m-%d") for d in range(512)]
        self.dates = [(_EPOCH + dt.timedelta(days=d)).isoformat() for d in range(366 * 40)]

    @classmethod
    def get(cls) -> _Names:
        if cls._built is None:
            cls._built = cls()
        return cls._built


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _advance(pop: _Population, participants: int, verified: int, day: dt.date, period: str) -> None:
    """Bring a population to the month's ``participants`` with exactly ``verified`` verified:
    newcomers join (mostly pending), a few verified participants turn mismatch or not_found, and
    enough others are verified."""
    if verified > participants:
        raise ValueError(f"{pop.department} {period}: {verified} verified of {participants} participants")
    r = _rng(pop.seed, "bhxh-status", pop.department, period)
    status, changed = pop.status, pop.changed_on
    old = len(status)
    today, month_start = _day(day), _day(day.replace(day=1))
    if participants < old:  # the department reports fewer: the last ones left
        del status[participants:]
        del changed[participants:]
        old = participants
    first = old == 0
    rnd = r.random
    for _ in range(participants - old):
        x = rnd()
        status.append(_PENDING if x < 0.6 else _MISMATCH if x < 0.8 else _NOT_FOUND)
        changed.append(today - int(rnd() * 1200) if first else month_start + int(rnd() * (today - month_start + 1)))
    touched = bytearray(participants)
    now = status.count(_VERIFIED)
    demote = 0 if first else min(max(0, now - verified) + round(now * 0.002), participants - verified, now)
    _pick(r, status, touched, changed, {_VERIFIED}, demote, (_MISMATCH, _NOT_FOUND), month_start, today)
    promote = verified - (now - demote)
    _pick(r, status, touched, changed, {_MISMATCH, _NOT_FOUND, _PENDING}, promote, (_VERIFIED,), month_start, today)
    if first:  # the first month's verified were verified over the past years, not all this month
        for i in range(participants):
            if status[i] == _VERIFIED:
                changed[i] = today - int(rnd() * 900)
    assert status.count(_VERIFIED) == verified


def _pick(
    r: random.Random,
    status: bytearray,
    touched: bytearray,
    changed: array,
    among: set[int],
    k: int,
    to: tuple[int, ...],
    month_start: int,
    today: int,
) -> None:
    """Change ``k`` participants whose status is in ``among`` (and not changed this month) to
    one of ``to``, chosen uniformly: rejection sampling when they are many, a selection pass
    (Knuth's algorithm S) otherwise."""
    if k <= 0:
        return
    n = len(status)
    available = sum(status.count(s) for s in among)
    if touched.count(1):
        available -= sum(1 for i in range(n) if touched[i] and status[i] in among)
    if k > available:
        raise ValueError(f"cannot change {k} statuses among {available}")

    def change(i: int) -> None:
        status[i] = to[0] if len(to) == 1 or r.random() < 0.7 else to[1]
        changed[i] = month_start + int(r.random() * (today - month_start + 1))
        touched[i] = 1

    if k * 4 <= available:
        done = 0
        while done < k:
            i = int(r.random() * n)
            if status[i] in among and not touched[i]:
                change(i)
                done += 1
        return
    left = k
    for i in range(n):
        if status[i] in among and not touched[i]:
            if r.random() * available < left:
                change(i)
                left -= 1
                if not left:
                    return
            available -= 1


def _write_participants(f: Any, pop: _Population, residences: list[str], day: dt.date) -> int:
    """Stream one population's rows (identities replayed from the seed, in the same order each
    month); return the rows written."""
    names = _Names.get()
    family, male, female, years, month_days, dates = (
        names.family, names.male, names.female, names.years, names.month_days, names.dates
    )  # fmt: skip
    statuses = BHXH_STATUSES
    status, changed = pop.status, pop.changed_on
    bits = _rng(pop.seed, "bhxh-identity", pop.department).getrandbits
    own_province = "0" + pop.prefix
    offset = _rng(pop.seed, "bhxh-offset", pop.department).randrange(10**8)
    date = day.isoformat()
    prefix = pop.prefix
    n = len(status)
    chunk: list[str] = []
    for i in range(n):
        x = bits(64)
        commune = residences[x & 4095]
        female_ = x >> 12 & 1
        name = family[x >> 13 & 1023] + (female if female_ else male)[x >> 23 & 16383]
        year = years[x >> 37 & 127]
        birth = str(year) if (x >> 44 & 31) == 0 else f"{year}-{month_days[x >> 49 & 511]}"
        if (x >> 58 & 31) == 0:
            pid = ""
        else:
            born_in = own_province if i % 10 else _OTHER_BIRTH_PROVINCES[i // 10 % 10]
            pid = f"{born_in}{(2 if year >= 2000 else 0) + female_}{year % 100:02d}{(i * 7919 + offset) % 1000000:06d}"
        code = f"{prefix}{(i * 48271 + offset) % 100000000:08d}"
        chunk.append(f"{date},{code},{pid},{name},{birth},{commune},{statuses[status[i]]},{dates[changed[i]]}\n")
        if len(chunk) == _CHUNK:
            f.write("".join(chunk))
            chunk.clear()
    f.write("".join(chunk))
    return n


def read_hotich(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a civil-registry extract this module wrote (for the generator's own checks)."""
    import csv

    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)
