"""The quality gate: Great Expectations suites derived from the indicator registry."""
