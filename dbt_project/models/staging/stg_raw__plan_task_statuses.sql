with

source as (
    select * from {{ source('raw', 'plan_task_status') }}
),

final as (
    select
        file_id,
        row_no,
        unit_code,
        period,
        task_id,
        status,
        note,
        reason_code,
        reason_vi,
        reason_en,
        reason_code is null as is_valid,
        loaded_at
    from source
)

select * from final
