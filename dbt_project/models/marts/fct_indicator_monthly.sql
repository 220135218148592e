{{ config_by_period() }}
with

published as (
    select * from {{ ref('int_indicator_values__published') }}
    where {{ in_build_periods('period') }}
),

final as (
    select
        unit_code,
        indicator_code,
        service_code,
        period,
        numerator,
        denominator,
        reported_rate_pct::numeric as reported_rate_pct,
        {{ rate_pct('numerator', 'denominator') }} as computed_rate_pct,
        is_numerator_above_denominator,
        source_kind,
        source_line,
        snippet,
        batch_id,
        file_id,
        received_at,
        first_numerator,
        first_denominator,
        revision_count::int as revision_count,
        publication_status,
        held_reason_vi
    from published
)

select * from final
