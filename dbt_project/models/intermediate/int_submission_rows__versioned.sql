-- Every loaded value with its revision number.  For each unit, period and source kind the
-- latest effective file replaces the earlier ones as a whole; earlier files stay as revisions.
with

submission_rows as (
    select * from {{ ref('stg_raw__submission_rows') }}
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
    where not is_held
),

rows_in_effective_files as (
    select
        submission_rows.*,
        files.received_at
    from submission_rows
    inner join files
        on submission_rows.file_id = files.file_id
),

latest_file as (
    select
        unit_code,
        period,
        source_kind,
        max(file_id) as latest_file_id
    from rows_in_effective_files
    group by unit_code, period, source_kind
),

final as (
    select
        rows_in_effective_files.*,
        row_number() over (
            partition by
                rows_in_effective_files.unit_code,
                rows_in_effective_files.period,
                rows_in_effective_files.indicator_code,
                rows_in_effective_files.service_code,
                rows_in_effective_files.source_kind
            order by rows_in_effective_files.file_id, rows_in_effective_files.row_no
        ) as revision_no,
        rows_in_effective_files.file_id = latest_file.latest_file_id as is_latest_file
    from rows_in_effective_files
    inner join latest_file
        on rows_in_effective_files.unit_code = latest_file.unit_code
        and rows_in_effective_files.period = latest_file.period
        and rows_in_effective_files.source_kind = latest_file.source_kind
)

select * from final
