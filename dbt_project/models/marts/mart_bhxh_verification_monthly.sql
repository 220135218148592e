{{ config(indexes=[{'columns': ['period']}]) }}
-- Grain: one row per commune x month: BHXH and health-insurance participants living in the
-- commune (each with their status in the month's latest extract) by identity-verification
-- status, and the verified share (the indicator BHXH_VERIFIED's rate, from the extract).
with

monthly as (
    select * from {{ ref('int_bhxh__monthly') }}
),

final as (
    select
        commune_code,
        period,
        extract_date,
        participants,
        verified,
        mismatch,
        not_found,
        pending,
        {{ rate_pct('verified', 'participants') }} as verified_share_pct
    from monthly
)

select * from final
