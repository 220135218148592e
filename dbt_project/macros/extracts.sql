{#- The rows of a source extract's staging relation that count for their month: for each value
    of `key_columns` and period, the row of the latest extract (latest extract_date, ties to the
    file received last, then the highest file id and row).  Only rows of loaded files count; a
    row for a closed month in a file loaded after the close is held, as for submissions. -#}
{% macro latest_extract_rows(extract_rows, key_columns) -%}
with

extract_rows as (
    select * from {{ extract_rows }}
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
),

locks as (
    select * from {{ ref('stg_audit__period_locks') }}
),

counted as (
    select
        extract_rows.*,
        files.received_at
    from extract_rows
    inner join files
        on extract_rows.file_id = files.file_id
    left join locks
        on extract_rows.period = locks.period
    where locks.closed_at is null or files.loaded_at <= locks.closed_at
),

ranked as (
    select
        *,
        row_number() over (
            partition by {{ key_columns | join(', ') }}, period
            order by extract_date desc, received_at desc, file_id desc, row_no desc
        ) as extract_rank
    from counted
)

select * from ranked
where extract_rank = 1
{%- endmacro %}
