{#- Monthly builds by period.  The pipeline names the months a run rebuilds in the environment
    variable D06_BUILD_PERIODS ("2026-06,2026-07"; ingest.transform.scope decides which); a model
    materialized 'incremental' deletes those months and inserts them again, and keeps the others.
    Unset, empty or with --full-refresh, every month is built. -#}

{% macro build_periods() -%}
    {#- Read when models run, never while dbt parses: the months change every run, and a
        variable read while parsing would make dbt parse the whole project again. -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = env_var('D06_BUILD_PERIODS', '') | trim -%}
    {%- if not text -%}
        {{ return(none) }}
    {%- elif text == 'none' -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set periods = [] -%}
    {%- for p in text.split(',') -%}
        {%- set p = p | trim -%}
        {%- if p | length != 7 or p[4] != '-' or not (p[:4] ~ p[5:]).isdigit() -%}
            {{ exceptions.raise_compiler_error("D06_BUILD_PERIODS: not a month (YYYY-MM): " ~ p) }}
        {%- endif -%}
        {%- do periods.append(p) -%}
    {%- endfor -%}
    {{ return(periods) }}
{%- endmacro %}

{#- A filter on `column` (a 'YYYY-MM' text): true when the model builds every month, false when
    it builds none ('none': nothing changed), else the months this run rebuilds (and, with and_previous, the month before each of them, which a
    month-on-month comparison reads). -#}
{#- (A unit test has no `this`: it tests the whole build.) -#}
{% macro in_build_periods(column, and_previous=false) -%}
    {%- set periods = build_periods() -%}
    {%- if periods is none or this is none or not is_incremental() -%}
        true
    {%- elif not periods -%}
        false
    {%- else -%}
        {%- set listed -%}({% for p in periods %}'{{ p }}'{{ ', ' if not loop.last }}{% endfor %}){%- endset -%}
        {%- if and_previous -%}
        ({{ column }} in {{ listed }}
            or to_char(to_date({{ column }}, 'YYYY-MM') + interval '1 month', 'YYYY-MM') in {{ listed }})
        {%- else -%}
        {{ column }} in {{ listed }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of a model incremental by period: the months it rebuilds go, in the transaction
    that inserts them again (a revised or reopened month is replaced whole, even when it has no
    rows any more). -#}
{% macro delete_build_periods() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_build_periods('period') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The configuration of a model built by period: incremental, its run's months deleted before
    they are inserted again, its statistics refreshed after (the planner must know the new
    month), and an index on period. -#}
{% macro config_by_period() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=["{{ delete_build_periods() }}"],
        post_hook=["analyze {{ this }}"],
        indexes=[{'columns': ['period']}],
    ) }}
{%- endmacro %}
