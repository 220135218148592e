"""Replay a period from the immutable raw archive.

Every file ever received for the period is read back from ``archive/`` (checked against its
sha256), its landed rows are deleted, and it is loaded again with the same ledger identity
(file id, batch, time of receipt and its source, time of loading).  After ``dbt build`` the marts
are exactly what they were: the archive, not the landing tables, is the source of truth.

A sealed BHXH extract is decrypted on the fly (``D06_ARCHIVE_KEY``) and pseudonymised again with
the current ``D06_PSEUDONYM_KEY``: replaying after a key rotation re-keys its participants.  A
BHXH file refused because no archive key was set was never archived, and is not replayed.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import psycopg

from ingest.extracts import ExtractReason
from ingest.landing.adapters import LandingContext
from ingest.landing.archive import archived_digest
from ingest.landing.land import land_received
from ingest.landing.model import FileOutcome, Received, ReplayIdentity
from ingest.registry import Registry, load_registry

log = logging.getLogger(__name__)


class ReplayError(RuntimeError):
    """An archived file is missing or does not match its recorded sha256."""


def replay_period(conn: psycopg.Connection[Any], period: str, *, registry: Registry | None = None) -> list[FileOutcome]:
    """Reload every archived file of ``period`` in its original order; one transaction in all."""
    registry = registry or load_registry()
    files = conn.execute(
        """select file_id, file_name, sha256, archive_path, received_at, loaded_at, batch_id, requested_period,
                  received_at_source
           from audit.load_ledger where period = %s and error_code is distinct from %s order by file_id""",
        (period, ExtractReason.ARCHIVE_KEY_MISSING.code),
    ).fetchall()
    received: list[Received] = []
    for file_id, name, sha256, archive_path, received_at, loaded_at, batch_id, requested, source in files:
        path = Path(archive_path)
        if not path.exists():
            raise ReplayError(f"{name} (file {file_id}): archived copy {path} is missing")
        digest, size = archived_digest(path)
        if digest != sha256:
            raise ReplayError(f"{name} (file {file_id}): archived copy {path} does not match its sha256")
        identity = ReplayIdentity(file_id, batch_id, loaded_at)
        received.append(Received(name, sha256, size, path, received_at, requested, identity, source))
    outcomes: list[FileOutcome] = []
    with conn.transaction():
        ids = [f[0] for f in files]
        conn.execute("delete from raw.narrative_finding where file_id = any(%s)", (ids,))
        conn.execute("delete from raw.submission_row where file_id = any(%s)", (ids,))
        conn.execute("delete from raw.quarantine where file_id = any(%s)", (ids,))
        conn.execute("delete from raw.civil_registry_count where file_id = any(%s)", (ids,))
        conn.execute("delete from raw.bhxh_verification where file_id = any(%s)", (ids,))
        conn.execute("delete from audit.load_ledger where file_id = any(%s)", (ids,))
        for r in received:
            # Validate against the day the file was loaded, so "future period" means what it meant then.
            assert r.replay_of is not None
            today = (r.replay_of.loaded_at or dt.datetime.now(dt.UTC)).date()
            ctx = LandingContext(registry, today, r.requested_period)
            outcomes += land_received(conn, [r], batch_id=r.replay_of.batch_id, ctx=ctx)
    log.info("replayed %d files for %s", len(outcomes), period)
    return outcomes
