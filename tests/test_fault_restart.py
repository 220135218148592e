"""Fault test (issue 12 §5): PostgreSQL is restarted during a monthly run, through ``airflow dags
test`` of the real DAG with its real retries and the project's own local cluster.

The cluster is stopped, kept down for 3 s and started again (scripts/warehouse.sh) while
``dbt build`` runs; the task fails, is retried, and the run ends ``success`` with marts equal, table
by table, to an in-process load of the same files into another database with the same run id
(the differential oracle of make test-deploy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from conftest import REPO, scratch_database
from test_faults_run import _dags_test, _run_of

from ingest.config import inbox_dir
from ingest.demo import write_demo_inbox
from ingest.pipeline import prepare_warehouse
from ingest.reporting.smtp_sink import SmtpSink
from ingest.warehouse.checksum import marts_checksum

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]


@pytest.fixture(scope="module")
def sink(warehouse_dsn: str, smtp_sink: SmtpSink) -> SmtpSink:
    prepare_warehouse()
    return smtp_sink


def _restart_when_dbt_runs(dsn: str, done: threading.Event, hits: list[str]) -> None:
    """Wait for a ``dbt`` connection to the test's database, then stop the cluster, keep it down
    for 3 s and start it again (scripts/warehouse.sh, without WAREHOUSE_DSN: the local cluster)."""
    database = dsn.rsplit("/", 1)[1].split("?")[0]
    query = "select count(*) from pg_stat_activity where datname = %s and application_name like 'dbt%%'"
    while not done.is_set():
        try:
            with psycopg.connect(dsn) as conn:
                if conn.execute(query, (database,)).fetchone() != (0,):
                    break
        except psycopg.OperationalError:
            pass
        time.sleep(0.2)
    else:
        return
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_DSN"}
    subprocess.run([str(REPO / "scripts/warehouse.sh"), "stop"], env=env, check=True, capture_output=True)
    hits.append("stopped")
    time.sleep(3)
    subprocess.run([str(REPO / "scripts/warehouse.sh"), "start"], env=env, check=True, capture_output=True)
    hits.append("started")


def _reference_checksum(server_dsn: str, data: Path, run_id: str, period: str, tmp: Path) -> dict[str, str]:
    """The same inbox loaded in-process into another database, with the same run id."""
    (tmp / "inbox").mkdir(parents=True)
    shutil.copytree(data / "inbox" / period, tmp / "inbox" / period)
    with scratch_database(server_dsn, "d06_ref") as ref:
        env = os.environ | {"WAREHOUSE_DSN": ref, "D06_DATA_DIR": str(tmp), "DBT_TARGET_PATH": str(tmp / "dbt")}
        for cmd in (
            [str(Path(sys.executable).with_name("d06")), "db", "init"],
            [sys.executable, str(REPO / "scripts/test_deploy.py"), "--reference", f"{run_id}={period}"],
        ):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        with psycopg.connect(ref) as conn:
            return marts_checksum(conn)


def test_postgresql_restarted_mid_run_the_tasks_retry_and_the_run_completes(
    sink: SmtpSink, server_dsn: str, tmp_path: Path
) -> None:
    period = "2026-02"
    dsn = os.environ["WAREHOUSE_DSN"]
    assert write_demo_inbox(inbox_dir(), period, provinces=["AG"]) > 10
    done, hits = threading.Event(), []
    restarter = threading.Thread(target=_restart_when_dbt_runs, args=(dsn, done, hits))
    restarter.start()
    try:
        status, output = _dags_test(period, tmp_path / "dags-test.log")
    finally:
        done.set()
        restarter.join(timeout=120)
    assert hits == ["stopped", "started"], "the cluster was not restarted during dbt build"
    assert "new_state=up_for_retry" in output, "no task failed and was retried: the restart missed the run"
    run_id, state, steps = _run_of(dsn, period)
    assert (status, state) == (0, "success"), output[-3000:]
    assert {"ingest", "stage", "audit", "build", "quality_gate", "publish"} <= set(steps)
    with psycopg.connect(dsn) as conn:
        ours = marts_checksum(conn)
    data = Path(os.environ["D06_DATA_DIR"])
    assert ours == _reference_checksum(server_dsn, data, run_id, period, tmp_path / "reference")
