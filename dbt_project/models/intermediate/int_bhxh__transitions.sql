{{ config(materialized='table') }}
-- Grain: one row per commune x period x from_status x to_status: how many participants' status
-- changed from the previous month to this one, from the pseudonymised records.  The previous
-- month is the latest earlier month with a BHXH extract (a month without one does not make every
-- participant new).  A participant not in the previous month's records is `new` (from_status);
-- one whose status did not change is not counted.  The commune is this month's.
with

records as (
    select * from {{ ref('int_bhxh__monthly_records') }}
),

extract_periods as (
    select
        period,
        lag(period) over (order by period) as previous_period
    from (select distinct period from records) as periods
),

compared as (
    select
        current_records.commune_code,
        current_records.period,
        coalesce(previous_records.status, 'new') as from_status,
        current_records.status as to_status
    from records as current_records
    inner join extract_periods
        on current_records.period = extract_periods.period
    left join records as previous_records
        on current_records.participant_key = previous_records.participant_key
        and previous_records.period = extract_periods.previous_period
),

final as (
    select
        commune_code,
        period,
        from_status,
        to_status,
        count(*) as participants
    from compared
    where from_status <> to_status
    group by commune_code, period, from_status, to_status
)

select * from final
