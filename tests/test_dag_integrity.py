"""Every DAG imports cleanly and carries what operators rely on: owner, retries, tags, docs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert "d06_monthly_load" in dagbag.dags


def test_every_dag_has_owner_retries_tags_and_docs(dagbag: DagBag) -> None:
    assert dagbag.dags, "no DAGs found"
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md.strip()) > 40, f"{dag_id} has no doc_md"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{dag_id}.{t.task_id} has no owner"
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_monthly_load_steps_in_order(dagbag: DagBag) -> None:
    dag = dagbag.dags["d06_monthly_load"]
    order = ["resolve_period", "ingest", "stage", "audit", "build", "quality_gate", "publish"]
    order += ["render_report", "send_report"]
    assert set(order) <= set(dag.task_ids)
    for upstream, downstream in itertools.pairwise(order):
        assert upstream in dag.get_task(downstream).upstream_task_ids
    assert dag.params["period"] == ""


def test_an_extract_landing_schedules_the_monthly_build(dagbag: DagBag) -> None:
    extracts = dagbag.dags["d06_source_extracts"]
    outlets = {t.task_id: [a.name for a in t.outlets] for t in extracts.tasks}
    assert outlets["civil_registry_landed"] == ["d06://raw/civil_registry"]
    assert outlets["bhxh_landed"] == ["d06://raw/bhxh"]
    assert {"civil_registry_landed", "bhxh_landed"} <= extracts.get_task("land").downstream_task_ids
    monthly = dagbag.dags["d06_monthly_load"]
    scheduled_on = {a.name for a in monthly.timetable.asset_condition.objects}
    assert scheduled_on == {"d06://raw/civil_registry", "d06://raw/bhxh"}
    assert monthly.timetable.timetable.summary == "0 6 11 * *"  # and still on its calendar


def test_the_month_a_triggering_extract_is_for() -> None:
    from ingest.source_extracts import period_from_asset_events

    assert period_from_asset_events([{"periods": ["2026-02", "2026-03"]}, None, {"periods": ["2026-01"]}]) == "2026-03"
    assert period_from_asset_events([{}, {"periods": ["not-a-month"]}]) is None
    assert period_from_asset_events([]) is None


def test_a_run_asked_for_a_month_loads_it_whatever_triggered_it() -> None:
    import datetime as dt

    from ingest.pipeline import choose_period

    extras = [{"periods": ["2026-02"]}]
    assert choose_period("2026-05", extras, dt.date(2026, 11, 30)) == "2026-05"
    assert choose_period("", extras, dt.date(2026, 11, 30)) == "2026-02"
    assert choose_period(None, [], dt.date(2026, 11, 30)) == "2026-10"


def test_reminders_run_daily_from_the_5th_to_the_10th_at_8_in_vietnam(dagbag: DagBag) -> None:
    reminders = dagbag.dags["d06_reminders"]
    schedule = reminders.timetable.serialize()
    assert (schedule["expression"], schedule["timezone"]) == ("0 8 5-10 * *", "Asia/Ho_Chi_Minh")
    assert reminders.task_ids == ["remind"]


def test_every_task_retries_with_backoff_and_has_a_time_limit(dagbag: DagBag) -> None:
    for dag_id, dag in dagbag.dags.items():
        for t in dag.tasks:
            assert t.retry_exponential_backoff, f"{dag_id}.{t.task_id} retries without backoff"
            assert t.execution_timeout is not None, f"{dag_id}.{t.task_id} has no execution timeout"


def test_every_task_notifies_its_failure_by_smtp(dagbag: DagBag) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    for dag_id, dag in dagbag.dags.items():
        for t in dag.tasks:
            callbacks = t.on_failure_callback or []
            assert any(isinstance(c, SmtpNotifier) for c in callbacks), f"{dag_id}.{t.task_id} fails silently"


# The tasks that write the warehouse (COPY loads, dbt builds), named by hand.
WAREHOUSE_WRITERS = {
    "d06_monthly_load": {"ingest", "stage", "build"},
    "d06_source_extracts": {"land"},
}


def test_loads_and_builds_share_the_warehouse_pool(dagbag: DagBag) -> None:
    from ingest.orchestration import WAREHOUSE_POOL

    for dag_id, writers in WAREHOUSE_WRITERS.items():
        pooled = {t.task_id for t in dagbag.dags[dag_id].tasks if t.pool == WAREHOUSE_POOL}
        assert pooled == writers, dag_id
    init = (REPO / "docker" / "airflow-init.sh").read_text()
    assert f'pool="{WAREHOUSE_POOL}"' in init, "docker/airflow-init.sh creates another pool"
    assert f"pools set {WAREHOUSE_POOL} " in (REPO / "Makefile").read_text(), "make airflow creates another pool"
