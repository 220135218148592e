{{ config(materialized='table') }}
-- Every unit, former or current, mapped to the current unit(s) its figures belong to today,
-- with the share of its counts that goes to each.  Chains of successions multiply their shares.
with recursive

units as (
    select * from {{ ref('stg_registry__units') }}
),

successions as (
    select * from {{ ref('stg_registry__unit_successions') }}
),

walk (unit_code, current_unit_code, share, depth) as (
    select
        unit_code,
        unit_code,
        1.0::numeric,
        0
    from units
    union all
    select
        walk.unit_code,
        successions.successor_code,
        walk.share * successions.share,
        walk.depth + 1
    from walk
    inner join successions
        on walk.current_unit_code = successions.predecessor_code
    where walk.depth < 10
),

final as (
    select
        walk.unit_code,
        walk.current_unit_code,
        sum(walk.share)::double precision as share
    from walk
    inner join units as current_units
        on walk.current_unit_code = current_units.unit_code
    where current_units.valid_to is null
    group by walk.unit_code, walk.current_unit_code
)

select * from final
