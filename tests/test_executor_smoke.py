"""The lock file against the executors we deploy: the Celery executor imports, and Airflow's
Celery worker command starts, with the locked packages (in a fresh interpreter, as a worker would).

celery 5.7.0 with apache-airflow-providers-celery 3.26.0 fails at import (`cannot import name
'retry' from 'celery.backends.database'`), so the scheduler and every worker die at start, and
`pip check` sees nothing wrong.  This runs in CI on the locked install.
"""

from __future__ import annotations

import os
import subprocess
import sys

CELERY = {**os.environ, "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=180, env=CELERY)


def test_the_celery_executor_imports_with_the_locked_packages() -> None:
    done = _run(
        "-c",
        "from airflow.providers.celery.executors import celery_executor_utils as u;"
        "from airflow.providers.celery.executors.celery_executor import CeleryExecutor;"
        "print('loaded', type(u.app).__name__, CeleryExecutor.__name__)",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["loaded", "Celery", "CeleryExecutor"]


def test_airflow_knows_the_celery_worker_command() -> None:
    done = _run("-m", "airflow", "celery", "worker", "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--concurrency" in done.stdout
