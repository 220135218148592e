with

units as (
    select * from {{ ref('stg_registry__units') }}
),

provinces as (
    select unit_code, unit_name_vi from units where unit_kind = 'province'
),

final as (
    select
        units.unit_code,
        units.unit_name_vi,
        units.unit_kind,
        units.reporter_role,
        units.parent_code,
        units.province_code,
        provinces.unit_name_vi as province_name_vi,
        units.gso_code,
        units.valid_from,
        units.valid_to,
        units.valid_to is null as is_current,
        units.contact_email
    from units
    left join provinces
        on units.province_code = provinces.unit_code
)

select * from final
