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
        nullif(split_part(lead_unit_code, ';', 1), '') as lead_unit_code,
        coalesce(string_to_array(nullif(lead_unit_code, ''), ';'), '{}') as lead_unit_codes,
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
