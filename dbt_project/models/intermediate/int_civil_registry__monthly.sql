{{ config(materialized='table') }}
-- Grain: one row per commune x record type x period (YYYY-MM of extract_date): the counts of
-- the month's latest extract.  The counts are cumulative stocks, so the month's value is the
-- last one: the latest extract_date in the month wins, ties go to the latest file (received
-- last, then the highest file id).  Only rows of loaded files count; a row for a closed month in
-- a file loaded after the close is held, as for submissions.
with

counts as (
    select * from {{ ref('stg_raw__civil_registry_counts') }}
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
),

locks as (
    select * from {{ ref('stg_audit__period_locks') }}
),

counted as (
    select
        counts.*,
        files.received_at
    from counts
    inner join files
        on counts.file_id = files.file_id
    left join locks
        on counts.period = locks.period
    where locks.closed_at is null or files.loaded_at <= locks.closed_at
),

ranked as (
    select
        *,
        row_number() over (
            partition by commune_code, record_type, period
            order by extract_date desc, received_at desc, file_id desc, row_no desc
        ) as extract_rank
    from counted
),

final as (
    select
        commune_code,
        record_type,
        period,
        extract_date,
        records_total,
        records_scanned,
        records_entered,
        records_synced,
        file_id,
        batch_id
    from ranked
    where extract_rank = 1
)

select * from final
