"""The violation ledger (``audit.violation``): the gate's findings, kept across runs.

One row per check x unit x indicator x service x period.  A gate run that checks a period
replaces that period's state: what it finds is opened (or kept as it was, when a person
explained or accepted the same values), what it no longer finds is ``corrected``.  Re-runs
update rows and never duplicate them (the ledger's unique key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GATE = "gate"
"""Who the ledger records for a status the gate sets."""

_SAME_KEY = """v.check_code = f.check_code and v.unit_code = f.unit_code
    and v.indicator_code is not distinct from f.indicator_code
    and v.service_code is not distinct from f.service_code and v.period = f.period"""


def record_findings(conn: Any, run_id: str, periods: Sequence[str]) -> dict[str, int]:
    """Merge ``gate_finding`` into the ledger for ``periods``; return how many rows were opened,
    reopened, kept and corrected.  Runs inside the caller's transaction."""
    reopened = conn.execute(
        f"""update audit.violation v
            set status = 'open', status_by = %(gate)s, status_at = now(),
                status_comment = case v.status when 'corrected' then 'found again'
                                 else 'values changed since: ' || coalesce(v.status_comment, '') end
            from gate_finding f
            where {_SAME_KEY}
              and (v.status = 'corrected' or (v.status in ('explained', 'accepted') and v."values" <> f."values"))""",
        {"gate": GATE},
    ).rowcount
    kept = conn.execute(
        f"""update audit.violation v
            set "values" = f."values", file_id = f.file_id, last_run_id = %(run)s, last_seen_at = now(),
                severity = c.severity
            from gate_finding f join registry.quality_check c using (check_code)
            where {_SAME_KEY}""",
        {"run": run_id},
    ).rowcount
    opened = conn.execute(
        """insert into audit.violation (check_code, severity, unit_code, indicator_code, service_code, period,
                                        "values", file_id, first_run_id, last_run_id)
           select f.check_code, c.severity, f.unit_code, f.indicator_code, f.service_code, f.period,
                  f."values", f.file_id, %(run)s, %(run)s
           from gate_finding f join registry.quality_check c using (check_code)
           on conflict on constraint violation_key do nothing""",
        {"run": run_id},
    ).rowcount
    corrected = conn.execute(
        f"""update audit.violation v
            set status = 'corrected', status_by = %(gate)s, status_at = now(), last_run_id = %(run)s,
                status_comment = 'not found by run ' || %(run)s
            where v.period = any(%(periods)s) and v.status <> 'corrected'
              and not exists (select 1 from gate_finding f where {_SAME_KEY})""",
        {"gate": GATE, "run": run_id, "periods": list(periods)},
    ).rowcount
    return {"opened": opened, "reopened": reopened, "kept": kept, "corrected": corrected}


def record_checked(conn: Any, run_id: str, periods: Sequence[str], candidate: str) -> int:
    """Record the content hash of every unit-period the gate checked (only that is published)."""
    return int(
        conn.execute(
            f"""insert into audit.unit_period_check (unit_code, period, content_hash, run_id)
                select unit_code, period, content_hash, %(run)s from {candidate}
                where period = any(%(periods)s)
                on conflict (unit_code, period) do update
                set content_hash = excluded.content_hash, run_id = excluded.run_id, checked_at = now()""",
            {"run": run_id, "periods": list(periods)},
        ).rowcount
    )
