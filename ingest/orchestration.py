"""What every DAG's tasks share: owner, retries with exponential backoff, and a time limit.

DAG files stay thin wiring; the settings they share are defined here once.

* ``D06_RETRY_DELAY_SECONDS`` (default 300): the first retry's delay; each next one doubles, up
  to ``MAX_RETRY_DELAY``.
* ``D06_TASK_TIMEOUT_MINUTES`` (default 120): a task still running after it fails (a hung COPY,
  a dbt build waiting on a lock), and is retried.
* ``D06_ALERT_TO`` (comma-separated; default ``OPERATORS``): who gets the failure notice of a task
  that failed for good, sent by Airflow's SMTP notifier through the connection ``smtp_default``.
  The notice names the DAG, task, run, try and log address, never the error text, which can quote
  a file's values: the data stay in the task log, behind the Airflow login.
* ``WAREHOUSE_POOL``: the pool that bounds concurrent loads and dbt builds against the warehouse
  (its slots are set where Airflow is initialised: docker/airflow-init.sh, ``make airflow``).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

OWNER = "d06-data-engineering"
MAX_RETRY_DELAY = dt.timedelta(hours=1)
WAREHOUSE_POOL = "d06_warehouse"
OPERATORS = "van-hanh-kho-du-lieu@d06.example"

FAILURE_SUBJECT = "[Đề án 06] Task failed: {{ ti.dag_id }}.{{ ti.task_id }} ({{ run_id }})"
FAILURE_BODY = """\
<p>Task <b>{{ ti.task_id }}</b> of DAG <b>{{ ti.dag_id }}</b> failed for good on try {{ ti.try_number }}.</p>
<ul>
<li>Run: {{ run_id }}</li>
<li>Log: <a href="{{ ti.log_url }}">{{ ti.log_url }}</a></li>
</ul>
<p>The error is in the task log. This notice carries no data values.</p>
"""


def failure_notifier() -> Any:
    """Airflow's SMTP notifier of a task that failed for good (no data values: see above).

    One notifier serves every task of a DAG (``default_args``), and rendering its templates
    rebinds its fields: each notice is rendered on a copy, or the second task to fail in one
    process (``airflow dags test``) would be announced with the first one's name."""
    import copy

    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from ingest.config import mail_sender

    class FailureNotifier(SmtpNotifier):
        def __call__(self, *args: Any) -> None:
            SmtpNotifier.__call__(copy.copy(self), *args)

    to = [a.strip() for a in (os.environ.get("D06_ALERT_TO") or OPERATORS).split(",") if a.strip()]
    return FailureNotifier(
        to=to,
        from_email=mail_sender(),
        subject=FAILURE_SUBJECT,
        html_content=FAILURE_BODY,
        smtp_conn_id="smtp_default",
    )


def default_args(retries: int = 2) -> dict[str, Any]:
    """The ``default_args`` of a DAG of this project."""
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": dt.timedelta(seconds=int(os.environ.get("D06_RETRY_DELAY_SECONDS", "300"))),
        "retry_exponential_backoff": True,
        "max_retry_delay": MAX_RETRY_DELAY,
        "execution_timeout": dt.timedelta(minutes=int(os.environ.get("D06_TASK_TIMEOUT_MINUTES", "120"))),
        "on_failure_callback": [failure_notifier()],
    }
