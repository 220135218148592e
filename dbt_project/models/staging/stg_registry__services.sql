with

source as (
    select * from {{ source('registry', 'service') }}
),

final as (
    select
        service_code,
        service_no,
        service_name_vi
    from source
)

select * from final
