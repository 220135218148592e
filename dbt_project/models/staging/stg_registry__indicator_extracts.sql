-- Grain: one row per indicator whose figures correspond to a source extract's measures.
with

source as (
    select * from {{ source('registry', 'indicator_extract') }}
),

final as (
    select
        indicator_code,
        extract_source,
        numerator_measure,
        denominator_measure,
        tolerance_pct,
        system_of_record
    from source
)

select * from final
