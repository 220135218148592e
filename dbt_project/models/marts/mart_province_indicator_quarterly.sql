-- Quarter and year figures from the months: a flow sums its months, a stock takes its last month.
with

monthly as (
    select * from {{ ref('int_indicator_values__province') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

periods as (
    select * from {{ ref('dim_period') }}
),

months as (
    select
        monthly.*,
        indicators.measure_type,
        periods.year_quarter,
        row_number() over (
            partition by monthly.province_code, monthly.indicator_code, monthly.service_code, periods.year_quarter
            order by monthly.period desc
        ) as recency
    from monthly
    inner join indicators
        on monthly.indicator_code = indicators.indicator_code
    inner join periods
        on monthly.period = periods.period
),

quarters as (
    select
        province_code,
        indicator_code,
        service_code,
        year_quarter,
        min(measure_type) as measure_type,
        max(period) as last_period,
        count(*)::int as months_reported,
        round(
            case when min(measure_type) = 'stock' then sum(numerator) filter (where recency = 1) else sum(numerator) end,
            2
        ) as numerator,
        round(
            case
                when min(measure_type) = 'stock' then sum(denominator) filter (where recency = 1)
                else sum(denominator)
            end,
            2
        ) as denominator
    from months
    group by province_code, indicator_code, service_code, year_quarter
),

final as (
    select
        *,
        {{ rate_pct('numerator', 'denominator') }} as rate_pct
    from quarters
)

select * from final
