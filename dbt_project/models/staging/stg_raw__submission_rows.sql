with

source as (
    select * from {{ source('raw', 'submission_row') }}
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
        reported_rate as reported_rate_pct,
        note,
        flags,
        'numerator_above_denominator' = any(flags) as is_numerator_above_denominator,
        source_kind,
        source_line,
        snippet,
        batch_id,
        source_sha256,
        loaded_at
    from source
)

select * from final
