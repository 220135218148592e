{{ config(indexes=[{'columns': ['period']}]) }}
-- Grain: one row per commune x civil-registry record type x month: the digitisation funnel of
-- historical civil-registry records as the civil-registry software exports it (the month's
-- latest extract), total >= scanned >= entered >= synced, with each step's share.  The shares
-- are those of the indicators HT_SCANNED and HT_ENTERED (of the total) and HT_SYNCED (of the
-- entered records).
with

counts as (
    select * from {{ ref('int_civil_registry__monthly') }}
),

final as (
    select
        commune_code,
        record_type,
        period,
        extract_date,
        records_total,
        records_scanned,
        records_entered,
        records_synced,
        {{ rate_pct('records_scanned', 'records_total') }} as scanned_share_pct,
        {{ rate_pct('records_entered', 'records_total') }} as entered_share_pct,
        {{ rate_pct('records_synced', 'records_entered') }} as synced_share_pct,
        records_total >= records_scanned
            and records_scanned >= records_entered
            and records_entered >= records_synced as is_funnel_ordered,
        file_id
    from counts
)

select * from final
