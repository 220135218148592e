"""The quality gate's audit step: run the check catalogue on the audit stage, keep the ledger.

Called between the two halves of the build (``ingest.pipeline``): dbt has written the candidate
values to the audit stage; the findings go to the violation ledger in one transaction, with the
hashes of what was checked; then dbt builds the marts to publish from them.

>>> outcome = audit_period("2026-03", run_id="manual")
>>> outcome.findings["numerator_exceeds_denominator"]
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from ingest.quality.catalogue import UNIT_PERIODS, CheckScope, find_violations
from ingest.quality.ledger import record_checked, record_findings
from ingest.registry import Registry, load_registry
from ingest.submissions.periods import report_deadline
from ingest.warehouse.db import connect

log = logging.getLogger(__name__)

CANDIDATE_UNIT_PERIODS = UNIT_PERIODS
AUDIT_LOCK = 0x0D06_0009
"""Advisory-lock key: one gate run writes the ledger at a time."""


@dataclass(frozen=True)
class AuditOutcome:
    run_id: str
    periods: tuple[str, ...]
    findings: dict[str, int]
    """Findings per check code in this run."""
    ledger: dict[str, int]
    """Ledger rows opened, reopened, kept and corrected."""
    unit_periods_checked: int
    held: int
    """Unit-periods of the checked periods an open or explained error holds."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "periods": list(self.periods),
            "findings": {k: v for k, v in self.findings.items() if v},
            "ledger": self.ledger,
            "unit_periods_checked": self.unit_periods_checked,
            "held": self.held,
        }


def periods_to_check(conn: Any, period: str | None, run_id: str) -> tuple[str, ...]:
    """The run's period, every period its files brought rows for, and every period with a
    unit whose values changed since the gate last checked them."""
    rows = conn.execute(
        f"""select c.period from {CANDIDATE_UNIT_PERIODS} c
            left join audit.unit_period_check k on k.unit_code = c.unit_code and k.period = c.period
            where k.content_hash is distinct from c.content_hash
            union select period from raw.submission_row where batch_id = %s""",
        (run_id,),
    ).fetchall()
    return tuple(sorted({r[0] for r in rows} | ({period} if period else set())))


def audit_period(
    period: str | None, *, run_id: str, registry: Registry | None = None, now: dt.datetime | None = None
) -> AuditOutcome:
    """Check ``period`` (and every period with changed values) and update the ledger."""
    registry = registry or load_registry()
    with connect() as conn:
        conn.execute("select pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
        periods = periods_to_check(conn, period, run_id)
        scope = CheckScope(periods, {p: report_deadline(p) for p in periods}, now or dt.datetime.now(dt.UTC))
        checked: list[int] = []  # recorded while the other half of the checks runs

        def record(c: Any) -> None:
            checked.append(record_checked(c, run_id, periods, CANDIDATE_UNIT_PERIODS))

        findings = find_violations(conn, registry, scope, connect=connect, meanwhile=record)
        ledger = record_findings(conn, run_id, periods)
        row = conn.execute(
            """select count(distinct (unit_code, period)) from audit.violation
               where period = any(%s) and severity = 'error' and status in ('open', 'explained')""",
            (list(periods),),
        ).fetchone()
        held = row[0] if row else 0
    outcome = AuditOutcome(run_id, periods, findings, ledger, checked[0], int(held))
    log.info("audit %s: %s", ",".join(periods), outcome.as_dict())
    return outcome
