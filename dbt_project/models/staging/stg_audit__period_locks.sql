with

source as (
    select * from {{ source('audit', 'period_lock') }}
),

final as (
    select
        period,
        closed_at,
        closed_by
    from source
)

select * from final
