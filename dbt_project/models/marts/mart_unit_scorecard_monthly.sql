{{ config_by_period() }}
with

values_today as (
    select * from {{ ref('int_indicator_values__current_units') }}
    where {{ in_build_periods('period', and_previous=true) }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

periods as (
    select * from {{ ref('dim_period') }}
),

per_unit as (
    select
        unit_code,
        province_code,
        reporter_role,
        indicator_code,
        service_code,
        period,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(distinct reported_unit_code) as reporting_units
    from values_today
    group by 1, 2, 3, 4, 5, 6
),

rated as (
    select
        per_unit.*,
        {{ rate_pct('per_unit.numerator', 'per_unit.denominator') }} as rate_pct
    from per_unit
),

final as (
    select
        rated.unit_code,
        rated.indicator_code,
        rated.service_code,
        rated.period,
        rated.province_code,
        rated.reporter_role,
        {{ scorecard_measures('rated', 'previous', 'indicators') }},
        (rank() over (
            partition by rated.province_code, rated.reporter_role, rated.indicator_code, rated.service_code, rated.period
            order by rated.rate_pct desc nulls last
        ))::int as rank_in_province,
        (count(*) over (
            partition by rated.province_code, rated.reporter_role, rated.indicator_code, rated.service_code, rated.period
        ))::int as units_ranked,
        rated.reporting_units::int as reporting_units
    from rated
    inner join indicators
        on rated.indicator_code = indicators.indicator_code
    inner join periods
        on rated.period = periods.period
    left join rated as previous
        on rated.unit_code = previous.unit_code
        and rated.indicator_code = previous.indicator_code
        and rated.service_code = previous.service_code
        and periods.previous_period = previous.period
    where {{ in_build_periods('rated.period') }}
)

select * from final
