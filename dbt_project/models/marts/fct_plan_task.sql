with

tasks as (
    select * from {{ ref('stg_registry__plan_tasks') }}
),

final as (
    select
        task_id,
        plan_code,
        section,
        task_no,
        title_vi,
        lead_unit_code,
        lead_unit_codes,
        lead_text,
        coordinating_unit_codes,
        coordinating_text,
        deadline,
        deadline_text,
        is_recurring,
        status,
        status_as_of,
        status = 'overdue' or (status not in ('done', 'recurring') and deadline < status_as_of) as is_overdue,
        case when deadline is not null and status <> 'done' then status_as_of - deadline end as days_past_deadline
    from tasks
)

select * from final
