-- One value per unit x indicator x service x period: the latest file of the most trusted source
-- kind (a structured template beats a source extract, which beats a narrative report), with the
-- first-reported value of that source kind kept beside it.
with

versioned as (
    select * from {{ ref('int_submission_rows__versioned') }}
),

first_reported as (
    select
        unit_code,
        period,
        indicator_code,
        service_code,
        source_kind,
        numerator as first_numerator,
        denominator as first_denominator,
        received_at as first_received_at
    from versioned
    where revision_no = 1
),

revision_counts as (
    select
        unit_code,
        period,
        indicator_code,
        service_code,
        source_kind,
        count(distinct file_id) as revision_count
    from versioned
    group by 1, 2, 3, 4, 5
),

latest as (
    select
        *,
        row_number() over (
            partition by unit_code, period, indicator_code, service_code
            order by
                case source_kind when 'template' then 1 when 'extract' then 2 else 3 end,
                row_no desc
        ) as source_rank
    from versioned
    where is_latest_file
),

final as (
    select
        latest.unit_code,
        latest.period,
        latest.indicator_code,
        latest.service_code,
        latest.numerator,
        latest.denominator,
        latest.reported_rate_pct,
        latest.is_numerator_above_denominator,
        latest.source_kind,
        latest.source_line,
        latest.snippet,
        latest.batch_id,
        latest.file_id,
        latest.received_at,
        first_reported.first_numerator,
        first_reported.first_denominator,
        first_reported.first_received_at,
        revision_counts.revision_count
    from latest
    inner join first_reported
        on latest.unit_code = first_reported.unit_code
        and latest.period = first_reported.period
        and latest.indicator_code = first_reported.indicator_code
        and latest.service_code = first_reported.service_code
        and latest.source_kind = first_reported.source_kind
    inner join revision_counts
        on latest.unit_code = revision_counts.unit_code
        and latest.period = revision_counts.period
        and latest.indicator_code = revision_counts.indicator_code
        and latest.service_code = revision_counts.service_code
        and latest.source_kind = revision_counts.source_kind
    where latest.source_rank = 1
)

select * from final
