"""
### Đề án 06 — reminders before the deadline

Runs daily from the 5th to the 10th of each month at 08:00 Asia/Ho_Chi_Minh.  Each unit that has
not yet submitted the month due (the month before) receives a reminder in Vietnamese, with its
template attached, a link to the submission portal and the plan tasks it leads that are overdue.

A unit gets at most one reminder a day, even when this DAG is re-run: each send is recorded in
`audit.reminder_sent` (unit, day) in the transaction that sends it.  A reminder that cannot be
sent fails the task after every unit was tried; the retry sends only those not sent.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ingest.orchestration import default_args


@dag(
    dag_id="d06_reminders",
    schedule=CronTriggerTimetable("0 8 5-10 * *", timezone="Asia/Ho_Chi_Minh"),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["d06", "reminders", "email"],
    doc_md=__doc__,
)
def d06_reminders() -> None:
    @task
    def remind(logical_date: pendulum.DateTime | None = None) -> dict:
        from ingest.reminders import send_reminders
        from ingest.submissions.periods import TIMEZONE

        day = (logical_date or pendulum.now()).astimezone(TIMEZONE).date()
        return send_reminders(day)

    remind()


d06_reminders()
