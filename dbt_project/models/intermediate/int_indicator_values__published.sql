{{ config_by_period() }}
-- Grain: one row per unit x indicator x service x period: what officials may read.
-- Write-audit-publish: a unit-period's candidate values are published when the gate checked
-- this very content and no open or explained error holds it.  Otherwise the values published
-- before (the official fct_indicator_monthly, read as it stands) stay, marked as held when an
-- error holds them, unless they are the held file's own values; a held unit-period published
-- never before has no rows here.
{%- set previous = adapter.get_relation(
        database=target.database, schema=var('marts_schema'), identifier='fct_indicator_monthly') %}
{#- Marts published before the gate existed (no publication_status) were never checked: they are
    no fallback for what the gate holds. #}
{%- if previous and 'publication_status' not in (adapter.get_columns_in_relation(previous)
        | map(attribute='name') | list) %}
    {%- set previous = none %}
{%- endif %}
with

resolved as (
    select * from {{ ref('int_indicator_values__resolved') }}
    where {{ in_build_periods('period') }}
),

publication as (
    select * from {{ ref('int_unit_periods__publication') }}
    where {{ in_build_periods('period') }}
),

fresh as (
    select
        resolved.unit_code,
        resolved.indicator_code,
        resolved.service_code,
        resolved.period,
        resolved.numerator,
        resolved.denominator,
        resolved.reported_rate_pct,
        resolved.is_numerator_above_denominator,
        resolved.source_kind,
        resolved.source_line,
        resolved.snippet,
        resolved.batch_id,
        resolved.file_id,
        resolved.received_at,
        resolved.first_numerator,
        resolved.first_denominator,
        resolved.revision_count::int as revision_count,
        'published' as publication_status,
        null::text as held_reason_vi
    from resolved
    inner join publication
        on resolved.unit_code = publication.unit_code
        and resolved.period = publication.period
    where publication.is_checked
        and not publication.is_held
),

{% if previous %}
previous as (
    select * from {{ previous }}
    where {{ in_build_periods('period') }}
),

kept as (
    select
        previous.unit_code,
        previous.indicator_code,
        previous.service_code,
        previous.period,
        previous.numerator,
        previous.denominator,
        previous.reported_rate_pct,
        previous.is_numerator_above_denominator,
        previous.source_kind,
        previous.source_line,
        previous.snippet,
        previous.batch_id,
        previous.file_id,
        previous.received_at,
        previous.first_numerator,
        previous.first_denominator,
        previous.revision_count::int as revision_count,
        case when publication.is_held then 'held' else 'published' end as publication_status,
        publication.held_reason_vi
    from previous
    left join publication
        on previous.unit_code = publication.unit_code
        and previous.period = publication.period
    left join resolved as held
        on publication.is_held
        and previous.unit_code = held.unit_code
        and previous.indicator_code = held.indicator_code
        and previous.service_code = held.service_code
        and previous.period = held.period
    where not exists (
        select 1 from fresh
        where fresh.unit_code = previous.unit_code and fresh.period = previous.period
    )
    -- A held row's previous value is no fallback when it is the held file's own value (published
    -- before the gate existed, or by hand): what an error holds is never shown as official.
    and held.file_id is distinct from previous.file_id
),
{% else %}
kept as (
    select * from fresh where false
),
{% endif %}

final as (
    select * from fresh
    union all
    select * from kept
)

select * from final
