with

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

final as (
    select
        indicator_code,
        indicator_name_vi,
        indicator_name_en,
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
    from indicators
)

select * from final
