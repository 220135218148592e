{{ config(materialized='table') }}
-- Grain: one row per participant (participant_key, pseudonymised) x period (YYYY-MM of
-- extract_date): the participant's status in the month's latest extract that lists them (latest
-- extract_date, ties to the latest file, received last then the highest file id).  Only rows of
-- loaded files count; a row for a closed month in a file loaded after the close is held.
with

latest as (
    {{ latest_extract_rows(ref('stg_raw__bhxh_verifications'), ['participant_key']) | indent(4) }}
),

final as (
    select
        participant_key,
        period,
        commune_code,
        status,
        status_at,
        extract_date,
        file_id
    from latest
)

select * from final
