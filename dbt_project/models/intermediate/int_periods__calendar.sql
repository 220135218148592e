-- The monthly calendar, with each month's submission deadline and whether any file was
-- received for it (a reporting period).  The deadline is the last day on time (Asia/Ho_Chi_Minh),
-- from the same setting as the Python side (ingest.submissions.periods.report_deadline).
with

ledger as (
    select * from {{ ref('stg_audit__load_ledger') }}
),

settings as (
    select * from {{ ref('stg_registry__settings') }}
),

deadline as (
    -- The one setting (D06_REPORT_DEADLINE_DAY), written by the registry sync for Python and dbt alike.
    select setting_value::int as report_deadline_day
    from settings
    where setting_key = 'report_deadline_day'
),

bounds as (
    -- The configured calendar, widened to every month a file was loaded for, so that a late
    -- historical submission never breaks the marts' foreign keys.
    select
        least(date '{{ var("first_period") }}', min(to_date(period, 'YYYY-MM'))) as first_month,
        greatest(date '{{ var("last_period") }}', max(to_date(period, 'YYYY-MM'))) as last_month
    from ledger
    where period ~ '^\d{4}-(0[1-9]|1[0-2])$'
),

months as (
    select month_start::date as period_start
    from bounds
    cross join lateral generate_series(bounds.first_month, bounds.last_month, interval '1 month') as month_start
),

reported as (
    select distinct period
    from ledger
    where status = 'loaded'
),

final as (
    select
        to_char(months.period_start, 'YYYY-MM') as period,
        months.period_start,
        (months.period_start + interval '1 month' - interval '1 day')::date as period_end,
        extract(year from months.period_start)::int as year,
        extract(quarter from months.period_start)::int as quarter,
        extract(month from months.period_start)::int as month,
        to_char(months.period_start, 'YYYY') || '-Q' || extract(quarter from months.period_start)::int
            as year_quarter,
        'Tháng ' || extract(month from months.period_start)::int || '/' || extract(year from months.period_start)::int
            as period_label_vi,
        (months.period_start + interval '1 month'
            + (deadline.report_deadline_day - 1) * interval '1 day')::date as report_deadline,
        to_char(months.period_start - interval '1 month', 'YYYY-MM') as previous_period,
        reported.period is not null as is_reporting_period
    from months
    left join deadline
        on true
    left join reported
        on to_char(months.period_start, 'YYYY-MM') = reported.period
)

select * from final
