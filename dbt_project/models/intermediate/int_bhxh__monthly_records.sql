{{ config(materialized='table') }}
-- Grain: one row per participant (participant_key, pseudonymised) x period (YYYY-MM of
-- extract_date): the participant's status in the month's latest extract that lists them (latest
-- extract_date, ties to the latest file, received last then the highest file id).  Only rows of
-- loaded files count; a row for a closed month in a file loaded after the close is held.
with

verifications as (
    select * from {{ ref('stg_raw__bhxh_verifications') }}
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
),

locks as (
    select * from {{ ref('stg_audit__period_locks') }}
),

counted as (
    select
        verifications.*,
        files.received_at
    from verifications
    inner join files
        on verifications.file_id = files.file_id
    left join locks
        on verifications.period = locks.period
    where locks.closed_at is null or files.loaded_at <= locks.closed_at
),

ranked as (
    select
        *,
        row_number() over (
            partition by participant_key, period
            order by extract_date desc, received_at desc, file_id desc, row_no desc
        ) as extract_rank
    from counted
),

final as (
    select
        participant_key,
        period,
        commune_code,
        status,
        status_at,
        extract_date,
        file_id
    from ranked
    where extract_rank = 1
)

select * from final
