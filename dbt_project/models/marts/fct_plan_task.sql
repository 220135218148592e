with

tasks as (
    select * from {{ ref('stg_registry__plan_tasks') }}
),

monthly as (
    select * from {{ ref('int_plan_tasks__monthly') }}
),

final as (
    select
        tasks.task_id,
        monthly.period,
        tasks.plan_code,
        tasks.section,
        tasks.task_no,
        tasks.title_vi,
        tasks.lead_unit_code,
        tasks.lead_unit_codes,
        tasks.lead_text,
        tasks.coordinating_unit_codes,
        tasks.coordinating_text,
        tasks.deadline,
        tasks.deadline_text,
        tasks.is_recurring,
        monthly.status,
        monthly.status_source,
        monthly.status_period,
        monthly.note_vi,
        monthly.source_file_id,
        case when monthly.status_source = 'plan' then tasks.status_as_of else monthly.period_end end as status_as_of,
        monthly.status in ('overdue', 'behind')
            or (monthly.status not in ('done', 'recurring') and not tasks.is_recurring and tasks.deadline < monthly.period_end)
            as is_overdue,
        case
            when tasks.deadline is not null and monthly.status <> 'done' and tasks.deadline < monthly.period_end
                then monthly.period_end - tasks.deadline
        end as days_past_deadline
    from monthly
    inner join tasks
        on monthly.task_id = tasks.task_id
)

select * from final
