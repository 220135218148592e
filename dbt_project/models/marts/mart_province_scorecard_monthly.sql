{{ config_by_period() }}
with

province_values as (
    select * from {{ ref('int_indicator_values__province') }}
    where {{ in_build_periods('period', and_previous=true) }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

periods as (
    select * from {{ ref('dim_period') }}
),

rated as (
    select
        province_values.*,
        {{ rate_pct('province_values.numerator', 'province_values.denominator') }} as rate_pct
    from province_values
),

final as (
    select
        rated.province_code,
        rated.indicator_code,
        rated.service_code,
        rated.period,
        {{ scorecard_measures('rated', 'previous', 'indicators') }},
        (rank() over (
            partition by rated.indicator_code, rated.service_code, rated.period
            order by rated.rate_pct desc nulls last
        ))::int as rank_among_provinces,
        rated.reporting_units::int as reporting_units
    from rated
    inner join indicators
        on rated.indicator_code = indicators.indicator_code
    inner join periods
        on rated.period = periods.period
    left join rated as previous
        on rated.province_code = previous.province_code
        and rated.indicator_code = previous.indicator_code
        and rated.service_code = previous.service_code
        and periods.previous_period = previous.period
    where {{ in_build_periods('rated.period') }}
)

select * from final
