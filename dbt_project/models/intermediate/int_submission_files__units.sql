-- Which units and periods each loaded file reports (a file normally holds one unit-month).
with

submission_rows as (
    select * from {{ ref('stg_raw__submission_rows') }}
),

final as (
    select distinct
        file_id,
        unit_code,
        period
    from submission_rows
)

select * from final
