{{ config_by_period() }}
-- The rows each unit is expected to send for each period it existed in, from the registry.
with

units as (
    select * from {{ ref('stg_registry__units') }}
),

reporters as (
    select * from {{ ref('stg_registry__indicator_reporters') }}
),

periods as (
    select * from {{ ref('int_periods__calendar') }}
    where is_reporting_period and {{ in_build_periods('period') }}
),

final as (
    select
        units.unit_code,
        periods.period,
        reporters.indicator_code,
        reporters.service_code
    from units
    inner join reporters
        on units.reporter_role = reporters.reporter_role
    inner join periods
        on units.valid_from <= periods.period_end
        and coalesce(units.valid_to, date '9999-12-31') >= periods.period_end
)

select * from final
