{#- The measures every scorecard shares: counts, rate, target gap and change from the previous
    month.  `current` and `previous` are the aliases of this month's and last month's rows,
    `indicators` the alias of dim_indicator. -#}
{% macro rate_pct(numerator, denominator) -%}
    case when {{ denominator }} > 0 then round(100.0 * {{ numerator }} / {{ denominator }}, 2) end
{%- endmacro %}

{% macro scorecard_measures(current='rated', previous='previous', indicators='indicators') -%}
        round({{ current }}.numerator, 2) as numerator,
        round({{ current }}.denominator, 2) as denominator,
        {{ current }}.rate_pct,
        {{ indicators }}.target_pct,
        {{ current }}.rate_pct - {{ indicators }}.target_pct as gap_to_target_pp,
        {{ current }}.rate_pct >= {{ indicators }}.target_pct as meets_target,
        {{ previous }}.rate_pct as previous_rate_pct,
        {{ current }}.rate_pct - {{ previous }}.rate_pct as change_pp
{%- endmacro %}
