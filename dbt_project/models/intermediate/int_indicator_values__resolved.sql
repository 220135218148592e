{{ config_by_period() }}
-- One value per unit x indicator x service x period: the latest file of the most trusted source
-- kind (a structured template beats a source extract, which beats a reviewed narrative figure,
-- which beats a narrative report as the extractor read it), with the
-- first-reported value of that source kind kept beside it.  Window functions, no self-joins:
-- this model is on the hot path of every mart.
with

versioned as (
    select * from {{ ref('int_submission_rows__versioned') }}
    where {{ in_build_periods('period') }}
),

with_history as (
    select
        *,
        first_value(numerator) over revisions as first_numerator,
        first_value(denominator) over revisions as first_denominator,
        first_value(received_at) over revisions as first_received_at,
        max(revision_no) over (
            partition by unit_code, period, indicator_code, service_code, source_kind
        ) as revision_count
    from versioned
    window revisions as (
        partition by unit_code, period, indicator_code, service_code, source_kind
        order by revision_no
    )
),

ranked as (
    select
        *,
        row_number() over (
            partition by unit_code, period, indicator_code, service_code
            order by
                case source_kind when 'template' then 1 when 'extract' then 2 when 'review' then 3 else 4 end,
                row_no desc
        ) as source_rank
    from with_history
    where is_latest_file
),

final as (
    select
        unit_code,
        period,
        indicator_code,
        service_code,
        numerator,
        denominator,
        reported_rate_pct,
        is_numerator_above_denominator,
        source_kind,
        source_line,
        snippet,
        batch_id,
        file_id,
        received_at,
        first_numerator,
        first_denominator,
        first_received_at,
        revision_count
    from ranked
    where source_rank = 1
)

select * from final
