-- Province totals per indicator x service x month, from the role that counts for the province
-- (communes when they report the indicator, else the first listed reporter; see the registry).
with

values_today as (
    select * from {{ ref('int_indicator_values__current_units') }}
),

reporters as (
    select * from {{ ref('stg_registry__indicator_reporters') }}
    where counts_for_province
),

final as (
    select
        values_today.province_code,
        values_today.indicator_code,
        values_today.service_code,
        values_today.period,
        sum(values_today.numerator) as numerator,
        sum(values_today.denominator) as denominator,
        count(distinct values_today.reported_unit_code) as reporting_units
    from values_today
    inner join reporters
        on values_today.indicator_code = reporters.indicator_code
        and values_today.service_code = reporters.service_code
        and values_today.reporter_role = reporters.reporter_role
    group by 1, 2, 3, 4
)

select * from final
