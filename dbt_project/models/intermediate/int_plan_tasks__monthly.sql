-- Each plan task's status month by month, from the month of the plan's own status (the plan
-- document's date) to the last month any file was loaded for.  A month takes the status its lead
-- unit reported for it (the latest counted file's row), else the last status reported before it,
-- else the plan document's.
with

tasks as (
    select * from {{ ref('stg_registry__plan_tasks') }}
),

statuses as (
    select * from {{ ref('stg_raw__plan_task_statuses') }}
    where is_valid
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
    where not is_held
),

calendar as (
    select * from {{ ref('int_periods__calendar') }}
),

last_month as (
    select max(period) as period
    from calendar
    where is_reporting_period
),

reported as (
    -- The month's latest counted report of each task by its lead unit.
    select distinct on (statuses.task_id, statuses.period)
        statuses.task_id,
        statuses.period,
        statuses.status,
        statuses.note,
        statuses.file_id,
        files.received_at
    from statuses
    inner join files
        on statuses.file_id = files.file_id
    order by statuses.task_id, statuses.period, files.received_at desc, statuses.file_id desc, statuses.row_no desc
),

months as (
    select
        tasks.task_id,
        calendar.period,
        calendar.period_end
    from tasks
    inner join calendar
        on calendar.period >= to_char(tasks.status_as_of, 'YYYY-MM')
    cross join last_month
    where calendar.period <= greatest(last_month.period, to_char(tasks.status_as_of, 'YYYY-MM'))
),

carried as (
    select
        months.task_id,
        months.period,
        months.period_end,
        reported.status as reported_status,
        reported.note,
        reported.file_id,
        reported.received_at,
        -- the latest month up to this one with a report (its number in a running count)
        count(reported.status) over (partition by months.task_id order by months.period) as report_run
    from months
    left join reported
        on months.task_id = reported.task_id
        and months.period = reported.period
),

final as (
    select
        carried.task_id,
        carried.period,
        carried.period_end,
        coalesce(
            first_value(carried.reported_status) over (partition by carried.task_id, carried.report_run order by carried.period),
            tasks.status
        ) as status,
        case
            when carried.reported_status is not null then 'reported'
            when carried.report_run > 0 then 'carried'
            else 'plan'
        end as status_source,
        first_value(carried.period) over (partition by carried.task_id, carried.report_run order by carried.period)
            as status_period,
        carried.note as note_vi,
        carried.file_id as source_file_id
    from carried
    inner join tasks
        on carried.task_id = tasks.task_id
)

select * from final
