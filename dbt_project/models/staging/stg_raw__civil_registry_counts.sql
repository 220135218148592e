-- Grain: one row per data row of a civil-registry sync extract file (file_id, row_no), all files.
with

source as (
    select * from {{ source('raw', 'civil_registry_count') }}
),

final as (
    select
        file_id,
        row_no,
        extract_date,
        to_char(extract_date, 'YYYY-MM') as period,
        commune_code,
        record_type,
        records_total,
        records_scanned,
        records_entered,
        records_synced,
        batch_id
    from source
)

select * from final
