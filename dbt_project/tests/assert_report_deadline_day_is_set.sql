-- The report deadline day is set once (D06_REPORT_DEADLINE_DAY, written by the registry sync)
-- and is a day every month has: a row here means the calendar's deadlines would be wrong.
with

deadline as (
    select setting_value
    from {{ ref('stg_registry__settings') }}
    where setting_key = 'report_deadline_day'
),

final as (
    select 'missing' as problem
    where not exists (select 1 from deadline)
    union all
    select 'not a day from 1 to 28: ' || setting_value as problem
    from deadline
    where not (case when setting_value ~ '^\d{1,2}$' then setting_value::int between 1 and 28 else false end)
)

select * from final
