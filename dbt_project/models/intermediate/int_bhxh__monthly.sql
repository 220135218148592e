{{ config(materialized='table') }}
-- Grain: one row per commune x period: the BHXH participants of the commune in the month (each
-- with their status in the month's latest extract), by verification status.
with

records as (
    select * from {{ ref('int_bhxh__monthly_records') }}
),

final as (
    select
        commune_code,
        period,
        count(*) as participants,
        count(*) filter (where status = 'verified') as verified,
        count(*) filter (where status = 'mismatch') as mismatch,
        count(*) filter (where status = 'not_found') as not_found,
        count(*) filter (where status = 'pending') as pending,
        max(extract_date) as extract_date
    from records
    group by commune_code, period
)

select * from final
