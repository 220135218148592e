with

source as (
    select * from {{ source('audit', 'unit_period_check') }}
),

final as (
    select
        unit_code,
        period,
        content_hash,
        run_id,
        checked_at
    from source
)

select * from final
