-- Grain: one row per participant row of a BHXH identity-verification extract file (file_id,
-- row_no), all files.  Pseudonymised on the way in: no name, code or birth date is here.
with

source as (
    select * from {{ source('raw', 'bhxh_verification') }}
),

final as (
    select
        file_id,
        row_no,
        extract_date,
        to_char(extract_date, 'YYYY-MM') as period,
        participant_key,
        person_key,
        birth_year,
        commune_code,
        status,
        status_at,
        batch_id
    from source
)

select * from final
