{#- The BI role reads the marts schema and nothing else.  Grants are re-applied on every build. -#}
{% macro ensure_bi_role() -%}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ var("bi_role") }}') then
            create role {{ var("bi_role") }} nologin;
        end if;
    end
    $$;
    create schema if not exists {{ var("marts_schema") }};
    grant usage on schema {{ var("marts_schema") }} to {{ var("bi_role") }}
{%- endmacro %}

{% macro grant_bi_select() -%}
    grant select on {{ this }} to {{ var("bi_role") }}
{%- endmacro %}

{% macro grant_bi_usage() -%}
    do $$
    begin
        if exists (select 1 from pg_namespace where nspname = '{{ var("marts_schema") }}') then
            grant usage on schema {{ var("marts_schema") }} to {{ var("bi_role") }};
            grant select on all tables in schema {{ var("marts_schema") }} to {{ var("bi_role") }};
        end if;
        revoke all on schema public from {{ var("bi_role") }};
    end
    $$
{%- endmacro %}
