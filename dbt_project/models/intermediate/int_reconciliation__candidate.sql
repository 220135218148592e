{{ config_by_period() }}
-- Grain: one row per unit x indicator x period for the indicators the registry gives an extract
-- correspondence (registry.indicator_extract): the figures the unit reported (the candidate
-- value of any source kind but `extract`, service `NA`) beside the source extract's measures for
-- the same scope and month: a commune's own extract figures; a department's, the sum over its
-- province's communes.  On the audit stage: the quality gate's `reconciliation_gap` reads it.
{{ reconcile_with_extracts(ref('int_indicator_values__resolved')) }}
