{{ config_by_period() }}
-- Grain: one row per unit x period with candidate values on the audit stage.  `content_hash`
-- fingerprints what the quality gate checks; a unit-period is published only when the gate
-- recorded this same hash (stg_audit__unit_period_checks), so values nobody checked never reach
-- the marts, even from a `dbt build` run by hand.  The files its values came from are what the
-- gate's submission checks look at (late files, templates missing rows).
with

resolved as (
    select * from {{ ref('int_indicator_values__resolved') }}
    where {{ in_build_periods('period') }}
),

final as (
    select
        unit_code,
        period,
        count(*)::int as candidate_rows,
        max(file_id) as latest_file_id,
        max(file_id) filter (where source_kind = 'template') as template_file_id,
        array_agg(distinct file_id order by file_id) as file_ids,
        md5(string_agg(
            concat_ws('|', indicator_code, service_code, numerator, denominator, reported_rate_pct, file_id),
            ',' order by indicator_code, service_code
        )) as content_hash
    from resolved
    group by unit_code, period
)

select * from final
