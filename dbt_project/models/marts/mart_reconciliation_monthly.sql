{{ config_by_period() }}
-- Grain: one row per unit x indicator x month with an extract correspondence: the figures the
-- unit reported beside the source extract's for the same scope (a commune's own, a department's
-- province's communes), their differences, whether each is within the registry's tolerance (a
-- difference of at most tolerance_pct % of the extract's figure), and which figure is the system
-- of record.  The reported values are those officials read (a held value as published before).
with

reconciliation as (
    select * from {{ ref('int_reconciliation__published') }}
    where {{ in_build_periods('period') }}
),

compared as (
    select
        *,
        abs(numerator_difference) * 100 <= tolerance_pct * extract_numerator as is_numerator_within_tolerance,
        case
            when reported_denominator is null or extract_denominator is null then null
            else abs(denominator_difference) * 100 <= tolerance_pct * extract_denominator
        end as is_denominator_within_tolerance
    from reconciliation
),

final as (
    select
        unit_code,
        indicator_code,
        period,
        extract_source,
        extract_scope,
        scope_code,
        extract_communes::int as extract_communes,
        reported_numerator,
        extract_numerator,
        numerator_difference,
        case when extract_numerator > 0 then round(100.0 * numerator_difference / extract_numerator, 2) end
            as numerator_difference_pct,
        reported_denominator,
        extract_denominator,
        denominator_difference,
        case when extract_denominator > 0 then round(100.0 * denominator_difference / extract_denominator, 2) end
            as denominator_difference_pct,
        {{ rate_pct('reported_numerator', 'reported_denominator') }} as reported_rate_pct,
        {{ rate_pct('extract_numerator', 'extract_denominator') }} as extract_rate_pct,
        tolerance_pct,
        extract_numerator is not null as has_extract,
        case
            when extract_numerator is null then null
            else is_numerator_within_tolerance and coalesce(is_denominator_within_tolerance, true)
        end as is_within_tolerance,
        system_of_record,
        source_kind,
        file_id
    from compared
)

select * from final
