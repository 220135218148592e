with

source as (
    select * from {{ source('audit', 'violation') }}
),

final as (
    select
        violation_id,
        check_code,
        severity,
        unit_code,
        indicator_code,
        service_code,
        period,
        "values" as finding_values,
        file_id,
        status,
        first_run_id,
        last_run_id,
        first_seen_at,
        last_seen_at,
        status_by,
        status_comment,
        status_at
    from source
)

select * from final
