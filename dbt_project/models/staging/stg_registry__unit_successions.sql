with

source as (
    select * from {{ source('registry', 'unit_succession') }}
),

final as (
    select
        predecessor_code,
        successor_code,
        effective_date,
        share
    from source
)

select * from final
