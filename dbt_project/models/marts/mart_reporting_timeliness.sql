{{ config(indexes=[{'columns': ['period']}]) }}
-- Reporting rates the way DHIS2 has them: per province and month, how many expected units
-- reported, how many on time, and how complete their submissions were.
with

submissions as (
    select * from {{ ref('fct_submission') }}
),

units as (
    select * from {{ ref('dim_unit') }}
),

final as (
    select
        units.province_code,
        submissions.period,
        count(*)::int as units_expected,
        (count(*) filter (where submissions.is_received))::int as units_reported,
        (count(*) filter (where submissions.timeliness = 'on_time'))::int as units_on_time,
        (count(*) filter (where submissions.timeliness = 'late'))::int as units_late,
        (count(*) filter (where submissions.timeliness = 'missing'))::int as units_missing,
        round(100.0 * count(*) filter (where submissions.is_received) / count(*), 2) as reporting_rate_pct,
        round(100.0 * count(*) filter (where submissions.timeliness = 'on_time') / count(*), 2)
            as on_time_rate_pct,
        round(100.0 * sum(submissions.rows_received) / nullif(sum(submissions.rows_expected), 0), 2)
            as completeness_pct
    from submissions
    inner join units
        on submissions.unit_code = units.unit_code
    group by units.province_code, submissions.period
)

select * from final
