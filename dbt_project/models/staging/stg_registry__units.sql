with

source as (
    select * from {{ source('registry', 'unit') }}
),

final as (
    select
        unit_code,
        unit_name as unit_name_vi,
        unit_kind,
        case when unit_kind = 'department' then split_part(unit_code, '.', 2) else unit_kind end
            as reporter_role,
        nullif(parent_code, '') as parent_code,
        province_code,
        nullif(gso_code, '') as gso_code,
        valid_from,
        valid_to,
        contact_email
    from source
)

select * from final
