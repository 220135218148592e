"""A task that fails for good sends Airflow's SMTP failure notice (ingest/orchestration.py), through
the connection ``smtp_default``, to ``D06_ALERT_TO``; the notice names the DAG, task and run and
carries none of the values the error quoted.

Real parts: ``airflow dags test`` of a probe DAG that uses the project's ``default_args`` (its
task raises an error quoting planted values, as a parser's error quotes a cell) and the real SMTP
sink; the planted values are the test's own.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from ingest.reporting.smtp_sink import SmtpSink

pytestmark = [pytest.mark.slow]
PLANTED = ("6.194", "5.111", "001088012345", "Nguyễn Văn Thử")
PROBE = f"""
import pendulum
from airflow.sdk import dag, task

from ingest.orchestration import default_args


@dag(dag_id="d06_failure_probe", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
     default_args=default_args(retries=0), tags=["test"])
def probe():
    @task
    def load_unit_file():
        raise ValueError("row 7, column numerator: {PLANTED[0]} > {PLANTED[1]}, CCCD {PLANTED[2]} {PLANTED[3]}")

    load_unit_file()


probe()
"""


def test_a_failed_task_sends_one_notice_without_data_values(smtp_sink: SmtpSink, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "probe.py").write_text(PROBE, encoding="utf-8")
    env = os.environ | {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        # No from_email in the connection: the notifier sends from the warehouse's own address.
        "AIRFLOW_CONN_SMTP_DEFAULT": f"smtp://127.0.0.1:{smtp_sink.port}?disable_ssl=true&disable_tls=true",
        "D06_ALERT_TO": "van-hanh@tinh.d06.example, truc-ca@tinh.d06.example",
    }
    before = set(smtp_sink.outbox.glob("*.eml"))
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run(
        [airflow, "dags", "test", "d06_failure_probe"], env=env, capture_output=True, text=True, timeout=300
    )
    assert "load_unit_file" in done.stdout + done.stderr
    new = sorted(set(smtp_sink.outbox.glob("*.eml")) - before)
    assert len(new) == 1, (done.stdout[-2000:], done.stderr[-2000:])
    msg = email.message_from_bytes(new[0].read_bytes(), policy=policy.default)
    assert sorted(a.strip() for a in str(msg["To"]).split(",")) == [
        "truc-ca@tinh.d06.example",
        "van-hanh@tinh.d06.example",
    ]
    assert "d06_failure_probe.load_unit_file" in str(msg["Subject"])
    assert str(msg["From"]) == "bao-cao-de-an-06@d06.example"
    body = msg.get_body(("html", "plain"))
    assert body is not None
    text = str(msg["Subject"]) + body.get_content()
    assert "manual__" in text and "log" in text.lower()
    for value in PLANTED:
        assert value not in text, f"the failure notice quotes {value!r}"
