with

source as (
    select * from {{ source('raw', 'quarantine') }}
),

final as (
    select
        file_id,
        row_no,
        column_name,
        raw_value,
        reason_code,
        reason_vi,
        reason_en,
        batch_id,
        quarantined_at
    from source
)

select * from final
