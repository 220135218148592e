with

services as (
    select * from {{ ref('stg_registry__services') }}
),

final as (
    select
        service_code,
        service_no,
        service_name_vi
    from services
)

select * from final
