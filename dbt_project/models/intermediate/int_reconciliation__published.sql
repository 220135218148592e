{{ config_by_period() }}
-- Grain: one row per unit x indicator x period, as int_reconciliation__candidate, for the values
-- officials may read (int_indicator_values__published): what an error holds is compared as it was
-- published before, never as held.  Built with the marts, after the gate.
{{ reconcile_with_extracts(ref('int_indicator_values__published')) }}
