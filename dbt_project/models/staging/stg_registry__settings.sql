with

source as (
    select * from {{ source('registry', 'setting') }}
),

final as (
    select
        key as setting_key,
        value as setting_value
    from source
)

select * from final
