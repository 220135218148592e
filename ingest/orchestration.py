"""What every DAG's tasks share: owner, retries with exponential backoff, and a time limit.

DAG files stay thin wiring; the settings they share are defined here once.

* ``D06_RETRY_DELAY_SECONDS`` (default 300): the first retry's delay; each next one doubles, up
  to ``MAX_RETRY_DELAY``.
* ``D06_TASK_TIMEOUT_MINUTES`` (default 120): a task still running after it fails (a hung COPY,
  a dbt build waiting on a lock), and is retried.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

OWNER = "d06-data-engineering"
MAX_RETRY_DELAY = dt.timedelta(hours=1)


def default_args(retries: int = 2) -> dict[str, Any]:
    """The ``default_args`` of a DAG of this project."""
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": dt.timedelta(seconds=int(os.environ.get("D06_RETRY_DELAY_SECONDS", "300"))),
        "retry_exponential_backoff": True,
        "max_retry_delay": MAX_RETRY_DELAY,
        "execution_timeout": dt.timedelta(minutes=int(os.environ.get("D06_TASK_TIMEOUT_MINUTES", "120"))),
    }
