{{ config_by_period() }}
-- Every official value re-attributed to today's units: a former unit's counts go to its
-- successors in proportion to the succession shares, so series stay comparable across the
-- 1 July 2025 merger.  Counts add up; nothing keeps "the last value".
with

resolved as (
    select * from {{ ref('int_indicator_values__published') }}
    where {{ in_build_periods('period') }}
),

successors as (
    select * from {{ ref('int_units__current_successors') }}
),

units as (
    select * from {{ ref('stg_registry__units') }}
),

final as (
    select
        resolved.unit_code as reported_unit_code,
        successors.current_unit_code as unit_code,
        current_units.province_code,
        current_units.reporter_role,
        resolved.indicator_code,
        resolved.service_code,
        resolved.period,
        successors.share,
        (resolved.numerator * successors.share)::numeric as numerator,
        (resolved.denominator * successors.share)::numeric as denominator,
        resolved.reported_rate_pct
    from resolved
    inner join successors
        on resolved.unit_code = successors.unit_code
    inner join units as current_units
        on successors.current_unit_code = current_units.unit_code
)

select * from final
