with

source as (
    select * from {{ source('registry', 'indicator_reporter') }}
),

final as (
    select
        indicator_code,
        reporter_role,
        service_code,
        counts_for_province
    from source
)

select * from final
