with

calendar as (
    select * from {{ ref('int_periods__calendar') }}
),

final as (
    select
        period,
        period_start,
        period_end,
        year,
        quarter,
        month,
        year_quarter,
        period_label_vi,
        report_deadline,
        previous_period,
        is_reporting_period
    from calendar
)

select * from final
