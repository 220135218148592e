"""Running dbt against the warehouse."""
