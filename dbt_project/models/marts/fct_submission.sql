{{ config_by_period() }}
with

expected as (
    select * from {{ ref('int_submissions__expected') }}
    where {{ in_build_periods('period') }}
),

resolved as (
    select * from {{ ref('int_indicator_values__resolved') }}
    where {{ in_build_periods('period') }}
),

files as (
    select * from {{ ref('int_submission_files__effective') }}
),

file_units as (
    select * from {{ ref('int_submission_files__units') }}
    where {{ in_build_periods('period') }}
),

periods as (
    select * from {{ ref('int_periods__calendar') }}
),

expected_per_unit as (
    select
        unit_code,
        period,
        count(*) as rows_expected
    from expected
    group by unit_code, period
),

received_per_unit as (
    select
        expected.unit_code,
        expected.period,
        count(resolved.unit_code) as rows_received
    from expected
    left join resolved
        on expected.unit_code = resolved.unit_code
        and expected.period = resolved.period
        and expected.indicator_code = resolved.indicator_code
        and expected.service_code = resolved.service_code
    group by expected.unit_code, expected.period
),

first_receipt as (
    select
        file_units.unit_code,
        file_units.period,
        min(files.received_at) as first_received_at,
        max(files.received_at) as last_received_at,
        count(distinct files.file_id) as files_received
    from file_units
    inner join files
        on file_units.file_id = files.file_id
    group by file_units.unit_code, file_units.period
),

final as (
    select
        expected_per_unit.unit_code,
        expected_per_unit.period,
        true as is_expected,
        first_receipt.first_received_at as received_at,
        first_receipt.last_received_at,
        coalesce(first_receipt.files_received, 0)::int as files_received,
        periods.report_deadline,
        first_receipt.first_received_at is not null as is_received,
        coalesce(
            (first_receipt.first_received_at at time zone 'Asia/Ho_Chi_Minh')::date <= periods.report_deadline,
            false
        ) as is_on_time,
        case
            when first_receipt.first_received_at is null then 'missing'
            when (first_receipt.first_received_at at time zone 'Asia/Ho_Chi_Minh')::date
                <= periods.report_deadline then 'on_time'
            else 'late'
        end as timeliness,
        expected_per_unit.rows_expected::int as rows_expected,
        received_per_unit.rows_received::int as rows_received,
        round(1.0 * received_per_unit.rows_received / expected_per_unit.rows_expected, 4)::numeric(5, 4) as completeness
    from expected_per_unit
    inner join received_per_unit
        on expected_per_unit.unit_code = received_per_unit.unit_code
        and expected_per_unit.period = received_per_unit.period
    inner join periods
        on expected_per_unit.period = periods.period
    left join first_receipt
        on expected_per_unit.unit_code = first_receipt.unit_code
        and expected_per_unit.period = first_receipt.period
)

select * from final
