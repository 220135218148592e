with

source as (
    select * from {{ source('registry', 'quality_check') }}
),

final as (
    select
        check_code,
        check_no,
        severity,
        scope,
        title_vi,
        title_en,
        fix_vi
    from source
)

select * from final
