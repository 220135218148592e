{{ config(materialized='table') }}
-- Grain: one row per extract scope x scope code x extract source x period x measure: the source
-- extracts' measures (ingest.registry.catalog.EXTRACT_MEASURES) for a commune (its own figures,
-- `commune`) and for a province (the sum over its communes, `province`): civil-registry counts
-- summed over record types, BHXH participants by verification status.
with

units as (
    select * from {{ ref('stg_registry__units') }}
),

civil_registry as (
    select * from {{ ref('int_civil_registry__monthly') }}
),

bhxh as (
    select * from {{ ref('int_bhxh__monthly') }}
),

civil_registry_communes as (
    select
        commune_code,
        period,
        sum(records_total)::bigint as records_total,
        sum(records_scanned)::bigint as records_scanned,
        sum(records_entered)::bigint as records_entered,
        sum(records_synced)::bigint as records_synced
    from civil_registry
    group by commune_code, period
),

commune_measures as (
    select
        'civil_registry' as extract_source,
        civil_registry_communes.commune_code,
        civil_registry_communes.period,
        measures.measure,
        measures.measure_value
    from civil_registry_communes
    cross join lateral (
        values
            ('records_total', civil_registry_communes.records_total),
            ('records_scanned', civil_registry_communes.records_scanned),
            ('records_entered', civil_registry_communes.records_entered),
            ('records_synced', civil_registry_communes.records_synced)
    ) as measures (measure, measure_value)
    union all
    select
        'bhxh' as extract_source,
        bhxh.commune_code,
        bhxh.period,
        measures.measure,
        measures.measure_value
    from bhxh
    cross join lateral (
        values
            ('participants', bhxh.participants),
            ('verified', bhxh.verified),
            ('mismatch', bhxh.mismatch),
            ('not_found', bhxh.not_found),
            ('pending', bhxh.pending)
    ) as measures (measure, measure_value)
),

final as (
    select
        'commune' as extract_scope,
        commune_code as scope_code,
        extract_source,
        period,
        measure,
        measure_value,
        1 as extract_communes
    from commune_measures
    union all
    select
        'province' as extract_scope,
        units.province_code as scope_code,
        commune_measures.extract_source,
        commune_measures.period,
        commune_measures.measure,
        sum(commune_measures.measure_value)::bigint as measure_value,
        count(*) as extract_communes
    from commune_measures
    inner join units
        on commune_measures.commune_code = units.unit_code
    group by units.province_code, commune_measures.extract_source, commune_measures.period, commune_measures.measure
)

select * from final
