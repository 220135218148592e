-- Every loaded value with its revision number.  Revision rules (README, "Revisions"):
-- * for each unit, period and source kind, the latest file replaces the earlier ones as a whole;
--   "latest" means the latest received (then the highest file id), never the file name;
-- * a period lock applies to each row's own month: a row for a closed month, in a file loaded
--   after the close, is held, whatever month the rest of its file is about.
with

submission_rows as (
    select * from {{ ref('stg_raw__submission_rows') }}
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
),

locks as (
    select * from {{ ref('stg_audit__period_locks') }}
),

rows_in_effective_files as (
    select
        submission_rows.*,
        files.received_at as file_received_at
    from submission_rows
    inner join files
        on submission_rows.file_id = files.file_id
    left join locks
        on submission_rows.period = locks.period
    where locks.closed_at is null or files.loaded_at <= locks.closed_at
),

with_latest as (
    select
        *,
        first_value(file_id) over (
            partition by unit_code, period, source_kind
            order by file_received_at desc, file_id desc
        ) as latest_file_id
    from rows_in_effective_files
),

final as (
    select
        file_id,
        row_no,
        unit_code,
        period,
        indicator_code,
        service_code,
        numerator,
        denominator,
        reported_rate_pct,
        note,
        flags,
        is_numerator_above_denominator,
        source_kind,
        source_line,
        snippet,
        batch_id,
        source_sha256,
        loaded_at,
        file_received_at as received_at,
        row_number() over (
            partition by unit_code, period, indicator_code, service_code, source_kind
            order by file_received_at, file_id, row_no
        ) as revision_no,
        file_id = latest_file_id as is_latest_file
    from with_latest
)

select * from final
