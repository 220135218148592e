{{ config(indexes=[{'columns': ['period']}]) }}
-- Progress towards each indicator's target per province and month, against a straight-line
-- trajectory from the first reported month to the target date.
with

province_values as (
    select * from {{ ref('int_indicator_values__province') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

periods as (
    select * from {{ ref('dim_period') }}
),

all_services as (
    select
        province_code,
        indicator_code,
        period,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from province_values
    group by 1, 2, 3
),

rated as (
    select
        all_services.*,
        periods.period_end,
        case when all_services.denominator > 0 then 100 * all_services.numerator / all_services.denominator end
            as rate_pct
    from all_services
    inner join periods
        on all_services.period = periods.period
),

baselines as (
    select distinct on (province_code, indicator_code)
        province_code,
        indicator_code,
        period as baseline_period,
        period_end as baseline_end,
        rate_pct as baseline_rate_pct
    from rated
    where rate_pct is not null
    order by province_code, indicator_code, period
),

trajectory as (
    select
        rated.*,
        baselines.baseline_period,
        baselines.baseline_rate_pct,
        indicators.target_pct,
        indicators.target_date,
        case
            when indicators.target_pct is null or indicators.target_date is null then null
            when rated.period_end >= indicators.target_date
                or indicators.target_date <= baselines.baseline_end then indicators.target_pct
            else baselines.baseline_rate_pct
                + (indicators.target_pct - baselines.baseline_rate_pct)
                * (rated.period_end - baselines.baseline_end)
                / (indicators.target_date - baselines.baseline_end)
        end as expected_rate_pct
    from rated
    inner join indicators
        on rated.indicator_code = indicators.indicator_code
    left join baselines
        on rated.province_code = baselines.province_code
        and rated.indicator_code = baselines.indicator_code
),

final as (
    select
        province_code,
        indicator_code,
        period,
        round(numerator, 2) as numerator,
        round(denominator, 2) as denominator,
        round(rate_pct, 2) as rate_pct,
        target_pct,
        target_date,
        baseline_period,
        round(baseline_rate_pct, 2) as baseline_rate_pct,
        round(expected_rate_pct, 2) as expected_rate_pct,
        case
            when target_pct is null then 'no_target'
            when rate_pct is null then 'no_data'
            when rate_pct >= target_pct then 'achieved'
            when target_date is not null and period_end >= target_date then 'missed'
            when expected_rate_pct is null or rate_pct >= expected_rate_pct then 'on_track'
            else 'at_risk'
        end as progress_status
    from trajectory
)

select * from final
