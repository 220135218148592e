{{ config_by_period() }}
-- Grain: one row per current unit x period that sent values or has findings of the quality gate.
-- Open errors and warnings (explained ones count as open: they are not resolved), whether the
-- unit-period is held out of the official figures and why, and a quality score BI can trend:
-- the share of the unit's checked rows with no open error or warning (0 when it sent nothing
-- by the deadline).  Former units' findings count for the current units that succeeded them.
with

violations as (
    select * from {{ ref('stg_audit__violations') }}
    where {{ in_build_periods('period') }}
),

publication as (
    select * from {{ ref('int_unit_periods__publication') }}
    where {{ in_build_periods('period') }}
),

successors as (
    select * from {{ ref('int_units__current_successors') }}
),

findings as (
    select
        successors.current_unit_code as unit_code,
        violations.period,
        count(*) filter (where violations.severity = 'error' and violations.status in ('open', 'explained'))
            as open_errors,
        count(*) filter (where violations.severity = 'warning' and violations.status in ('open', 'explained'))
            as open_warnings,
        count(*) filter (where violations.severity = 'info' and violations.status in ('open', 'explained'))
            as open_infos,
        count(*) filter (where violations.status = 'accepted') as accepted,
        count(*) filter (where violations.status = 'corrected') as corrected,
        count(distinct (violations.unit_code, violations.indicator_code, violations.service_code)) filter (
            where violations.severity in ('error', 'warning')
                and violations.status in ('open', 'explained')
                and violations.indicator_code is not null
        ) as rows_with_findings,
        bool_or(violations.check_code = 'missing_submission' and violations.status in ('open', 'explained'))
            as is_missing
    from violations
    inner join successors
        on violations.unit_code = successors.unit_code
    group by successors.current_unit_code, violations.period
),

checked as (
    select
        successors.current_unit_code as unit_code,
        publication.period,
        sum(publication.candidate_rows)::int as rows_checked,
        bool_or(publication.is_held) as is_held,
        string_agg(publication.held_reason_vi, '; ') as held_reason_vi
    from publication
    inner join successors
        on publication.unit_code = successors.unit_code
    group by successors.current_unit_code, publication.period
),

final as (
    select
        coalesce(checked.unit_code, findings.unit_code) as unit_code,
        coalesce(checked.period, findings.period) as period,
        coalesce(findings.open_errors, 0)::int as open_errors,
        coalesce(findings.open_warnings, 0)::int as open_warnings,
        coalesce(findings.open_infos, 0)::int as open_infos,
        coalesce(findings.accepted, 0)::int as accepted,
        coalesce(findings.corrected, 0)::int as corrected,
        coalesce(checked.rows_checked, 0)::int as rows_checked,
        coalesce(findings.rows_with_findings, 0)::int as rows_with_findings,
        coalesce(checked.is_held, false) as is_held,
        checked.held_reason_vi,
        case
            when coalesce(findings.is_missing, false) then 0
            when coalesce(checked.rows_checked, 0) = 0 then null
            else round(100.0 * greatest(checked.rows_checked - coalesce(findings.rows_with_findings, 0), 0)
                / checked.rows_checked, 1)
        end as quality_score
    from checked
    full outer join findings
        on checked.unit_code = findings.unit_code
        and checked.period = findings.period
)

select * from final
