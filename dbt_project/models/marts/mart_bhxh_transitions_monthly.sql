{{ config(indexes=[{'columns': ['period']}]) }}
-- Grain: one row per commune x month x status before x status after: how many participants'
-- identity-verification status changed since the previous month with an extract (`new`: not in
-- it), counted from pseudonymised records; no participant can be told apart here.
with

transitions as (
    select * from {{ ref('int_bhxh__transitions') }}
),

final as (
    select
        commune_code,
        period,
        from_status,
        to_status,
        participants
    from transitions
)

select * from final
