{{ config(materialized='table') }}
-- Grain: one row per commune x record type x period (YYYY-MM of extract_date): the counts of
-- the month's latest extract.  The counts are cumulative stocks, so the month's value is the
-- last one: the latest extract_date in the month wins, ties go to the latest file (received
-- last, then the highest file id).  Only rows of loaded files count; a row for a closed month in
-- a file loaded after the close is held, as for submissions.
with

latest as (
    {{ latest_extract_rows(ref('stg_raw__civil_registry_counts'), ['commune_code', 'record_type']) | indent(4) }}
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
        file_id,
        batch_id
    from latest
)

select * from final
