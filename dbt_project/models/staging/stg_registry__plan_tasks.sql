with

source as (
    select * from {{ source('registry', 'plan_task') }}
),

final as (
    select
        task_id,
        plan_code,
        section,
        task_no,
        title_vi,
        lead_unit_code,
        lead_text,
        coordinating_unit_codes,
        coordinating_text,
        deadline,
        deadline_text,
        recurring as is_recurring,
        status,
        status_as_of
    from source
)

select * from final
