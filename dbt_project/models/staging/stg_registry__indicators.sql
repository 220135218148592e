with

source as (
    select * from {{ source('registry', 'indicator') }}
),

final as (
    select
        indicator_code,
        name_vi as indicator_name_vi,
        name_en as indicator_name_en,
        domain,
        domain_name_vi,
        numerator_definition,
        denominator_definition,
        denominator_kind,
        measure_type,
        count_unit,
        has_service,
        target_pct,
        target_date
    from source
)

select * from final
