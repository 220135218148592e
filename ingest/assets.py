"""The names of the Airflow assets the DAGs produce and are scheduled on: constants only, so a
DAG file can import them at parse time without loading anything else."""

from __future__ import annotations

MARTS_URI = "d06://warehouse/marts"
"""The official marts, after a monthly run publishes."""
EXTRACT_ASSET_URIS = {"civil_registry": "d06://raw/civil_registry", "bhxh": "d06://raw/bhxh"}
"""New source-extract values landed, by the ledger's source kind (the event's extra: the months)."""
