"""Source extracts dropped in ``inbox/extracts/``, landed as soon as they arrive.

The source systems (civil registry, BHXH) export whenever they export, not by the 10th.  The
extracts DAG polls ``inbox/extracts/`` and lands what it finds through the one landing path
(the extract adapters pseudonymise on the way in); each landed file is then put away under
``inbox/extracts/landed/<date>/`` (the immutable archive keeps the bytes, encrypted when they hold
personal data), so that nobody has to trigger anything and nothing lands twice.  For each kind
of extract it reports the months that got new values: the DAG turns them into Airflow asset
events, on which the monthly build is scheduled (:func:`period_from_asset_events`).

>>> land_extract_inbox(run_id="manual").periods
{'civil_registry': ['2026-03']}
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.assets import EXTRACT_ASSET_URIS
from ingest.config import inbox_dir
from ingest.landing.adapters import LandingContext, is_received_file
from ingest.landing.land import land_paths
from ingest.registry import load_registry
from ingest.warehouse.db import connect

log = logging.getLogger(__name__)

EXTRACT_KINDS = tuple(EXTRACT_ASSET_URIS)
"""The ledger's source kinds of the source extracts (formats.md §3, §4)."""
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def extracts_inbox() -> Path:
    return inbox_dir() / "extracts"


@dataclass(frozen=True)
class ExtractLanding:
    """What one poll of the extracts inbox landed (counts and months only: safe for XCom)."""

    files: int
    statuses: dict[str, int] = field(default_factory=dict)
    periods: dict[str, list[str]] = field(default_factory=dict)
    """Per extract kind, the months its newly loaded files bring values for."""

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "statuses": self.statuses, "periods": self.periods}


def land_extract_inbox(*, run_id: str, today: dt.date | None = None, folder: Path | None = None) -> ExtractLanding:
    """Land every file in the extracts inbox, then put each away (landed or not: its ledger row
    says what happened, and the same bytes dropped again are recorded as a duplicate)."""
    folder = folder or extracts_inbox()
    files = sorted(p for p in folder.iterdir() if is_received_file(p)) if folder.is_dir() else []
    if not files:
        return ExtractLanding(0)
    from ingest.pipeline import prepare_warehouse

    prepare_warehouse()
    ctx = LandingContext(load_registry(), today or dt.date.today(), None)
    with connect() as conn:
        outcomes = land_paths(conn, files, batch_id=run_id, ctx=ctx)
        rows = conn.execute(
            """select source_kind, array_agg(distinct period order by period) from audit.load_ledger
               where batch_id = %s and status = 'loaded' and source_kind = any(%s) and period is not null
               group by source_kind""",
            (run_id, list(EXTRACT_KINDS)),
        ).fetchall()
    put_away(folder, files, today or dt.date.today())
    landing = ExtractLanding(len(files), dict(Counter(o.status for o in outcomes)), {k: list(p) for k, p in rows})
    log.info("extracts inbox: %s", landing.as_dict())
    return landing


def put_away(folder: Path, files: Iterable[Path], day: dt.date) -> None:
    """Move processed files to ``landed/<day>/`` beside them (a name already there gets a suffix)."""
    target = folder / "landed" / day.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        destination, n = target / path.name, 1
        while destination.exists():
            destination, n = target / f"{path.stem}.{n}{path.suffix}", n + 1
        path.rename(destination)


def period_from_asset_events(extras: Iterable[Mapping[str, Any] | None]) -> str | None:
    """The latest month that the extract asset events triggering a run brought values for."""
    periods = [p for extra in extras for p in (extra or {}).get("periods", ()) if _PERIOD.fullmatch(str(p))]
    return max(periods) if periods else None
