with

source as (
    select * from {{ source('registry', 'indicator_reporter') }}
),

final as (
    select
        indicator_code,
        reporter_role,
        service_code
    from source
)

select * from final
