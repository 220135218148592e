{#- Reported figures beside the source extracts' for the same scope and month: one row per unit
    x indicator x period of `reported_values` (a relation of unit_code, indicator_code,
    service_code, period, numerator, denominator, source_kind, file_id) whose indicator has an
    extract correspondence in the registry.  Only the all-services row (`NA`) and values of any
    source kind but `extract` are compared; a commune's against its own extract figures, a
    department's against its province's communes summed.  Extract figures are null when no
    extract covers the scope and month. -#}
{% macro reconcile_with_extracts(reported_values) -%}
with

reported_values as (
    select * from {{ reported_values }}
    where source_kind <> 'extract' and service_code = 'NA' and {{ in_build_periods('period') }}
),

correspondences as (
    select * from {{ ref('stg_registry__indicator_extracts') }}
),

units as (
    select * from {{ ref('stg_registry__units') }}
),

scoped_measures as (
    select * from {{ ref('int_source_extracts__scoped_measures') }}
),

reported as (
    select
        reported_values.unit_code,
        reported_values.indicator_code,
        reported_values.service_code,
        reported_values.period,
        units.unit_kind,
        case when units.unit_kind = 'commune' then 'commune' else 'province' end as extract_scope,
        case when units.unit_kind = 'commune' then units.unit_code else units.province_code end as scope_code,
        correspondences.extract_source,
        correspondences.numerator_measure,
        correspondences.denominator_measure,
        correspondences.tolerance_pct,
        correspondences.system_of_record,
        reported_values.numerator as reported_numerator,
        reported_values.denominator as reported_denominator,
        reported_values.source_kind,
        reported_values.file_id
    from reported_values
    inner join correspondences
        on reported_values.indicator_code = correspondences.indicator_code
    inner join units
        on reported_values.unit_code = units.unit_code
    where units.unit_kind in ('commune', 'department')
),

final as (
    select
        reported.unit_code,
        reported.indicator_code,
        reported.period,
        reported.service_code,
        reported.unit_kind,
        reported.extract_scope,
        reported.scope_code,
        reported.extract_source,
        reported.numerator_measure,
        reported.denominator_measure,
        reported.tolerance_pct,
        reported.system_of_record,
        reported.source_kind,
        reported.file_id,
        reported.reported_numerator,
        numerators.measure_value as extract_numerator,
        reported.reported_numerator - numerators.measure_value as numerator_difference,
        reported.reported_denominator,
        denominators.measure_value as extract_denominator,
        reported.reported_denominator - denominators.measure_value as denominator_difference,
        coalesce(numerators.extract_communes, 0) as extract_communes
    from reported
    left join scoped_measures as numerators
        on reported.extract_scope = numerators.extract_scope
        and reported.scope_code = numerators.scope_code
        and reported.extract_source = numerators.extract_source
        and reported.period = numerators.period
        and reported.numerator_measure = numerators.measure
    left join scoped_measures as denominators
        on reported.extract_scope = denominators.extract_scope
        and reported.scope_code = denominators.scope_code
        and reported.extract_source = denominators.extract_source
        and reported.period = denominators.period
        and reported.denominator_measure = denominators.measure
)

select * from final
{%- endmacro %}
