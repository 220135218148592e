with

source as (
    select * from {{ source('audit', 'load_ledger') }}
),

final as (
    select
        file_id,
        batch_id,
        file_name,
        source_kind,
        sha256,
        size_bytes,
        unit_code,
        period,
        received_at,
        received_at_source,
        loaded_at,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined,
        error_code,
        error_vi
    from source
)

select * from final
