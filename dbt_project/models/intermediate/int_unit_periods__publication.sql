{{ config(materialized='table') }}
-- Grain: one row per unit x period with candidate values.  Whether the gate checked its current
-- content, and whether an open or explained error holds it out of the official marts (an
-- accepted error does not), with the reason in Vietnamese.
with

candidate as (
    select * from {{ ref('int_unit_periods__candidate') }}
),

checked as (
    select * from {{ ref('stg_audit__unit_period_checks') }}
),

violations as (
    select * from {{ ref('stg_audit__violations') }}
),

checks as (
    select * from {{ ref('stg_registry__quality_checks') }}
),

holding as (
    select
        violations.unit_code,
        violations.period,
        array_agg(distinct violations.check_code order by violations.check_code) as hold_checks,
        string_agg(distinct checks.title_vi || ' (' || checks.check_code || ')', '; ') as held_reason_vi
    from violations
    inner join checks
        on violations.check_code = checks.check_code
    where violations.severity = 'error'
        and violations.status in ('open', 'explained')
    group by violations.unit_code, violations.period
),

final as (
    select
        candidate.unit_code,
        candidate.period,
        candidate.candidate_rows,
        candidate.content_hash,
        coalesce(checked.content_hash = candidate.content_hash, false) as is_checked,
        holding.unit_code is not null as is_held,
        holding.hold_checks,
        holding.held_reason_vi,
        checked.run_id as checked_run_id
    from candidate
    left join checked
        on candidate.unit_code = checked.unit_code
        and candidate.period = checked.period
    left join holding
        on candidate.unit_code = holding.unit_code
        and candidate.period = holding.period
)

select * from final
